"""Celery tasks of notifications: doorbells carrying a delivery's id."""

from celery import shared_task

from . import services


@shared_task
def send_email(delivery_id):
    """Send email delivery ``delivery_id`` if it is still due (idempotent)."""
    return services.send_email(delivery_id)


@shared_task
def sweep_deliveries():
    """Periodic (Celery beat): send what no worker took."""
    return services.sweep()
