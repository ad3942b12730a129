"""`seed_demo` opens with production: the accepted handover deployed, days of
metrics posted with an ingestion token, an incident the metrics opened and
one worked to its resolution. Running it twice adds nothing."""

import pytest
from django.core.management import call_command

from handoff.deployments.models import Deployment, IngestionToken, MetricBatch, MetricObservation
from handoff.incidents.models import EventKind, Incident

pytestmark = pytest.mark.django_db(transaction=True)


def test_seed_demo_deploys_posts_metrics_and_has_an_open_and_a_resolved_incident_once():
    call_command("seed_demo")
    call_command("seed_demo")

    deployment = Deployment.objects.get()
    assert (deployment.handover.version_label, deployment.environment, deployment.status) == (
        "1.0.0", "production", "active")
    assert IngestionToken.objects.count() == 1
    assert MetricObservation.objects.exclude(metric="business").count() == 3 * 24 * 2
    assert not MetricBatch.objects.filter(evaluated_at=None).exists()  # every batch was evaluated

    breach = Incident.objects.get(status="open")
    assert (breach.metric, breach.severity, breach.reporter) == ("accuracy", "sev2", None)
    assert breach.revision == deployment.revision and breach.observed_value < breach.limit_value
    assert breach.timeline.filter(kind=EventKind.BREACH).count() == 3

    resolved = Incident.objects.get(status="resolved")
    assert resolved.root_cause == "data_drift" and resolved.action_items.count() == 1
    assert resolved.acknowledged_at > resolved.opened_at and resolved.resolved_at > resolved.acknowledged_at
