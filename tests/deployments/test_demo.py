"""`seed_demo` gives its production deployment a value, a cost and a
business metric, recorded by the team's leader, once; the business
observations open no incident."""

from decimal import Decimal

import pytest
from django.core.management import call_command

from handoff.audit.models import AuditEvent
from handoff.deployments.demo import BUSINESS_METRIC
from handoff.deployments.models import Deployment, IngestionToken, MetricBatch, MetricObservation
from handoff.incidents.models import Incident

pytestmark = pytest.mark.django_db(transaction=True)


def test_seed_demo_values_the_production_deployment_and_posts_business_observations_once():
    call_command("seed_demo")
    call_command("seed_demo")

    deployment = Deployment.objects.select_related("value_set_by").get()
    assert (deployment.monthly_value, deployment.monthly_cost) == (Decimal("42000.00"), Decimal("6500.00"))
    assert deployment.value_set_by.username == "manager"
    assert deployment.business_metric_name == BUSINESS_METRIC
    assert AuditEvent.objects.filter(verb="deployment.value_recorded").count() == 1

    business = MetricObservation.objects.filter(metric="business")
    assert business.count() == 3 * 24 // 3
    assert IngestionToken.objects.count() == 1
    assert not MetricBatch.objects.filter(evaluated_at=None).exists()
    assert not Incident.objects.filter(metric="business").exists()
