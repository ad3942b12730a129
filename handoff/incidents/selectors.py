"""Read queries of incidents for pages, the API and the dashboards."""

from django.db.models import Q

from handoff.access import Action, people_allowing, scope
from handoff.core.errors import NotFound

from .models import Incident

# How many of the breaching metric's recent windows the incident page charts.
CHART_WINDOWS = 48
# What a row of the queue shows or asks access about (the project's team: is
# the viewer its leader). Each relation joined more made PostgreSQL plan the
# queue longer than it ran it (8 relations: 15 ms to plan, 2.5 ms to run).
ROW_RELATED = ("project__team", "handover__model", "assignee")


def visible_incidents(user):
    """Incidents of the projects ``user`` may see."""
    return scope(Incident.objects.all(), user)


def triage_queue(user):
    """The incidents of ``user``'s projects as the queue lists them: most
    severe first, then the longest waiting (filter with ``IncidentFilter``)."""
    return (visible_incidents(user).select_related(*ROW_RELATED)
            .order_by("severity", "opened_at", "id"))


def incident_list(user):
    """``triage_queue`` as the API lists it: with the reporter and the owner,
    fetched for the page's rows rather than joined (see ``ROW_RELATED``)."""
    return triage_queue(user).prefetch_related("reporter", "owner")


def incident_for(user, pk):
    """The incident if ``user`` may see it, else NotFound (a 404)."""
    incident = (visible_incidents(user)
                .select_related("project__team", "deployment", "revision", "handover__model", "owner",
                                "assignee", "reporter", "fix_handover__model")
                .filter(pk=pk).first())
    if incident is None:
        raise NotFound("Not found.")
    return incident


def timeline_of(incident):
    """Its timeline, oldest first, with who did each thing."""
    return incident.timeline.select_related("actor").order_by("created_at", "id")


def comments_of(incident):
    return timeline_of(incident).filter(kind="comment")


def action_items_of(incident):
    return incident.action_items.select_related("owner")


def engineers_of(project):
    """Whom an incident of ``project`` may be assigned to."""
    return people_allowing(project, Action.TRIAGE_INCIDENT).order_by("username")


def metric_windows(incident, count=CHART_WINDOWS):
    """The breaching metric's last ``count`` windows on the incident's
    deployment, oldest first (empty for an incident opened by hand)."""
    if incident.deployment_id is None or not incident.metric:
        return []
    from handoff.deployments.models import MetricObservation

    rows = (MetricObservation.objects.filter(deployment_id=incident.deployment_id, metric=incident.metric)
            .order_by("-window_start", "-id").only("window_start", "window_end", "value")[:count])
    return list(reversed(rows))


def incidents_of_handover(user, handover):
    """Incidents about ``handover`` and those it is the fix of, for its page."""
    return (visible_incidents(user).filter(Q(handover=handover) | Q(fix_handover=handover))
            .select_related("assignee").order_by("-opened_at", "-id"))


# --- incidents that need a person (the home page) ---


def _being_worked(user):
    from .models import ACTIVE_STATUSES

    return triage_queue(user).filter(status__in=ACTIVE_STATUSES)


def on_models_of(user):
    """Incidents being worked (open to mitigated) on models ``user`` owns,
    most severe and oldest first."""
    return _being_worked(user).filter(owner=user)


def to_triage(user):
    """Incidents being worked in the projects where ``user`` triages, most
    severe and oldest first: the triage queue's default view of those projects."""
    from handoff.access import projects_allowing

    return _being_worked(user).filter(
        project__in=projects_allowing(user, Action.TRIAGE_INCIDENT).values("pk"))


def escalated_in(user, projects):
    """Escalated incidents still being worked in ``projects`` (a queryset of
    projects, such as ``access.figure_projects(user)``), most severe and oldest first."""
    return _being_worked(user).filter(escalated_at__isnull=False, project__in=projects.values("pk"))
