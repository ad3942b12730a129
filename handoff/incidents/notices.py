"""Who hears about what happens to an incident, and in which words."""

from handoff.notifications import kinds

KINDS = {
    "incident_opened": "An incident opened on my model or project",
    "incident_severity": "The severity of an incident on my model changed",
    "incident_resolved": "An incident on my model was resolved",
    "incident_assigned": "An incident was assigned to me",
    "incident_escalated": "An incident in my team waited past its SLA",
    "incident_commented": "A comment on an incident I am part of",
}


def register_kinds():
    for key, label in KINDS.items():
        kinds.register(key, label)
