"""Production for `manage.py seed_demo`: the accepted demo handover deployed,
a few days of production metrics posted with an ingestion token, one open
incident opened by the metrics themselves and one resolved incident.

Metric batches are evaluated here, in this process, through the same Celery
task a worker runs (as the handovers demo validates), so the demo opens with
a real breach; ``make run`` then starts the worker for everything after.
"""

import contextlib
from datetime import timedelta

from django.utils import timezone

from handoff.deployments import services as deployments
from handoff.deployments.models import Deployment
from handoff.handovers.models import Handover

from . import services
from .models import Incident, RootCause, Severity

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


def _windows(now):
    """Hourly windows over ``DAYS`` days: accuracy near 0.96 and p95 latency
    near 12 ms, until accuracy falls to 0.87 in the last three hours."""
    start = (now - timedelta(days=DAYS)).replace(minute=0, second=0, microsecond=0)
    hours = DAYS * 24
    for hour in range(hours):
        window_start = start + timedelta(hours=hour)
        window_end = window_start + timedelta(hours=1)
        accuracy = 0.87 if hour >= hours - 3 else 0.955 + 0.01 * ((hour * 7) % 5) / 4
        latency = 11.0 + (hour * 3) % 4
        for metric, value in (("accuracy", round(accuracy, 4)), ("latency_p95_ms", latency)):
            yield {"metric": metric, "value": value, "window_start": window_start, "window_end": window_end,
                   "sample_size": 4000 + (hour * 37) % 900}


def seed_production(demo):
    """Deploy the demo's accepted handover and give it metrics and incidents
    (skipped when it has a deployment already)."""
    scientist, engineer = demo.users["scientist"], demo.users["engineer"]
    project = demo.projects["card-fraud-scoring"]
    handover = Handover.objects.filter(project=project, model__name="screening-logreg",
                                       version_label="1.0.0").first()
    if handover is None or Deployment.objects.filter(handover=handover).exists():
        return
    now = timezone.now()
    deployment = deployments.deploy(engineer, handover, environment="production", traffic_share=100,
                                    deployed_at=now - timedelta(days=DAYS, hours=1),
                                    notes="Behind the authorisation service; all traffic.")
    token, _ = deployments.create_token(engineer, project, name="Demo monitoring")
    observations = list(_windows(now))
    with _evaluating_in_this_process():
        for start in range(0, len(observations), 48):
            deployments.ingest(token, deployment.pk, observations[start:start + 48])

    # An earlier incident, worked to the end: reported by hand, resolved with its root cause.
    resolved = services.open_incident(
        scientist, project, deployment=deployment, severity=Severity.SEV3,
        title="Scores drifted for card-not-present payments",
        description="Card-not-present traffic doubled after the holiday campaign; scores look low.")
    services.acknowledge(engineer, resolved)
    services.assign(engineer, resolved, engineer)
    services.investigate(engineer, resolved)
    services.mitigate(engineer, resolved, note="Raised the review threshold for card-not-present payments.")
    services.resolve(engineer, resolved, root_cause=RootCause.DATA_DRIFT,
                     summary="Traffic mix changed; the threshold change holds until the next model.")
    services.update_postmortem(
        engineer, resolved,
        postmortem="## What happened\nThe campaign changed the traffic mix.\n\n"
                   "## What we do next\nAdd the payment channel as a fairness slice.")
    services.add_action_item(engineer, resolved, text="Add the payment channel as a slice", owner=scientist)
    # Spread its times as it happened, two days ago (the dashboards' figures read them).
    opened = now - timedelta(days=2)
    Incident.objects.filter(pk=resolved.pk).update(
        opened_at=opened, acknowledged_at=opened + timedelta(minutes=12),
        investigating_at=opened + timedelta(minutes=20), mitigated_at=opened + timedelta(hours=2),
        resolved_at=opened + timedelta(hours=5))
    resolved.timeline.update(created_at=opened + timedelta(minutes=5))
