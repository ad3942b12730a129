"""What the deployments app tells the apps above it, without knowing them.

``metrics_received(sender=MetricBatch, batch=…)`` is sent inside the
transaction that stored a batch of observations; the incidents app listens
and evaluates the batch against the signed contract after commit.
"""

from django.dispatch import Signal

metrics_received = Signal()
