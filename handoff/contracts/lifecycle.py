"""The contract lifecycle: draft → proposed → agreed → superseded | closed."""

from handoff.access import Action
from handoff.core.lifecycle import Lifecycle

from .models import ContractState as S

CONTRACT = Lifecycle(
    "contract",
    {
        # name: (states it may start from, state it leads to, who may take it, what it does)
        "propose": ({S.DRAFT}, S.PROPOSED, Action.DRAFT_CONTRACT, "propose this contract"),
        # Signing keeps it proposed until a data scientist and an ML engineer have both signed.
        "sign": ({S.PROPOSED}, S.PROPOSED, Action.SIGN_CONTRACT, "sign this contract"),
        "agree": ({S.PROPOSED}, S.AGREED, None, "agree this contract"),
        "new_version": ({S.AGREED}, S.AGREED, Action.DRAFT_CONTRACT, "start a new version of this contract"),
        "supersede": ({S.AGREED}, S.SUPERSEDED, None, "supersede this contract"),
        "close": ({S.DRAFT, S.PROPOSED, S.AGREED}, S.CLOSED, Action.DRAFT_CONTRACT, "close this contract"),
    },
)
# Terms and artifacts change only in these states; any change clears the signatures.
EDITABLE_STATES = frozenset({S.DRAFT, S.PROPOSED})
# Candidates are filed against an agreed version only, and selected while it is not closed.
SELECTABLE_STATES = frozenset({S.AGREED, S.SUPERSEDED})
