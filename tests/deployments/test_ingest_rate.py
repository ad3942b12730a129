"""Each ingestion token may post HANDOFF_INGEST_RATE times per period: the
post over it is a 429 saying the limit and when to try again, and stores
nothing; other tokens are not held back."""

import secrets
import threading
from datetime import timedelta
from types import SimpleNamespace

import pytest
import time_machine
from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
from django.test import Client
from django.utils import timezone

from handoff.deployments.api.throttling import IngestionTokenThrottle
from handoff.deployments.models import IngestionToken, MetricBatch, MetricObservation
from tests.factories import DeploymentFactory, ingestion_token, observation

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _five_a_minute(settings):
    settings.HANDOFF_INGEST_RATE = "5/min"


@pytest.fixture
def deployment(handover):
    return DeploymentFactory(handover=handover)


@pytest.fixture
def traveller():
    # At the start of a minute, so that a test's posts all fall in one window.
    start = timezone.now().replace(second=0, microsecond=0) + timedelta(minutes=1)
    with time_machine.travel(start, tick=False) as traveller:
        yield traveller


def post(deployment, secret):
    return Client().post(f"/api/v1/deployments/{deployment.pk}/metrics/",
                         {"observations": [observation(), observation("rmse", 3.0)]},
                         content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {secret}")


def stored():
    return MetricBatch.objects.count(), MetricObservation.objects.count()


def test_the_post_over_the_rate_is_a_429_that_stores_nothing(deployment, project, engineer, traveller):
    secret = ingestion_token(project, created_by=engineer)[1]
    traveller.shift(timedelta(seconds=15))
    for _ in range(5):
        assert post(deployment, secret).status_code == 202
    assert stored() == (5, 10)

    response = post(deployment, secret)

    assert response.status_code == 429
    assert response["Content-Type"] == "application/json"
    assert response["Retry-After"] == "45"
    assert response.json() == {"detail": (
        "This ingestion token may post at most 5 times per minute; nothing of this post was stored. "
        "Try again in 45 seconds (see Retry-After), or send more observations per post.")}
    assert stored() == (5, 10)


def test_another_token_is_not_held_back(deployment, project, engineer, traveller):
    first = ingestion_token(project, created_by=engineer, name="Prometheus")[1]
    second = ingestion_token(project, created_by=engineer, name="Grafana agent")[1]
    for _ in range(5):
        post(deployment, first)
    assert post(deployment, first).status_code == 429

    assert post(deployment, second).status_code == 202
    assert stored() == (6, 12)


def test_the_next_period_takes_posts_again(deployment, project, engineer, traveller):
    secret = ingestion_token(project, created_by=engineer)[1]
    for _ in range(6):
        post(deployment, secret)

    traveller.shift(timedelta(minutes=1))

    assert post(deployment, secret).status_code == 202
    assert stored() == (6, 12)


def test_refused_tokens_do_not_use_up_the_rate(deployment, project, engineer, traveller):
    token, secret = ingestion_token(project, created_by=engineer)
    for _ in range(10):
        assert post(deployment, "hoi_" + "A" * 43).status_code == 401
    assert post(deployment, secret).status_code == 202


def test_posts_at_the_same_moment_are_all_counted(settings):
    """Thirty clients at once against a limit of ten: exactly ten get through
    (each thread has its own cache connection, as each gunicorn process has)."""
    if not isinstance(caches["default"], RedisCache):
        pytest.skip("only Redis counts atomically; the embedded folder cache serves one machine's processes")
    settings.HANDOFF_INGEST_RATE = "10/hour"
    request = SimpleNamespace(auth=IngestionToken(digest=secrets.token_hex(32)))
    start = threading.Barrier(30)
    allowed = []

    def client():
        start.wait()
        try:
            allowed.append(IngestionTokenThrottle().allow_request(request, None))
        except Exception:  # the 429
            allowed.append(False)

    threads = [threading.Thread(target=client) for _ in range(30)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert allowed.count(True) == 10


def test_the_rate_is_documented():
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    answer = schema["paths"]["/api/v1/deployments/{id}/metrics/"]["post"]["responses"]["429"]
    assert "Retry-After" in answer["description"]
