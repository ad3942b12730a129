"""The figures a team dashboard shows, computed in the database.

Every function takes ``projects`` (a queryset of project primary keys, the
scope the caller already cleared with ``access.figure_projects``) and a
``Period`` [start, end), and runs a fixed number of queries however many rows
it counts: aggregates, ``GROUP BY`` and window functions, on PostgreSQL and
SQLite alike. Each figure says which event places a row in a period:

* lead time: submission of revision 1 to the accepting review; a handover
  counts in the period it was accepted in.
* review wait: a revision's submission to its review (each revision gets one
  decision); counts in the period of that review.
* first-pass validation: a handover's first validation run (run 1 of
  revision 1) passed; counts in the period that run finished in.
* change requests per accepted handover: every "request changes" review a
  handover accepted in the period ever received, over those handovers.
* validation failures by check: failed checks of runs finished in the period.
* candidates per contract: candidates filed against contracts whose selection
  (a candidate's acceptance) falls in the period.
* deployed models, value and cost: deployments serving at the period's end.
* open incidents by severity and value at risk: incidents being worked now.
* MTTA, MTTR, incidents per deployed model: incidents opened in the period.
* open work: what each person has on their plate now.

Percentiles are nearest-rank: the p-th percentile of n sorted values is the
value at position ceil(p × n), so a test can compute it by hand.
"""

import math
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from decimal import Decimal

from django.db.models import (
    Count,
    DurationField,
    ExpressionWrapper,
    F,
    IntegerField,
    OuterRef,
    Q,
    Subquery,
    Sum,
    Value,
    Window,
)
from django.db.models.functions import Ceil, Coalesce, RowNumber, TruncWeek
from django.utils import timezone

from handoff.contracts.models import Candidate
from handoff.deployments.models import Deployment, DeploymentStatus, Environment
from handoff.handovers.models import Handover, HandoverState, Review, ReviewDecision, Revision
from handoff.incidents import figures as incident_figures
from handoff.incidents.models import ACTIVE_STATUSES, Incident, Severity
from handoff.validation.models import FINISHED_STATES, CheckResult, CheckStatus, RunState, ValidationRun

PERIODS = (7, 30, 90, 180, 365)
DEFAULT_PERIOD = 90
# Handovers still on someone's plate: the owner's until submitted, the reviewer's while awaiting review.
OWNER_WORK = (HandoverState.DRAFT, HandoverState.VALIDATION_FAILED, HandoverState.CHANGES_REQUESTED)
ZERO = Decimal("0.00")


@dataclass(frozen=True)
class Period:
    """[start, end): the last ``days`` days up to the end of today, cut into weeks."""

    start: datetime
    end: datetime
    days: int

    @classmethod
    def last(cls, days=DEFAULT_PERIOD, *, today=None):
        today = today or timezone.localdate()
        end = timezone.make_aware(datetime.combine(today + timedelta(days=1), time.min))
        return cls(start=end - timedelta(days=days), end=end, days=days)

    def weeks(self):
        """The Mondays of every week the period touches, oldest first (the weekly series' rows)."""
        monday = (self.start - timedelta(days=self.start.weekday())).date()
        weeks = []
        while monday < self.end.date():
            weeks.append(monday)
            monday += timedelta(days=7)
        return weeks


@dataclass(frozen=True)
class Spread:
    """How long something took over ``count`` cases: median and 90th percentile (None: no case)."""

    count: int = 0
    median: timedelta | None = None
    p90: timedelta | None = None


def _group(by, *, when, project):
    """The expression rows are grouped by: ``by`` is None (the whole), "week" (the Monday
    of the row's ``when`` field), "project" (its ``project`` path) or "team" (that project's team)."""
    if by is None:
        return Value(None, output_field=IntegerField())
    if by == "week":
        return TruncWeek(when)
    if by == "project":
        return F(project)
    if by == "team":
        return F(f"{project}__team")
    raise ValueError(f"Cannot group figures by {by!r}")


def _in(period, field):
    return {f"{field}__gte": period.start, f"{field}__lt": period.end}


def _duration(later, earlier):
    return ExpressionWrapper(F(later) - F(earlier), output_field=DurationField())


def _spreads(rows, duration, group):
    """{key: Spread} of ``duration`` over ``rows`` (one query), keyed by the value of the
    ``group`` expression (a week, a project, or None for the whole).

    Each row is numbered in its group by duration; only the rows at the median's
    and the 90th percentile's rank come back from the database."""
    partition = [group]
    ranked = rows.annotate(
        group=group,
        duration=duration,
        rank=Window(RowNumber(), partition_by=partition, order_by=[duration.asc(), F("pk").asc()]),
        size=Window(Count("*"), partition_by=partition),
    ).filter(Q(rank=Ceil(F("size") * 0.5)) | Q(rank=Ceil(F("size") * 0.9)))
    found = {}
    for row in ranked.values("group", "duration", "rank", "size"):
        count, median, p90 = found.get(row["group"], (row["size"], None, None))
        if row["rank"] == _rank(0.5, row["size"]):
            median = row["duration"]
        if row["rank"] == _rank(0.9, row["size"]):
            p90 = row["duration"]
        found[row["group"]] = (count, median, p90)
    return {group: Spread(*values) for group, values in found.items()}


def _rank(p, size):
    # ceil(p × n) as the database computes it (in floats there too: 0.9 × 10 is 9.000000000000002).
    return math.ceil(p * size)


# --- handovers ------------------------------------------------------------------------------------


def _acceptances(projects, period):
    """Accepting reviews in the period, one per accepted handover."""
    return Review.objects.filter(decision=ReviewDecision.ACCEPT, revision__handover__project__in=projects,
                                 **_in(period, "created_at"))


def _review_group(by):
    return _group(by, when="created_at", project="revision__handover__project")


def _first_submitted():
    return Subquery(Revision.objects.filter(handover=OuterRef("revision__handover"), number=1)
                    .values("submitted_at")[:1])


def lead_times(projects, period, *, by=None):
    """Submitted (revision 1) → accepted, for handovers accepted in the period. -> {key: Spread}"""
    rows = _acceptances(projects, period).annotate(first_submitted_at=_first_submitted())
    return _spreads(rows, _duration("created_at", "first_submitted_at"), _review_group(by))


def lead_time(projects, period):
    return lead_times(projects, period).get(None, Spread())


def accepted_by_project_and_week(projects, period):
    """{(project id, Monday): handovers accepted} in the period (one query; weeks without any left out)."""
    rows = (_acceptances(projects, period)
            .annotate(project=F("revision__handover__project"), week=TruncWeek("created_at"))
            .values("project", "week").order_by("project", "week").annotate(n=Count("pk")))
    return {(row["project"], monday(row["week"])): row["n"] for row in rows}


def monday(value):
    """The date of a week key (TruncWeek gives a datetime)."""
    return value.date() if hasattr(value, "date") else value


def review_waits(projects, period, *, by=None):
    """A revision's submission → its review (a revision gets one decision), for reviews
    in the period. -> {key: Spread}"""
    rows = Review.objects.filter(
        revision__handover__project__in=projects, revision__submitted_at__isnull=False,
        **_in(period, "created_at"),
    ).annotate(submitted_at=F("revision__submitted_at"))
    return _spreads(rows, _duration("created_at", "submitted_at"), _review_group(by))


def review_wait(projects, period):
    return review_waits(projects, period).get(None, Spread())


def _first_runs(projects, period):
    return ValidationRun.objects.filter(
        number=1, revision__number=1, revision__handover__project__in=projects,
        state__in=FINISHED_STATES, **_in(period, "finished_at"),
    )


def first_pass(projects, period, *, by=None):
    """{key: (passed, finished)}: handovers whose first validation run finished in the
    period, and how many of those passed."""
    rows = (_first_runs(projects, period)
            .annotate(group=_group(by, when="finished_at", project="revision__handover__project"))
            .values("group").order_by("group")
            .annotate(passed=Count("pk", filter=Q(state=RunState.PASSED)), finished=Count("pk")))
    return {row["group"]: (row["passed"], row["finished"]) for row in rows}


def rate(passed_finished):
    """passed / finished, or None when nothing finished."""
    passed, finished = passed_finished or (0, 0)
    return passed / finished if finished else None


def change_requests(projects, period, *, by=None):
    """{key: (change requests, accepted handovers)} over handovers accepted in the period."""
    requested = (Review.objects.filter(revision__handover=OuterRef("revision__handover"),
                                       decision=ReviewDecision.REQUEST_CHANGES)
                 .order_by().values("revision__handover").annotate(n=Count("pk")).values("n"))
    rows = (_acceptances(projects, period)
            .annotate(requests=Coalesce(Subquery(requested[:1]), 0), group=_review_group(by))
            .values("group").order_by("group")
            .annotate(requested=Sum("requests"), accepted=Count("pk")))
    return {row["group"]: (row["requested"], row["accepted"]) for row in rows}


def failures_by_check(projects, period):
    """[(check key, failures)] of runs finished in the period, most failures first."""
    rows = (CheckResult.objects.filter(status=CheckStatus.FAIL, run__revision__handover__project__in=projects,
                                       **_in(period, "run__finished_at"))
            .values("key").annotate(failures=Count("pk")).order_by("-failures", "key"))
    return [(row["key"], row["failures"]) for row in rows]


def candidates_per_contract(projects, period):
    """(candidates, contracts) over contract versions whose selection falls in the period:
    the selected candidate's acceptance is in it."""
    selected = Candidate.objects.filter(
        contract__project__in=projects,
        handover__revisions__reviews__decision=ReviewDecision.ACCEPT,
        **_in(period, "handover__revisions__reviews__created_at"),
    ).values("contract")
    row = Candidate.objects.filter(contract__in=selected).aggregate(
        candidates=Count("pk"), contracts=Count("contract", distinct=True))
    return row["candidates"], row["contracts"]


# --- production -----------------------------------------------------------------------------------


def _serving(projects, period):
    """Production deployments serving at the period's end."""
    return Deployment.objects.filter(
        project__in=projects, environment=Environment.PRODUCTION, deployed_at__lt=period.end,
    ).filter(Q(status=DeploymentStatus.ACTIVE) | Q(ended_at__gte=period.end))


def production(projects, period, *, by=None):
    """{key: {"models": n, "value": Decimal, "cost": Decimal, "valued": n}} of the
    production deployments serving at the period's end: distinct models deployed, their
    monthly value and cost (deployments with none recorded add nothing; ``valued`` counts
    those with a value)."""
    rows = (_serving(projects, period)
            .annotate(group=_group(by, when="deployed_at", project="project"))
            .values("group").order_by("group")
            .annotate(models=Count("handover__model", distinct=True),
                      value=Coalesce(Sum("monthly_value"), ZERO), cost=Coalesce(Sum("monthly_cost"), ZERO),
                      valued=Count("pk", filter=Q(monthly_value__isnull=False))))
    return {row.pop("group"): row for row in rows}


def value_at_risk(projects, *, by=None):
    """{key: Decimal}: the monthly value of active deployments with an incident being worked now."""
    struck = Incident.objects.filter(status__in=ACTIVE_STATUSES, deployment__isnull=False)
    rows = (Deployment.objects.filter(project__in=projects, status=DeploymentStatus.ACTIVE,
                                      pk__in=struck.values("deployment"))
            .annotate(group=_group(by, when="deployed_at", project="project"))
            .values("group").order_by("group")
            .annotate(value=Coalesce(Sum("monthly_value"), ZERO)))
    return {row["group"]: row["value"] for row in rows}


def open_incidents(projects, *, by=None):
    """{key: {"sev1": n, …, "total": n}} of incidents being worked now."""
    by_severity = {severity.value: Count("pk", filter=Q(severity=severity)) for severity in Severity}
    rows = (Incident.objects.filter(project__in=projects, status__in=ACTIVE_STATUSES)
            .annotate(group=_group(by, when="opened_at", project="project"))
            .values("group").order_by("group").annotate(total=Count("pk"), **by_severity))
    return {row.pop("group"): row for row in rows}


def incident_times(user, projects, period):
    """MTTA and MTTR (incidents.figures) of the incidents opened in the period."""
    return incident_figures.mean_times(user, period.start, period.end,
                                       incidents=Incident.objects.filter(project__in=projects))


def incidents_opened(projects, period, *, by=None):
    """{key: {"sev1": n, …, "total": n}} of incidents opened in the period."""
    by_severity = {severity.value: Count("pk", filter=Q(severity=severity)) for severity in Severity}
    rows = (Incident.objects.filter(project__in=projects, **_in(period, "opened_at"))
            .annotate(group=_group(by, when="opened_at", project="project"))
            .values("group").order_by("group").annotate(total=Count("pk"), **by_severity))
    return {row.pop("group"): row for row in rows}


def open_work(projects):
    """[{"user": id, "drafting": n, "reviewing": n, "incidents": n}] for everyone with
    something on their plate now: handovers of theirs not yet submitted or sent back,
    handovers awaiting their review, incidents assigned to them and being worked."""
    work = {}

    def add(rows, field):
        for row in rows:
            work.setdefault(row["person"], {"drafting": 0, "reviewing": 0, "incidents": 0})[field] = row["n"]

    handovers = Handover.objects.filter(project__in=projects)
    add(handovers.filter(state__in=OWNER_WORK).values(person=F("owner")).annotate(n=Count("pk"))
        .order_by(), "drafting")
    add(handovers.filter(state=HandoverState.AWAITING_REVIEW, reviewer__isnull=False)
        .values(person=F("reviewer")).annotate(n=Count("pk")).order_by(), "reviewing")
    add(Incident.objects.filter(project__in=projects, status__in=ACTIVE_STATUSES, assignee__isnull=False)
        .values(person=F("assignee")).annotate(n=Count("pk")).order_by(), "incidents")
    return work
