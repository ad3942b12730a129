import pytest
from django.utils import timezone

from handoff.deployments.models import Deployment, Environment, MetricBatch, MetricObservation
from handoff.teams.models import Role
from tests.factories import ProjectFactory, member, signed_handover


@pytest.fixture
def project(db):
    return ProjectFactory(slug="fraud")


@pytest.fixture
def scientist(project):
    return member(project, Role.DATA_SCIENTIST, username="scientist")


@pytest.fixture
def engineer(project):
    return member(project, Role.ML_ENGINEER, username="engineer")


@pytest.fixture
def signed(project, scientist, engineer):
    """An accepted handover whose contract says accuracy >= 0.95."""
    return signed_handover(project, scientist, engineer, minimum=0.95)


@pytest.fixture
def deployment(signed, engineer):
    handover, revision = signed
    return Deployment.objects.create(project=handover.project, handover=handover, revision=revision,
                                     environment=Environment.PRODUCTION, traffic_share=100,
                                     deployed_at=timezone.now(), deployed_by=engineer)


def stored_batch(deployment, *values, metric="accuracy", start=None):
    """A batch of hourly windows of ``metric`` stored as the ingestion endpoint does (no evaluation)."""
    start = start or timezone.now().replace(minute=0, second=0, microsecond=0) - timezone.timedelta(days=1)
    batch = MetricBatch.objects.create(deployment=deployment, count=len(values))
    MetricObservation.objects.bulk_create(
        MetricObservation(deployment=deployment, batch=batch, metric=metric, value=value,
                          window_start=start + timezone.timedelta(hours=i),
                          window_end=start + timezone.timedelta(hours=i + 1), sample_size=500)
        for i, value in enumerate(values))
    return batch
