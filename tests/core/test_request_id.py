"""Request ids: on every response, in every log line of the request, and in the
worker's log lines of a task the request started."""

import json
import logging
from datetime import timedelta

import pytest
from django.utils import timezone

from handoff.core import observability
from handoff.deployments.models import MetricBatch
from tests.factories import DeploymentFactory, UserFactory, ingestion_token
from tests.timing import wait_until

UUID_HEX = 32


@pytest.fixture
def json_records(settings):
    """What the settings' console handler prints, as parsed JSON objects: the
    LOGGING filter and JSON formatter of production, writing to a list."""
    import io
    from logging.config import dictConfig

    stream = io.StringIO()
    config = {**settings.LOGGING, "formatters": {"json": settings.LOGGING["formatters"]["json"]}}
    config["handlers"] = {"console": {**settings.LOGGING["handlers"]["console"], "formatter": "json",
                                      "stream": stream}}
    root = logging.getLogger()
    before = list(root.handlers), root.level
    dictConfig(config)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    root.handlers[:] = before[0]
    root.setLevel(before[1])


@pytest.mark.django_db
def test_every_response_carries_a_new_request_id(client):
    first = client.get("/accounts/login/")["X-Request-ID"]
    second = client.get("/accounts/login/")["X-Request-ID"]
    assert len(first) == UUID_HEX and int(first, 16) >= 0
    assert first != second


@pytest.mark.django_db
def test_the_callers_request_id_is_kept(client):
    response = client.get("/accounts/login/", HTTP_X_REQUEST_ID="lb-7f3a.9:2")
    assert response["X-Request-ID"] == "lb-7f3a.9:2"


@pytest.mark.django_db
@pytest.mark.parametrize("given", ["two words", "line\nbreak", "x" * 129, '"quoted"', ""])
def test_a_request_id_that_could_break_a_log_line_is_replaced(client, given):
    kept = client.get("/accounts/login/", HTTP_X_REQUEST_ID=given)["X-Request-ID"]
    assert kept != given and len(kept) == UUID_HEX


@pytest.mark.django_db
def test_log_lines_of_a_request_carry_its_id_user_path_and_method(client, json_records):
    client.get("/api/v1/nowhere/", HTTP_X_REQUEST_ID="req-anonymous")
    person = UserFactory()
    client.force_login(person)
    client.get("/handovers/999999/", HTTP_X_REQUEST_ID="req-signed-in")
    lines = {line["request_id"]: line for line in json_records() if line.get("logger") == "django.request"}
    anonymous, signed_in = lines["req-anonymous"], lines["req-signed-in"]
    assert anonymous["message"] == "Not Found: /api/v1/nowhere/"
    assert (anonymous["method"], anonymous["path"]) == ("GET", "/api/v1/nowhere/")
    assert anonymous["level"] == "WARNING"
    assert "user_id" not in anonymous
    assert signed_in["user_id"] == person.pk and signed_in["path"] == "/handovers/999999/"


def test_log_lines_outside_a_request_carry_no_request_fields(json_records):
    logging.getLogger("handoff.test").warning("between requests")
    (line,) = [line for line in json_records() if line["message"] == "between requests"]
    assert {"request_id", "user_id", "path", "method"}.isdisjoint(line)
    assert observability.current() == {}


@pytest.mark.worker
def test_the_worker_logs_the_task_a_request_started_with_the_requests_id(client, celery_worker):
    deployment = DeploymentFactory()
    _, secret = ingestion_token(deployment.project)
    start = timezone.now().replace(minute=0, second=0, microsecond=0) - timedelta(days=1)
    window = {"metric": "accuracy", "value": 0.97, "sample_size": 500, "window_start": start.isoformat(),
              "window_end": (start + timedelta(hours=1)).isoformat()}
    response = client.post(f"/api/v1/deployments/{deployment.pk}/metrics/", {"observations": [window]},
                           content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {secret}",
                           HTTP_X_REQUEST_ID="trace-metrics-post-1")
    assert response.status_code == 202, response.content
    assert response["X-Request-ID"] == "trace-metrics-post-1"
    batch = response.json()["batch"]
    wait_until(lambda: MetricBatch.objects.filter(pk=batch, evaluated_at__isnull=False).exists(),
               "the worker to evaluate the batch", timeout=30, detail=celery_worker.log)

    def task_lines():
        lines = []
        for raw in celery_worker.log().splitlines():
            try:
                line = json.loads(raw)
            except ValueError:
                continue  # the worker's start banner is plain text
            if line.get("request_id") == "trace-metrics-post-1":
                lines.append(line)
        return [line for line in lines if "succeeded" in line.get("message", "")] and lines

    lines = wait_until(task_lines, "the worker's log line of the task with the request's id", timeout=10,
                       detail=lambda: celery_worker.log()[-3000:])
    assert {line["task_name"] for line in lines} == {"handoff.incidents.tasks.evaluate_batch"}
    assert all(line["task_id"] for line in lines)
