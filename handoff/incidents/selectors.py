"""Read queries of incidents for pages, the API and the dashboards."""

from handoff.access import scope
from handoff.core.errors import NotFound

from .models import Incident


def visible_incidents(user):
    """Incidents of the projects ``user`` may see."""
    return scope(Incident.objects.all(), user)


def incident_for(user, pk):
    """The incident if ``user`` may see it, else NotFound (a 404)."""
    incident = (visible_incidents(user)
                .select_related("project__team", "deployment", "revision", "handover__model", "owner",
                                "assignee", "reporter", "fix_handover")
                .filter(pk=pk).first())
    if incident is None:
        raise NotFound("Not found.")
    return incident
