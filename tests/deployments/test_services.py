import datetime as dt

import pytest
from django.utils import timezone

from handoff.audit.models import AuditEvent
from handoff.core.errors import Conflict, DomainError, Forbidden, NotFound
from handoff.deployments import services
from handoff.deployments.models import Deployment, DeploymentStatus
from handoff.handovers.models import Handover, HandoverState
from tests.factories import DeploymentFactory, accepted_handover

pytestmark = pytest.mark.django_db


def _state(handover):
    return Handover.objects.get(pk=handover.pk).state


def test_deploy_records_the_signed_revision_and_moves_the_handover_to_deployed(engineer, handover):
    deployment = services.deploy(engineer, handover, environment="production", traffic_share=100,
                                 notes="Canary went well")

    assert _state(handover) == HandoverState.DEPLOYED
    assert deployment.revision == handover.revisions.get(number=1)
    assert (deployment.environment, deployment.traffic_share, deployment.status) == (
        "production", 100, DeploymentStatus.ACTIVE)
    assert deployment.deployed_by == engineer and deployment.notes == "Canary went well"
    verbs = list(AuditEvent.objects.order_by("pk").values_list("verb", flat=True))
    assert verbs[-2:] == ["handover.deployed", "deployment.created"]
    assert AuditEvent.objects.get(verb="deployment.created").details["handover"] == handover.pk


def test_a_second_deploy_keeps_the_handover_deployed(engineer, handover):
    services.deploy(engineer, handover, environment="staging")
    services.deploy(engineer, handover, environment="production", traffic_share=10)

    assert _state(handover) == HandoverState.DEPLOYED
    assert handover.deployments.count() == 2
    assert AuditEvent.objects.filter(verb="handover.deployed").count() == 1


def test_deployed_at_may_be_given_but_not_in_the_future(engineer, handover):
    earlier = timezone.now() - dt.timedelta(days=1)
    deployment = services.deploy(engineer, handover, environment="staging", deployed_at=earlier)
    assert deployment.deployed_at == earlier

    with pytest.raises(DomainError) as refused:
        services.deploy(engineer, handover, environment="production",
                        deployed_at=timezone.now() + dt.timedelta(hours=1))
    assert refused.value.field == "deployed_at"
    assert handover.deployments.count() == 1


def test_traffic_shares_of_one_model_over_100_percent_are_refused_naming_the_free_share(engineer, handover):
    services.deploy(engineer, handover, environment="production", traffic_share=70)
    newer, _ = accepted_handover(model=handover.model, reviewer=engineer)

    with pytest.raises(DomainError) as refused:
        services.deploy(engineer, newer, environment="production", traffic_share=40)

    assert refused.value.field == "traffic_share"
    assert "Only 30 %" in refused.value.message
    assert not newer.deployments.exists()
    assert _state(newer) == HandoverState.ACCEPTED


def test_traffic_shares_count_per_environment_and_only_active_deployments(engineer, handover):
    first = services.deploy(engineer, handover, environment="production", traffic_share=70)
    newer, _ = accepted_handover(model=handover.model, reviewer=engineer)
    services.deploy(engineer, newer, environment="staging", traffic_share=100)
    services.rollback(engineer, first)

    assert services.deploy(engineer, newer, environment="production", traffic_share=100).traffic_share == 100


def test_another_models_deployments_leave_the_share_free(engineer, handover, project):
    services.deploy(engineer, handover, environment="production", traffic_share=100)
    other, _ = accepted_handover(project=project, reviewer=engineer)

    assert services.deploy(engineer, other, environment="production").traffic_share == 100


@pytest.mark.parametrize("share", [-1, 101, 12.5, "50", True])
def test_a_traffic_share_that_is_not_a_percentage_is_refused(engineer, handover, share):
    with pytest.raises(DomainError) as refused:
        services.deploy(engineer, handover, environment="production", traffic_share=share)
    assert refused.value.field == "traffic_share"
    assert not Deployment.objects.exists()


def test_an_unknown_environment_is_refused(engineer, handover):
    with pytest.raises(DomainError) as refused:
        services.deploy(engineer, handover, environment="moon")
    assert refused.value.field == "environment"


@pytest.mark.parametrize("state", [HandoverState.DRAFT, HandoverState.AWAITING_REVIEW, HandoverState.RETIRED])
def test_a_handover_that_is_not_accepted_cannot_be_deployed(engineer, handover, state):
    Handover.objects.filter(pk=handover.pk).update(state=state)

    with pytest.raises(Conflict):
        services.deploy(engineer, handover, environment="production")
    assert not Deployment.objects.exists()


def test_a_data_scientist_may_not_deploy(scientist, handover):
    with pytest.raises(Forbidden):
        services.deploy(scientist, handover, environment="production")
    assert _state(handover) == HandoverState.ACCEPTED


def test_an_outsider_gets_not_found(outsider, handover):
    with pytest.raises(NotFound):
        services.deploy(outsider, handover, environment="production")


def test_rollback_ends_the_deployment_and_keeps_the_reason(engineer, handover):
    deployment = services.deploy(engineer, handover, environment="production")

    services.rollback(engineer, deployment, reason="Latency doubled")

    deployment.refresh_from_db()
    assert (deployment.status, deployment.ended_by) == (DeploymentStatus.ROLLED_BACK, engineer)
    assert deployment.ended_at is not None
    assert AuditEvent.objects.get(verb="deployment.rolled_back").details["reason"] == "Latency doubled"


def test_retire_ends_the_deployment_once(engineer, handover):
    deployment = services.deploy(engineer, handover, environment="production")
    services.retire(engineer, deployment)

    with pytest.raises(Conflict) as refused:
        services.rollback(engineer, deployment)
    assert "retired now" in refused.value.message
    deployment.refresh_from_db()
    assert deployment.status == DeploymentStatus.RETIRED


def test_a_data_scientist_may_not_roll_back(scientist, engineer, handover):
    deployment = services.deploy(engineer, handover, environment="production")
    with pytest.raises(Forbidden):
        services.rollback(scientist, deployment)
    deployment.refresh_from_db()
    assert deployment.status == DeploymentStatus.ACTIVE


def test_retire_handover_is_refused_while_a_deployment_is_active(engineer, handover):
    deployment = services.deploy(engineer, handover, environment="staging", traffic_share=20)

    with pytest.raises(Conflict) as refused:
        services.retire_handover(engineer, handover)

    assert f"staging (#{deployment.pk}, 20 %)" in refused.value.message
    assert _state(handover) == HandoverState.DEPLOYED


def test_retire_handover_once_every_deployment_has_ended(engineer, handover):
    deployment = services.deploy(engineer, handover, environment="staging")
    services.retire(engineer, deployment)

    services.retire_handover(engineer, handover)

    assert _state(handover) == HandoverState.RETIRED
    assert AuditEvent.objects.filter(verb="handover.retired").count() == 1


def test_an_accepted_handover_never_deployed_cannot_be_retired(engineer, handover):
    with pytest.raises(Conflict):
        services.retire_handover(engineer, handover)


def test_retire_handover_needs_an_engineer(scientist, outsider, engineer, handover):
    DeploymentFactory(handover=handover, status=DeploymentStatus.RETIRED)
    Handover.objects.filter(pk=handover.pk).update(state=HandoverState.DEPLOYED)
    with pytest.raises(Forbidden):
        services.retire_handover(scientist, handover)
    with pytest.raises(NotFound):
        services.retire_handover(outsider, handover)
    assert _state(handover) == HandoverState.DEPLOYED
