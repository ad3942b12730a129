"""What the demo's production deployment is worth, for `manage.py seed_demo`
(after incidents.demo has deployed it): a monthly value and cost recorded by
the team's leader (`manager`) and a few days of the business metric monitoring
posts beside the model's metrics. Safe to run again: what is there is left.

Batches are evaluated here, in this process, as the incidents demo does; a
business observation is held to no contract, so none opens an incident.
"""

import contextlib
from datetime import timedelta

from django.utils import timezone

from . import services
from .models import Deployment, DeploymentStatus, Environment, IngestionToken, ProductionMetric

BUSINESS_METRIC = "Fraud losses prevented, € per hour"
DAYS = 3


@contextlib.contextmanager
def _evaluating_in_this_process():
    from handoff.celery import app

    previous = app.conf.task_always_eager
    app.conf.task_always_eager = True
    try:
        yield
    finally:
        app.conf.task_always_eager = previous


def _business_windows(now):
    """Every third hour over ``DAYS`` days: losses prevented near 1 800 € an hour, a little higher by day."""
    start = (now - timedelta(days=DAYS)).replace(minute=0, second=0, microsecond=0)
    for hour in range(0, DAYS * 24, 3):
        window_start = start + timedelta(hours=hour)
        daytime = 8 <= window_start.hour < 20
        value = 1650.0 + (350.0 if daytime else 0.0) + 25.0 * ((hour * 7) % 5)
        yield {"metric": ProductionMetric.BUSINESS, "value": value, "window_start": window_start,
               "window_end": window_start + timedelta(hours=1), "sample_size": None}


def seed_value(demo):
    """Give the demo's active production deployment its value, cost and business metric."""
    leader, engineer = demo.users["manager"], demo.users["engineer"]
    project = demo.projects["card-fraud-scoring"]
    deployment = (Deployment.objects.filter(project=project, environment=Environment.PRODUCTION,
                                            status=DeploymentStatus.ACTIVE)
                  .order_by("deployed_at", "pk").first())
    if deployment is None:
        return
    if deployment.value_set_at is None:
        services.record_value(leader, deployment, monthly_value="42000", monthly_cost="6500",
                              business_metric_name=BUSINESS_METRIC)
    if not deployment.observations.filter(metric=ProductionMetric.BUSINESS).exists():
        # The same monitoring that posts the model's metrics (incidents.demo's token).
        token = IngestionToken.objects.filter(project=project, revoked_at=None).order_by("pk").first()
        if token is None:
            token, _ = services.create_token(engineer, project, name="Demo monitoring")
        with _evaluating_in_this_process():
            services.ingest(token, deployment.pk, list(_business_windows(timezone.now())))
