"""What the deployments app tells the apps above it, without knowing them.

``metrics_received(sender=MetricBatch, batch=…)`` is sent inside the
transaction that stored a batch of observations; the incidents app listens
and evaluates the batch against the signed contract after commit.

``value_recorded(sender=Deployment, deployment=…, changed=[…])`` is sent
inside the transaction that changed a deployment's monthly value, cost or
business metric's name (``changed`` names the fields): figures cached above
(the dashboards) can drop what they hold for its project.
"""

from django.dispatch import Signal

metrics_received = Signal()
value_recorded = Signal()
