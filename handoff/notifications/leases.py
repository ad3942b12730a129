"""The one way a delivery row (an email, a webhook call) is taken, retried and swept.

A pending delivery whose time has come is claimed under its row lock: the
attempt is counted and ``next_attempt_at`` moves forward as a lease, so no
other worker sends it meanwhile; a worker that dies leaves it to be taken
again when the lease ends. A failure waits twice as long as the one before.
"""

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from handoff.core.locking import lock_row

from .models import DeliveryState

LONGEST_WAIT = 3600  # seconds


def backoff(first_wait, attempts):
    """Seconds before attempt ``attempts + 1``: ``first_wait``, then twice that … at most an hour."""
    return min(first_wait * 2 ** (attempts - 1), LONGEST_WAIT)


def claim(queryset, pk, *, lease_seconds):
    """The delivery ``pk`` of ``queryset``, locked, counted and leased; None when
    it is gone, no longer pending, or not due yet."""
    now = timezone.now()
    with transaction.atomic():
        try:
            delivery = lock_row(queryset, pk=pk)
        except queryset.model.DoesNotExist:
            return None
        not_yet = delivery.next_attempt_at is not None and delivery.next_attempt_at > now
        if delivery.state != DeliveryState.PENDING or not_yet:
            return None
        delivery.attempts += 1
        delivery.next_attempt_at = now + timedelta(seconds=lease_seconds)
        delivery.save(update_fields=["attempts", "next_attempt_at"])
    return delivery


def due(model, *, grace_seconds):
    """Ids of pending deliveries no worker is holding: a retry whose wait is over,
    a lease that ran out, or a first try that no worker took within the grace."""
    now = timezone.now()
    pending = model.objects.filter(state=DeliveryState.PENDING)
    waited = pending.filter(next_attempt_at__lte=now)
    untaken = now - timedelta(seconds=grace_seconds)
    forgotten = pending.filter(next_attempt_at__isnull=True, created_at__lt=untaken)
    return (waited | forgotten).values_list("pk", flat=True)
