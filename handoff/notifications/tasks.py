"""Celery tasks of notifications: doorbells carrying a delivery's id."""

from celery import shared_task
from celery.signals import worker_ready
from django.conf import settings

from . import services, webhooks


@shared_task
def send_email(delivery_id):
    """Send email delivery ``delivery_id`` if it is still due (idempotent)."""
    return services.send_email(delivery_id)


@shared_task
def sweep_deliveries():
    """Periodic (Celery beat): send the emails and webhook deliveries no worker took."""
    return services.sweep() + webhooks.sweep()


# A request is bounded by its timeouts; the time limit also ends one that a receiver
# trickles byte by byte, well before the delivery's lease lets another worker take it.
@shared_task(time_limit=settings.HANDOFF_WEBHOOK_TIMEOUT_SECONDS * 2 + 10)
def deliver_webhook(delivery_id):
    """Send webhook delivery ``delivery_id`` if it is still due (idempotent)."""
    return webhooks.deliver(delivery_id)


@worker_ready.connect
def _sweep_when_a_worker_starts(sender=None, **kwargs):
    # A worker that starts after the broker was down (or after the last
    # worker died) sends what was left waiting at once, without waiting for beat.
    sweep_deliveries.delay()
