"""/health/: database, broker and worker, 200 when all are up, 503 naming what is down
to the operator (HANDOFF_OPERATOR_TOKEN); anyone else learns only ok or not."""

import os
import subprocess
import sys

import pytest

from tests.plugins.services import redis_url
from tests.timing import scaled, wait_until

CLOSED_PORT = "redis://127.0.0.1:1/0"
OPERATOR_TOKEN = "operator-token-for-the-health-tests"


@pytest.fixture
def client(client, settings):
    """The operator's client: every request presents the operator token."""
    settings.HANDOFF_OPERATOR_TOKEN = OPERATOR_TOKEN
    client.defaults["HTTP_AUTHORIZATION"] = f"Bearer {OPERATOR_TOKEN}"
    return client


@pytest.fixture
def anonymous(settings):
    from django.test import Client

    settings.HANDOFF_OPERATOR_TOKEN = OPERATOR_TOKEN
    return Client()


@pytest.fixture
def embedded(settings, tmp_path):
    """The embedded default's broker folder, with no worker running on it."""
    settings.REDIS_URL = ""
    settings.CELERY_BROKER_URL = "filesystem://"
    settings.HANDOFF_BROKER_DIR = tmp_path / "broker"
    for folder in ("messages", "control"):
        (tmp_path / "broker" / folder).mkdir(parents=True)
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(tmp_path / "broker" / "messages"),
        "data_folder_out": str(tmp_path / "broker" / "messages"),
        "control_folder": str(tmp_path / "broker" / "control"),
    }
    return tmp_path / "broker"


@pytest.fixture
def with_broker(settings):
    def use(url):
        settings.REDIS_URL = url
        settings.CELERY_BROKER_URL = url

    return use


@pytest.mark.django_db
def test_embedded_mode_without_its_worker_says_the_worker_is_down(client, embedded):
    response = client.get("/health/")
    assert response.status_code == 503
    body = response.json()
    assert body["down"] == ["worker"]
    assert body["database"]["ok"] is True
    assert body["broker"]["mode"].startswith("embedded")
    assert body["worker"]["error"].startswith("no Celery worker answered a ping")


@pytest.mark.django_db
def test_embedded_broker_folder_that_is_missing_is_named(client, embedded, settings):
    settings.HANDOFF_BROKER_DIR = embedded / "gone"
    body = client.get("/health/").json()
    assert body["down"] == ["broker", "worker"]
    assert "missing or not writable" in body["broker"]["error"]


@pytest.mark.django_db
def test_embedded_worker_on_the_broker_folder_is_listed(client, embedded):
    """What `make run` starts with nothing configured: a worker on the folder."""
    env = {**os.environ, "REDIS_URL": "", "HANDOFF_BROKER_DIR": str(embedded),
           "DJANGO_SETTINGS_MODULE": "handoff.settings"}
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "handoff", "worker", "-n", "embedded@%h", "--concurrency", "1",
         "--without-gossip", "--without-mingle"],
        cwd=settings_base(), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        body = wait_until(lambda: (lambda b: b if b["ok"] else None)(client.get("/health/").json()),
                          "the embedded worker to answer /health/", timeout=60)
        assert body["broker"]["mode"].startswith("embedded")
        assert any(name.startswith("embedded@") for name in body["worker"]["workers"])
    finally:
        worker.terminate()
        worker.wait(scaled(20))


def settings_base():
    from django.conf import settings

    return settings.BASE_DIR


@pytest.mark.django_db
def test_health_needs_no_login_and_is_not_cached(client, embedded):
    response = client.get("/health/")
    assert response.status_code == 503  # no worker on the folder
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


@pytest.mark.django_db
@pytest.mark.parametrize("authorization", [None, "Bearer wrong-token", f"Token {OPERATOR_TOKEN}", "Bearer "])
def test_without_the_operator_token_only_ok_is_told(anonymous, with_broker, authorization):
    with_broker(CLOSED_PORT)
    headers = {"HTTP_AUTHORIZATION": authorization} if authorization else {}
    response = anonymous.get("/health/", **headers)
    assert response.status_code == 503
    assert response.json() == {"ok": False}


@pytest.mark.django_db
def test_no_operator_token_configured_tells_everyone_only_ok(anonymous, settings, with_broker):
    settings.HANDOFF_OPERATOR_TOKEN = ""
    with_broker(CLOSED_PORT)
    response = anonymous.get("/health/", HTTP_AUTHORIZATION="Bearer ")
    assert (response.status_code, response.json()) == (503, {"ok": False})


@pytest.mark.worker
def test_a_load_balancer_without_the_token_sees_ok_true(anonymous, celery_worker, with_broker):
    with_broker(redis_url())
    response = anonymous.get("/health/")
    assert (response.status_code, response.json()) == (200, {"ok": True})
