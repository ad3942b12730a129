"""The demo contract for `manage.py seed_demo`, made through the services: in
Card fraud scoring, "Screening second reads", drafted by the demo engineer
with blind labels, proposed, and signed by the demo scientist and engineer;
then three candidates filed by the scientist from real small exports
(``demo_artifacts/``: a logistic regression, a scaled one, and an MLP whose
573 parameters break the contract's budget of 100), submitted and validated
here, in this process, as the handovers demo is: two await review, and the
MLP fails ``model.parameters`` (the engine's budget check).

Safe to run again: each step is taken only when it is missing.
"""

import contextlib
from pathlib import Path

from django.core.files.base import ContentFile

from handoff.handovers import services as handover_services
from handoff.handovers.models import ArtifactKind, HandoverState, Model

from . import services
from .models import Candidate, Contract, ContractState

EVIDENCE = Path(__file__).resolve().parent / "demo_artifacts"
TITLE = "Screening second reads"
TERMS = {
    "task_type": "binary_classification", "frameworks": "scikit-learn", "model_formats": "onnx",
    "latency_p95_ms": 500, "latency_batch_size": 1, "peak_memory_mb": 2048, "max_parameter_count": 100,
    "validation_description": "Hold-out split of the breast-cancer screening set (30 %), 171 rows; "
                              "held blind from the data scientists.",
    "validation_row_count": 171, "fairness_slice_column": "size", "fairness_max_gap": 0.07,
    "intended_use": "Flags **screening images** for a second read by a radiologist.",
    "limitations": "- Trained on one clinic's scanners.\n- Not for diagnosis on its own.",
}
REQUIREMENTS = [{"metric": "accuracy", "minimum": 0.95}, {"metric": "roc_auc", "minimum": 0.95}]
# (export folder, model name, what its owner says of it)
CANDIDATES = [
    ("logreg", "second-read-logreg", "Logistic regression on the 30 raw features."),
    ("scaled-logreg", "second-read-scaled-logreg", "Logistic regression on standardised features."),
    ("mlp", "second-read-mlp", "A small MLP (one hidden layer of 16)."),
]


@contextlib.contextmanager
def _validating_in_this_process():
    from handoff.celery import app

    previous = app.conf.task_always_eager
    app.conf.task_always_eager = True
    try:
        yield
    finally:
        app.conf.task_always_eager = previous


def _agreed_contract(project, scientist, engineer):
    contract = Contract.objects.filter(project=project, title=TITLE).order_by("-version").first()
    if contract is None:
        contract = services.create_contract(engineer, project, title=TITLE, terms=TERMS,
                                            requirements=REQUIREMENTS, labels_blind=True)
    if contract.state == ContractState.DRAFT:
        if not contract.artifacts.exists():
            labels = ContentFile((EVIDENCE / "labels.csv").read_bytes(), name="labels.csv")
            services.attach_contract_artifact(engineer, contract, kind="labels", uploaded_file=labels)
        contract = services.propose(engineer, contract)
    for signer in (scientist, engineer):
        signed = contract.signatures.filter(signer=signer).exists()
        if contract.state == ContractState.PROPOSED and not signed:
            services.sign(signer, contract)
            contract.refresh_from_db()
    return contract


def _candidate(contract, scientist, folder, name, description):
    model = Model.objects.filter(project=contract.project, name=name).first()
    if model is None:
        model = handover_services.create_model(scientist, contract.project, name=name,
                                               description=description)
    filed = Candidate.objects.filter(contract=contract, handover__model=model).select_related("handover")
    filed = filed.first()
    handover = filed.handover if filed is not None else services.file_candidate(
        scientist, contract, model=model, version_label="1.0.0", framework="scikit-learn",
        framework_version="1.9.1")
    if handover.state != HandoverState.DRAFT:
        return handover
    revision = handover.revisions.get()
    present = set(revision.artifacts.values_list("kind", flat=True))
    exports = ((ArtifactKind.MODEL, "model.onnx"), (ArtifactKind.PREDICTIONS, "predictions.csv"))
    for kind, file_name in exports:
        if kind not in present:
            upload = ContentFile((EVIDENCE / folder / file_name).read_bytes(), name=file_name)
            handover_services.attach_artifact(scientist, revision, kind=kind, uploaded_file=upload)
    with _validating_in_this_process():
        handover_services.submit_revision(scientist, revision)
    handover.refresh_from_db()
    return handover


def seed_contracts(demo):
    """Add the demo's agreed contract and its three candidates to ``demo``
    (teams.demo.DemoData); skip what exists. -> the contract"""
    scientist, engineer = demo.users["scientist"], demo.users["engineer"]
    project = demo.projects["card-fraud-scoring"]
    contract = _agreed_contract(project, scientist, engineer)
    if contract.state != ContractState.AGREED:
        return contract
    for folder, name, description in CANDIDATES:
        _candidate(contract, scientist, folder, name, description)
    return contract
