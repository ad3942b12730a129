"""Production metrics evaluated by a real Celery worker on Redis and
PostgreSQL: a batch posted to the metrics endpoint with an ingestion token
rings the doorbell after commit, the worker holds it against the signed contract, and the page's
reader sees one incident, its breaches and its recovery. A batch whose
doorbell was lost is rung again by the beat's sweep."""

from datetime import timedelta

import pytest
from django.utils import timezone

from handoff.deployments.models import MetricBatch
from handoff.incidents import breaches, tasks
from handoff.incidents.models import EventKind, Incident, IncidentStatus, Severity
from handoff.notifications.models import Notification
from tests.factories import ingestion_token
from tests.timing import wait_until

from .conftest import stored_batch

pytestmark = pytest.mark.worker

DAY = timezone.now().replace(minute=0, second=0, microsecond=0) - timedelta(days=1)


@pytest.fixture
def worker(celery_worker, monkeypatch):
    """The real worker, and this process unable to evaluate: whatever is
    evaluated was evaluated there."""
    def not_here(batch_id):
        raise AssertionError("a batch was evaluated in the test process, not by the worker")

    monkeypatch.setattr(breaches, "evaluate_batch", not_here)
    return celery_worker


@pytest.fixture
def post_metrics(client, deployment, engineer):
    """POST hourly accuracy windows to the metrics endpoint with the project's
    ingestion token, as monitoring does. -> the stored MetricBatch"""
    _, secret = ingestion_token(deployment.project, created_by=engineer)

    def post(*values, hour):
        start = DAY + timedelta(hours=hour)
        windows = [{"metric": "accuracy", "value": value, "sample_size": 500,
                    "window_start": (start + timedelta(hours=i)).isoformat(),
                    "window_end": (start + timedelta(hours=i + 1)).isoformat()}
                   for i, value in enumerate(values)]
        response = client.post(f"/api/v1/deployments/{deployment.pk}/metrics/", {"observations": windows},
                               content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {secret}")
        assert response.status_code == 202, response.content
        assert response.json()["stored"] == len(values)
        return MetricBatch.objects.get(pk=response.json()["batch"])

    return post


def evaluated(worker, *batches):
    ids = [batch.pk for batch in batches]
    wait_until(lambda: not MetricBatch.objects.filter(pk__in=ids, evaluated_at__isnull=True).exists(),
               f"the worker to evaluate batches {ids}", timeout=30, detail=worker.log)


def kinds(incident):
    return list(incident.timeline.values_list("kind", flat=True))


def test_breaches_open_one_incident_add_to_it_and_a_recovery_is_recorded(worker, deployment, scientist,
                                                                         post_metrics):
    evaluated(worker, post_metrics(0.91, hour=0))
    incident = Incident.objects.get()
    assert (incident.severity, incident.status, incident.metric) == (Severity.SEV2, IncidentStatus.OPEN,
                                                                    "accuracy")
    assert (incident.revision, incident.deployment, incident.owner) == (deployment.revision, deployment,
                                                                        scientist)
    assert incident.observed_value == 0.91 and incident.limit_value == 0.95
    told = Notification.objects.filter(recipient=scientist, kind="incident_opened")
    assert told.count() == 1
    everyone = Notification.objects.count()  # the scientist, and the engineer of a SEV2

    evaluated(worker, post_metrics(0.90, hour=1), post_metrics(0.89, hour=2))
    assert Incident.objects.count() == 1
    assert kinds(incident) == [EventKind.OPENED] + [EventKind.BREACH] * 3
    assert told.count() == 1 and Notification.objects.count() == everyone

    evaluated(worker, post_metrics(0.97, hour=3))
    assert kinds(incident) == [EventKind.OPENED] + [EventKind.BREACH] * 3 + [EventKind.RECOVERY]
    assert Incident.objects.count() == 1


def test_a_batch_whose_doorbell_was_lost_is_evaluated_after_the_sweep(worker, deployment, settings):
    lost = stored_batch(deployment, 0.91)  # stored, but no signal: no doorbell rang
    MetricBatch.objects.filter(pk=lost.pk).update(received_at=timezone.now() - timedelta(hours=1))
    recent = stored_batch(deployment, 0.97, start=DAY + timedelta(hours=5))  # within the grace: left alone
    assert tasks.sweep_metric_batches() == 1
    evaluated(worker, lost)
    assert Incident.objects.get().timeline.filter(kind=EventKind.BREACH).count() == 1
    assert MetricBatch.objects.get(pk=recent.pk).evaluated_at is None
