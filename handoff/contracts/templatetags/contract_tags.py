"""The handover page's candidate panel, asked for by its template (the
handovers app, below contracts, does not import them: STYLE.md), and the
comparison's figure formatting."""

from django import template

from handoff import access
from handoff.access import Action
from handoff.handovers.models import HandoverState

from ..forms import SelectForm
from ..services import candidate_of

register = template.Library()


@register.inclusion_tag("contracts/_candidate_panel.html", takes_context=True)
def candidate_panel(context, handover):
    """``{% candidate_panel handover %}``: for a candidate, "Candidate of
    <contract vN>" with links to the contract and the comparison, and the
    Select button for the project's ML engineers while it awaits review;
    nothing for a handover filed without a contract (and no query for it)."""
    if not handover.is_candidate:
        return {"shown": False}
    candidate = candidate_of(handover)
    if candidate is None:
        return {"shown": False}
    user = context["request"].user
    return {
        "shown": True,
        "handover": handover,
        "contract": candidate.contract,
        "may_select": handover.state == HandoverState.AWAITING_REVIEW
        and access.can(user, Action.SELECT_CANDIDATE, handover),
        "form": SelectForm(auto_id="select-%s"),
        "csrf_token": context.get("csrf_token"),
    }


@register.filter
def figure(value, unit=""):
    """A measured figure as the comparison shows it: whole numbers whole,
    others to four significant digits, with the unit; "—" when not measured."""
    if value is None:
        return "—"
    text = f"{int(value):,}" if float(value).is_integer() and abs(value) >= 1 else f"{value:.4g}"
    return f"{text} {unit}" if unit else text
