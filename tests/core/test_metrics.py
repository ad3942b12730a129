"""/metrics: Prometheus' text format for the operator token only; request latency by
route, task outcomes as every worker counted them, queue lengths and validation runs
by state read at the scrape."""

import uuid

import pytest
from celery import shared_task
from kombu import Connection
from prometheus_client.parser import text_string_to_metric_families

from handoff.core.tasks import probe
from handoff.validation.models import RunState
from tests.factories import ValidationRunFactory
from tests.plugins.services import redis_url
from tests.timing import wait_until

TOKEN = "metrics-operator-token"


@pytest.fixture
def scrape(client, settings):
    """GET /metrics as Prometheus does -> {(sample name, frozenset(labels)): value}."""
    settings.HANDOFF_OPERATOR_TOKEN = TOKEN

    def get():
        response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
        assert response.status_code == 200, response.content
        assert response["Content-Type"].startswith("text/plain; version=0.0.4")
        return {(sample.name, frozenset(sample.labels.items())): sample.value
                for family in text_string_to_metric_families(response.content.decode())
                for sample in family.samples}

    return get


def value(samples, name, **labels):
    return samples.get((name, frozenset(labels.items())), 0)


@pytest.mark.django_db
def test_without_a_configured_token_metrics_is_not_there(client, settings):
    settings.HANDOFF_OPERATOR_TOKEN = ""
    assert client.get("/metrics").status_code == 404
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer ").status_code == 404


@pytest.mark.django_db
@pytest.mark.parametrize("authorization",
                         [None, "Bearer wrong", f"Token {TOKEN}", f"Bearer {TOKEN}x", "Bearer"])
def test_a_wrong_or_missing_token_is_401_and_says_nothing(client, settings, authorization):
    settings.HANDOFF_OPERATOR_TOKEN = TOKEN
    headers = {"HTTP_AUTHORIZATION": authorization} if authorization else {}
    response = client.get("/metrics", **headers)
    assert response.status_code == 401
    assert response.content == b"Unauthorized\n"


@pytest.mark.django_db
def test_request_latency_is_counted_by_route_name_not_path(client, scrape):
    before = scrape()
    for _ in range(3):
        assert client.get("/accounts/login/").status_code == 200
    for pk in (999991, 999992):
        assert client.get(f"/api/v1/handovers/{pk}/").status_code == 401
    assert client.get("/api/v1/no-such-thing/").status_code == 404
    after = scrape()

    def added(**labels):
        name = "handoff_http_request_duration_seconds_count"
        return value(after, name, **labels) - value(before, name, **labels)

    assert added(method="GET", route="login", status="200") == 3
    # Two handovers, one series: the view's name, never the id in the path.
    assert added(method="GET", route="api-handover-detail", status="401") == 2
    assert added(method="GET", route="api-not-found", status="404") == 1
    assert not any("999991" in dict(labels).get("route", "") for _, labels in after)


@pytest.mark.django_db
def test_validation_runs_are_counted_by_state(scrape):
    for state, how_many in ((RunState.PASSED, 3), (RunState.FAILED, 1), (RunState.RUNNING, 2)):
        for _ in range(how_many):
            ValidationRunFactory(state=state)
    samples = scrape()
    counts = {state: value(samples, "handoff_validation_runs", state=state) for state in RunState.values}
    assert counts == {"queued": 0, "running": 2, "passed": 3, "failed": 1, "error": 0}


def _publish(url, queue, count, transport_options=None):
    """Put ``count`` messages on ``queue`` through kombu, as Celery does."""
    with Connection(url, transport_options=transport_options or {}) as connection:
        simple = connection.SimpleQueue(queue)
        for i in range(count):
            simple.put({"n": i})
        simple.close()


@pytest.mark.django_db
def test_queue_length_is_read_from_redis(scrape, settings, redis_available):
    queue = f"metrics-test-{uuid.uuid4().hex[:8]}"
    settings.CELERY_BROKER_URL = redis_url()
    settings.HANDOFF_VALIDATION_QUEUE = queue
    _publish(redis_url(), queue, 4)
    try:
        assert value(scrape(), "handoff_celery_queue_length", queue=queue) == 4
    finally:
        import redis

        redis.Redis.from_url(redis_url()).delete(queue)


@pytest.mark.django_db
def test_queue_length_is_read_from_the_embedded_broker_folder(scrape, settings, tmp_path):
    folder = tmp_path / "broker"
    options = {"data_folder_in": str(folder / "messages"), "data_folder_out": str(folder / "messages"),
               "control_folder": str(folder / "control")}
    for name in ("messages", "control"):
        (folder / name).mkdir(parents=True)
    settings.CELERY_BROKER_URL = "filesystem://"
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = options
    settings.HANDOFF_VALIDATION_QUEUE = "validation-only"
    _publish("filesystem://", "validation-only", 3, options)
    _publish("filesystem://", settings.CELERY_TASK_DEFAULT_QUEUE, 2, options)
    samples = scrape()
    assert value(samples, "handoff_celery_queue_length", queue="validation-only") == 3
    assert value(samples, "handoff_celery_queue_length", queue=settings.CELERY_TASK_DEFAULT_QUEUE) == 2


@shared_task
def _fails_on_purpose():
    raise RuntimeError("counted as failed")


@pytest.mark.django_db
def test_a_failed_task_is_counted_as_failed(scrape):
    name = _fails_on_purpose.name
    before = value(scrape(), "handoff_celery_tasks_total", task=name, outcome="failed")
    # In this process, as a worker runs it: the error is recorded, not raised here.
    assert _fails_on_purpose.apply(throw=False).failed()
    assert value(scrape(), "handoff_celery_tasks_total", task=name, outcome="failed") == before + 1


@shared_task(bind=True, max_retries=1)
def _retries_once(self):
    if self.request.retries == 0:
        raise self.retry(countdown=0)
    return "second try"


@pytest.mark.django_db
def test_a_retried_task_is_counted_as_retried_then_succeeded(scrape):
    name = _retries_once.name
    before = scrape()
    assert _retries_once.apply(throw=False).get() == "second try"
    after = scrape()
    for outcome in ("retried", "succeeded"):
        added = (value(after, "handoff_celery_tasks_total", task=name, outcome=outcome)
                 - value(before, "handoff_celery_tasks_total", task=name, outcome=outcome))
        assert added == 1, outcome


@pytest.mark.worker
def test_tasks_a_worker_ran_are_counted_where_the_web_process_reads_them(scrape, celery_worker):
    name = probe.name
    before = value(scrape(), "handoff_celery_tasks_total", task=name, outcome="succeeded")
    for i in range(3):
        probe.delay(f"counted {i}")
    wait_until(lambda: value(scrape(), "handoff_celery_tasks_total", task=name, outcome="succeeded")
               == before + 3, "the worker's three probes to be counted", timeout=30, detail=celery_worker.log)
