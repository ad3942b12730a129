"""Celery tasks of incidents: doorbells carrying a batch's id, and the beat's checks."""

import logging
from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from . import breaches, services

log = logging.getLogger(__name__)


@shared_task
def evaluate_batch(batch_id):
    """Hold metric batch ``batch_id`` against its deployment's contract (idempotent)."""
    return breaches.evaluate_batch(batch_id)


def enqueue_evaluation(batch_id):
    """Ring the doorbell for a batch. A broker that is down is logged: the
    batch is committed and ``sweep_metric_batches`` rings again later."""
    try:
        evaluate_batch.apply_async((batch_id,), retry=False)
    except Exception:  # kombu raises its own OperationalError family, among others
        log.warning("could not enqueue metric batch %s; the sweep will retry", batch_id, exc_info=True)
        return False
    return True


@shared_task
def sweep_metric_batches():
    """Periodic (Celery beat): ring again for batches no worker has evaluated."""
    from handoff.deployments.models import MetricBatch

    due = timezone.now() - timedelta(seconds=settings.HANDOFF_METRICS_GRACE_SECONDS)
    ids = list(MetricBatch.objects.filter(evaluated_at__isnull=True, received_at__lte=due)
               .order_by("received_at").values_list("pk", flat=True)[:1000])
    for pk in ids:
        enqueue_evaluation(pk)
    return len(ids)


@shared_task
def escalate_overdue_incidents():
    """Periodic (Celery beat): tell team leaders, once, of incidents waiting past their SLA."""
    return services.escalate_overdue()
