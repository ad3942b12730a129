"""The one lifecycle mechanism: a table of transitions, who may take each,
the check and the conflict message.

Handovers, deployments and incidents each declare a ``Lifecycle``. Their
services ask it whether a move is allowed from the row's current state (read
under the row's lock) and get the state it leads to, or a ``Conflict`` a
person can act on; their pages ask it which buttons to show. Who may take a
transition is named here as an ``access`` action, and answered by
``handoff.access`` (this module, low in the house, imports no app).
"""

from dataclasses import dataclass

from .errors import Conflict


@dataclass(frozen=True)
class Transition:
    """One move: the states it may start from, the state it leads to, the
    ``access.Action`` a person needs to take it (None: only the system, such as
    a validation worker, takes it) and what it does, in words ("accept this
    handover")."""

    sources: frozenset
    target: str
    action: str | None
    verb: str


class Lifecycle:
    """The transitions of one kind of object, keyed by name."""

    def __init__(self, noun, transitions, *, state_field="state"):
        self.noun = noun
        self.state_field = state_field
        self.transitions = {
            name: Transition(frozenset(sources), target, action, verb)
            for name, (sources, target, action, verb) in transitions.items()
        }

    def __getitem__(self, name):
        return self.transitions[name]

    def __iter__(self):
        return iter(self.transitions)

    def state_of(self, obj):
        return getattr(obj, self.state_field)

    def allowed(self, obj):
        """Names of the transitions the table allows from ``obj``'s state."""
        state = self.state_of(obj)
        return [name for name, move in self.transitions.items() if state in move.sources]

    def available(self, obj, actions):
        """The transitions a person holding ``actions`` (``access.allowed_actions``)
        may take from ``obj``'s state now: what the page offers as buttons."""
        return [name for name in self.allowed(obj)
                if self.transitions[name].action is not None and self.transitions[name].action in actions]

    def check(self, obj, name):
        """The state ``name`` leads ``obj`` to, or Conflict when the table does
        not allow it from the state ``obj`` is in (read it under its lock)."""
        move = self.transitions[name]
        state = self.state_of(obj)
        if state not in move.sources:
            raise Conflict(
                f"Cannot {move.verb}: it is {self._label(obj)} now (perhaps someone else just changed "
                "it). Reload to see its current state."
            )
        return move.target

    def _label(self, obj):
        display = getattr(obj, f"get_{self.state_field}_display", None)
        return (display() if display else str(self.state_of(obj))).lower()
