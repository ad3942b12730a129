"""The incident lifecycle: open → acknowledged → investigating → mitigated →
resolved → closed, and reopen. No state is skipped."""

from handoff.access import Action
from handoff.core.lifecycle import Lifecycle

from .models import IncidentStatus as S

INCIDENT = Lifecycle("incident", {
    "acknowledge": ({S.OPEN}, S.ACKNOWLEDGED, Action.TRIAGE_INCIDENT, "acknowledge this incident"),
    "investigate": ({S.ACKNOWLEDGED}, S.INVESTIGATING, Action.TRIAGE_INCIDENT, "start investigating"),
    "mitigate": ({S.INVESTIGATING}, S.MITIGATED, Action.TRIAGE_INCIDENT, "mark this incident mitigated"),
    "resolve": ({S.MITIGATED}, S.RESOLVED, Action.TRIAGE_INCIDENT, "resolve this incident"),
    "close": ({S.RESOLVED}, S.CLOSED, Action.TRIAGE_INCIDENT, "close this incident"),
    "reopen": ({S.RESOLVED, S.CLOSED}, S.OPEN, Action.TRIAGE_INCIDENT, "reopen this incident"),
}, state_field="status")

# The time each status was entered is kept on the incident in this field.
ENTERED_AT = {
    S.ACKNOWLEDGED: "acknowledged_at",
    S.INVESTIGATING: "investigating_at",
    S.MITIGATED: "mitigated_at",
    S.RESOLVED: "resolved_at",
    S.CLOSED: "closed_at",
}
