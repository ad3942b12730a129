"""Webhooks: a project's events sent, signed, to a chat channel or any HTTP endpoint.

A higher app (handovers) registers the event names a webhook may ask for and
calls ``publish`` inside the transaction of the change, with the change's
audit event: the delivery rows commit or roll back with the change, and a
worker sends them after commit. Each delivery row carries its state,
attempts and log; a task only rings the doorbell with its id, and the
periodic sweep sends what no worker took.

Who may manage a project's webhooks is decided by the caller (the teams app
asks ``handoff.access``); notifications knows no project.

Every request carries ``X-Handoff-Event``, ``X-Handoff-Timestamp`` (Unix
seconds) and ``X-Handoff-Signature``: ``sha256=`` and the hex HMAC-SHA256,
keyed with the webhook's secret, of the timestamp, a ``.`` and the body.
"""

import hashlib
import hmac
import ipaddress
import json
import logging
import re
import secrets
import socket
import time
from datetime import timedelta
from urllib.parse import urlsplit

import requests
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.utils import timezone

from handoff.core.errors import DomainError, NotFound
from handoff.core.locking import lock_row

from . import leases
from .models import DeliveryState, Webhook, WebhookDelivery

log = logging.getLogger(__name__)

TEST_EVENT = "webhook.test"
EXCERPT_CHARS = 500
URL_MAX_LENGTH = 500
# What a URL may hold (RFC 3986's unreserved, reserved and percent signs): anything else is stored
# and shown back as a URL, which it is not, and each HTTP library would encode it its own way.
URI_CHARACTERS = re.compile(r"[A-Za-z0-9._~:/?#@!$&'()*+,;=%\[\]-]+")
HOST_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9.-]*")  # as the API schema documents it


class Refused(Exception):
    """The destination is one a webhook may not reach (a private address)."""


# --- the events a webhook may ask for -------------------------------------------------------------

_EVENTS: dict[str, str] = {}


def slack_text(text):
    """``text`` as literal words in a Slack message: Slack reads &, < and > as
    markup, so what people typed (a title, a name) is escaped."""
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def register_event(name, label):
    """Called by the app that publishes ``name`` (an audit verb), as it starts."""
    _EVENTS[name] = label


def events():
    """{name: label} of every event a webhook may ask for, in registration order."""
    return dict(_EVENTS)


# --- input ----------------------------------------------------------------------------------------


def allow_private():
    return settings.HANDOFF_WEBHOOK_ALLOW_PRIVATE


def check_destination(host):
    """Raise ``Refused`` when ``host`` is, or resolves to, an address that is not
    public (loopback, private, link-local, shared, reserved): a webhook must not
    be a way into the network Handoff runs in."""
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError) as exc:
        raise Refused(f"The host {host} could not be found.") from exc
    for info in infos:
        address = ipaddress.ip_address(info[4][0].split("%", 1)[0])
        if address.version == 6 and address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        if not address.is_global or address.is_multicast:
            raise Refused(f"{host} is a loopback, private or link-local address ({address}); "
                          "a webhook must point at a public address.")


def clean_url(url):
    """The URL as it will be called, or DomainError (field ``url``) saying what is wrong."""
    url = (url or "").strip()
    if not url:
        raise DomainError("Enter the URL the events are sent to.", field="url")
    if len(url) > URL_MAX_LENGTH:
        raise DomainError(f"A webhook URL has at most {URL_MAX_LENGTH} characters.", field="url")
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https"):
        raise DomainError("A webhook URL must start with http:// or https://.", field="url")
    try:
        parts.port  # noqa: B018 - reading it checks it
    except ValueError:
        raise DomainError("The port of the webhook URL must be a number from 1 to 65535.",
                          field="url") from None
    if not parts.hostname or any(c.isspace() for c in url) or not _valid_host(parts.hostname):
        raise DomainError("The webhook URL has no valid host name.", field="url")
    if not URI_CHARACTERS.fullmatch(url):
        odd = sorted({c for c in url if not URI_CHARACTERS.fullmatch(c)})
        raise DomainError(f"A URL cannot hold {' '.join(odd)}: percent-encode it (such as %7D for }}).",
                          field="url")
    if not allow_private():
        try:
            check_destination(parts.hostname)
        except Refused as exc:
            raise DomainError(str(exc), field="url") from None
    return url


def _valid_host(host):
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return bool(HOST_NAME.fullmatch(host))
    return True


def clean_events(names):
    """The chosen event names, each registered, or DomainError (field ``events``)."""
    if isinstance(names, str) or not isinstance(names, list | tuple) or not all(
            isinstance(name, str) for name in names):
        raise DomainError("Give the events as a list of event names.", field="events")
    known = events()
    unknown = [name for name in names if name not in known]
    if unknown:
        raise DomainError(f"{', '.join(map(repr, unknown))} is not an event a webhook can send; "
                          f"choose from {', '.join(known)}.", field="events")
    if not names:
        raise DomainError("Choose at least one event to send.", field="events")
    return [name for name in known if name in names]  # registration order, each once


# --- managing -------------------------------------------------------------------------------------


def _scope_filter(scope):
    return {"scope_type": ContentType.objects.get_for_model(scope), "scope_id": scope.pk}


def webhooks_of(scope):
    """The webhooks of ``scope`` (a project), newest first."""
    return Webhook.objects.filter(**_scope_filter(scope)).select_related("created_by")


def get_webhook(scope, webhook_id):
    """One of ``scope``'s webhooks, or NotFound (anyone else's looks like none)."""
    webhook = webhooks_of(scope).filter(pk=webhook_id).first() if str(webhook_id).isdigit() else None
    if webhook is None:
        raise NotFound("No such webhook.")
    return webhook


def create_webhook(scope, *, url, events, created_by):
    """Store a webhook for ``scope`` with a new secret (``webhook.secret``: show it
    this once). Bad input raises DomainError and stores nothing. The caller has
    checked that ``created_by`` may manage ``scope``'s webhooks. -> Webhook"""
    url = clean_url(url)
    names = clean_events(events)
    return Webhook.objects.create(url=url, events=names, secret="whsec_" + secrets.token_urlsafe(32),
                                  created_by=created_by, **_scope_filter(scope))


def set_active(webhook, active):
    """Pause or resume a webhook; a paused one is sent nothing. -> Webhook"""
    with transaction.atomic():
        webhook = lock_row(Webhook.objects.all(), pk=webhook.pk)
        webhook.active = bool(active)
        webhook.save(update_fields=["active"])
        if not webhook.active:
            WebhookDelivery.objects.filter(webhook=webhook, state=DeliveryState.PENDING).update(
                state=DeliveryState.FAILED, next_attempt_at=None, last_error="The webhook was paused.")
    return webhook


def delete_webhook(webhook):
    """Delete a webhook and its delivery log."""
    webhook.delete()


def deliveries_of(webhook):
    """The delivery log of ``webhook``, newest first."""
    return WebhookDelivery.objects.filter(webhook=webhook).order_by("-created_at", "-id")


# --- sending --------------------------------------------------------------------------------------


def _payload(name, *, text, actor, at, fields):
    person = None if actor is None else {"username": actor.username, "name": actor.display_name}
    return {"text": text, "event": name, "time": at.isoformat(), "actor": person, **fields}


def publish(event, scope, *, text, fields):
    """Send ``event`` (an AuditEvent) to ``scope``'s active webhooks that asked for
    its verb. ``text`` is what a chat shows (Slack-compatible); ``fields`` are the
    structured ones (project, handover, url). Call it inside the transaction of
    the change: the deliveries are stored with it and sent after commit; calling
    it twice for one event sends once. -> list of WebhookDelivery"""
    hooks = [hook for hook in Webhook.objects.filter(active=True, **_scope_filter(scope))
             if event.verb in hook.events]
    if not hooks:
        return []
    payload = _payload(event.verb, text=text, actor=event.actor, at=event.created_at, fields=fields)
    told = set(WebhookDelivery.objects.filter(event=event, webhook__in=hooks)
               .values_list("webhook_id", flat=True))
    WebhookDelivery.objects.bulk_create(
        [WebhookDelivery(webhook=hook, event=event, event_name=event.verb, payload=payload)
         for hook in hooks if hook.pk not in told],
        ignore_conflicts=True,  # published at the same moment elsewhere: that one stands
    )
    deliveries = list(WebhookDelivery.objects.filter(event=event, webhook__in=hooks))
    fresh = [d.pk for d in deliveries if d.webhook_id not in told]
    if fresh:
        transaction.on_commit(lambda: [enqueue(pk) for pk in fresh])
    return deliveries


def send_test(webhook, *, actor, text, fields):
    """Queue a test message to ``webhook`` (its *Send test* button), sent like any
    event and shown in its log. The caller has checked that ``actor`` may manage
    it. -> WebhookDelivery"""
    payload = _payload(TEST_EVENT, text=text, actor=actor, at=timezone.now(), fields=fields)
    with transaction.atomic():
        delivery = WebhookDelivery.objects.create(webhook=webhook, event_name=TEST_EVENT, payload=payload)
        transaction.on_commit(lambda: enqueue(delivery.pk))
    return delivery


def max_attempts():
    return settings.HANDOFF_WEBHOOK_MAX_ATTEMPTS


def backoff(attempts):
    """Seconds before attempt ``attempts + 1``: 10, 20, 40 … at most an hour."""
    return leases.backoff(settings.HANDOFF_WEBHOOK_BACKOFF_SECONDS, attempts)


def lease_seconds():
    """How long a worker holds a delivery: longer than the task may run (tasks.py)."""
    return settings.HANDOFF_WEBHOOK_TIMEOUT_SECONDS * 3 + 30


def enqueue(delivery_id, *, countdown=None):
    """Ring the doorbell for a webhook delivery. A broker that is down is logged:
    the row is committed and the sweep sends it later."""
    from .tasks import deliver_webhook

    try:
        deliver_webhook.apply_async((delivery_id,), countdown=countdown, retry=False)
    except Exception:  # kombu raises its own OperationalError family, among others
        log.warning("could not enqueue webhook delivery %s; the sweep will retry", delivery_id, exc_info=True)
        return False
    return True


def sign(secret, timestamp, body):
    """``sha256=`` and the hex HMAC-SHA256 of ``timestamp``, ``.`` and ``body`` (bytes)."""
    message = str(timestamp).encode() + b"." + body
    return "sha256=" + hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def _claim(delivery_id):
    return leases.claim(WebhookDelivery.objects.select_related("webhook"), delivery_id,
                        lease_seconds=lease_seconds())


def _post(delivery):
    """One HTTP request. -> (status code, response excerpt). Redirects are never
    followed (one could lead to a private address): a 3xx is a failed attempt."""
    url = delivery.webhook.url
    if not allow_private():
        check_destination(urlsplit(url).hostname)  # again: the name may resolve elsewhere now
    body = json.dumps(delivery.payload, separators=(",", ":")).encode()
    timestamp = str(int(time.time()))
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "Handoff-Webhooks/1.0",
        "X-Handoff-Event": delivery.event_name,
        "X-Handoff-Timestamp": timestamp,
        "X-Handoff-Signature": sign(delivery.webhook.secret, timestamp, body),
        "X-Handoff-Delivery": str(delivery.pk),
    }
    timeout = settings.HANDOFF_WEBHOOK_TIMEOUT_SECONDS
    with requests.post(url, data=body, headers=headers, timeout=(timeout, timeout), allow_redirects=False,
                       stream=True) as response:
        start = next(response.iter_content(4 * EXCERPT_CHARS), b"")
        return response.status_code, start.decode("utf-8", "replace")[:EXCERPT_CHARS]


def deliver(delivery_id):
    """Send one webhook delivery if it is due (idempotent: one that is sent,
    failed or held by another worker is skipped). A non-2xx answer or an error is
    retried with backoff up to HANDOFF_WEBHOOK_MAX_ATTEMPTS, then failed.
    -> "sent", "retry", "failed" or "skipped" """
    delivery = _claim(delivery_id)
    if delivery is None:
        return "skipped"
    status_code, excerpt, error, final = None, "", "", False
    if not delivery.webhook.active:
        error, final = "The webhook was paused.", True
    else:
        try:
            status_code, excerpt = _post(delivery)
        except Refused as exc:
            error, final = str(exc), True  # no retry will make it public
        except Exception as exc:  # refused, timed out, TLS, DNS: all worth another try
            error = f"{type(exc).__name__}: {exc}"[:2000]
        else:
            if not 200 <= status_code < 300:
                error = f"The receiver answered HTTP {status_code}."
    now = timezone.now()
    entry = {"attempt": delivery.attempts, "at": now.isoformat(), "status_code": status_code,
             "excerpt": excerpt, "error": error}
    fields = {"status_code": status_code, "response_excerpt": excerpt, "log": [*delivery.log, entry]}
    if not error:
        WebhookDelivery.objects.filter(pk=delivery.pk).update(
            state=DeliveryState.SENT, sent_at=now, next_attempt_at=None, last_error="", **fields)
        return "sent"
    final = final or delivery.attempts >= max_attempts()
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        state=DeliveryState.FAILED if final else DeliveryState.PENDING, last_error=error,
        next_attempt_at=None if final else now + timedelta(seconds=backoff(delivery.attempts)), **fields)
    log.warning("webhook delivery %s attempt %s failed: %s", delivery.pk, delivery.attempts, error)
    if not final:
        enqueue(delivery.pk, countdown=backoff(delivery.attempts))
    return "failed" if final else "retry"


def sweep():
    """Enqueue webhook deliveries whose time has come and that no worker took. -> count"""
    pks = leases.due(WebhookDelivery, grace_seconds=settings.HANDOFF_NOTIFY_GRACE_SECONDS)
    count = sum(enqueue(pk) for pk in pks)
    if count:
        log.info("webhook sweep: %s deliveries enqueued again", count)
    return count
