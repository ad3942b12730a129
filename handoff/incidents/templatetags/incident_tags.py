"""Incidents shown on other apps' pages, asked by their templates: the
handovers app, below incidents, never imports them."""

from django import template

from handoff import access
from handoff.access import Action

from .. import selectors

register = template.Library()


@register.inclusion_tag("incidents/_handover_incidents.html", takes_context=True)
def handover_incidents(context, handover):
    """The handover page's "Incidents" section: incidents about this version
    and those it is the fix of, and a link to report one for those allowed."""
    user = context["request"].user
    incidents = list(selectors.incidents_of_handover(user, handover))
    return {
        "handover": handover,
        "about": [incident for incident in incidents if incident.handover_id == handover.pk],
        "fixes": [incident for incident in incidents if incident.fix_handover_id == handover.pk],
        "may_report": access.can(user, Action.REPORT_INCIDENT, handover),
    }
