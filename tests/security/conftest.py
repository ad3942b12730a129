"""One world for the security tests.

Team "Retention" (leader Lee) has the project under test, "Churn Alpha", and
"Upsell Beta"; team "Vision" (leader Vic) has "Detector Gamma". Churn Alpha
holds one handover with two revisions (1 submitted and sent back, 2 a draft),
artifacts on both, a review and a comment. Gamma holds a handover of its own,
so people outside Alpha have something to see and lists are not just empty.
"""

import hashlib
from types import SimpleNamespace

import pytest
from django.core.files.base import ContentFile
from django.test import Client
from django.utils import timezone

from accounts.models import ApiToken
from handoff.contracts.models import (
    Candidate,
    Contract,
    ContractArtifact,
    ContractComment,
    ContractSignature,
    ContractState,
)
from handoff.deployments.models import Deployment, IngestionToken, MetricObservation
from handoff.handovers import notices
from handoff.handovers.models import ArtifactKind, HandoverState, ReviewDecision
from handoff.incidents.models import ActionItem, EventKind, Incident, Severity, TimelineEvent
from handoff.notifications import webhooks
from handoff.notifications.models import Webhook, WebhookDelivery
from handoff.teams.models import Role, RoleAssignment
from tests.factories import (
    ApiTokenFactory,
    ArtifactFactory,
    AuditEventFactory,
    CheckResultFactory,
    ClaimedMetricFactory,
    CommentFactory,
    DeploymentFactory,
    HandoverFactory,
    IncidentFactory,
    ModelFactory,
    ProjectFactory,
    ReviewFactory,
    RevisionFactory,
    TeamFactory,
    UserFactory,
    ValidationRunFactory,
    agreed_contract,
    ingestion_token,
    measured_candidate,
    member,
)

# People who must not learn that anything in Churn Alpha exists.
OUTSIDERS = (
    "member_of_other_project_in_team", "member_of_other_team", "leader_of_other_team",
    "staff_without_role", "nobody",
)


@pytest.fixture
def world(db):
    retention = TeamFactory(name="Retention", slug="retention", leader=UserFactory(username="lee"))
    vision = TeamFactory(name="Vision", slug="vision", leader=UserFactory(username="vic"))
    alpha = ProjectFactory(team=retention, name="Churn Alpha", slug="churn-alpha")
    beta = ProjectFactory(team=retention, name="Upsell Beta", slug="upsell-beta")
    gamma = ProjectFactory(team=vision, name="Detector Gamma", slug="detector-gamma")
    people = {
        "data_scientist": member(alpha, Role.DATA_SCIENTIST, username="dana"),
        "ml_engineer": member(alpha, Role.ML_ENGINEER, username="eli"),
        "data_engineer": member(alpha, Role.DATA_ENGINEER, username="dora"),
        "manager": member(alpha, Role.MANAGER, username="mona"),
        "team_leader": retention.leader,
        "member_of_other_project_in_team": member(beta, Role.DATA_SCIENTIST, username="bea"),
        "member_of_other_team": member(gamma, Role.ML_ENGINEER, username="gus"),
        "leader_of_other_team": vision.leader,
        "staff_without_role": UserFactory(username="stella", is_staff=True),
        "nobody": UserFactory(username="otto"),
    }
    bystander = member(alpha, Role.DATA_ENGINEER, username="bystander")

    model = ModelFactory(project=alpha, owner=people["data_scientist"], name="secret-churn-model")
    handover = HandoverFactory(model=model, version_label="9.9.9-secret", state=HandoverState.DRAFT)
    first = RevisionFactory(handover=handover, number=1, submitted_at=timezone.now(),
                            submitted_by=people["data_scientist"])
    ClaimedMetricFactory(revision=first)
    for kind in (ArtifactKind.MODEL, ArtifactKind.PREDICTIONS, ArtifactKind.LABELS):
        ArtifactFactory(revision=first, kind=kind)
    ReviewFactory(revision=first, reviewer=people["ml_engineer"], decision=ReviewDecision.REQUEST_CHANGES)
    run = ValidationRunFactory(revision=first, number=1, worker="secret-churn-model@node")
    CheckResultFactory(run=run)
    draft = RevisionFactory(handover=handover, number=2)
    ClaimedMetricFactory(revision=draft)
    artifacts = [ArtifactFactory(revision=draft, kind=kind)
                 for kind in (ArtifactKind.MODEL, ArtifactKind.PREDICTIONS, ArtifactKind.LABELS)]
    CommentFactory(handover=handover, body="secret comment")
    # Dana is told that changes were requested, as the review service would tell her.
    notices.announce(AuditEventFactory(project=alpha, actor=people["ml_engineer"], target=handover,
                                       verb="handover.changes_requested", details={"revision": 1}), handover)
    webhook = webhooks.create_webhook(alpha, url="https://93.184.215.14/secret-churn-model", created_by=None,
                                      events=["handover.accepted"])

    # In production: an earlier version of the model, accepted and deployed, and the
    # project's ingestion token (Gamma has one too, for the outsiders' side of the walk).
    deployed = HandoverFactory(model=model, version_label="9.8.0-secret", state=HandoverState.DEPLOYED,
                               reviewer=people["ml_engineer"])
    signed = RevisionFactory(handover=deployed, number=1, submitted_at=timezone.now(),
                             submitted_by=people["data_scientist"])
    ReviewFactory(revision=signed, reviewer=people["ml_engineer"], decision=ReviewDecision.ACCEPT)
    deployment = DeploymentFactory(handover=deployed, deployed_by=people["ml_engineer"])
    token, ingestion_secret = ingestion_token(alpha, created_by=people["ml_engineer"],
                                              name="secret-churn-monitor")
    other_ingestion_secret = ingestion_token(gamma, created_by=people["member_of_other_team"])[1]
    # An open SEV2 incident about the handover (its owner, Dana, is the incident's owner), with its
    # opening on the timeline and an action item. Made as rows: the service would tell Dana of it.
    incident = IncidentFactory(project=alpha, handover=handover, title="secret-churn-model scores drift",
                               severity=Severity.SEV2, description="secret incident description")
    TimelineEvent.objects.create(incident=incident, kind=EventKind.OPENED, created_at=incident.opened_at,
                                 details={"severity": "sev2"})
    action_item = ActionItem.objects.create(incident=incident, text="secret action item")

    # Contract pages: an agreed contract of Churn Alpha (signed by both, its labels attached) with
    # a draft candidate, and a draft contract with labels. Made as rows: the services would tell
    # Dana of each step, and she has one notification in this world.
    page_contract = _contract_rows(alpha, people, state=ContractState.AGREED, title="secret-churn-contract")
    page_draft_contract = _contract_rows(alpha, people, state=ContractState.DRAFT, title="secret-churn-draft")
    candidate_model = ModelFactory(project=alpha, owner=people["data_scientist"],
                                   name="secret-churn-candidate")
    page_candidate = HandoverFactory(model=candidate_model, version_label="0.1.0-secret", is_candidate=True)
    RevisionFactory(handover=page_candidate, number=1)
    Candidate.objects.create(contract=page_contract, handover=page_candidate)
    # The contracts API's: an agreed contract holding its labels blind, and a candidate of it under review.
    api_contract = agreed_contract(alpha, people["data_scientist"], people["ml_engineer"], labels_blind=True,
                                   title="secret-churn-contract")
    api_candidate = measured_candidate(api_contract, people["data_scientist"],
                                       name="secret-churn-api-candidate")
    # Dana's news of the contract is not the walk's: her one notification stays the changes requested.
    people["data_scientist"].notifications.filter(kind__startswith="contract_").delete()

    gamma_model = ModelFactory(project=gamma, owner=people["member_of_other_team"], name="gamma-model")
    gamma_handover = HandoverFactory(model=gamma_model, version_label="1.0.0")
    RevisionFactory(handover=gamma_handover, number=1)

    return SimpleNamespace(
        team=retention, project=alpha, other_project=beta, people=people, model=model, handover=handover,
        draft=draft, artifact=artifacts[0], assignment=RoleAssignment.objects.get(user=bystander),
        gamma_handover=gamma_handover, run=run, webhook=webhook, deployment=deployment, token=token,
        ingestion_secret=ingestion_secret, other_ingestion_secret=other_ingestion_secret,
        notification=people["data_scientist"].notifications.get(),
        incident=incident, action_item=action_item,
        page_contract=page_contract, page_draft_contract=page_draft_contract, page_candidate=page_candidate,
        api_contract=api_contract, api_contract_labels=api_contract.artifacts.get(),
        api_candidate=api_candidate,
        personal_token=ApiTokenFactory(user=people["data_scientist"], name="Dana's laptop"),
    )


def _contract_rows(project, people, *, state, title):
    """A contract of ``project`` in ``state`` with its labels file (and, once agreed, both signatures)."""
    contract = Contract.objects.create(project=project, title=title, state=state,
                                       task_type="binary_classification", created_by=people["ml_engineer"])
    contract.requirements.create(metric="accuracy", minimum=0.9)
    content = b"id,label\n1,0\n"
    ContractArtifact.objects.create(contract=contract, kind="labels",
                                    file=ContentFile(content, name="labels.csv"), original_name="labels.csv",
                                    size=len(content), sha256=hashlib.sha256(content).hexdigest(),
                                    uploaded_by=people["ml_engineer"])
    if state == ContractState.AGREED:
        for who in ("data_scientist", "ml_engineer"):
            ContractSignature.objects.create(contract=contract, signer=people[who], role=who,
                                             terms_sha256="0" * 64)
    return contract


def logged_in(user):
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def snapshot(world):
    """Everything in Churn Alpha a refused request must leave as it was."""
    handover = world.handover
    handover.refresh_from_db()
    return {
        "state": handover.state,
        "revisions": list(handover.revisions.values_list("number", "submitted_at", "framework_version")),
        "artifacts": sorted(
            handover.revisions.values_list("artifacts__pk", "artifacts__sha256").exclude(artifacts=None)
        ),
        "reviews": list(handover.revisions.values_list("reviews__pk", "reviews__decision")),
        "comments": list(handover.comments.values_list("pk", "body")),
        "members": sorted(world.project.role_assignments.values_list("user__username", "role")),
        "models": sorted(world.project.models.values_list("pk", "name")),
        "webhooks": sorted(Webhook.objects.values_list("pk", "url", "active")),
        "webhook deliveries": WebhookDelivery.objects.count(),
        "deployments": sorted(Deployment.objects.values_list("pk", "status", "traffic_share")),
        "ingestion tokens": sorted(IngestionToken.objects.values_list("pk", "revoked_at")),
        "api tokens": sorted(ApiToken.objects.values_list("pk", "revoked_at")),
        "observations": MetricObservation.objects.count(),
        "incidents": sorted(Incident.objects.filter(project=world.project).values_list(
            "pk", "status", "severity", "assignee_id", "postmortem", "escalated_at", "fix_handover_id")),
        "incident timeline": sorted(TimelineEvent.objects.filter(incident__project=world.project)
                                    .values_list("pk", "kind", "body")),
        "action items": sorted(ActionItem.objects.filter(incident__project=world.project)
                               .values_list("pk", "text", "done")),
        "api contracts": sorted(Contract.objects.filter(project=world.project).values_list(
            "pk", "version", "state", "title", "latency_p95_ms", "updated_at")),
        "api contract files": sorted(world.api_contract.artifacts.values_list("pk", "sha256")),
        "api contract signatures": sorted(ContractSignature.objects.values_list("pk", "signer_id")),
        "api contract comments": ContractComment.objects.count(),
        "api candidates": sorted(world.project.handovers.filter(is_candidate=True)
                                 .values_list("pk", "state")),
    }
