"""Ingestion tokens and the ingest service: stored hashed, refused when unknown
or revoked, held to their own project, all or nothing."""

import datetime as dt

import pytest
from django.db import connection
from django.utils import timezone

from handoff.core.errors import Conflict, DomainError, Forbidden, NotFound, Unauthenticated
from handoff.deployments import services
from handoff.deployments.models import DeploymentStatus, IngestionToken, MetricBatch, MetricObservation
from handoff.deployments.signals import metrics_received
from tests.factories import DeploymentFactory, ProjectFactory, accepted_handover, ingestion_token

pytestmark = pytest.mark.django_db


def _observation(**overrides):
    end = timezone.now() - dt.timedelta(minutes=1)
    return {"metric": "accuracy", "value": 0.91, "window_start": end - dt.timedelta(minutes=5),
            "window_end": end, "sample_size": 400, **overrides}


@pytest.fixture
def deployment(handover):
    return DeploymentFactory(handover=handover)


def test_the_secret_is_nowhere_in_the_database(engineer, project):
    token, secret = services.create_token(engineer, project, name="Prometheus")

    assert secret.startswith("hoi_") and len(secret) > 40
    assert token.prefix == secret[:12]
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM deployments_ingestiontoken")
        rows = cursor.fetchall()
        cursor.execute("SELECT details::text FROM audit_auditevent" if connection.vendor == "postgresql"
                       else "SELECT details FROM audit_auditevent")
        rows += cursor.fetchall()
    assert not any(secret in str(value) for row in rows for value in row)
    assert services.token_from_secret(secret) == token


def test_a_token_needs_a_name(engineer, project):
    with pytest.raises(DomainError) as refused:
        services.create_token(engineer, project, name="  ")
    assert refused.value.field == "name"
    assert not IngestionToken.objects.exists()


def test_only_engineers_manage_tokens(scientist, outsider, project):
    with pytest.raises(Forbidden):
        services.create_token(scientist, project, name="mine")
    with pytest.raises(NotFound):
        services.create_token(outsider, project, name="mine")


def test_an_unknown_token_is_unauthenticated(db):
    with pytest.raises(Unauthenticated) as refused:
        services.token_from_secret("hoi_" + "x" * 43)
    assert refused.value.status_code == 401 and "Unknown ingestion token" in refused.value.message
    with pytest.raises(Unauthenticated):
        services.token_from_secret("not-even-a-token")


def test_a_revoked_token_is_unauthenticated(engineer, project):
    token, secret = services.create_token(engineer, project, name="old exporter")
    services.revoke_token(engineer, token)

    with pytest.raises(Unauthenticated) as refused:
        services.token_from_secret(secret)
    assert "revoked" in refused.value.message
    with pytest.raises(Conflict):
        services.revoke_token(engineer, token)


def test_ingest_stores_the_batch_and_announces_it(engineer, project, deployment):
    token, _ = services.create_token(engineer, project, name="exporter")
    heard = []

    def listener(sender, batch, **kwargs):
        heard.append(batch.pk)

    metrics_received.connect(listener, sender=MetricBatch)
    try:
        batch = services.ingest(token, deployment.pk, [_observation(), _observation(metric="latency_p95_ms",
                                                                                     value=18.5)])
    finally:
        metrics_received.disconnect(listener, sender=MetricBatch)

    assert heard == [batch.pk]
    assert (batch.count, batch.deployment, batch.token, batch.evaluated_at) == (2, deployment, token, None)
    assert sorted(MetricObservation.objects.values_list("metric", "value")) == [
        ("accuracy", 0.91), ("latency_p95_ms", 18.5)]
    token.refresh_from_db()
    assert token.last_used_at is not None


def test_a_deployment_of_another_project_is_not_found_for_the_token(engineer, project):
    token, _ = services.create_token(engineer, project, name="exporter")
    elsewhere = DeploymentFactory(handover=accepted_handover(project=ProjectFactory())[0])

    with pytest.raises(NotFound):
        services.ingest(token, elsewhere.pk, [_observation()])
    with pytest.raises(NotFound):
        services.ingest(token, 987654, [_observation()])
    assert not MetricObservation.objects.exists() and not MetricBatch.objects.exists()


def test_a_deployment_that_has_ended_takes_no_metrics(engineer, project, deployment):
    token, _ = services.create_token(engineer, project, name="exporter")
    DeploymentFactory._meta.model.objects.filter(pk=deployment.pk).update(status=DeploymentStatus.ROLLED_BACK)

    with pytest.raises(Conflict) as refused:
        services.ingest(token, deployment.pk, [_observation()])
    assert "rolled back" in refused.value.message
    assert not MetricBatch.objects.exists()


@pytest.mark.parametrize(("overrides", "field"), [
    ({"metric": "happiness"}, "observations[1].metric"),
    ({"value": float("nan")}, "observations[1].value"),
    ({"value": "0.9"}, "observations[1].value"),
    ({"window_start": timezone.now() + dt.timedelta(days=1)}, "observations[1].window_end"),
    ({"window_end": dt.datetime(2026, 1, 1)}, "observations[1].window_end"),
    ({"sample_size": 0}, "observations[1].sample_size"),
])
def test_one_bad_observation_stores_nothing(engineer, project, deployment, overrides, field):
    token, _ = services.create_token(engineer, project, name="exporter")

    with pytest.raises(DomainError) as refused:
        services.ingest(token, deployment.pk, [_observation(), _observation(**overrides)])

    assert refused.value.field == field
    assert not MetricObservation.objects.exists() and not MetricBatch.objects.exists()


def test_a_batch_holds_1_to_1000_observations(engineer, project, deployment):
    token, _ = ingestion_token(project)
    for observations in ([], [_observation()] * 1001):
        with pytest.raises(DomainError) as refused:
            services.ingest(token, deployment.pk, observations)
        assert refused.value.field == "observations"
    assert services.ingest(token, deployment.pk, [_observation()] * 1000).count == 1000
