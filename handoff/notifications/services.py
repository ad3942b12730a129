"""Telling people: in the app, by email (and, per project, a chat webhook).

``notify`` is called by the app that made a change, inside the change's
transaction, with the audit event that records it: the notifications and
their email deliveries commit or roll back with the change, and the emails
are sent by a worker after commit. A delivery row carries its own state; the
periodic sweep sends those that no worker took (the broker was down).
"""

import logging
from datetime import timedelta

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone

from handoff.core.errors import DomainError, NotFound

from . import kinds, leases
from .models import Delivery, DeliveryState, Notification, Preference

log = logging.getLogger(__name__)


# --- telling -------------------------------------------------------------------------------------


def wants_email(user, kind):
    """The person's choice for ``kind``, else the kind's default."""
    chosen = Preference.objects.filter(user=user, kind=kind).values_list("email", flat=True).first()
    return kinds.get(kind).email if chosen is None else chosen


def notify(event, recipients, *, kind, subject, url, body="", target=None):
    """Tell each of ``recipients`` about ``event`` (an AuditEvent), once.

    Call it inside the transaction that made the change. The actor is not told
    of their own change; inactive accounts are not told. Calling it twice for
    one event tells no one twice (a unique constraint). -> list of Notification"""
    kinds.get(kind)  # an unregistered kind is a bug in the caller
    seen = set()
    people = []
    for person in recipients:
        if person is None or person.pk in seen or not person.is_active or person.pk == event.actor_id:
            continue
        seen.add(person.pk)
        people.append(person)
    if not people:
        return []
    target = target if target is not None else event.target
    target_type = ContentType.objects.get_for_model(target) if target is not None else None
    Notification.objects.bulk_create(
        [Notification(recipient=person, kind=kind, actor_id=event.actor_id, event=event,
                      target_type=target_type, target_id=str(target.pk) if target is not None else "",
                      url=url, subject=subject[:200], body=body) for person in people],
        ignore_conflicts=True,
    )
    notifications = list(Notification.objects.filter(event=event, recipient__in=people)
                         .select_related("recipient"))
    deliveries = [Delivery(notification=n) for n in notifications
                  if n.recipient.email and wants_email(n.recipient, n.kind)]
    Delivery.objects.bulk_create(deliveries, ignore_conflicts=True)
    ids = list(Delivery.objects.filter(notification__in=notifications, state=DeliveryState.PENDING,
                                       attempts=0).values_list("pk", flat=True))
    if ids:
        transaction.on_commit(lambda: [enqueue(pk) for pk in ids])
    return notifications


# --- reading -------------------------------------------------------------------------------------


def unread_count(user):
    return Notification.objects.filter(recipient=user, read_at__isnull=True).count()


def mark_read(user, notification_id):
    """Mark one of ``user``'s notifications read (404 for anyone else's). -> Notification"""
    notification = Notification.objects.filter(recipient=user, pk=notification_id).first()
    if notification is None:
        raise NotFound("No such notification.")
    if notification.read_at is None:
        notification.read_at = timezone.now()
        notification.save(update_fields=["read_at"])
    return notification


def mark_all_read(user):
    """-> how many were unread"""
    return Notification.objects.filter(recipient=user, read_at__isnull=True).update(read_at=timezone.now())


def set_preferences(user, choices):
    """``choices``: {kind: email (bool)} for registered kinds. Unknown kinds are refused."""
    known = {kind.key for kind in kinds.all_kinds()}
    unknown = sorted(set(choices) - known)
    if unknown:
        raise DomainError(f"{', '.join(map(repr, unknown))} is not a kind of notification; "
                          f"choose from {', '.join(sorted(known))}.", field="kind")
    with transaction.atomic():
        for kind, email in choices.items():
            Preference.objects.update_or_create(user=user, kind=kind, defaults={"email": bool(email)})


def preferences(user):
    """[(Kind, email)] for every registered kind, as the person chose or by default."""
    chosen = dict(Preference.objects.filter(user=user).values_list("kind", "email"))
    return [(kind, chosen.get(kind.key, kind.email)) for kind in kinds.all_kinds()]


# --- email ---------------------------------------------------------------------------------------


def max_attempts():
    return settings.HANDOFF_NOTIFY_MAX_ATTEMPTS


def backoff(attempts):
    """Seconds before attempt ``attempts + 1``: 10, 20, 40 … at most an hour."""
    return leases.backoff(settings.HANDOFF_NOTIFY_BACKOFF_SECONDS, attempts)


def enqueue(delivery_id, *, countdown=None):
    """Ring the doorbell for an email. A broker that is down is logged: the
    row is committed and the sweep sends it later."""
    from .tasks import send_email

    try:
        send_email.apply_async((delivery_id,), countdown=countdown, retry=False)
    except Exception:  # kombu raises its own OperationalError family, among others
        log.warning("could not enqueue email delivery %s; the sweep will retry", delivery_id, exc_info=True)
        return False
    return True


def absolute(path):
    return settings.HANDOFF_BASE_URL.rstrip("/") + path


def email_message(notification):
    from django.urls import reverse

    context = {"notification": notification, "recipient": notification.recipient,
               "kind": kinds.get(notification.kind), "url": absolute(notification.url),
               "preferences_url": absolute(reverse("notifications:preferences"))}
    message = EmailMultiAlternatives(
        subject=f"[Handoff] {notification.subject}",
        body=render_to_string("notifications/email.txt", context),
        to=[notification.recipient.email],
    )
    message.attach_alternative(render_to_string("notifications/email.html", context), "text/html")
    return message


def _claim(delivery_id):
    return leases.claim(Delivery.objects.select_related("notification__recipient"), delivery_id,
                        lease_seconds=settings.HANDOFF_NOTIFY_LEASE_SECONDS)


def send_email(delivery_id):
    """Send one email delivery if it is due. -> "sent", "retry", "failed" or "skipped" """
    delivery = _claim(delivery_id)
    if delivery is None:
        return "skipped"
    try:
        email_message(delivery.notification).send()
    except Exception as exc:  # SMTP, DNS, refused connection: all worth another try
        error = f"{type(exc).__name__}: {exc}"[:2000]
        final = delivery.attempts >= max_attempts()
        Delivery.objects.filter(pk=delivery.pk).update(
            state=DeliveryState.FAILED if final else DeliveryState.PENDING, last_error=error,
            next_attempt_at=None if final else timezone.now() + timedelta(seconds=backoff(delivery.attempts)))
        log.warning("email delivery %s attempt %s failed: %s", delivery.pk, delivery.attempts, error)
        if not final:
            enqueue(delivery.pk, countdown=backoff(delivery.attempts))
        return "failed" if final else "retry"
    Delivery.objects.filter(pk=delivery.pk).update(state=DeliveryState.SENT, sent_at=timezone.now(),
                                                   next_attempt_at=None, last_error="")
    return "sent"


def sweep():
    """Enqueue emails whose time has come and that no worker took. -> count"""
    pks = leases.due(Delivery, grace_seconds=settings.HANDOFF_NOTIFY_GRACE_SECONDS)
    count = sum(enqueue(pk) for pk in pks)
    if count:
        log.info("notification sweep: %s emails enqueued again", count)
    return count


# --- pages and API -------------------------------------------------------------------------------


def inbox(user):
    """``user``'s notifications, unread first, then newest first: what the page and the API list."""
    from django.db.models import F

    return (Notification.objects.filter(recipient=user).select_related("actor")
            .order_by(F("read_at").asc(nulls_first=True), "-created_at", "-id"))
