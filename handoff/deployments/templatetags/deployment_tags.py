"""The handover page's Deployments section, asked for by its template: the
handovers app, below deployments, does not import them (STYLE.md)."""

from django import template

from handoff import access
from handoff.access import Action
from handoff.handovers.lifecycle import HANDOVER
from handoff.handovers.models import HandoverState

from .. import selectors
from ..forms import DeployForm, RollbackForm
from ..models import DeploymentStatus

register = template.Library()

# Before acceptance a handover has nothing to deploy: the section stays away.
SHOWN_IN = {HandoverState.ACCEPTED, HandoverState.DEPLOYED, HandoverState.RETIRED}


@register.inclusion_tag("deployments/_panel.html", takes_context=True)
def deployments_panel(context, handover):
    """``{% deployments_panel handover %}``: the handover's deployments, with
    Roll back / Retire for its ML engineers, the deploy form when the lifecycle
    allows it, and Retire handover once nothing of it is active."""
    if handover.state not in SHOWN_IN:
        return {"shown": False}
    user = context["request"].user
    rows = selectors.handover_deployments(handover)
    actions = access.allowed_actions(user, handover)
    moves = HANDOVER.available(handover, actions)
    any_active = any(row.status == DeploymentStatus.ACTIVE for row in rows)
    return {
        "shown": True,
        "handover": handover,
        "rows": rows,
        "may_end": Action.DEPLOY in actions,
        "may_deploy": "deploy" in moves,
        "may_retire": "retire" in moves and not any_active,
        "form": DeployForm(),
        "rollback_form": RollbackForm(),
        "csrf_token": context.get("csrf_token"),
    }
