"""The home page's read model: what needs this person first, then their projects.

Each section is one capped query (the ``CAP`` most urgent rows and, from a
window count over the same rows, how many there are in all) over an app's
own selector, scoped by ``handoff.access``. A section shows only when the
person's roles allow the work it lists (``access.reach``, one query shared
with the navigation): someone who only files handovers has no review queue.
"""

from dataclasses import dataclass, field
from typing import NamedTuple

from django.db.models import Count, IntegerField, OuterRef, Subquery, Window
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils.http import urlencode

from handoff import access
from handoff.access import Action
from handoff.contracts import selectors as contracts
from handoff.handovers import selectors as handovers
from handoff.handovers.models import Handover, HandoverState
from handoff.incidents import selectors as incidents
from handoff.incidents.models import ACTIVE_STATUSES, Incident
from handoff.teams import selectors as teams
from handoff.teams.models import Team

from . import selectors
from .templatetags.dashboard_tags import hours, money

# Rows a section lists; the rest are behind its "see all" link.
CAP = 10


def dashboard_url(team):
    """Where a team's dashboard is (``team``: a Team or its slug)."""
    return reverse("dashboards:team", args=[getattr(team, "slug", team)])


class Row(NamedTuple):
    text: str  # what the link says: "screening-logreg 1.2.0", "#4 Accuracy dropped", "Fraud Analytics"
    url: str
    project: str  # the project's name ("" for a team)
    status: str  # in words, never colour alone: "Validation failed", "SEV2 · Open"
    badge: str  # the badge's class: "state-validation_failed", "sev-sev2"
    when: object  # a datetime or None


@dataclass
class Section:
    key: str  # data-section on the page, and its anchor
    title: str
    caption: str  # what the table lists, in which order
    when_label: str
    empty: str  # what to do when nothing is listed
    rows: list = field(default_factory=list)
    total: int = 0
    see_all_url: str = ""
    see_all_label: str = ""
    empty_link: tuple = ()  # (label, url) of the first step the empty text suggests

    @property
    def more(self):
        return self.total > len(self.rows)


@dataclass
class Home:
    sections: list  # what needs the person, most pressing first
    projects: list  # (project, my role or None), as teams.selectors.my_projects gives them
    has_projects: bool


def _capped(queryset):
    """The first ``CAP`` rows and how many there are in all, in one query."""
    rows = list(queryset.annotate(home_total=Window(Count("pk")))[:CAP])
    return rows, (rows[0].home_total if rows else 0)


def _handover_rows(rows, when="updated_at"):
    return [
        Row(f"{h.model.name} {h.version_label}", h.get_absolute_url(), h.project.name,
            h.get_state_display(), f"state-{h.state}", getattr(h, when))
        for h in rows
    ]


def _incident_rows(rows):
    return [
        Row(f"#{i.pk} {i.title}", i.get_absolute_url(), i.project.name,
            f"{i.get_severity_display()} · {i.get_status_display()}", f"sev-{i.severity}", i.opened_at)
        for i in rows
    ]


def _fill(section, queryset, to_rows):
    rows, section.total = _capped(queryset)
    section.rows = to_rows(rows)
    return section


def _handovers_url(user, *states):
    query = urlencode([("owner", user.get_username()), *(("state", state) for state in states)])
    return f"{reverse('handovers:list')}?{query}"


def waiting_on_me(user):
    return _fill(Section(
        "waiting-on-you", "Your handovers that need you",
        "Your handovers with changes requested or failed validation, the longest waiting first",
        "Last changed",
        "None of your handovers waits on you: nothing has changes requested or failed validation.",
        see_all_url=_handovers_url(user, *handovers.WAITING_ON_OWNER),
        see_all_label="your handovers that need you",
    ), handovers.waiting_on_owner(user), _handover_rows)


def drafts(user):
    return _fill(Section(
        "drafts", "Drafts left unfinished", "Your drafts not yet submitted, the longest untouched first",
        "Last changed",
        "No draft is left unfinished. A handover you start stays a draft until you submit it for validation.",
        see_all_url=_handovers_url(user, HandoverState.DRAFT), see_all_label="your drafts",
    ), handovers.unfinished_drafts(user), _handover_rows)


def review_queue(user):
    return _fill(Section(
        "review", "Review queue", "Handovers that passed validation and wait for a review, oldest first",
        "Waiting since",
        "Nothing to review. Handovers appear here once they pass validation in a project where you review.",
        see_all_url=reverse("handovers:review_queue"), see_all_label="handovers awaiting your review",
    ), handovers.review_queue(user), lambda rows: _handover_rows(rows, when="awaiting_review_since"))


def contracts_to_sign(user):
    def to_rows(rows):
        return [Row(f"{c.title} v{c.version}", c.get_absolute_url(), c.project.name, c.get_state_display(),
                    f"state-{c.state}", c.updated_at) for c in rows]

    return _fill(Section(
        "contracts", "Contracts waiting for your signature",
        "Proposed contracts your side has not signed yet, oldest first", "Last changed",
        "No contract waits for your signature. A proposed contract of your projects shows here until "
        "your side has signed it.",
        see_all_url=f"{reverse('contracts:list')}?state=proposed", see_all_label="proposed contracts",
    ), contracts.awaiting_signature(user), to_rows)


def incidents_on_my_models(user):
    return _fill(Section(
        "my-incidents", "Incidents on your models",
        "Incidents being worked on models you own, most severe first, then the oldest", "Opened",
        "No incident is being worked on your models. If production goes wrong you hear of it here "
        "and by notification.",
        see_all_url=reverse("incidents:triage"), see_all_label="incidents of your projects",
    ), incidents.on_models_of(user), _incident_rows)


def triage(user):
    return _fill(Section(
        "triage", "Triage queue",
        "Incidents being worked in the projects you triage, most severe first, then the oldest", "Opened",
        "No incident is being worked in the projects you triage. Monitoring opens one when a deployed "
        "model breaks a promise of its contract.",
        see_all_url=reverse("incidents:triage"), see_all_label="incidents being worked",
    ), incidents.to_triage(user), _incident_rows)


def escalated(user):
    return _fill(Section(
        "escalated", "Escalated to you",
        "Incidents escalated because no one acknowledged them in time, most severe first", "Opened",
        "Nothing is escalated. An incident nobody acknowledges in time is escalated to its team's leader.",
        see_all_url=reverse("incidents:triage"), see_all_label="incidents being worked",
    ), incidents.escalated_in(user, access.figure_projects(user)), _incident_rows)


def team_dashboards(user):
    """The teams whose figures ``user`` may see, each with how much is open in
    the projects they see of it (handovers awaiting review, incidents being worked)."""
    projects = access.figure_projects(user)

    def open_count(queryset):
        # A count per team as a subquery: two joined counts would multiply each other's rows.
        counted = (queryset.filter(project__team=OuterRef("pk"), project__in=projects.values("pk"))
                   .order_by().values("project__team").annotate(n=Count("pk")).values("n"))
        return Coalesce(Subquery(counted, output_field=IntegerField()), 0)

    teams_shown = (
        # By id, not by a join: the window count must see each team once.
        Team.objects.filter(pk__in=projects.values("team_id"))
        .annotate(awaiting=open_count(Handover.objects.filter(state=HandoverState.AWAITING_REVIEW)),
                  being_worked=open_count(Incident.objects.filter(status__in=ACTIVE_STATUSES)))
        .order_by("name")
    )

    headlines = selectors.team_headlines(user)

    def summary(team):
        figures = headlines.get(team.pk, {})
        said = [f"{figures.get('accepted', 0)} accepted in {figures.get('days', 90)} days"]
        if figures.get("lead_time_median_hours") is not None:
            said.append(f"median lead time {hours(figures['lead_time_median_hours'])}")
        said.append(f"{team.awaiting} awaiting review")
        said.append(f"{team.being_worked} incident{'' if team.being_worked == 1 else 's'} being worked")
        if figures.get("value_at_risk", "0.00") != "0.00":
            said.append(f"{money(figures['value_at_risk'], figures['currency'])} a month at risk")
        return " · ".join(said)

    def to_rows(rows):
        return [Row(team.name, dashboard_url(team), "", summary(team), "", None) for team in rows]

    return _fill(Section(
        "team-dashboards", "Team dashboards",
        "Teams whose figures you may see, with what is open in them", "",
        "No team's figures are yours to see.",
    ), teams_shown, to_rows)


def home(user):
    """The home page of ``user``: the sections their roles allow, each with
    what needs them first, then their projects with their role on each."""
    reach = access.reach(user)
    sections = []
    files_handovers = reach.allows(Action.CREATE_HANDOVER)
    if files_handovers:
        sections.append(waiting_on_me(user))
    if reach.allows(Action.REVIEW_REVISION):
        sections.append(review_queue(user))
    if reach.allows(Action.SIGN_CONTRACT):
        sections.append(contracts_to_sign(user))
    if files_handovers:
        sections.append(incidents_on_my_models(user))
    if reach.allows(Action.TRIAGE_INCIDENT):
        sections.append(triage(user))
    sees_figures = reach.allows(Action.VIEW_DASHBOARD)
    if sees_figures:
        sections.append(escalated(user))
    if files_handovers:
        sections.append(drafts(user))
    if sees_figures:
        sections.append(team_dashboards(user))

    has_projects = reach.allows(Action.VIEW)
    projects = teams.my_projects(user) if has_projects else []
    if files_handovers:
        mine = {s.key: s for s in sections}
        waiting = mine["waiting-on-you"]
        if not waiting.total and not mine["drafts"].total and not handovers.has_handed_over(user):
            # Nothing filed yet: the first step, not "nothing waits on you".
            waiting.empty = (
                "You have not handed over a model yet. A handover states what your model does and attaches "
                "the evidence; the claims are re-measured and an ML engineer reviews it.")
            waiting.empty_link = ("File a new handover", reverse("handovers:new"))
    return Home(sections=sections, projects=projects, has_projects=has_projects)
