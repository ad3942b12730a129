"""The team dashboard's read model: every figure of ``figures`` for the projects a
person may see figures of, as plain data the page, the CSV and the API share.

Access is decided once, here (``access.figure_projects``); the figures are
cached per team, scope, project filter and period, and dropped as soon as an
event that changes them happens in one of the projects (``receivers``)."""

import hashlib
import logging
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db import connection

from handoff import access
from handoff.core.errors import DomainError, Forbidden, NotFound
from handoff.incidents import figures as incident_figures
from handoff.incidents.models import Severity
from handoff.teams.models import Project, Team

from . import figures
from .figures import Period

SCHEMA = 1  # bump when the shape of the cached figures changes
logger = logging.getLogger(__name__)


def dashboard_teams(user):
    """Teams with at least one project whose figures ``user`` may see, by name."""
    return (Team.objects.filter(projects__in=access.figure_projects(user).values("pk"))
            .distinct().order_by("name"))


@dataclass(frozen=True)
class Scope:
    """What one dashboard counts: a team, the projects of it the person may see figures
    of, and the project chosen in the filter (None: all of them)."""

    team: Team
    projects: list  # [Project] the person may see figures of, by name
    project: Project | None

    @property
    def counted(self):
        return [self.project] if self.project else self.projects


def scope_of(user, slug, project_slug=None):
    """The dashboard scope of team ``slug`` for ``user``: 404 for a team out of their
    reach or a project filter naming a project they may not see figures of, 403 for a
    team they see but may not see figures of."""
    team = access.visible_teams(user).filter(slug=slug).first()
    if team is None:
        raise NotFound("Not found.")
    projects = list(access.figure_projects(user).filter(team=team).order_by("name"))
    if not projects:
        raise Forbidden(f"Only {team.name}'s leader and its projects' managers see its figures: "
                        f"ask the team's leader if you need them.")
    project = None
    if project_slug:
        project = next((p for p in projects if p.slug == project_slug), None)
        if project is None:
            raise NotFound(f"No project {project_slug!r} on {team.name}'s dashboard.")
    return Scope(team, projects, project)


def period_of(days):
    """The period of the last ``days`` days (a string from a query string, or None for the default)."""
    if days in (None, ""):
        return Period.last()
    try:
        days = int(days)
    except (TypeError, ValueError):
        days = None
    if days not in figures.PERIODS:
        choices = ", ".join(str(d) for d in figures.PERIODS)
        raise DomainError(f"The period is a number of days, one of {choices}.", field="period")
    return Period.last(days)


# --- the cached figures -----------------------------------------------------------------------------


def _version_key(project_pk):
    return f"dashboards:{_installation()}:project:{project_pk}"


def _installation():
    # Two installations (or two test databases) sharing one Redis must not read each other's figures.
    return hashlib.sha256(str(connection.settings_dict["NAME"]).encode()).hexdigest()[:10]


def figures_changed(project_pk):
    """Drop the cached figures of every dashboard counting ``project_pk`` (its version moves on).

    Never fails the change that calls it: with the cache down there is nothing cached to
    drop now, and what was cached before it went down ages out within the timeout."""
    key = _version_key(project_pk)
    try:
        cache.add(key, 0, timeout=None)
        try:
            cache.incr(key)
        except ValueError:  # evicted between add and incr: a fresh version is as good
            cache.set(key, 1, timeout=None)
    except Exception:  # noqa: BLE001 - the cache is a convenience; the change must go through
        logger.warning("Could not drop the cached dashboard figures of project %s", project_pk, exc_info=True)


def _cache_key(kind, project_pks, period):
    pks = sorted(project_pks)
    versions = cache.get_many([_version_key(pk) for pk in pks])
    stamp = ",".join(f"{pk}.{versions.get(_version_key(pk), 0)}" for pk in pks)
    digest = hashlib.sha256(stamp.encode()).hexdigest()
    return f"dashboards:{_installation()}:v{SCHEMA}:{kind}:{period.days}:{period.end:%Y%m%d}:{digest}"


def _cached(kind, project_pks, period, compute_them):
    """``compute_them()``, kept in the cache under the versions of ``project_pks`` (any
    change to one of them is a new key), and computed afresh while the cache is down."""
    seconds = settings.HANDOFF_DASHBOARD_CACHE_SECONDS
    if seconds <= 0:
        return compute_them()
    try:
        key = _cache_key(kind, project_pks, period)
        found = cache.get(key)
    except Exception:  # noqa: BLE001 - the page works without its cache
        logger.warning("The dashboard cache cannot be read; computing the figures", exc_info=True)
        return compute_them()
    if found is None:
        found = compute_them()
        try:
            cache.set(key, found, timeout=seconds)
        except Exception:  # noqa: BLE001
            logger.warning("The dashboard cache cannot be written", exc_info=True)
    return found


def team_figures(user, scope, period):
    """Every figure of the dashboard, as plain data (JSON-ready), from the cache when fresh."""
    return _cached(f"team{scope.team.pk}", [p.pk for p in scope.counted], period,
                   lambda: compute(user, scope, period))


def _hours(value):
    return None if value is None else round(value / timedelta(hours=1), 1)


def _money(value):
    return f"{(value or Decimal('0')):.2f}"


def _ratio(numerator, denominator, digits=2):
    return round(numerator / denominator, digits) if denominator else None


def _spread(spread):
    return {"count": spread.count, "median_hours": _hours(spread.median), "p90_hours": _hours(spread.p90)}


def _severities(row):
    row = row or {}
    return {"total": row.get("total", 0), **{s.value: row.get(s.value, 0) for s in Severity}}


def compute(user, scope, period):
    """The figures of ``scope`` over ``period`` (about thirty aggregate queries, however much data)."""
    # The ids themselves, not a subquery: PostgreSQL then reads the projects' rows by index.
    projects = [project.pk for project in scope.counted]
    lead, waits = figures.lead_times(projects, period), figures.review_waits(projects, period)
    first = figures.first_pass(projects, period)
    requested, accepted = figures.change_requests(projects, period).get(None, (0, 0))
    candidates, contracts = figures.candidates_per_contract(projects, period)
    production = figures.production(projects, period).get(None, {})
    at_risk = figures.value_at_risk(projects).get(None, Decimal("0"))
    times = figures.incident_times(user, projects, period)
    opened = _severities(figures.incidents_opened(projects, period).get(None))
    models = production.get("models", 0)
    value, cost = production.get("value", Decimal("0")), production.get("cost", Decimal("0"))
    return {
        "team": {"slug": scope.team.slug, "name": scope.team.name},
        "project": scope.project.slug if scope.project else None,
        "projects": [{"slug": p.slug, "name": p.name} for p in scope.projects],
        "period": {"days": period.days, "start": period.start.isoformat(), "end": period.end.isoformat()},
        "handovers": {
            "accepted": accepted,
            "lead_time": _spread(lead.get(None, figures.Spread())),
            "review_wait": _spread(waits.get(None, figures.Spread())),
            "first_runs": first.get(None, (0, 0))[1],
            "first_pass_rate": _ratio(*first.get(None, (0, 0))),
            "change_requests": requested or 0,
            "change_requests_per_accepted": _ratio(requested or 0, accepted),
            "contracts_selected": contracts,
            "candidates_per_contract": _ratio(candidates, contracts, 1),
        },
        "validation_failures": [{"check": key, "failures": n}
                                for key, n in figures.failures_by_check(projects, period)],
        "production": {
            "deployed_models": models,
            "currency": settings.HANDOFF_CURRENCY,
            "monthly_value": _money(value),
            "monthly_cost": _money(cost),
            "monthly_net": _money(value - cost),
            "valued_deployments": production.get("valued", 0),
            "value_at_risk": _money(at_risk),
        },
        "incidents": {
            "open": _severities(figures.open_incidents(projects).get(None)),
            "opened": opened,
            "mtta_hours": _hours(times.mtta),
            "mttr_hours": _hours(times.mttr),
            "per_deployed_model": _ratio(opened["total"], models),
        },
        "workload": _workload(figures.open_work(projects)),
        "weekly": _weekly(projects, period),
        "by_project": _by_project(user, scope, projects, period),
    }


def team_headlines(user, period=None):
    """{team id: headline figures} over the projects of each team ``user`` may see figures
    of, for the home page's summary: handovers accepted and their median lead time in the
    period (the default 90 days), open incidents and the value at risk now (four queries,
    however many teams; a team with nothing to count is left out)."""
    period = period or Period.last()
    projects = list(access.figure_projects(user).values_list("pk", flat=True))
    return _cached("headlines", projects, period, lambda: _headlines(projects, period))


def _headlines(projects, period):
    lead = figures.lead_times(projects, period, by="team")
    open_now = figures.open_incidents(projects, by="team")
    at_risk = figures.value_at_risk(projects, by="team")
    return {team: {
        "days": period.days,
        "accepted": lead.get(team, figures.Spread()).count,
        "lead_time_median_hours": _hours(lead.get(team, figures.Spread()).median),
        "open_incidents": open_now.get(team, {}).get("total", 0),
        "value_at_risk": _money(at_risk.get(team)),
        "currency": settings.HANDOFF_CURRENCY,
    } for team in {*lead, *open_now, *at_risk}}


def _workload(work):
    people = get_user_model().objects.filter(pk__in=work).order_by("username")
    rows = []
    for person in people:
        counts = work[person.pk]
        rows.append({"username": person.username, "name": person.display_name, **counts,
                     "total": sum(counts.values())})
    return sorted(rows, key=lambda row: (-row["total"], row["username"]))


def _weekly(projects, period):
    lead = {figures.monday(k): v for k, v in figures.lead_times(projects, period, by="week").items()}
    first = {figures.monday(k): v for k, v in figures.first_pass(projects, period, by="week").items()}
    opened = {figures.monday(k): v for k, v in figures.incidents_opened(projects, period, by="week").items()}
    rows = []
    for monday in period.weeks():
        spread = lead.get(monday, figures.Spread())
        rows.append({
            "week": monday.isoformat(),
            "accepted": spread.count,
            "lead_time_median_hours": _hours(spread.median),
            "first_runs": first.get(monday, (0, 0))[1],
            "first_pass_rate": _ratio(*first.get(monday, (0, 0))),
            "incidents_opened": _severities(opened.get(monday)),
        })
    return rows


def _by_project(user, scope, projects, period):
    lead = figures.lead_times(projects, period, by="project")
    first = figures.first_pass(projects, period, by="project")
    production = figures.production(projects, period, by="project")
    at_risk = figures.value_at_risk(projects, by="project")
    open_now = figures.open_incidents(projects, by="project")
    times = incident_figures.mean_times_by_project(user, period.start, period.end)
    weekly = figures.accepted_by_project_and_week(projects, period)
    weeks = period.weeks()
    rows = []
    for project in scope.counted:
        made = production.get(project.pk, {})
        spread = lead.get(project.pk, figures.Spread())
        rows.append({
            "slug": project.slug,
            "name": project.name,
            "accepted": spread.count,
            "lead_time_median_hours": _hours(spread.median),
            "first_pass_rate": _ratio(*first.get(project.pk, (0, 0))),
            "deployed_models": made.get("models", 0),
            "open_incidents": open_now.get(project.pk, {}).get("total", 0),
            "mttr_hours": _hours(times.get(project.pk, incident_figures.MeanTimes()).mttr),
            "monthly_value": _money(made.get("value")),
            "monthly_cost": _money(made.get("cost")),
            "value_at_risk": _money(at_risk.get(project.pk)),
            "weekly_accepted": [weekly.get((project.pk, monday), 0) for monday in weeks],
        })
    return rows
