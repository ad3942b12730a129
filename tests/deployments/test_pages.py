import pytest
from django.test import Client

from handoff.deployments.models import Deployment, DeploymentStatus, IngestionToken
from handoff.handovers.models import Handover, HandoverState
from tests.factories import DeploymentFactory, MetricObservationFactory

pytestmark = pytest.mark.django_db


def logged_in(user):
    client = Client()
    client.force_login(user)
    return client


def test_engineer_sees_the_deploy_form_on_the_handover_page(engineer, handover):
    page = logged_in(engineer).get(handover.get_absolute_url()).content.decode()
    assert 'id="deployments-heading"' in page and "Record deployment" in page
    assert "Not deployed yet" in page


def test_scientist_sees_deployments_without_buttons(scientist, engineer, handover):
    DeploymentFactory(handover=handover, environment="staging", deployed_by=engineer)
    page = logged_in(scientist).get(handover.get_absolute_url()).content.decode()
    assert "Staging" in page and "Record deployment" not in page and "Roll back" not in page


def test_a_draft_handover_page_has_no_deployments_section(scientist):
    from tests.factories import ready_draft

    handover, _ = ready_draft(owner=scientist, project=scientist.role_assignments.get().project)
    assert b"deployments-heading" not in logged_in(scientist).get(handover.get_absolute_url()).content


def test_deploy_from_the_page(engineer, handover):
    response = logged_in(engineer).post(f"/handovers/{handover.pk}/deploy/",
                                        {"environment": "production", "traffic_share": "40", "notes": "A/B"})
    assert response.status_code == 302
    assert Deployment.objects.get().traffic_share == 40
    assert Handover.objects.get(pk=handover.pk).state == HandoverState.DEPLOYED


def test_a_refused_deploy_is_shown_on_its_field_and_stores_nothing(engineer, handover):
    DeploymentFactory(handover=handover, traffic_share=90)
    response = logged_in(engineer).post(f"/handovers/{handover.pk}/deploy/",
                                        {"environment": "production", "traffic_share": "20"})
    assert response.status_code == 400
    assert "Only 10 %" in response.content.decode()
    assert Deployment.objects.count() == 1


def test_rollback_from_the_page_and_then_retire_the_handover(engineer, handover):
    deployment = DeploymentFactory(handover=handover)
    Handover.objects.filter(pk=handover.pk).update(state=HandoverState.DEPLOYED)
    client = logged_in(engineer)

    refused = client.post(f"/handovers/{handover.pk}/retire/", follow=True)
    assert "still deployed" in refused.content.decode()
    client.post(f"/deployments/{deployment.pk}/rollback/", {"reason": "drift"})
    deployment.refresh_from_db()
    assert deployment.status == DeploymentStatus.ROLLED_BACK

    assert "Retire handover" in client.get(handover.get_absolute_url()).content.decode()
    client.post(f"/handovers/{handover.pk}/retire/")
    assert Handover.objects.get(pk=handover.pk).state == HandoverState.RETIRED


def test_a_scientist_may_not_deploy_or_roll_back(scientist, handover):
    deployment = DeploymentFactory(handover=handover)
    client = logged_in(scientist)
    assert client.post(f"/handovers/{handover.pk}/deploy/", {"environment": "staging"}).status_code == 403
    assert client.post(f"/deployments/{deployment.pk}/rollback/").status_code == 403


def test_outsider_gets_404_on_the_deployment_page(outsider, handover):
    deployment = DeploymentFactory(handover=handover)
    assert logged_in(outsider).get(f"/deployments/{deployment.pk}/").status_code == 404


def test_deployment_page_shows_latest_metrics_and_every_observation(scientist, handover):
    deployment = DeploymentFactory(handover=handover)
    MetricObservationFactory(deployment=deployment, value=0.875)
    page = logged_in(scientist).get(f"/deployments/{deployment.pk}/").content.decode()
    assert "Latest production metrics" in page and "0.875" in page and "Every observation (1)" in page


def test_deployment_page_without_metrics_says_how_to_post_them(engineer, handover):
    deployment = DeploymentFactory(handover=handover)
    page = logged_in(engineer).get(f"/deployments/{deployment.pk}/").content.decode()
    assert "No metric posted yet" in page and f"/api/v1/deployments/{deployment.pk}/metrics/" in page


def test_token_secret_is_shown_once(engineer, project):
    client = logged_in(engineer)
    assert "No token yet" in client.get(f"/projects/{project.slug}/ingestion-tokens/").content.decode()

    created = client.post(f"/projects/{project.slug}/ingestion-tokens/", {"name": "Prometheus"})

    assert created.status_code == 201
    token = IngestionToken.objects.get()
    page = created.content.decode()
    start = page.index('id="token-secret"')
    secret = page[start:].split('value="', 1)[1].split('"', 1)[0]
    assert secret.startswith(token.prefix) and "this once" in page
    assert secret not in client.get(f"/projects/{project.slug}/ingestion-tokens/").content.decode()


def test_a_token_without_a_name_is_refused(engineer, project):
    response = logged_in(engineer).post(f"/projects/{project.slug}/ingestion-tokens/", {"name": ""})
    assert response.status_code == 400 and not IngestionToken.objects.exists()


def test_revoke_a_token_from_the_page(engineer, project):
    client = logged_in(engineer)
    client.post(f"/projects/{project.slug}/ingestion-tokens/", {"name": "old"})
    token = IngestionToken.objects.get()
    client.post(f"/projects/{project.slug}/ingestion-tokens/{token.pk}/revoke/")
    token.refresh_from_db()
    assert token.revoked_at is not None


def test_tokens_page_is_for_engineers_and_linked_for_them(engineer, scientist, outsider, project):
    assert logged_in(scientist).get(f"/projects/{project.slug}/ingestion-tokens/").status_code == 403
    assert logged_in(outsider).get(f"/projects/{project.slug}/ingestion-tokens/").status_code == 404
    link = f"/projects/{project.slug}/ingestion-tokens/"
    assert link in logged_in(engineer).get(project.get_absolute_url()).content.decode()
    assert link not in logged_in(scientist).get(project.get_absolute_url()).content.decode()
