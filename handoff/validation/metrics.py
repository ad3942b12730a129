"""Validation's figures for /metrics: runs by state, read from the database at each scrape."""

from django.db.models import Count
from prometheus_client.core import GaugeMetricFamily

from .models import RunState, ValidationRun


def runs_by_state():
    counts = dict(ValidationRun.objects.order_by().values_list("state").annotate(n=Count("pk")))
    runs = GaugeMetricFamily("handoff_validation_runs", "Validation runs in the database, by state",
                             labels=["state"])
    for state in RunState.values:
        runs.add_metric([state], counts.get(state, 0))
    yield runs
