"""Email notifications in-process: what the email says and links to, and how a
delivery row records each attempt, its backoff and its end. The sends go to
the real SMTP server of tests/plugins/smtp.py, or to a closed port."""

from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from handoff.audit.models import AuditEvent
from handoff.handovers import services as handovers
from handoff.notifications import services, tasks
from handoff.notifications.models import Delivery, DeliveryState, Notification
from tests.plugins.smtp import free_port

BASE = "https://handoff.example.org"


@pytest.fixture
def smtp(smtp_server, settings):
    """This process's email goes to the real SMTP server."""
    for name, value in smtp_server.django_settings().items():
        setattr(settings, name, value)
    settings.HANDOFF_BASE_URL = BASE
    return smtp_server


@pytest.fixture
def closed_port(smtp, settings):
    """Nothing listens: every connection is refused."""
    settings.EMAIL_PORT = free_port()


def _accept(engineer, revision, capture):
    with capture(execute=True):
        handovers.accept_revision(engineer, revision, comment="Ship it")


def _delivery(person):
    return Delivery.objects.get(notification__recipient=person)


def _due_now(delivery):
    """As if its backoff had passed."""
    Delivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now() - timedelta(seconds=1))


def test_the_owner_gets_an_email_in_text_and_html_linking_to_the_handover_and_preferences(
        smtp, awaiting, scientist, engineer, django_capture_on_commit_callbacks):
    handover, revision = awaiting
    _accept(engineer, revision, django_capture_on_commit_callbacks)

    [received] = smtp.to(scientist.email)
    handover_url = BASE + reverse("handovers:detail", args=[handover.pk])
    preferences_url = BASE + reverse("notifications:preferences")
    assert "was accepted by" in received.subject and str(handover) in received.subject
    text, html = received.part("text/plain"), received.part("text/html")
    assert handover_url in text and preferences_url in text
    assert f'href="{handover_url}"' in html and f'href="{preferences_url}"' in html
    assert engineer.display_name in text
    assert "My handover was accepted" in text and "My handover was accepted" in html  # why this email
    delivery = _delivery(scientist)
    assert delivery.state == DeliveryState.SENT and delivery.attempts == 1 and delivery.sent_at
    assert delivery.last_error == ""


def test_a_refused_connection_is_recorded_and_retried_after_a_backoff(
        smtp, closed_port, settings, awaiting, scientist, engineer, django_capture_on_commit_callbacks):
    handover, revision = awaiting
    before = timezone.now()
    _accept(engineer, revision, django_capture_on_commit_callbacks)

    delivery = _delivery(scientist)
    assert delivery.state == DeliveryState.PENDING and delivery.attempts == 1
    assert "Connection refused" in delivery.last_error or "ConnectionRefused" in delivery.last_error
    wait = (delivery.next_attempt_at - before).total_seconds()
    assert settings.HANDOFF_NOTIFY_BACKOFF_SECONDS <= wait < settings.HANDOFF_NOTIFY_BACKOFF_SECONDS + 30
    # Before its time, a doorbell (a redelivered task, the sweep) does not send it.
    assert tasks.send_email.delay(delivery.pk).get() == "skipped"
    assert services.sweep() == 0
    assert _delivery(scientist).attempts == 1

    settings.EMAIL_PORT = smtp.port  # the server is back
    _due_now(delivery)
    assert services.sweep() == 1
    delivery = _delivery(scientist)
    assert delivery.state == DeliveryState.SENT and delivery.attempts == 2 and delivery.last_error == ""
    assert len(smtp.to(scientist.email)) == 1


def test_a_temporary_smtp_refusal_is_retried(smtp, awaiting, scientist, engineer,
                                             django_capture_on_commit_callbacks):
    handover, revision = awaiting
    smtp.refuse(1)
    _accept(engineer, revision, django_capture_on_commit_callbacks)
    delivery = _delivery(scientist)
    assert delivery.state == DeliveryState.PENDING and "451" in delivery.last_error
    assert smtp.to(scientist.email) == []

    _due_now(delivery)
    assert tasks.send_email.delay(delivery.pk).get() == "sent"
    assert len(smtp.to(scientist.email)) == 1
    assert _delivery(scientist).attempts == 2


def test_an_email_fails_for_good_after_the_last_attempt_with_growing_waits(
        smtp, closed_port, settings, awaiting, scientist, engineer, django_capture_on_commit_callbacks):
    settings.HANDOFF_NOTIFY_MAX_ATTEMPTS = 3
    handover, revision = awaiting
    _accept(engineer, revision, django_capture_on_commit_callbacks)
    delivery = _delivery(scientist)
    waits = []
    for attempt in (2, 3):
        started = timezone.now()
        waits.append((delivery.next_attempt_at - started).total_seconds())
        _due_now(delivery)
        outcome = tasks.send_email.delay(delivery.pk).get()
        delivery = _delivery(scientist)
        assert delivery.attempts == attempt
    assert outcome == "failed"
    assert delivery.state == DeliveryState.FAILED and delivery.next_attempt_at is None
    assert "refused" in delivery.last_error.lower()
    backoff = settings.HANDOFF_NOTIFY_BACKOFF_SECONDS
    assert waits == [pytest.approx(backoff, abs=2), pytest.approx(2 * backoff, abs=2)]

    # Failed is final: neither the sweep nor a late doorbell tries again.
    settings.EMAIL_PORT = smtp.port
    assert services.sweep() == 0
    assert tasks.send_email.delay(delivery.pk).get() == "skipped"
    assert _delivery(scientist).attempts == 3 and smtp.messages == []


def test_backoff_doubles_up_to_an_hour(settings):
    settings.HANDOFF_NOTIFY_BACKOFF_SECONDS = 10
    assert [services.backoff(n) for n in (1, 2, 3, 4)] == [10, 20, 40, 80]
    assert services.backoff(20) == 3600


def test_in_app_only_means_a_notification_and_no_email(smtp, awaiting, scientist, engineer,
                                                       django_capture_on_commit_callbacks):
    handover, revision = awaiting
    services.set_preferences(scientist, {"accepted": False})
    _accept(engineer, revision, django_capture_on_commit_callbacks)

    assert Notification.objects.filter(recipient=scientist, kind="accepted").count() == 1
    assert not Delivery.objects.exists()
    assert smtp.messages == [] and mail.outbox == []


def test_the_reviewer_is_not_told_of_their_own_decision(smtp, awaiting, scientist, engineer,
                                                        django_capture_on_commit_callbacks):
    handover, revision = awaiting
    _accept(engineer, revision, django_capture_on_commit_callbacks)

    assert list(Notification.objects.values_list("recipient__username", flat=True)) == [scientist.username]
    assert [m.recipients for m in smtp.messages] == [[scientist.email]]


def test_telling_of_one_event_twice_tells_once(smtp, awaiting, scientist, engineer,
                                               django_capture_on_commit_callbacks):
    handover, revision = awaiting
    _accept(engineer, revision, django_capture_on_commit_callbacks)
    event = AuditEvent.objects.get(verb="handover.accepted")
    with django_capture_on_commit_callbacks(execute=True):
        again = services.notify(event, [scientist, engineer], kind="accepted", subject="Accepted again",
                                url="/somewhere/")

    assert [n.recipient for n in again] == [scientist]
    assert Notification.objects.filter(recipient=scientist).count() == 1
    assert Delivery.objects.count() == 1
    assert len(smtp.to(scientist.email)) == 1
    # A doorbell rung twice for one delivery sends once.
    assert tasks.send_email.delay(_delivery(scientist).pk).get() == "skipped"
    assert len(smtp.to(scientist.email)) == 1


def test_an_email_whose_doorbell_was_lost_is_sent_by_the_sweep_after_the_grace(
        smtp, settings, awaiting, scientist, engineer, django_capture_on_commit_callbacks):
    handover, revision = awaiting
    with django_capture_on_commit_callbacks(execute=False):  # the broker never heard of it
        handovers.accept_revision(engineer, revision)
    delivery = _delivery(scientist)
    assert delivery.state == DeliveryState.PENDING and delivery.attempts == 0
    assert services.sweep() == 0  # its doorbell may still be on the way

    Delivery.objects.filter(pk=delivery.pk).update(
        created_at=timezone.now() - timedelta(seconds=settings.HANDOFF_NOTIFY_GRACE_SECONDS + 1))
    assert services.sweep() == 1
    assert _delivery(scientist).state == DeliveryState.SENT
    assert len(smtp.to(scientist.email)) == 1


def test_an_email_held_by_a_worker_that_died_is_sent_once_its_lease_ends(
        smtp, awaiting, scientist, engineer, django_capture_on_commit_callbacks):
    handover, revision = awaiting
    with django_capture_on_commit_callbacks(execute=False):
        handovers.accept_revision(engineer, revision)
    delivery = _delivery(scientist)
    assert services._claim(delivery.pk) is not None  # a worker took it, then died before sending

    assert services.sweep() == 0
    assert tasks.send_email.delay(delivery.pk).get() == "skipped"
    _due_now(delivery)  # the lease has ended
    assert services.sweep() == 1
    delivery = _delivery(scientist)
    assert delivery.state == DeliveryState.SENT and delivery.attempts == 2
    assert len(smtp.to(scientist.email)) == 1
