"""A service that is away for a moment is a 503 with Retry-After, not a 500.

PostgreSQL restarting, a failover, Redis restarting: for those seconds a
request that needs the service cannot be answered, and nothing about it is
the caller's fault or a bug. ``is_outage`` tells such an exception from the
others; ``response`` is the answer: JSON under /api/ (``{"detail": ...}``),
a readable page elsewhere, both with ``Retry-After``. Every place that turns
an exception into a response asks these two (handler500, the DRF exception
handler, the browser views' middleware), so the rule lives here once.

Nothing is retried inside the request: a write that failed was rolled back
with its transaction, so the client's retry is safe. Recovery needs no
restart either: Django drops a connection that errored at the end of the
request (and checks a pooled one before reuse, ``conn_health_checks``).
"""

import logging
import sqlite3

from django.db import InterfaceError
from django.db import OperationalError as DatabaseOperationalError
from django.http import HttpResponse, JsonResponse
from django.template import loader

log = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 5
# PostgreSQL's SQLSTATEs for "the server is not there now": class 08 (connection exception),
# and the server shutting down, crashing or still starting (57P01–57P03).
_PG_AWAY = ("57P01", "57P02", "57P03")


def _database_away(exc):
    if isinstance(exc, InterfaceError):  # "connection already closed"
        return True
    if not isinstance(exc, DatabaseOperationalError):
        return False
    cause = exc.__cause__
    if isinstance(cause, sqlite3.OperationalError):
        # The file is held by another writer past the busy timeout: busy, not broken.
        return "locked" in str(cause)
    code = getattr(cause, "pgcode", None)
    # A driver error without a SQLSTATE is the client's: refused, reset, closed unexpectedly.
    return code is None or code.startswith("08") or code in _PG_AWAY


def _broker_away(exc):
    try:
        from kombu.exceptions import OperationalError as KombuOperationalError
        from redis.exceptions import ConnectionError as RedisConnectionError
        from redis.exceptions import TimeoutError as RedisTimeoutError
    except ImportError:  # pragma: no cover - both come with celery[redis]
        return False
    return isinstance(exc, RedisConnectionError | RedisTimeoutError | KombuOperationalError)


def _chain(exc):
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        yield exc
        exc = exc.__cause__ or exc.__context__


def service_away(exc):
    """"the database" or "Redis" when ``exc`` (or what caused it) says that service
    cannot be reached now; None for any other error."""
    for link in _chain(exc):
        if _database_away(link):
            return "the database"
        if _broker_away(link):
            return "Redis"
    return None


def is_outage(exc):
    """Whether ``exc`` is a service being away for a moment, not a bug."""
    return service_away(exc) is not None


def message(exc):
    return (f"Handoff cannot answer right now: {service_away(exc) or 'a service it needs'} is unavailable; "
            f"retry in a few seconds.")


def response(request, exc):
    """The 503 for ``exc``: JSON under /api/, the 503 page elsewhere; Retry-After on both."""
    text = message(exc)
    if request.path.startswith("/api/"):
        answer = JsonResponse({"detail": text}, status=503)
    else:
        # Rendered without the request: its context processors would ask the database that is away.
        answer = HttpResponse(loader.get_template("503.html").render({"message": text}), status=503)
    answer["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return answer


class OutageMiddleware:
    """A browser view's outage is the 503 page even while DEBUG is on (Django
    would show its technical 500 page; without DEBUG, handler500 answers the
    same 503). An exception raised by a middleware never reaches here, and
    reaches handler500 instead."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not is_outage(exception):
            return None
        log.warning("%s: %s", message(exception), exception, exc_info=exception)
        return response(request, exception)
