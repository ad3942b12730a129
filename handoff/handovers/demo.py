"""Demo handovers for `manage.py seed_demo`, filed through the services with
real evidence (``demo_artifacts/``: a scikit-learn logistic regression
exported to ONNX, its predictions on a 171-row validation split, the labels):
one accepted, one awaiting review, one whose validation failed because its
accuracy claim is overstated, and a draft.

Validation runs here, in this process, through the same Celery task a worker
runs, so the demo opens with real reports; ``make run`` then starts the
worker for everything that follows.
"""

import contextlib
import json
from pathlib import Path

from django.core.files.base import ContentFile

from . import services
from .models import ArtifactKind, Handover, Model

EVIDENCE = Path(__file__).resolve().parent / "demo_artifacts"
FILES = {ArtifactKind.MODEL: "model.onnx", ArtifactKind.PREDICTIONS: "predictions.csv",
         ArtifactKind.LABELS: "labels.csv"}


def _terms(expected):
    return {
        "task_type": "binary_classification", "framework": "scikit-learn", "framework_version": "1.9.1",
        "latency_p95_ms": 20, "latency_batch_size": 1, "peak_memory_mb": 256,
        "parameter_count": expected["parameters"],
        "validation_description": "Hold-out split of the breast-cancer screening set (30 %).",
        "validation_row_count": expected["rows"], "fairness_slice_column": "size", "fairness_max_gap": 0.07,
        "intended_use": "Flags **screening images** for a second read by a radiologist.",
        "limitations": "- Trained on one clinic's scanners.\n- Not for diagnosis on its own.",
    }


def _claims(expected, accuracy=None):
    accuracy = accuracy or round(expected["accuracy"], 3)
    return [{"metric": "accuracy", "claimed_value": accuracy, "minimum": 0.9},
            {"metric": "f1", "claimed_value": round(expected["f1"], 3)},
            {"metric": "roc_auc", "claimed_value": round(expected["roc_auc"], 3), "minimum": 0.95}]


@contextlib.contextmanager
def _validating_in_this_process():
    from handoff.celery import app

    previous = app.conf.task_always_eager
    app.conf.task_always_eager = True
    try:
        yield
    finally:
        app.conf.task_always_eager = previous


def seed_handovers(demo):
    """Add the demo handovers to ``demo`` (teams.demo.DemoData); skip what exists."""
    scientist, engineer = demo.users["scientist"], demo.users["engineer"]
    project = demo.projects["card-fraud-scoring"]
    expected = json.loads((EVIDENCE / "expected.json").read_text())
    model = Model.objects.filter(project=project, name="screening-logreg").first()
    if model is None:
        model = services.create_model(scientist, project, name="screening-logreg",
                                      description="Logistic regression that flags screening images.")
    plan = [("1.0.0", "accepted", None), ("1.1.0", "awaiting_review", None),
            ("1.2.0", "validation_failed", 0.970), ("1.3.0", "draft", None)]
    for version, goal, accuracy in plan:
        if Handover.objects.filter(model=model, version_label=version).exists():
            continue
        handover = services.create_handover(scientist, model, version_label=version, terms=_terms(expected),
                                            metrics=_claims(expected, accuracy))
        revision = handover.revisions.get()
        for kind, name in FILES.items():
            upload = ContentFile((EVIDENCE / name).read_bytes(), name=name)
            services.attach_artifact(scientist, revision, kind=kind, uploaded_file=upload)
        if goal == "draft":
            continue
        with _validating_in_this_process():
            services.submit_revision(scientist, revision)
        if goal == "accepted":
            services.accept_revision(engineer, revision, comment="Numbers hold up; signed.")
