"""Webhook deliveries through a real worker to a real HTTP receiver on 127.0.0.1.

The receiver checks, for every request, the signature (HMAC-SHA256 of the
timestamp, ``.`` and the body, keyed with the webhook's secret, computed here
from the README's description, not with the app's code) and that the timestamp
is current. The worker runs with 1 s backoff, 2 s timeout and 3 attempts
(``tests/plugins/worker.py``).
"""

import hashlib
import hmac
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from handoff.handovers import services as handovers
from handoff.handovers.models import HandoverState
from handoff.notifications import webhooks
from handoff.notifications.models import DeliveryState, WebhookDelivery
from handoff.teams.models import Role
from tests.factories import HandoverFactory, ModelFactory, ProjectFactory, RevisionFactory, member
from tests.timing import wait_until

HANG = "hang"


def signature_holds(secret, headers, body, *, tolerance=300):
    """What a receiver does with a request: (signature right, timestamp current)."""
    timestamp = headers.get("X-Handoff-Timestamp", "")
    expected = "sha256=" + hmac.new(secret.encode(), timestamp.encode() + b"." + body,
                                    hashlib.sha256).hexdigest()
    signed = hmac.compare_digest(expected, headers.get("X-Handoff-Signature", ""))
    current = timestamp.isdigit() and abs(time.time() - int(timestamp)) <= tolerance
    return signed, current


class Receiver:
    """A real HTTP server on 127.0.0.1 answering ``answers`` in turn (the last one
    repeats; ``HANG`` accepts the request and answers nothing for ``hang`` seconds)."""

    def __init__(self, answers=(200,), hang=5.0):
        self.answers = list(answers)
        self.hang = hang
        self.secret = None
        self.requests = []  # dicts: headers, body, json, signed, current, status
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with receiver.lock:
                    status = receiver.answers[min(len(receiver.requests), len(receiver.answers) - 1)]
                    signed, current = signature_holds(receiver.secret or "", self.headers, body)
                    receiver.requests.append({"headers": dict(self.headers), "body": body,
                                              "json": json.loads(body), "signed": signed,
                                              "current": current, "status": status})
                if status == HANG:
                    time.sleep(receiver.hang)
                    return
                text = b"ok" if status < 300 else b"receiver is down"
                self.send_response(status)
                self.send_header("Content-Length", str(len(text)))
                self.end_headers()
                self.wfile.write(text)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def project(db, settings):
    settings.HANDOFF_WEBHOOK_ALLOW_PRIVATE = True  # the receiver is on 127.0.0.1
    return ProjectFactory(name="Churn Alpha", slug="churn-alpha")


@pytest.fixture
def engineer(project):
    return member(project, Role.ML_ENGINEER, username="eli")


def validating_handover(project):
    owner = member(project, Role.DATA_SCIENTIST)
    handover = HandoverFactory(model=ModelFactory(project=project, owner=owner),
                               version_label="2.0.0", state=HandoverState.VALIDATING)
    return handover, RevisionFactory(handover=handover, number=1)


def fail_validation(project):
    """What the validation worker does when a claim does not hold (a committed change)."""
    handover, revision = validating_handover(project)
    handovers.record_validation_outcome(revision, passed=False, failing=["metric.accuracy"])
    return handover


def hook(project, engineer, receiver, events=("handover.validation_failed",)):
    webhook = webhooks.create_webhook(project, url=receiver.url, events=list(events), created_by=engineer)
    receiver.secret = webhook.secret
    return webhook


def delivery_of(webhook):
    return WebhookDelivery.objects.get(webhook=webhook)


def test_500_twice_then_200_shows_three_attempts_and_one_success(celery_worker, project, engineer):
    with Receiver(answers=[500, 500, 200]) as receiver:
        webhook = hook(project, engineer, receiver)
        handover = fail_validation(project)
        wait_until(lambda: delivery_of(webhook).state == DeliveryState.SENT,
                   "the worker to deliver the event on its third attempt", timeout=60,
                   detail=celery_worker.log)

    delivery = delivery_of(webhook)
    assert delivery.attempts == 3
    assert [(entry["attempt"], entry["status_code"]) for entry in delivery.log] == [(1, 500), (2, 500),
                                                                                   (3, 200)]
    assert delivery.status_code == 200 and delivery.response_excerpt == "ok"
    assert [r["status"] for r in receiver.requests] == [500, 500, 200]
    assert all(r["signed"] and r["current"] for r in receiver.requests), receiver.requests
    # Each attempt is signed anew (its own timestamp), over the same body.
    assert len({r["body"] for r in receiver.requests}) == 1
    body = receiver.requests[-1]["json"]
    headers = receiver.requests[-1]["headers"]
    assert headers["X-Handoff-Event"] == "handover.validation_failed"
    assert body["event"] == "handover.validation_failed"
    assert body["project"] == {"slug": "churn-alpha", "name": "Churn Alpha"}
    assert body["handover"]["id"] == handover.pk
    assert body["url"].endswith(f"/handovers/{handover.pk}/")
    assert "Validation failed" in body["text"] and "metric.accuracy" in body["text"]
    assert body["actor"] is None and body["time"]


def test_a_receiver_that_never_answers_ends_as_failed_and_the_worker_still_serves(
        celery_worker, project, engineer):
    with Receiver(answers=[HANG], hang=4) as silent, Receiver(answers=[200]) as healthy:
        stuck = hook(project, engineer, silent)
        fail_validation(project)
        wait_until(lambda: delivery_of(stuck).state == DeliveryState.FAILED,
                   "the delivery to a silent receiver to fail after its last attempt", timeout=90,
                   detail=celery_worker.log)
        failed = delivery_of(stuck)
        assert failed.attempts == 3
        assert "timed out" in failed.last_error.lower() or "timeout" in failed.last_error.lower()
        assert all(entry["status_code"] is None for entry in failed.log)
        assert len(silent.requests) == 3 and all(r["signed"] for r in silent.requests)

        # The same worker goes on to deliver the next event.
        webhooks.set_active(stuck, False)
        working = hook(project, engineer, healthy, events=("handover.accepted", "handover.validation_failed"))
        fail_validation(project)
        wait_until(lambda: WebhookDelivery.objects.filter(webhook=working, state=DeliveryState.SENT).exists(),
                   "the worker to deliver to a receiver that answers", timeout=60, detail=celery_worker.log)
    assert healthy.requests and all(r["signed"] and r["current"] for r in healthy.requests)


def test_a_signature_made_with_another_secret_does_not_hold(celery_worker, project, engineer):
    with Receiver(answers=[200]) as receiver:
        webhook = hook(project, engineer, receiver)
        receiver.secret = "whsec_not-the-webhooks-secret"
        webhooks.send_test(webhook, actor=engineer, text="Test from Handoff", fields={})
        wait_until(lambda: receiver.requests, "the test message", timeout=60, detail=celery_worker.log)
    assert receiver.requests[0]["current"]
    assert not receiver.requests[0]["signed"]
    assert signature_holds(webhook.secret, receiver.requests[0]["headers"], receiver.requests[0]["body"])[0]
