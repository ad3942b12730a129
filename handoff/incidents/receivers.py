"""The incidents app registers here for what the deployments app announces."""

from django.db import transaction
from django.dispatch import receiver

from handoff.deployments.models import MetricBatch
from handoff.deployments.signals import metrics_received


@receiver(metrics_received, sender=MetricBatch, dispatch_uid="incidents.evaluate_batch")
def evaluate_after_commit(sender, batch, **kwargs):
    """Ring the evaluation task once the batch is committed (the sweep rings
    it later if the broker is down)."""
    from .tasks import enqueue_evaluation

    transaction.on_commit(lambda: enqueue_evaluation(batch.pk))
