"""Webhooks as services: creating them (and refusing bad input with nothing
stored), publishing a handover's events to the webhooks that asked for them,
once, and delivering in-process (the worker is not the point here:
``test_webhook_worker.py`` runs the real one)."""

import pytest
from django.db import transaction

from handoff.core.errors import DomainError, NotFound
from handoff.handovers import services as handovers
from handoff.handovers.models import HandoverState
from handoff.handovers.notices import WEBHOOK_EVENTS
from handoff.notifications import webhooks
from handoff.notifications.models import DeliveryState, Webhook, WebhookDelivery
from handoff.teams.models import Role
from tests.factories import (
    AuditEventFactory,
    HandoverFactory,
    ModelFactory,
    ProjectFactory,
    RevisionFactory,
    member,
)

from .test_webhook_worker import HANG, Receiver, signature_holds

pytestmark = pytest.mark.django_db

PUBLIC = "http://93.184.215.14/hook"  # a public address written as one: no DNS needed


@pytest.fixture
def project():
    return ProjectFactory(name="Churn Alpha", slug="churn-alpha")


@pytest.fixture
def engineer(project):
    return member(project, Role.ML_ENGINEER, username="eli")


@pytest.fixture
def production(settings):
    settings.HANDOFF_WEBHOOK_ALLOW_PRIVATE = False


@pytest.fixture
def local(settings):
    settings.HANDOFF_WEBHOOK_ALLOW_PRIVATE = True
    settings.HANDOFF_WEBHOOK_TIMEOUT_SECONDS = 1
    settings.HANDOFF_WEBHOOK_MAX_ATTEMPTS = 2


def create(project, engineer, url=PUBLIC, events=("handover.validation_failed",)):
    return webhooks.create_webhook(project, url=url, events=list(events), created_by=engineer)


# --- creating ---------------------------------------------------------------------------------------


def test_a_webhook_is_created_with_a_secret_and_the_events_it_asked_for(project, engineer, production):
    webhook = create(project, engineer, events=["handover.accepted", "handover.validation_failed"])
    assert webhook.scope == project
    assert webhook.secret.startswith("whsec_") and len(webhook.secret) > 40
    assert webhook.events == ["handover.validation_failed", "handover.accepted"]
    assert list(webhooks.webhooks_of(project)) == [webhook]
    assert create(project, engineer).secret != webhook.secret


def test_every_handover_event_a_webhook_may_ask_for_is_registered():
    assert set(WEBHOOK_EVENTS) <= set(webhooks.events())
    assert "handover.validation_failed" in webhooks.events()


@pytest.mark.parametrize("url, message", [
    ("ftp://chat.example.com/hook", "must start with http:// or https://"),
    ("javascript:alert(1)", "must start with http:// or https://"),
    ("chat.example.com/hook", "must start with http:// or https://"),
    ("", "Enter the URL"),
    ("http:///hook", "no valid host name"),
    ("HTTPS://0*", "no valid host name"),  # both found by the long fuzz: stored, then served as a URI
    ("hTTp://chat.example.com/}", "A URL cannot hold }: percent-encode it"),
    ("http://-chat.example.com/", "no valid host name"),
    ("http://chat.example.com:99999/", "port"),
    ("https://" + "a" * 500 + ".com/", "at most 500 characters"),
])
def test_a_url_that_is_not_http_is_refused_with_a_clear_message_and_nothing_stored(
        project, engineer, local, url, message):
    with pytest.raises(DomainError) as error:
        create(project, engineer, url=url)
    assert message in error.value.message and error.value.field == "url"
    assert not Webhook.objects.exists()


@pytest.mark.parametrize("events, message", [
    (["handover.exploded"], "'handover.exploded' is not an event a webhook can send; choose from"),
    (["handover.accepted", "member.added"], "'member.added' is not an event"),
    ([], "Choose at least one event"),
    ("handover.accepted", "as a list of event names"),
])
def test_an_unknown_event_is_refused_with_a_clear_message_and_nothing_stored(
        project, engineer, production, events, message):
    with pytest.raises(DomainError) as error:
        webhooks.create_webhook(project, url=PUBLIC, events=events, created_by=engineer)
    assert message in error.value.message and error.value.field == "events"
    assert not Webhook.objects.exists()


@pytest.mark.parametrize("url", [
    "http://127.0.0.1:8000/hook", "http://localhost/hook", "http://10.1.2.3/hook", "https://192.168.0.10/",
    "http://172.16.5.4/", "http://169.254.169.254/latest/meta-data/", "http://[::1]/hook",
    "http://[::ffff:127.0.0.1]/hook", "http://0.0.0.0/", "http://100.64.0.1/",
])
def test_in_production_a_private_or_loopback_address_is_refused_and_nothing_stored(
        project, engineer, production, url):
    with pytest.raises(DomainError) as error:
        create(project, engineer, url=url)
    assert "must point at a public address" in error.value.message
    assert not Webhook.objects.exists()


def test_with_private_addresses_allowed_a_local_receiver_is_accepted(project, engineer, local):
    assert create(project, engineer, url="http://127.0.0.1:9/hook").url == "http://127.0.0.1:9/hook"


def test_another_projects_webhook_is_not_found_through_this_project(project, engineer, production):
    webhook = create(project, engineer)
    with pytest.raises(NotFound):
        webhooks.get_webhook(ProjectFactory(), webhook.pk)
    assert webhooks.get_webhook(project, webhook.pk) == webhook


# --- publishing -------------------------------------------------------------------------------------


def validating(project):
    owner = member(project, Role.DATA_SCIENTIST)
    handover = HandoverFactory(model=ModelFactory(project=project, owner=owner),
                               state=HandoverState.VALIDATING)
    return handover, RevisionFactory(handover=handover, number=1)


def test_a_failed_validation_is_published_once_to_the_webhooks_that_asked_for_it(
        project, engineer, production, django_capture_on_commit_callbacks, monkeypatch):
    asked = create(project, engineer)
    create(project, engineer, events=["handover.accepted"])  # did not ask
    paused = webhooks.set_active(create(project, engineer), False)
    other_project = create(ProjectFactory(), engineer)
    rung = []
    monkeypatch.setattr(webhooks, "enqueue", lambda pk, **kw: rung.append(pk))
    handover, revision = validating(project)

    with django_capture_on_commit_callbacks(execute=True):
        handovers.record_validation_outcome(revision, passed=False, failing=["metric.accuracy"])

    delivery = WebhookDelivery.objects.get()
    assert delivery.webhook == asked and rung == [delivery.pk]
    assert not paused.deliveries.exists() and not other_project.deliveries.exists()
    assert delivery.event.verb == delivery.event_name == "handover.validation_failed"
    assert delivery.payload["handover"]["id"] == handover.pk
    assert delivery.payload["text"].startswith("Validation failed: <http")
    # Published again (a task that runs twice): still one delivery, nobody rung twice.
    with django_capture_on_commit_callbacks(execute=True):
        webhooks.publish(delivery.event, project, text="again", fields={})
    assert WebhookDelivery.objects.count() == 1 and rung == [delivery.pk]


def test_a_change_that_rolls_back_publishes_nothing(project, engineer, production):
    create(project, engineer, events=["handover.accepted"])
    event = AuditEventFactory(project=project, verb="handover.accepted")
    with pytest.raises(RuntimeError), transaction.atomic():
        webhooks.publish(event, project, text="accepted", fields={})
        raise RuntimeError("the change failed")
    assert not WebhookDelivery.objects.exists()


# --- delivering (in-process) ------------------------------------------------------------------------


def test_a_test_send_is_signed_and_logged(project, engineer, local):
    with Receiver(answers=[200]) as receiver:
        webhook = create(project, engineer, url=receiver.url)
        receiver.secret = webhook.secret
        delivery = webhooks.send_test(webhook, actor=engineer, text="Test from Handoff", fields={})
        assert webhooks.deliver(delivery.pk) == "sent"
    delivery.refresh_from_db()
    assert delivery.state == DeliveryState.SENT and delivery.attempts == 1 and delivery.status_code == 200
    request = receiver.requests[0]
    assert request["signed"] and request["current"]
    assert request["headers"]["X-Handoff-Event"] == "webhook.test"
    assert request["json"]["text"] == "Test from Handoff"
    assert request["json"]["actor"] == {"username": "eli", "name": engineer.display_name}
    assert webhooks.deliver(delivery.pk) == "skipped"  # sent is sent


def test_a_redirect_is_not_followed_and_counts_as_a_failed_attempt(project, engineer, local):
    with Receiver(answers=[200]) as elsewhere, Receiver(answers=[302]) as redirecting:
        webhook = create(project, engineer, url=redirecting.url)
        delivery = webhooks.send_test(webhook, actor=engineer, text="t", fields={})
        assert webhooks.deliver(delivery.pk) == "retry"
    assert not elsewhere.requests
    delivery.refresh_from_db()
    assert delivery.state == DeliveryState.PENDING and delivery.status_code == 302
    assert "HTTP 302" in delivery.last_error and delivery.next_attempt_at is not None


def test_after_the_last_attempt_a_delivery_is_failed_and_not_tried_again(project, engineer, local):
    with Receiver(answers=[HANG], hang=2) as silent:
        webhook = create(project, engineer, url=silent.url)
        delivery = webhooks.send_test(webhook, actor=engineer, text="t", fields={})
        assert webhooks.deliver(delivery.pk) == "retry"
        WebhookDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=None)  # its time has come
        assert webhooks.deliver(delivery.pk) == "failed"
        assert webhooks.deliver(delivery.pk) == "skipped"
    delivery.refresh_from_db()
    assert delivery.state == DeliveryState.FAILED and delivery.attempts == 2 and len(delivery.log) == 2
    assert "timed out" in delivery.last_error.lower()


def test_a_delivery_not_yet_due_or_held_by_another_worker_is_skipped(project, engineer, local):
    with Receiver(answers=[500]) as receiver:
        webhook = create(project, engineer, url=receiver.url)
        delivery = webhooks.send_test(webhook, actor=engineer, text="t", fields={})
        assert webhooks.deliver(delivery.pk) == "retry"
        assert webhooks.deliver(delivery.pk) == "skipped"  # backing off
    assert len(receiver.requests) == 1


def test_in_production_a_name_that_now_resolves_to_a_private_address_is_not_called(
        project, engineer, production):
    with Receiver(answers=[200]) as receiver:
        webhook = create(project, engineer)
        Webhook.objects.filter(pk=webhook.pk).update(url=receiver.url)  # as if its DNS changed
        delivery = webhooks.send_test(webhook, actor=engineer, text="t", fields={})
        assert webhooks.deliver(delivery.pk) == "failed"
    assert not receiver.requests
    delivery.refresh_from_db()
    assert "must point at a public address" in delivery.last_error


def test_the_sweep_sends_what_no_worker_took(project, engineer, local, settings, monkeypatch):
    settings.HANDOFF_NOTIFY_GRACE_SECONDS = 0
    webhook = create(project, engineer, url="http://127.0.0.1:9/hook")
    delivery = webhooks.send_test(webhook, actor=engineer, text="t", fields={})  # on_commit never runs here
    rung = []
    monkeypatch.setattr(webhooks, "enqueue", lambda pk, **kw: rung.append(pk) or True)
    assert webhooks.sweep() == 1 and rung == [delivery.pk]


def test_signature_with_the_wrong_secret_does_not_hold():
    body, timestamp = b'{"text":"hi"}', "1700000000"
    headers = {"X-Handoff-Timestamp": timestamp,
               "X-Handoff-Signature": webhooks.sign("right", timestamp, body)}
    assert signature_holds("right", headers, body, tolerance=10**10) == (True, True)
    assert signature_holds("wrong", headers, body, tolerance=10**10)[0] is False
    assert signature_holds("right", headers, body + b" ", tolerance=10**10)[0] is False
    assert signature_holds("right", headers, body)[1] is False  # an old timestamp is not current
