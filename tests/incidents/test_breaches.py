"""Production metrics held against the signed contract (evaluated in-process;
tests/incidents/test_worker.py does it through a real worker)."""

import pytest

from handoff.incidents import breaches
from handoff.incidents.models import EventKind, Incident, IncidentStatus, Severity
from handoff.notifications.models import Notification

from .conftest import stored_batch


def kinds(incident):
    return list(incident.timeline.values_list("kind", flat=True))


def test_a_window_below_the_minimum_opens_one_sev2_incident_on_the_signed_revision(deployment, scientist):
    breaches.evaluate_batch(stored_batch(deployment, 0.97, 0.91).pk)
    incident = Incident.objects.get()
    assert (incident.severity, incident.status) == (Severity.SEV2, IncidentStatus.OPEN)
    assert incident.revision == deployment.revision and incident.owner == scientist
    assert (incident.metric, incident.limit_value, incident.observed_value) == ("accuracy", 0.95, 0.91)
    assert kinds(incident) == [EventKind.OPENED, EventKind.BREACH]
    assert Notification.objects.filter(recipient=scientist, kind="incident_opened").count() == 1


def test_more_breaches_add_to_the_open_incident_and_a_recovery_is_recorded_once(deployment):
    breaches.evaluate_batch(stored_batch(deployment, 0.91).pk)
    breaches.evaluate_batch(stored_batch(deployment, 0.90, 0.89).pk)
    breaches.evaluate_batch(stored_batch(deployment, 0.96, 0.97).pk)
    incident = Incident.objects.get()
    assert kinds(incident) == [EventKind.OPENED, EventKind.BREACH, EventKind.BREACH, EventKind.BREACH,
                               EventKind.RECOVERY]


def test_a_budget_exceeded_is_sev3(deployment):
    breaches.evaluate_batch(stored_batch(deployment, 35.0, metric="latency_p95_ms").pk)
    assert Incident.objects.get().severity == Severity.SEV3


def test_a_batch_is_evaluated_once(deployment):
    batch = stored_batch(deployment, 0.91)
    breaches.evaluate_batch(batch.pk)
    assert breaches.evaluate_batch(batch.pk) is None
    assert Incident.objects.get().timeline.filter(kind=EventKind.BREACH).count() == 1


@pytest.mark.parametrize("value", [0.95, 0.99])
def test_windows_within_the_contract_open_nothing(deployment, value):
    breaches.evaluate_batch(stored_batch(deployment, value).pk)
    assert not Incident.objects.exists()
