import pytest
from rest_framework.test import APIClient

from handoff.deployments.models import DeploymentStatus, IngestionToken
from handoff.handovers.models import Handover, HandoverState
from tests.factories import DeploymentFactory, MetricObservationFactory, accepted_handover

pytestmark = pytest.mark.django_db


def client_for(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_engineer_deploys_through_the_api(engineer, handover):
    response = client_for(engineer).post("/api/v1/deployments/", {
        "handover": handover.pk, "environment": "staging", "traffic_share": 25, "notes": "canary"},
        format="json")

    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["environment"], body["traffic_share"], body["status"], body["revision"]) == (
        "staging", 25, "active", 1)
    assert body["deployed_by"] == engineer.username
    assert Handover.objects.get(pk=handover.pk).state == HandoverState.DEPLOYED


def test_a_share_over_what_is_free_is_a_409_on_traffic_share(engineer, handover):
    DeploymentFactory(handover=handover, traffic_share=80)
    response = client_for(engineer).post("/api/v1/deployments/", {
        "handover": handover.pk, "environment": "production", "traffic_share": 30}, format="json")

    assert response.status_code == 409
    assert response.json()["field"] == "traffic_share" and "Only 20 %" in response.json()["detail"]
    assert handover.deployments.count() == 1


def test_a_handover_out_of_reach_is_a_404_whatever_the_body(outsider, handover):
    client = client_for(outsider)
    for body in ({"handover": handover.pk, "environment": "production"},
                 {"handover": 987654, "environment": "production"}):
        response = client.post("/api/v1/deployments/", body, format="json")
        assert response.status_code == 404
    assert not handover.deployments.exists()


def test_a_data_scientist_may_not_deploy(scientist, handover):
    response = client_for(scientist).post("/api/v1/deployments/", {
        "handover": handover.pk, "environment": "production"}, format="json")
    assert response.status_code == 403


def test_list_shows_only_deployments_in_my_projects_and_filters(engineer, outsider, handover):
    mine = DeploymentFactory(handover=handover, environment="staging")
    DeploymentFactory()  # another project's

    body = client_for(engineer).get("/api/v1/deployments/").json()
    assert [row["id"] for row in body["results"]] == [mine.pk]
    assert client_for(engineer).get("/api/v1/deployments/?environment=production").json()["count"] == 0
    by_project = client_for(engineer).get(f"/api/v1/deployments/?project={handover.project.slug}")
    assert by_project.json()["count"] == 1
    assert client_for(outsider).get(f"/api/v1/deployments/{mine.pk}/").status_code == 404


def test_rollback_and_retire_actions(engineer, handover):
    first = DeploymentFactory(handover=handover, traffic_share=50)
    second = DeploymentFactory(handover=handover, traffic_share=50)
    client = client_for(engineer)

    response = client.post(f"/api/v1/deployments/{first.pk}/rollback/", {"reason": "errors"}, format="json")
    assert (response.status_code, response.json()["status"]) == (200, "rolled_back")
    assert client.post(f"/api/v1/deployments/{second.pk}/retire/").json()["status"] == "retired"
    assert client.post(f"/api/v1/deployments/{second.pk}/retire/").status_code == 409


def test_a_scientist_gets_403_before_the_body_is_read(scientist, handover):
    deployment = DeploymentFactory(handover=handover)
    response = client_for(scientist).post(f"/api/v1/deployments/{deployment.pk}/rollback/",
                                          {"reason": 5}, format="json")
    assert response.status_code == 403


def test_retire_handover_endpoint(engineer, handover):
    deployment = DeploymentFactory(handover=handover)
    Handover.objects.filter(pk=handover.pk).update(state=HandoverState.DEPLOYED)
    client = client_for(engineer)

    refused = client.post("/api/v1/deployments/retire-handover/", {"handover": handover.pk}, format="json")
    assert refused.status_code == 409 and f"#{deployment.pk}" in refused.json()["detail"]

    client.post(f"/api/v1/deployments/{deployment.pk}/retire/")
    response = client.post("/api/v1/deployments/retire-handover/", {"handover": handover.pk}, format="json")
    assert response.json() == {"id": handover.pk, "state": "retired"}


def test_members_read_observations_paginated(scientist, outsider, handover):
    deployment = DeploymentFactory(handover=handover)
    for value in (0.91, 0.92, 0.93):
        MetricObservationFactory(deployment=deployment, value=value)

    body = client_for(scientist).get(f"/api/v1/deployments/{deployment.pk}/observations/?page_size=2").json()
    assert body["count"] == 3 and len(body["results"]) == 2
    assert client_for(outsider).get(f"/api/v1/deployments/{deployment.pk}/observations/").status_code == 404


# --- ingestion tokens over the API -------------------------------------------------------------


def test_engineer_creates_a_token_and_sees_its_secret_once(engineer, project):
    client = client_for(engineer)
    created = client.post("/api/v1/ingestion-tokens/", {"project": project.slug, "name": "Prometheus"},
                          format="json")

    assert created.status_code == 201
    secret = created.json()["secret"]
    assert secret.startswith("hoi_")
    listed = client.get("/api/v1/ingestion-tokens/").json()["results"]
    assert [row["name"] for row in listed] == ["Prometheus"] and "secret" not in listed[0]
    one = client.get(f"/api/v1/ingestion-tokens/{created.json()['id']}/").json()
    assert "secret" not in one and one["prefix"] == secret[:12]


def test_tokens_are_for_engineers(scientist, outsider, engineer, project):
    token_id = client_for(engineer).post("/api/v1/ingestion-tokens/", {"project": project.slug, "name": "x"},
                                         format="json").json()["id"]

    assert client_for(scientist).get(f"/api/v1/ingestion-tokens/{token_id}/").status_code == 403
    assert client_for(scientist).get("/api/v1/ingestion-tokens/").json()["count"] == 0
    assert client_for(scientist).post("/api/v1/ingestion-tokens/", {"project": project.slug, "name": "x"},
                                      format="json").status_code == 403
    assert client_for(outsider).get(f"/api/v1/ingestion-tokens/{token_id}/").status_code == 404
    assert client_for(outsider).post("/api/v1/ingestion-tokens/", {"project": project.slug, "name": "x"},
                                     format="json").status_code == 404
    assert client_for(outsider).post(f"/api/v1/ingestion-tokens/{token_id}/revoke/").status_code == 404
    assert IngestionToken.objects.count() == 1


def test_revoke_through_the_api(engineer, project):
    client = client_for(engineer)
    token_id = client.post("/api/v1/ingestion-tokens/", {"project": project.slug, "name": "x"},
                           format="json").json()["id"]

    response = client.post(f"/api/v1/ingestion-tokens/{token_id}/revoke/")

    assert (response.status_code, response.json()["active"]) == (200, False)
    assert client.post(f"/api/v1/ingestion-tokens/{token_id}/revoke/").status_code == 409


def test_the_deployment_status_filter_takes_several(engineer, handover):
    DeploymentFactory(handover=handover, status=DeploymentStatus.RETIRED, traffic_share=10)
    DeploymentFactory(handover=handover, status=DeploymentStatus.ROLLED_BACK, traffic_share=10)
    DeploymentFactory(handover=accepted_handover(project=handover.project)[0])
    url = "/api/v1/deployments/?status=retired&status=rolled_back"
    assert client_for(engineer).get(url).json()["count"] == 2
    assert client_for(engineer).get("/api/v1/deployments/?status=nonsense").status_code == 400
