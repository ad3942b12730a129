"""``POST /api/v1/deployments/{id}/metrics/``: monitoring posts with an
ingestion token and nothing else; every refusal stores nothing."""

import pytest
from django.test import Client

from handoff.deployments import services
from handoff.deployments.models import DeploymentStatus, MetricBatch, MetricObservation
from tests.factories import (
    DeploymentFactory,
    ProjectFactory,
    accepted_handover,
    ingestion_token,
    observation,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def deployment(handover):
    return DeploymentFactory(handover=handover)


@pytest.fixture
def secret(project, engineer):
    return ingestion_token(project, created_by=engineer)[1]


def post(deployment_pk, body, secret=None, header=None):
    headers = {"HTTP_AUTHORIZATION": header or f"Bearer {secret}"} if (secret or header) else {}
    return Client().post(f"/api/v1/deployments/{deployment_pk}/metrics/", body,
                         content_type="application/json", **headers)


def _nothing_stored():
    return not MetricObservation.objects.exists() and not MetricBatch.objects.exists()


def test_monitoring_posts_a_batch(deployment, secret, django_capture_on_commit_callbacks):
    body = {"observations": [observation(), observation("latency_p95_ms", 21.0, sample_size=None),
                             observation("rmse", 3, minutes_ago=20)]}
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = post(deployment.pk, body, secret)

    assert response.status_code == 202, response.json()
    batch = MetricBatch.objects.get()
    assert response.json() == {"stored": 3, "batch": batch.pk}
    assert batch.observations.count() == 3 and batch.evaluated_at is None
    # The incidents app asked to evaluate the batch once it is committed.
    assert len(callbacks) == 1


def test_without_a_token_it_is_a_401_saying_how(deployment):
    response = post(deployment.pk, {"observations": [observation()]})

    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert "Authorization: Bearer" in response.json()["detail"]
    assert _nothing_stored()


def test_an_unknown_token_is_a_401(deployment):
    response = post(deployment.pk, {"observations": [observation()]}, "hoi_" + "A" * 43)
    assert response.status_code == 401 and "Unknown ingestion token" in response.json()["detail"]
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert _nothing_stored()


def test_a_persons_api_token_does_not_post_metrics(deployment, engineer):
    from tests.factories import api_token

    key = api_token(engineer)
    response = post(deployment.pk, {"observations": [observation()]}, header=f"Token {key}")
    assert response.status_code == 401 and "ingestion token" in response.json()["detail"]
    assert _nothing_stored()


def test_a_revoked_token_is_a_401(deployment, project, engineer):
    token, secret = ingestion_token(project, created_by=engineer)
    services.revoke_token(engineer, token)

    response = post(deployment.pk, {"observations": [observation()]}, secret)

    assert response.status_code == 401 and "revoked" in response.json()["detail"]
    assert _nothing_stored()


def test_another_projects_token_gets_404_as_for_nothing(deployment):
    other = ProjectFactory()
    _, elsewhere = ingestion_token(other)
    DeploymentFactory(handover=accepted_handover(project=other)[0])

    real = post(deployment.pk, {"observations": [observation()]}, elsewhere)
    missing = post(987654, {"observations": [observation()]}, elsewhere)

    assert real.status_code == missing.status_code == 404
    assert real.content == missing.content
    assert _nothing_stored()


def test_an_ended_deployment_is_a_409(deployment, secret):
    DeploymentFactory._meta.model.objects.filter(pk=deployment.pk).update(status=DeploymentStatus.RETIRED)
    response = post(deployment.pk, {"observations": [observation()]}, secret)
    assert response.status_code == 409 and "retired" in response.json()["detail"]
    assert _nothing_stored()


@pytest.mark.parametrize(("bad", "field"), [
    ({"metric": "happiness"}, "observations[1].metric"),
    ({"metric": None}, "observations[1].metric"),
    ({"value": "0.9"}, "observations[1].value"),
    ({"value": None}, "observations[1].value"),
    ({"value": True}, "observations[1].value"),
    ({"window_start": "yesterday"}, "observations[1].window_start"),
    ({"window_start": "2026-01-01T00:60:00Z"}, "observations[1].window_start"),  # was a 500
    ({"window_end": "2026-01-01T12:00:00+23:99"}, "observations[1].window_end"),
    ({"window_end": "2026-01-01T12:00:00"}, "observations[1].window_end"),
    ({"window_start": "2999-01-01T00:00:00Z"}, "observations[1].window_end"),
    ({"sample_size": 0}, "observations[1].sample_size"),
    ({"sample_size": 2.5}, "observations[1].sample_size"),
])
def test_a_malformed_observation_is_a_400_naming_it_and_nothing_is_stored(deployment, secret, bad, field):
    response = post(deployment.pk, {"observations": [observation(), observation(**bad)]}, secret)

    assert response.status_code == 400, response.json()
    assert field in response.json(), response.json()
    assert response.json()["detail"].startswith(field)
    assert _nothing_stored()


@pytest.mark.parametrize(("body", "field"), [
    ({}, "observations"),
    ({"observations": []}, "observations"),
    ({"observations": "all of them"}, "observations"),
    ({"observations": [{"metric": "accuracy"}]}, "observations[0].value"),
    ({"observations": [observation()] * 1001}, "observations"),
    ([observation()], "non_field_errors"),
])
def test_a_malformed_batch_is_a_400_naming_the_field(deployment, secret, body, field):
    response = post(deployment.pk, body, secret)
    assert response.status_code == 400 and field in response.json(), response.json()
    assert _nothing_stored()


def test_a_body_that_is_not_json_is_a_400(deployment, secret):
    response = Client().post(f"/api/v1/deployments/{deployment.pk}/metrics/", "{not json",
                             content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert response.status_code == 400
    assert _nothing_stored()
