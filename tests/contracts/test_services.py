import pytest
from django.core.files.base import ContentFile

from handoff.contracts import services
from handoff.contracts.models import Candidate, ContractState
from handoff.core.errors import Conflict, DomainError, Forbidden
from handoff.handovers import services as handover_services
from handoff.handovers.models import HandoverState
from handoff.notifications.models import Notification
from tests.factories import draft_contract, filed_candidate

pytestmark = pytest.mark.django_db


def test_contract_is_agreed_once_a_scientist_and_an_engineer_have_signed(project, scientist, engineer):
    contract = draft_contract(project, engineer)
    services.propose(engineer, contract)
    services.sign(engineer, contract)
    contract.refresh_from_db()
    assert contract.state == ContractState.PROPOSED
    services.sign(scientist, contract)
    contract.refresh_from_db()
    assert contract.state == ContractState.AGREED
    assert contract.agreed_at is not None
    signatures = {s.signer.username: s for s in contract.signatures.all()}
    assert signatures["dana"].role == "data_scientist" and signatures["eli"].role == "ml_engineer"
    assert signatures["dana"].terms_sha256 == services.terms_digest(contract)
    assert set(signatures["dana"].artifact_hashes) == {"labels"}


def test_two_engineers_do_not_agree_a_contract(project, scientist, engineer, other_engineer):
    contract = draft_contract(project, engineer)
    services.propose(engineer, contract)
    services.sign(engineer, contract)
    services.sign(other_engineer, contract)
    contract.refresh_from_db()
    assert contract.state == ContractState.PROPOSED


def test_a_change_to_a_proposed_contract_clears_its_signatures(project, scientist, engineer):
    contract = draft_contract(project, engineer)
    services.propose(engineer, contract)
    services.sign(engineer, contract)
    services.update_contract(scientist, contract, terms={"latency_p95_ms": 250})
    assert contract.signatures.count() == 0
    services.sign(engineer, contract)
    services.attach_contract_artifact(
        scientist, contract, kind="inputs", uploaded_file=ContentFile(b"id,x\n1,2\n", name="inputs.csv")
    )
    assert contract.signatures.count() == 0
    assert Notification.objects.filter(recipient=engineer, kind="contract_unsigned").count() == 2


def test_an_unchanged_update_keeps_the_signatures(project, engineer):
    contract = draft_contract(project, engineer)
    services.propose(engineer, contract)
    services.sign(engineer, contract)
    services.update_contract(engineer, contract, terms={"latency_p95_ms": 500})
    assert contract.signatures.count() == 1


def test_agreed_contract_refuses_every_change(contract, engineer):
    with pytest.raises(Conflict, match="start version n\\+1"):
        services.update_contract(engineer, contract, terms={"latency_p95_ms": 1})
    with pytest.raises(Conflict):
        services.attach_contract_artifact(
            engineer,
            contract,
            kind="labels",
            uploaded_file=ContentFile(b"id,label\n1,0\n", name="labels.csv"),
        )
    with pytest.raises(Conflict):
        services.remove_contract_artifact(engineer, contract.artifacts.get())
    contract.refresh_from_db()
    assert contract.latency_p95_ms == 500 and contract.artifacts.count() == 1


def test_version_two_supersedes_version_one_once_agreed(contract, scientist, engineer):
    successor = services.new_version(engineer, contract)
    assert (successor.version, successor.state) == (2, ContractState.DRAFT)
    assert successor.artifacts.get().file.name == contract.artifacts.get().file.name
    services.update_contract(engineer, successor, terms={"max_parameter_count": 600})
    services.propose(engineer, successor)
    services.sign(scientist, successor)
    contract.refresh_from_db()
    assert contract.state == ContractState.AGREED
    services.sign(engineer, successor)
    contract.refresh_from_db()
    assert contract.state == ContractState.SUPERSEDED


def test_candidate_takes_the_contracts_requirements_and_labels(contract, scientist):
    handover = filed_candidate(contract, scientist, claims={"accuracy": 0.959})
    revision = handover.revisions.get()
    assert handover.is_candidate and Candidate.objects.get(handover=handover).contract == contract
    assert revision.max_parameter_count == 100 and revision.task_type == "binary_classification"
    claims = {c.metric: (c.claimed_value, c.minimum) for c in revision.claimed_metrics.all()}
    assert claims == {"accuracy": (0.959, 0.95), "roc_auc": (None, 0.95)}
    labels = revision.artifacts.get(kind="labels")
    assert labels.sha256 == contract.artifacts.get(kind="labels").sha256


def test_candidate_cannot_change_the_contracts_terms_or_labels(contract, scientist):
    handover = filed_candidate(contract, scientist)
    revision = handover.revisions.get()
    with pytest.raises(DomainError) as caught:
        handover_services.update_terms(scientist, revision, terms={"max_parameter_count": 10_000})
    assert caught.value.field == "max_parameter_count"
    with pytest.raises(DomainError):
        handover_services.update_terms(
            scientist,
            revision,
            terms={},
            metrics=[{"metric": "accuracy", "claimed_value": 0.96, "minimum": 0.5}],
        )
    with pytest.raises(DomainError):
        handover_services.attach_artifact(
            scientist,
            revision,
            kind="labels",
            uploaded_file=ContentFile(b"id,label\n1,1\n", name="labels.csv"),
        )
    handover_services.update_terms(
        scientist,
        revision,
        terms={"framework_version": "1.9.1"},
        metrics=[
            {"metric": "accuracy", "claimed_value": 0.96, "minimum": 0.95},
            {"metric": "roc_auc", "claimed_value": None, "minimum": 0.95},
        ],
    )
    revision.refresh_from_db()
    assert revision.framework_version == "1.9.1" and revision.max_parameter_count == 100


def test_select_accepts_one_and_closes_the_others(
    contract, scientist, engineer, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        chosen = filed_candidate(contract, scientist, "logreg", submit=True)
        other = filed_candidate(contract, scientist, "scaled-logreg", submit=True)
    chosen.refresh_from_db()
    assert chosen.state == HandoverState.AWAITING_REVIEW
    services.select(engineer, chosen, comment="Smallest model that meets the terms.")
    chosen.refresh_from_db()
    other.refresh_from_db()
    assert chosen.state == HandoverState.ACCEPTED
    assert other.state == HandoverState.NOT_SELECTED
    assert "was selected" in other.comments.get().body
    assert Notification.objects.filter(recipient=scientist, kind="not_selected").count() == 1
    with pytest.raises(Conflict, match="already selected"):
        services.select(engineer, other)


def test_a_candidate_is_not_accepted_past_the_contract(
    contract, scientist, engineer, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        chosen = filed_candidate(contract, scientist, "logreg", submit=True)
    with pytest.raises(Conflict, match="selecting it"):
        handover_services.accept_revision(engineer, chosen.revisions.get())


def test_only_engineers_select(contract, scientist):
    chosen = filed_candidate(contract, scientist, "logreg", submit=True)
    with pytest.raises(Forbidden):
        services.select(scientist, chosen)


def test_each_candidate_is_measured_against_the_agreed_requirements(contract, scientist,
                                                                   django_capture_on_commit_callbacks):
    from handoff.validation.models import CheckResult

    with django_capture_on_commit_callbacks(execute=True):
        fits = filed_candidate(contract, scientist, "scaled-logreg", submit=True)
        too_big = filed_candidate(contract, scientist, "mlp", submit=True)
    fits.refresh_from_db()
    too_big.refresh_from_db()
    assert fits.state == HandoverState.AWAITING_REVIEW
    assert too_big.state == HandoverState.VALIDATION_FAILED
    parameters = CheckResult.objects.get(run__revision__handover=too_big, key="model.parameters")
    assert (parameters.status, parameters.limit) == ("fail", 100)
    assert "above the budget of 100" in parameters.message
    accuracy = CheckResult.objects.get(run__revision__handover=fits, key="metric.accuracy")
    assert (accuracy.status, accuracy.claimed, accuracy.limit) == ("pass", None, 0.95)
