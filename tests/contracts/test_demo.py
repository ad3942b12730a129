"""`seed_demo` opens with an agreed contract in Card fraud scoring, its labels
held blind, signed by both sides, and three candidates measured against it
from real exports: two await review, the MLP breaks the parameter budget.
Running it twice adds nothing."""

import pytest
from django.core.management import call_command

from handoff.contracts.models import Candidate, Contract, ContractSignature
from handoff.handovers.models import Artifact
from handoff.validation.models import CheckResult, ValidationRun

# Transactional: seed_demo validates on commit, as it does outside tests.
pytestmark = pytest.mark.django_db(transaction=True)


def _counts():
    return {"contracts": Contract.objects.count(), "signatures": ContractSignature.objects.count(),
            "candidates": Candidate.objects.count(), "artifacts": Artifact.objects.count(),
            "runs": ValidationRun.objects.count()}


def test_seed_demo_agrees_a_blind_contract_with_three_measured_candidates_once():
    call_command("seed_demo")
    first = _counts()
    call_command("seed_demo")
    assert _counts() == first

    contract = Contract.objects.get(title="Screening second reads")
    assert (contract.project.slug, contract.state, contract.version, contract.labels_blind) == (
        "card-fraud-scoring", "agreed", 1, True)
    assert {(s.signer.username, s.role) for s in contract.signatures.all()} == {
        ("scientist", "data_scientist"), ("engineer", "ml_engineer")}
    assert {(r.metric, r.minimum) for r in contract.requirements.all()} == {("accuracy", 0.95),
                                                                           ("roc_auc", 0.95)}
    assert (contract.max_parameter_count, contract.latency_p95_ms, contract.format_list,
            contract.framework_list) == (100, 500, ["onnx"], ["scikit-learn"])

    for candidate in contract.candidates.select_related("handover"):
        assert candidate.handover.owner.username == "scientist" and candidate.handover.labels_blind
        assert candidate.handover.revisions.get().validation_runs.count() == 1

    # Depends on the engine's parameter budget check (model.parameters against max_parameter_count):
    # until it is merged the MLP passes validation and awaits review too.
    states = {c.handover.model.name: c.handover.state for c in contract.candidates.select_related(
        "handover__model")}
    assert states == {"second-read-logreg": "awaiting_review", "second-read-scaled-logreg": "awaiting_review",
                      "second-read-mlp": "validation_failed"}
    failing = CheckResult.objects.filter(run__revision__handover__model__name="second-read-mlp").exclude(
        status__in=("pass", "skipped"))
    assert list(failing.values_list("key", flat=True)) == ["model.parameters"]
