"""/health/: database, broker and worker, 200 when all are up, 503 naming what is down."""

import pytest

from tests.plugins.services import redis_url

CLOSED_PORT = "redis://127.0.0.1:1/0"


@pytest.fixture
def embedded(settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True


@pytest.fixture
def with_broker(settings):
    def use(url):
        settings.CELERY_TASK_ALWAYS_EAGER = False
        settings.REDIS_URL = url
        settings.CELERY_BROKER_URL = url

    return use


@pytest.mark.django_db
def test_embedded_mode_is_healthy(client, embedded):
    response = client.get("/health/")
    assert response.status_code == 200
    body = response.json()
    assert body["ok"] is True
    assert body["down"] == []
    assert body["database"]["ok"] is True
    assert body["broker"]["mode"].startswith("embedded")
    assert body["worker"]["mode"].startswith("embedded")


@pytest.mark.django_db
def test_health_needs_no_login_and_is_not_cached(client, embedded):
    response = client.get("/health/")
    assert response.status_code == 200
    assert "no-cache" in response["Cache-Control"]


@pytest.mark.django_db
def test_broken_broker_is_503_and_named(client, with_broker):
    with_broker(CLOSED_PORT)
    response = client.get("/health/")
    assert response.status_code == 503
    body = response.json()
    assert body["ok"] is False
    assert body["down"] == ["broker", "worker"]
    assert body["database"]["ok"] is True
    assert body["broker"]["ok"] is False
    assert "Connection" in body["broker"]["error"]
    assert body["worker"]["error"] == "cannot reach workers: the broker is down"


@pytest.mark.django_db
def test_broker_up_but_no_worker_is_503(client, with_broker, redis_available):
    # A database number no worker listens on: a broadcast ping reaches nobody.
    base = redis_url().rsplit("/", 1)[0]
    with_broker(f"{base}/15")
    response = client.get("/health/")
    assert response.status_code == 503
    body = response.json()
    assert body["down"] == ["worker"]
    assert body["broker"] == {"ok": True, "mode": "redis"}
    assert body["worker"]["error"].startswith("no Celery worker answered a ping")


@pytest.mark.worker
def test_real_worker_is_listed(client, celery_worker, with_broker):
    with_broker(redis_url())
    response = client.get("/health/")
    body = response.json()
    assert response.status_code == 200, body
    assert body["ok"] is True
    assert body["database"]["vendor"] == "postgresql"
    assert body["worker"]["ok"] is True
    assert celery_worker.nodename in body["worker"]["workers"]


@pytest.mark.worker
def test_worker_check_is_steady_over_repeated_probes(client, celery_worker, with_broker):
    # A load balancer probes every few seconds: no probe may miss the worker.
    with_broker(redis_url())
    for _ in range(5):
        assert celery_worker.nodename in client.get("/health/").json()["worker"]["workers"]
