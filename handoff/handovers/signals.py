"""What handovers announce to the apps above them (STYLE.md: a lower app
never imports a higher one; the higher one registers here).

``validation_requested`` is sent inside the transaction that moves a handover
to ``validating`` (submit, re-run): the validation app creates its run row in
that same transaction, so a submitted revision never lacks one."""

from django.dispatch import Signal

# Sent with ``revision`` (the revision to measure) and ``actor`` (who asked).
validation_requested = Signal()
