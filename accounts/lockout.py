"""Brute-force lockout: django-axes counts failed log-ins per account; this
module says until when an account is locked, in words a person can act on,
and is the one place that answers a locked-out attempt.

The login page (``accounts.views.LoginView``) and the token endpoint
(``accounts.api.views.ObtainTokenView``) answer a lockout themselves (a 429
with ``Retry-After``); ``lockout_response`` (axes' ``AXES_LOCKOUT_CALLABLE``)
keeps their answer and gives any other login form (the admin's) the same
message as plain text.
"""

import math
from datetime import timedelta

from axes.helpers import get_cool_off, get_failure_limit
from axes.models import AccessAttempt
from axes.signals import user_locked_out
from axes.utils import reset
from django.conf import settings
from django.contrib.auth import get_user_model
from django.dispatch import receiver
from django.http import HttpResponse
from django.utils import timezone

from handoff.audit.services import record


def locked_until(username, request=None):
    """When the lockout of ``username`` ends, or None when it is not locked.

    Axes counts an account's failures within the cool-off before now (each
    record holds the time of its latest failure); the lockout ends when the
    record that brought the count to the limit falls out of that window."""
    cool_off = get_cool_off(request)
    if not username or cool_off is None:
        return None
    now = timezone.now()
    limit = get_failure_limit(request, {"username": username})
    seen = 0
    attempts = (AccessAttempt.objects.filter(username=username, attempt_time__gte=now - cool_off)
                .order_by("-attempt_time").values_list("attempt_time", "failures_since_start"))
    for attempt_time, failures in attempts:
        seen += failures
        if seen >= limit:
            return attempt_time + cool_off
    return None


def retry_after_seconds(until):
    """Whole seconds from now until ``until`` (at least 1), for a Retry-After header."""
    return max(1, math.ceil((until - timezone.now()).total_seconds()))


def lockout_message(until):
    """The sentence a locked-out person reads: why, and when to try again."""
    minutes = max(1, math.ceil(retry_after_seconds(until) / 60))
    when = timezone.localtime(until)
    plural = "s" if minutes != 1 else ""
    return (f"Too many failed log-in attempts for this account: it is locked. "
            f"Try again after {when:%H:%M} {when.tzname()} (in {minutes} minute{plural}), "
            f"or ask an administrator to unlock it.")


def lockout_of(request):
    """(message, seconds to wait) for a log-in axes refused, or None when it did not."""
    if not getattr(request, "axes_locked_out", False):
        return None
    username = (getattr(request, "axes_credentials", None) or {}).get("username")
    until = locked_until(username, request) or timezone.now() + (get_cool_off(request) or timedelta(0))
    return lockout_message(until), retry_after_seconds(until)


def forget_failures(user):
    """A right password outside the login page (the token endpoint) resets the
    count as a log-in does: axes resets it on Django's user_logged_in signal,
    which only a session log-in sends."""
    if settings.AXES_RESET_ON_SUCCESS:
        reset(username=user.get_username())


def lockout_response(request, original_response, credentials):
    """axes' answer to a locked-out log-in: the view's own 429 when it gave
    one, else the message as plain text with a Retry-After header."""
    if original_response is not None and original_response.status_code == settings.AXES_HTTP_RESPONSE_CODE:
        return original_response
    message, wait = lockout_of(request) or (lockout_message(timezone.now()), 1)
    response = HttpResponse(message, status=settings.AXES_HTTP_RESPONSE_CODE,
                            content_type="text/plain; charset=utf-8")
    response["Retry-After"] = str(wait)
    return response


def client_ip(request):
    """The address axes records: behind our TLS proxy the one it appended to
    X-Forwarded-For (the right-most; those to its left are whatever the
    client sent), else the peer's."""
    if settings.BEHIND_TLS_PROXY:
        forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
        if forwarded and forwarded[-1]:
            return forwarded[-1]
    return request.META.get("REMOTE_ADDR")


@receiver(user_locked_out, dispatch_uid="accounts.audit_lockout")
def audit_lockout(sender, request, username, ip_address, **kwargs):
    # axes sends the signal for the failure that reached the limit and again for
    # every attempt refused during the lockout; only the first carries a count.
    if getattr(request, "axes_failures_since_start", None) is None:
        return
    user = get_user_model().objects.filter(username=username).first()
    if user is not None:
        record(None, "account.locked_out", user, failures=request.axes_failures_since_start,
               ip_address=ip_address, until=(locked_until(username, request) or timezone.now()).isoformat())
