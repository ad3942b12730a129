"""The SLA to acknowledge: an incident left open past its severity's limit
is escalated to the team leader once, by the beat's task. Time is frozen
and moved with time_machine; nothing sleeps."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.conf import settings as django_settings

from handoff.incidents import services, tasks
from handoff.incidents.models import EventKind, Incident, IncidentStatus, Severity
from handoff.notifications.models import Notification
from tests.factories import IncidentFactory

T = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
DEFAULTS = {"sev1": timedelta(minutes=15), "sev2": timedelta(hours=1), "sev3": timedelta(hours=8),
            "sev4": timedelta(days=3)}


@pytest.fixture
def clock():
    with time_machine.travel(T, tick=False) as traveller:
        yield traveller


def escalations(incident):
    return (Notification.objects.filter(kind="incident_escalated", target_id=str(incident.pk)).count(),
            incident.timeline.filter(kind=EventKind.ESCALATED).count())


def at(clock, delta):
    """Run the beat's task at T + ``delta``."""
    clock.move_to(T + delta)
    return tasks.escalate_overdue_incidents()


def test_the_beat_schedule_runs_the_escalation_task():
    names = {entry["task"] for entry in django_settings.CELERY_BEAT_SCHEDULE.values()}
    assert tasks.escalate_overdue_incidents.name in names
    assert tasks.sweep_metric_batches.name in names


def test_an_unacknowledged_sev1_is_escalated_to_the_team_leader_once_after_15_minutes(project, clock):
    incident = IncidentFactory(project=project, severity=Severity.SEV1, opened_at=T)
    assert at(clock, timedelta(minutes=14)) == []
    assert escalations(incident) == (0, 0)
    assert at(clock, timedelta(minutes=16)) == [incident.pk]
    assert escalations(incident) == (1, 1)
    told = Notification.objects.get(kind="incident_escalated")
    assert told.recipient == project.team.leader and "past its SLA" in told.subject
    assert Incident.objects.get(pk=incident.pk).escalated_at == T + timedelta(minutes=16)
    assert incident.timeline.get(kind=EventKind.ESCALATED).details == {"sla": True, "waited_minutes": 16}
    assert at(clock, timedelta(minutes=30)) == []
    assert at(clock, timedelta(hours=2)) == []
    assert escalations(incident) == (1, 1)


@pytest.mark.parametrize("status", [IncidentStatus.ACKNOWLEDGED, IncidentStatus.INVESTIGATING,
                                    IncidentStatus.MITIGATED, IncidentStatus.RESOLVED, IncidentStatus.CLOSED])
def test_an_incident_past_open_is_never_escalated(project, clock, status):
    incident = IncidentFactory(project=project, severity=Severity.SEV1, opened_at=T, status=status)
    assert at(clock, timedelta(days=30)) == []
    assert escalations(incident) == (0, 0)


def test_an_incident_acknowledged_in_time_is_not_escalated_later(project, engineer, clock):
    incident = IncidentFactory(project=project, severity=Severity.SEV1, opened_at=T)
    clock.move_to(T + timedelta(minutes=10))
    services.acknowledge(engineer, incident)
    assert at(clock, timedelta(hours=1)) == []
    assert escalations(incident) == (0, 0)


@pytest.mark.parametrize("severity", list(Severity))
def test_each_severity_waits_its_default_sla(project, clock, severity):
    incident = IncidentFactory(project=project, severity=severity, opened_at=T)
    assert at(clock, DEFAULTS[severity] - timedelta(minutes=1)) == []
    assert at(clock, DEFAULTS[severity] + timedelta(minutes=1)) == [incident.pk]


def test_the_sla_is_set_per_severity_in_settings(project, clock, settings):
    settings.HANDOFF_INCIDENT_SLA_SECONDS = {**settings.HANDOFF_INCIDENT_SLA_SECONDS, "sev3": 120}
    incident = IncidentFactory(project=project, severity=Severity.SEV3, opened_at=T)
    assert at(clock, timedelta(seconds=119)) == []
    assert at(clock, timedelta(seconds=121)) == [incident.pk]


def test_a_reopened_incident_waits_its_sla_again_from_the_reopening(project, clock):
    incident = IncidentFactory(project=project, severity=Severity.SEV1, opened_at=T - timedelta(days=2),
                               acknowledged_at=T - timedelta(days=2), status=IncidentStatus.OPEN,
                               reopened_at=T)
    assert at(clock, timedelta(minutes=14)) == []
    assert at(clock, timedelta(minutes=16)) == [incident.pk]


def test_an_incident_escalated_by_hand_is_not_escalated_again_by_the_beat(project, engineer, clock):
    incident = IncidentFactory(project=project, severity=Severity.SEV1, opened_at=T)
    services.escalate(engineer, incident)
    assert at(clock, timedelta(hours=1)) == []
    assert escalations(incident) == (1, 1)
