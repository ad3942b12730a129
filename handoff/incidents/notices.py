"""Who hears about what happens to an incident, and in which words.

The services call ``announce`` with each audit event they record, inside
their transaction (told if and only if it happened). The owning data
scientist hears of the opening, a severity change and the resolution; the
assignee of the assignment; the project's engineers of a SEV1 or SEV2
opening; the team leader of an escalation; the people on an incident of a
comment, and whoever is ``@mentioned`` of the mention.
"""

from django.contrib.auth import get_user_model
from django.urls import reverse

from handoff.access import Action, people_allowing
from handoff.notifications import kinds, webhooks
from handoff.notifications.services import absolute, notify
from handoff.notifications.webhooks import slack_text

KINDS = {
    "incident_opened": "An incident opened on my model, or a SEV1/SEV2 one in my project",
    "incident_severity": "The severity of an incident on my model changed",
    "incident_resolved": "An incident on my model was resolved",
    "incident_assigned": "An incident was assigned to me",
    "incident_escalated": "An incident in my team waited past its SLA",
    "incident_commented": "A comment on an incident I am part of",
}

WEBHOOK_EVENTS = {
    "incident.opened": "Incident opened",
    "incident.acknowledge": "Incident acknowledged",
    "incident.resolve": "Incident resolved",
    "incident.reopen": "Incident reopened",
    "incident.escalated": "Incident escalated",
    "incident.severity_changed": "Incident severity changed",
}

URGENT = ("sev1", "sev2")


def register_kinds():
    for key, label in KINDS.items():
        kinds.register(key, label)
    for name, label in WEBHOOK_EVENTS.items():
        webhooks.register_event(name, label)


def _who(event):
    return event.actor.display_name if event.actor is not None else "Monitoring"


def _people(ids):
    ids = [pk for pk in ids if pk]
    return list(get_user_model().objects.filter(pk__in=ids)) if ids else []


def announce(event, incident):
    """Tell the people concerned about ``event``, one of ``incident``'s audit events."""
    url = reverse("incidents:detail", args=[incident.pk])
    name = f"#{incident.pk} {incident.title}"
    severity = incident.get_severity_display()
    verb = event.verb
    if verb == "incident.opened":
        told = notify(event, [incident.owner], kind="incident_opened", url=url, target=incident,
                      subject=f"{severity} incident on your model: {name}", body=incident.description[:2000])
        if incident.severity in URGENT:
            seen = {n.recipient_id for n in told}
            engineers = [person for person in people_allowing(incident.project, Action.TRIAGE_INCIDENT)
                         if person.pk not in seen]
            notify(event, engineers, kind="incident_opened", url=url, target=incident,
                   subject=f"{severity} incident in {incident.project}: {name}",
                   body=incident.description[:2000])
    elif verb == "incident.severity_changed":
        told = notify(event, [incident.owner], kind="incident_severity", url=url, target=incident,
                      subject=f"{_who(event)} changed {name} to {severity}")
        if incident.severity in URGENT and event.details.get("from_severity") not in URGENT:
            # Raised to SEV1/SEV2: the engineers hear of it as of an urgent opening.
            seen = {n.recipient_id for n in told}
            engineers = [person for person in people_allowing(incident.project, Action.TRIAGE_INCIDENT)
                         if person.pk not in seen]
            notify(event, engineers, kind="incident_severity", url=url, target=incident,
                   subject=f"{_who(event)} raised {name} to {severity}")
    elif verb == "incident.resolve":
        notify(event, [incident.owner], kind="incident_resolved", url=url, target=incident,
               subject=f"{_who(event)} resolved {name}", body=incident.resolution_summary[:2000])
    elif verb == "incident.assigned" and incident.assignee_id:
        notify(event, [incident.assignee], kind="incident_assigned", url=url, target=incident,
               subject=f"{_who(event)} assigned {severity} {name} to you")
    elif verb == "incident.escalated":
        why = ("is still unacknowledged past its SLA" if event.details.get("sla")
               else f"was escalated by {_who(event)}")
        notify(event, [incident.project.team.leader], kind="incident_escalated", url=url, target=incident,
               subject=f"{severity} {name} {why}")
    elif verb == "incident.commented":
        mentioned = _people(event.details.get("mentioned") or [])
        body = incident.timeline.get(pk=event.details["comment"]).body[:2000]
        notify(event, mentioned, kind="mentioned", url=url, target=incident, body=body,
               subject=f"{_who(event)} mentioned you on incident {name}")
        seen = {person.pk for person in mentioned}
        people = [person for person in (incident.owner, incident.assignee, incident.reporter)
                  if person is not None and person.pk not in seen]
        notify(event, people, kind="incident_commented", url=url, target=incident, body=body,
               subject=f"{_who(event)} commented on incident {name}")
    if verb in WEBHOOK_EVENTS:
        _publish(event, incident, name, absolute(url))



def _publish(event, incident, name, url):
    project = incident.project
    text = (f"{WEBHOOK_EVENTS[event.verb]} ({incident.get_severity_display()}) by {slack_text(_who(event))}: "
            f"<{url}|{slack_text(name)}> in {slack_text(project.name)}.")
    webhooks.publish(event, project, text=text, fields={
        "project": {"slug": project.slug, "name": project.name},
        "incident": {"id": incident.pk, "title": incident.title, "severity": incident.severity,
                     "status": incident.status},
        "url": url,
    })
