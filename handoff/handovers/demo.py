"""Demo handovers for `manage.py seed_demo`: one of each state a newcomer
should see (accepted, awaiting review, draft), filed through the services.

The model file is a placeholder `.joblib` (stored, never loaded); predictions
and labels are real CSV files over the same ids.
"""

import random

from django.core.files.base import ContentFile

from . import services
from .models import ArtifactKind, Handover, Model

ROWS = 400


def _csv_files(seed, accuracy):
    rng = random.Random(seed)
    labels = ["id,label,segment"]
    predictions = ["id,prediction,score"]
    for i in range(1, ROWS + 1):
        label = 1 if rng.random() < 0.3 else 0
        prediction = label if rng.random() < accuracy else 1 - label
        score = round(min(max(rng.gauss(0.8 if prediction else 0.2, 0.1), 0.0), 1.0), 4)
        labels.append(f"{i},{label},{'online' if i % 3 else 'in_store'}")
        predictions.append(f"{i},{prediction},{score}")
    return "\n".join(predictions).encode() + b"\n", "\n".join(labels).encode() + b"\n"


def _terms(rows=ROWS):
    return {
        "task_type": "binary_classification", "framework": "scikit-learn", "framework_version": "1.5.2",
        "latency_p95_ms": 20, "latency_batch_size": 1, "peak_memory_mb": 256, "parameter_count": 31,
        "validation_description": "Card authorisations from March, stratified by merchant segment.",
        "validation_row_count": rows, "fairness_slice_column": "segment", "fairness_max_gap": 0.05,
        "intended_use": "Scores **card authorisations** for fraud risk, inline in the authorisation path.",
        "limitations": "- Not trained on corporate cards.\n- Recalibrate after large merchant mix shifts.",
    }


def _file_revision(owner, handover, revision, seed, accuracy):
    predictions, labels = _csv_files(seed, accuracy)
    for kind, name, content in [
        (ArtifactKind.MODEL, "card-fraud-gbm.joblib", b"placeholder model bytes: stored, never loaded\n"),
        (ArtifactKind.PREDICTIONS, "predictions.csv", predictions),
        (ArtifactKind.LABELS, "labels.csv", labels),
    ]:
        services.attach_artifact(owner, revision, kind=kind, uploaded_file=ContentFile(content, name=name))


def seed_handovers(demo):
    """Add the demo handovers to ``demo`` (teams.demo.DemoData); skip what exists."""
    scientist, engineer = demo.users["scientist"], demo.users["engineer"]
    project = demo.projects["card-fraud-scoring"]
    model = Model.objects.filter(project=project, name="card-fraud-gbm").first()
    if model is None:
        model = services.create_model(scientist, project, name="card-fraud-gbm",
                                      description="Gradient-boosted fraud scorer for card authorisations.")
    metrics = [{"metric": "accuracy", "claimed_value": 0.9, "minimum": 0.88},
               {"metric": "f1", "claimed_value": 0.84}]
    plan = [("1.0.0", "accepted", 1, 0.9), ("1.1.0", "awaiting_review", 2, 0.91), ("1.2.0", "draft", 3, 0.92)]
    for version, goal, seed, accuracy in plan:
        if Handover.objects.filter(model=model, version_label=version).exists():
            continue
        handover = services.create_handover(scientist, model, version_label=version, terms=_terms(),
                                            metrics=metrics)
        revision = handover.revisions.get()
        _file_revision(scientist, handover, revision, seed, accuracy)
        if goal == "draft":
            continue
        services.submit_revision(scientist, revision)
        # What the validation task does once it has run (idempotent when it runs again).
        services.record_validation_outcome(revision, passed=True)
        if goal == "accepted":
            services.accept_revision(engineer, revision, comment="Numbers hold up; signed.")
