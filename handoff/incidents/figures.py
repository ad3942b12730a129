"""Incident figures the dashboards show: time to acknowledge and to resolve,
their means (MTTA, MTTR) per project and per team, and incidents per
deployment, over a period [start, end).

Computed in the database (durations as ``F`` differences, averaged there) on
PostgreSQL and SQLite alike, in a fixed number of queries however many
incidents there are. Every function takes the person asking and counts only
incidents of projects they may see (``access.scope``): nobody learns another
team's figures. An incident belongs to the period it was opened in.
"""

from dataclasses import dataclass
from datetime import timedelta

from django.db.models import Avg, Count, DurationField, ExpressionWrapper, F, Q

from handoff.access import scope, visible_projects, visible_teams

from .models import Incident, Severity

TO_ACKNOWLEDGE = ExpressionWrapper(F("acknowledged_at") - F("opened_at"), output_field=DurationField())
TO_RESOLVE = ExpressionWrapper(F("resolved_at") - F("opened_at"), output_field=DurationField())


@dataclass(frozen=True)
class MeanTimes:
    """Incidents opened in a period, and the mean times of those that have them (None: none has)."""

    incidents: int = 0
    mtta: timedelta | None = None
    mttr: timedelta | None = None


def time_to_acknowledge(incident):
    """From opening to the first acknowledgement, or None while unacknowledged."""
    return incident.acknowledged_at - incident.opened_at if incident.acknowledged_at else None


def time_to_resolve(incident):
    """From opening to resolution, or None while unresolved (a reopened incident
    is unresolved until it is resolved again)."""
    return incident.resolved_at - incident.opened_at if incident.resolved_at else None


def with_times(incidents):
    """``incidents`` annotated with ``to_acknowledge`` and ``to_resolve`` (timedelta or None)."""
    return incidents.annotate(to_acknowledge=TO_ACKNOWLEDGE, to_resolve=TO_RESOLVE)


def _opened_in(user, start, end, incidents=None):
    incidents = Incident.objects.all() if incidents is None else incidents
    return scope(incidents, user).filter(opened_at__gte=start, opened_at__lt=end)


def _means(rows):
    return rows.annotate(incidents=Count("id"), mtta=Avg(TO_ACKNOWLEDGE), mttr=Avg(TO_RESOLVE))


def _times(row):
    # Django turns the averaged duration into a timedelta on PostgreSQL (an
    # interval) and on SQLite (microseconds) alike.
    return MeanTimes(row["incidents"], row["mtta"], row["mttr"])


def mean_times(user, start, end, *, incidents=None):
    """MTTA and MTTR of the incidents ``user`` may see opened in [start, end),
    narrowed to ``incidents`` (a queryset) when given. -> MeanTimes"""
    row = _opened_in(user, start, end, incidents).aggregate(
        incidents=Count("id"), mtta=Avg(TO_ACKNOWLEDGE), mttr=Avg(TO_RESOLVE))
    return _times(row)


def mean_times_by_project(user, start, end):
    """{project id: MeanTimes} for every project ``user`` may see (two queries)."""
    figures = {pk: MeanTimes() for pk in visible_projects(user).values_list("pk", flat=True)}
    for row in _means(_opened_in(user, start, end).values("project").order_by("project")):
        figures[row["project"]] = _times(row)
    return figures


def mean_times_by_team(user, start, end):
    """{team id: MeanTimes} for every team ``user`` may see, over the team's
    projects ``user`` may see (two queries)."""
    figures = {pk: MeanTimes() for pk in visible_teams(user).values_list("pk", flat=True)}
    for row in _means(_opened_in(user, start, end).values("project__team").order_by("project__team")):
        figures[row["project__team"]] = _times(row)
    return figures


def incidents_per_deployment(user, start, end):
    """{deployment id: {"total": n, "sev1": n, … "sev4": n}} of incidents
    opened in [start, end) on deployments ``user`` may see (one query);
    deployments without any are left out."""
    by_severity = {severity.value: Count("id", filter=Q(severity=severity)) for severity in Severity}
    rows = (_opened_in(user, start, end).filter(deployment__isnull=False).values("deployment")
            .order_by("deployment").annotate(total=Count("id"), **by_severity))
    return {row.pop("deployment"): row for row in rows}
