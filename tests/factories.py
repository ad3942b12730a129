"""factory_boy factories for every model; later apps add theirs here."""

import factory
from django.contrib.auth import get_user_model

from handoff.teams.models import Project, Role, RoleAssignment, Stage, Team

PASSWORD = "handoff-demo"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.org")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")

    @factory.post_generation
    def password(self, create, extracted, **kwargs):
        self.set_password(extracted or PASSWORD)
        if create:
            self.save(update_fields=["password"])


class TeamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Team

    name = factory.Sequence(lambda n: f"Team {n}")
    slug = factory.Sequence(lambda n: f"team-{n}")
    leader = factory.SubFactory(UserFactory)


class ProjectFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Project

    team = factory.SubFactory(TeamFactory)
    name = factory.Sequence(lambda n: f"Project {n}")
    slug = factory.Sequence(lambda n: f"project-{n}")
    description = "A project for tests."
    stage = Stage.MODELING


class RoleAssignmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RoleAssignment

    user = factory.SubFactory(UserFactory)
    project = factory.SubFactory(ProjectFactory)
    role = Role.DATA_SCIENTIST


def member(project, role, **user_kwargs):
    """A new user holding ``role`` on ``project``."""
    user = UserFactory(**user_kwargs)
    RoleAssignmentFactory(user=user, project=project, role=role)
    return user


# --- handovers --------------------------------------------------------------

import hashlib  # noqa: E402

from django.core.files.base import ContentFile  # noqa: E402

from handoff.handovers.models import (  # noqa: E402
    Artifact,
    ArtifactKind,
    ClaimedMetric,
    Comment,
    Follow,
    Framework,
    Handover,
    Metric,
    Review,
    ReviewDecision,
    Revision,
    TaskType,
)
from handoff.handovers.models import Model as MLModel  # noqa: E402


class ModelFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = MLModel

    project = factory.SubFactory(ProjectFactory)
    name = factory.Sequence(lambda n: f"model-{n}")
    description = "A registered model for tests."
    owner = factory.SubFactory(UserFactory)


class HandoverFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Handover
        skip_postgeneration_save = True

    model = factory.SubFactory(ModelFactory)
    project = factory.LazyAttribute(lambda h: h.model.project)
    version_label = factory.Sequence(lambda n: f"1.{n}.0")
    owner = factory.LazyAttribute(lambda h: h.model.owner)

    @factory.post_generation
    def owner_follows(handover, create, extracted, **kwargs):
        # As services.create_handover does: the owner hears of comments and decisions.
        if create and extracted is not False:
            Follow.objects.get_or_create(user=handover.owner, handover=handover)


class RevisionFactory(factory.django.DjangoModelFactory):
    """A draft revision with complete contract terms (no claims, no artifacts)."""

    class Meta:
        model = Revision

    handover = factory.SubFactory(HandoverFactory)
    number = factory.Sequence(lambda n: n + 1)
    created_by = factory.LazyAttribute(lambda r: r.handover.owner)
    task_type = TaskType.BINARY
    framework = Framework.SKLEARN
    framework_version = "1.5.2"
    latency_p95_ms = 20.0
    latency_batch_size = 1
    peak_memory_mb = 256.0
    parameter_count = 31
    validation_description = "Hold-out set, March 2025."
    validation_row_count = 1000


class ClaimedMetricFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ClaimedMetric

    revision = factory.SubFactory(RevisionFactory)
    metric = Metric.ACCURACY
    claimed_value = 0.9
    minimum = 0.85


class ArtifactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Artifact

    revision = factory.SubFactory(RevisionFactory)
    kind = ArtifactKind.MODEL
    original_name = factory.LazyAttribute(lambda a: f"{a.kind}.bin")
    file = factory.LazyAttribute(lambda a: ContentFile(a.content, name=a.original_name))
    size = factory.LazyAttribute(lambda a: len(a.content))
    sha256 = factory.LazyAttribute(lambda a: hashlib.sha256(a.content).hexdigest())
    uploaded_by = factory.LazyAttribute(lambda a: a.revision.created_by)

    class Params:
        content = factory.LazyAttribute(lambda a: f"content of {a.kind}".encode())


class ReviewFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Review

    revision = factory.SubFactory(RevisionFactory)
    reviewer = factory.SubFactory(UserFactory)
    decision = ReviewDecision.REQUEST_CHANGES
    comment = "Please add the fairness slice."


class CommentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Comment

    handover = factory.SubFactory(HandoverFactory)
    author = factory.LazyAttribute(lambda c: c.handover.owner)
    body = "Looks good so far."


# The demo's real evidence (handoff/handovers/demo_artifacts/make.py): a
# scikit-learn logistic regression exported to ONNX, its predictions on a
# 171-row validation set, the labels, and what validation measures of them.
import json  # noqa: E402
from pathlib import Path  # noqa: E402

EVIDENCE = Path(__file__).resolve().parent.parent / "handoff" / "handovers" / "demo_artifacts"
EVIDENCE_FILES = {ArtifactKind.MODEL: "model.onnx", ArtifactKind.PREDICTIONS: "predictions.csv",
                  ArtifactKind.LABELS: "labels.csv"}
MEASURED = json.loads((EVIDENCE / "expected.json").read_text())


def evidence(kind):
    """(file name, bytes) of the real evidence of ``kind``."""
    name = EVIDENCE_FILES[kind]
    return name, (EVIDENCE / name).read_bytes()


def ready_draft(project=None, owner=None, **revision_kwargs):
    """A handover in draft whose revision 1 can be submitted and passes
    validation: terms that hold for the real evidence (a logistic regression
    of 31 parameters, 171 rows, accuracy 0.959), one claimed metric, and the
    model, predictions and labels artifacts."""
    from handoff.teams.models import Role

    project = project or ProjectFactory()
    owner = owner or member(project, Role.DATA_SCIENTIST)
    handover = HandoverFactory(model=ModelFactory(project=project, owner=owner))
    terms = {"parameter_count": MEASURED["parameters"], "validation_row_count": MEASURED["rows"],
             **revision_kwargs}
    revision = RevisionFactory(handover=handover, number=1, **terms)
    ClaimedMetricFactory(revision=revision, claimed_value=round(MEASURED["accuracy"], 3))
    for kind in EVIDENCE_FILES:
        name, content = evidence(kind)
        ArtifactFactory(revision=revision, kind=kind, original_name=name, content=content)
    return handover, revision


# --- audit ------------------------------------------------------------------

from handoff.audit.models import AuditEvent  # noqa: E402


class AuditEventFactory(factory.django.DjangoModelFactory):
    """An audit event as a service records it; ``details`` names the handover
    for the events a handover page lists as its activity."""

    class Meta:
        model = AuditEvent

    actor = factory.SubFactory(UserFactory)
    verb = "handover.commented"
    project = factory.SubFactory(ProjectFactory)
    details = factory.Dict({})


# --- validation -------------------------------------------------------------

from handoff.validation.models import CheckResult, CheckStatus, RunState, ValidationRun  # noqa: E402


class ValidationRunFactory(factory.django.DjangoModelFactory):
    """A finished run that passed (give ``state`` and checks for others)."""

    class Meta:
        model = ValidationRun

    revision = factory.SubFactory(RevisionFactory)
    number = factory.Sequence(lambda n: n + 1)
    state = RunState.PASSED
    worker = "handoff@test"


class CheckResultFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CheckResult

    run = factory.SubFactory(ValidationRunFactory)
    key = "metric.accuracy"
    status = CheckStatus.PASS
    claimed = 0.959
    measured = 0.9590643274853801
    tolerance = 0.005
    message = "accuracy claimed 0.959, measured 0.959 on 171 rows: within the tolerance of 0.005"


# --- production: signed handovers and incidents ------------------------------------------------

from django.utils import timezone  # noqa: E402

from handoff.handovers.models import HandoverState  # noqa: E402
from handoff.incidents.models import Incident, IncidentStatus, Severity  # noqa: E402


def signed_handover(project=None, owner=None, reviewer=None, *, minimum=0.95, claimed=0.959,
                    **revision_kwargs):
    """An accepted handover: revision 1 submitted and accepted by an ML engineer
    (the signed contract), claiming accuracy ``claimed`` with ``minimum``, a
    p95 latency budget of 20 ms and peak memory of 256 MB (RevisionFactory's)."""
    from handoff.teams.models import Role

    project = project or ProjectFactory()
    owner = owner or member(project, Role.DATA_SCIENTIST)
    reviewer = reviewer or member(project, Role.ML_ENGINEER)
    handover = HandoverFactory(model=ModelFactory(project=project, owner=owner), state=HandoverState.ACCEPTED,
                               reviewer=reviewer)
    revision = RevisionFactory(handover=handover, number=1, submitted_at=timezone.now(), submitted_by=owner,
                               **revision_kwargs)
    ClaimedMetricFactory(revision=revision, claimed_value=claimed, minimum=minimum)
    ReviewFactory(revision=revision, reviewer=reviewer, decision=ReviewDecision.ACCEPT, comment="")
    return handover, revision


class IncidentFactory(factory.django.DjangoModelFactory):
    """An open SEV3 incident opened by hand on a project (give ``deployment``
    or ``handover`` to tie it to a model)."""

    class Meta:
        model = Incident

    project = factory.SubFactory(ProjectFactory)
    title = factory.Sequence(lambda n: f"Scores look off ({n})")
    description = "Reported by a product manager."
    severity = Severity.SEV3
    status = IncidentStatus.OPEN
    opened_at = factory.LazyFunction(timezone.now)
    owner = factory.LazyAttribute(lambda i: i.handover.model.owner if i.handover else None)
    handover = None
# --- deployments ------------------------------------------------------------

import datetime as _dt  # noqa: E402

from django.utils import timezone  # noqa: E402

from handoff.deployments.models import (  # noqa: E402
    Deployment,
    DeploymentStatus,
    Environment,
    IngestionToken,
    MetricBatch,
    MetricObservation,
    ProductionMetric,
)


def accepted_handover(project=None, owner=None, reviewer=None, model=None):
    """A handover whose revision 1 an ML engineer accepted (signed): ready to deploy.
    -> (handover, revision)"""
    from handoff.teams.models import Role

    project = project or (model.project if model else ProjectFactory())
    owner = owner or (model.owner if model else member(project, Role.DATA_SCIENTIST))
    reviewer = reviewer or member(project, Role.ML_ENGINEER)
    model = model or ModelFactory(project=project, owner=owner)
    handover = HandoverFactory(model=model, state=HandoverState.ACCEPTED, reviewer=reviewer)
    revision = RevisionFactory(handover=handover, number=1, submitted_at=timezone.now(), submitted_by=owner)
    ClaimedMetricFactory(revision=revision)
    ReviewFactory(revision=revision, reviewer=reviewer, decision=ReviewDecision.ACCEPT, comment="Signed.")
    return handover, revision


class DeploymentFactory(factory.django.DjangoModelFactory):
    """An active production deployment of an accepted handover (the handover is
    left as it is: set its state to deployed when the test needs it)."""

    class Meta:
        model = Deployment

    handover = factory.LazyFunction(lambda: accepted_handover()[0])
    project = factory.LazyAttribute(lambda d: d.handover.project)
    revision = factory.LazyAttribute(lambda d: d.handover.revisions.order_by("-number").first())
    environment = Environment.PRODUCTION
    traffic_share = 100
    status = DeploymentStatus.ACTIVE
    deployed_at = factory.LazyFunction(timezone.now)
    deployed_by = factory.LazyAttribute(lambda d: d.handover.reviewer or d.handover.owner)


class IngestionTokenFactory(factory.django.DjangoModelFactory):
    """A stored token; use ``ingestion_token(project)`` to get one with its secret."""

    class Meta:
        model = IngestionToken

    project = factory.SubFactory(ProjectFactory)
    name = factory.Sequence(lambda n: f"monitoring {n}")
    prefix = "hoi_test"
    digest = factory.Sequence(lambda n: hashlib.sha256(f"token {n}".encode()).hexdigest())
    created_by = factory.SubFactory(UserFactory)


def ingestion_token(project, created_by=None, name="Prometheus exporter"):
    """(IngestionToken, secret): a token made as the service makes it, by an ML engineer of ``project``."""
    from handoff.deployments import services
    from handoff.teams.models import Role

    return services.create_token(created_by or member(project, Role.ML_ENGINEER), project, name=name)


def observation(metric=ProductionMetric.ACCURACY, value=0.93, minutes_ago=10, **overrides):
    """One observation as the API's JSON carries it."""
    end = timezone.now() - _dt.timedelta(minutes=minutes_ago)
    start = end - _dt.timedelta(minutes=5)
    return {"metric": str(metric), "value": value, "window_start": start.isoformat(),
            "window_end": end.isoformat(), "sample_size": 500, **overrides}


class MetricBatchFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = MetricBatch

    deployment = factory.SubFactory(DeploymentFactory)
    count = 1


class MetricObservationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = MetricObservation

    deployment = factory.SubFactory(DeploymentFactory)
    batch = factory.LazyAttribute(lambda o: MetricBatchFactory(deployment=o.deployment))
    metric = ProductionMetric.ACCURACY
    value = 0.93
    window_end = factory.LazyFunction(timezone.now)
    window_start = factory.LazyAttribute(lambda o: o.window_end - _dt.timedelta(minutes=5))
    sample_size = 500


# --- contracts ----------------------------------------------------------------

CANDIDATE_EVIDENCE = Path(__file__).resolve().parent.parent / "handoff" / "contracts" / "demo_artifacts"
CANDIDATES_MEASURED = json.loads((CANDIDATE_EVIDENCE / "expected.json").read_text())


def contract_terms(**overrides):
    """Requirement terms the real candidates can be measured against: accuracy
    at least 0.95 (``contract_requirements``), a parameter budget of 100 (the
    MLP's 573 break it), generous latency and memory budgets."""
    return {"task_type": "binary_classification", "frameworks": "scikit-learn", "model_formats": "onnx",
            "latency_p95_ms": 500, "latency_batch_size": 1, "peak_memory_mb": 2048,
            "max_parameter_count": 100,
            "validation_description": "Hold-out split of the breast-cancer screening set (30 %).",
            "validation_row_count": MEASURED["rows"],
            "intended_use": "Flags screening images for a second read.", **overrides}


def contract_requirements():
    return [{"metric": "accuracy", "minimum": 0.95}, {"metric": "roc_auc", "minimum": 0.95}]


def draft_contract(project, author, *, labels_blind=False, title="Screening second reads", **terms):
    """A contract drafted through the services, with its labels attached (ready to propose)."""
    from django.core.files.base import ContentFile

    from handoff.contracts import services

    contract = services.create_contract(author, project, title=title, terms=contract_terms(**terms),
                                        requirements=contract_requirements(), labels_blind=labels_blind)
    name, content = evidence(ArtifactKind.LABELS)
    services.attach_contract_artifact(author, contract, kind="labels",
                                      uploaded_file=ContentFile(content, name=name))
    return contract


def agreed_contract(project, scientist, engineer, **kwargs):
    """A contract drafted by ``engineer``, proposed, and signed by both sides."""
    from handoff.contracts import services

    contract = draft_contract(project, engineer, **kwargs)
    services.propose(engineer, contract)
    services.sign(scientist, contract)
    services.sign(engineer, contract)
    contract.refresh_from_db()
    return contract


def filed_candidate(contract, scientist, name="logreg", *, model=None, version_label=None, submit=False,
                    **kwargs):
    """A candidate of ``contract`` filed by ``scientist`` with the real export
    ``name`` ("logreg", "scaled-logreg" or "mlp") and its predictions. -> Handover"""
    from django.core.files.base import ContentFile

    from handoff.contracts import services
    from handoff.handovers import services as handover_services

    model = model or handover_services.create_model(scientist, contract.project, name=name)
    handover = services.file_candidate(scientist, contract, model=model,
                                       version_label=version_label or "1.0.0", framework="scikit-learn",
                                       **kwargs)
    revision = handover.revisions.get()
    for kind, file_name in ((ArtifactKind.MODEL, "model.onnx"),
                            (ArtifactKind.PREDICTIONS, "predictions.csv")):
        content = (CANDIDATE_EVIDENCE / name / file_name).read_bytes()
        handover_services.attach_artifact(scientist, revision, kind=kind,
                                          uploaded_file=ContentFile(content, name=file_name))
    if submit:
        handover_services.submit_revision(scientist, revision)
    handover.refresh_from_db()
    return handover


def measured_candidate(contract, owner=None, *, accuracy=0.96, roc_auc=0.97, latency_ms=2.0, memory_mb=12.0,
                       parameters=31, state=HandoverState.AWAITING_REVIEW, name=None):
    """A candidate of ``contract`` as rows, validated without running validation:
    a handover awaiting review whose revision 1 has a finished run with the
    checks the comparison reads, each judged against the contract's bounds. -> Handover"""
    from handoff.contracts.models import Candidate

    owner = owner or member(contract.project, Role.DATA_SCIENTIST)
    named = {"name": name} if name else {}
    handover = HandoverFactory(model=ModelFactory(project=contract.project, owner=owner, **named),
                               state=state, is_candidate=True, labels_blind=contract.labels_blind,
                               awaiting_review_since=timezone.now())
    revision = RevisionFactory(handover=handover, number=1, submitted_at=timezone.now(), submitted_by=owner)
    Candidate.objects.create(contract=contract, handover=handover)
    bounds = {r.metric: r for r in contract.requirements.all()}
    figures = [("metric.accuracy", accuracy, bounds.get("accuracy")),
               ("metric.roc_auc", roc_auc, bounds.get("roc_auc"))]
    failed = False
    run = ValidationRunFactory(revision=revision, number=1)
    for position, (key, value, requirement) in enumerate(figures):
        limit = requirement.minimum if requirement is not None else None
        ok = limit is None or value >= limit
        failed |= not ok
        CheckResultFactory(run=run, key=key, position=position, measured=value, claimed=None, limit=limit,
                           status=CheckStatus.PASS if ok else CheckStatus.FAIL, message=f"{key} {value}")
    for position, (key, value, limit, unit) in enumerate([
        ("runtime.latency_p95_ms", latency_ms, contract.latency_p95_ms, "ms"),
        ("runtime.peak_memory_mb", memory_mb, contract.peak_memory_mb, "MB"),
        ("model.parameters", parameters, contract.max_parameter_count, "parameters"),
    ], start=len(figures)):
        ok = limit is None or value <= limit
        failed |= not ok
        CheckResultFactory(run=run, key=key, position=position, measured=value, claimed=None, limit=limit,
                           unit=unit, tolerance=None, status=CheckStatus.PASS if ok else CheckStatus.FAIL,
                           message=f"{key} {value}")
    if failed:
        ValidationRun.objects.filter(pk=run.pk).update(state=RunState.FAILED)
    return handover


# --- contracts and signatures as rows (the home page's lists) ------------------

from handoff.contracts.models import Contract, ContractSignature, ContractState  # noqa: E402


class ContractFactory(factory.django.DjangoModelFactory):
    """A contract row (no files, no requirements): ``draft_contract`` makes a
    complete one through the services; this is for lists that only name it."""

    class Meta:
        model = Contract

    project = factory.SubFactory(ProjectFactory)
    title = factory.Sequence(lambda n: f"Contract {n}")
    state = ContractState.PROPOSED
    created_by = factory.SubFactory(UserFactory)


class ContractSignatureFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ContractSignature

    contract = factory.SubFactory(ContractFactory)
    signer = factory.SubFactory(UserFactory)
    role = Role.DATA_SCIENTIST
    terms_sha256 = "0" * 64


# --- accounts: API tokens ---------------------------------------------------------------------

from accounts.models import ApiToken  # noqa: E402


class ApiTokenFactory(factory.django.DjangoModelFactory):
    """A stored token; use ``api_token(user)`` to get one with its secret."""

    class Meta:
        model = ApiToken

    user = factory.SubFactory(UserFactory)
    name = factory.Sequence(lambda n: f"Script {n}")
    prefix = "hat_test"
    digest = factory.Sequence(lambda n: hashlib.sha256(f"api token {n}".encode()).hexdigest())


def api_token(user, name="Test script"):
    """The secret of a new API token of ``user``, made as the service makes it (``Authorization: Token``)."""
    from accounts.services import create_api_token

    return create_api_token(user, name=name)[1]
