"""The handover lifecycle of DESIGN.md: the one table every handover
transition is checked against, and that the page asks for its buttons."""

from handoff.access import Action
from handoff.core.lifecycle import Lifecycle

from .models import HandoverState as S

HANDOVER = Lifecycle("handover", {
    # name: (states it may start from, state it leads to, who may take it, what it does)
    "submit": ({S.DRAFT}, S.VALIDATING, Action.SUBMIT_REVISION, "submit this handover"),
    "revalidate": ({S.VALIDATING, S.AWAITING_REVIEW, S.VALIDATION_FAILED}, S.VALIDATING, Action.REVALIDATE,
                   "run validation again"),
    "pass_validation": ({S.VALIDATING}, S.AWAITING_REVIEW, None, "pass validation"),
    "fail_validation": ({S.VALIDATING}, S.VALIDATION_FAILED, None, "fail validation"),
    "accept": ({S.AWAITING_REVIEW}, S.ACCEPTED, Action.REVIEW_REVISION, "accept this handover"),
    "request_changes": ({S.AWAITING_REVIEW}, S.CHANGES_REQUESTED, Action.REVIEW_REVISION,
                        "request changes on this handover"),
    "revise": ({S.VALIDATION_FAILED, S.CHANGES_REQUESTED}, S.DRAFT, Action.REVISE_HANDOVER,
               "open a new revision"),
    # A handover with several deployments (staging, then production) stays deployed.
    "deploy": ({S.ACCEPTED, S.DEPLOYED}, S.DEPLOYED, Action.DEPLOY, "deploy this handover"),
    # Only once no deployment of it is active (``deployments.services`` checks that).
    "retire": ({S.DEPLOYED}, S.RETIRED, Action.DEPLOY, "retire this handover"),
    # Another candidate of the same contract was selected (``contracts.services.select``).
    # Every open state, so that no candidate is left open once one is selected.
    "not_select": ({S.DRAFT, S.VALIDATING, S.VALIDATION_FAILED, S.AWAITING_REVIEW, S.CHANGES_REQUESTED},
                   S.NOT_SELECTED, Action.SELECT_CANDIDATE, "mark this candidate not selected"),
})
# The states from which a candidate is still in the running.
OPEN_CANDIDATE_STATES = HANDOVER["not_select"].sources
