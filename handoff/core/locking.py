"""The row lock every state transition takes, and the one pause point that
lets tests prove it.

A transition reads the row it changes with ``lock_row``: ``SELECT … FOR
UPDATE`` inside the caller's transaction, so of two requests at once the second
waits until the first commits and then sees the state the first left.

``checkpoints`` is empty in production. The race harness (``tests/race.py``)
adds a callable there to hold the first request while it has the lock and to
watch whether the second gets past ``lock_row`` before the first lets go:
that is how a test proves that two requests overlapped and that the lock, not
luck or a unique constraint, kept them apart.
"""

# Called as ``checkpoint(stage, model, lookup)`` with stage "waiting" before the
# lock is asked for and "locked" once it is held. Tests only.
checkpoints = []


def lock_row(queryset, **lookup):
    """Lock the one row of ``queryset`` matching ``lookup`` until the current
    transaction ends, and return it (``DoesNotExist`` when there is none)."""
    _reach("waiting", queryset.model, lookup)
    row = queryset.select_for_update().get(**lookup)
    _reach("locked", queryset.model, lookup)
    return row


def _reach(stage, model, lookup):
    for checkpoint in checkpoints:
        checkpoint(stage, model, lookup)
