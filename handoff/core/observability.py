"""Request ids and structured logs.

Every request gets an id: the caller's ``X-Request-ID`` when it is a sane
value (a proxy or a client that already has one), otherwise a fresh uuid4.
It lives in a context variable for the request's duration, a logging filter
adds it (with the user, path and method) to every log record, and the
response carries it back. A task the request starts carries it in its
message headers, so the worker's log lines of that task show the same id
(with the task's name and id): one grep follows a request into the workers.

This module imports nothing of Django's models: the logging configuration
loads its filter before the apps are ready.
"""

import hmac
import logging
import re
import uuid
from contextvars import ContextVar
from types import MappingProxyType

from django.core.signals import request_finished
from django.utils.functional import empty

HEADER = "X-Request-ID"
#: The task message header that carries the id from the publisher to the worker.
TASK_HEADER = "handoff_request_id"
# Letters, digits and a few separators, at most 128: a caller's id that could
# break a log line (newlines, quotes) or fill it is replaced, not copied.
SANE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:+=/-]{0,127}")

NOTHING = MappingProxyType({})
_context = ContextVar("handoff_log_context", default=NOTHING)


def current():
    """The fields of the request or task being handled here ({} outside one)."""
    return _context.get()


def current_request_id():
    return _context.get().get("request_id")


def request_id_from(value):
    """The caller's id when it is sane, else a new uuid4 hex."""
    if value and SANE_ID.fullmatch(value):
        return value
    return uuid.uuid4().hex


class RequestIdMiddleware:
    """First in MIDDLEWARE, so that every later middleware's log lines carry the id.

    The fields stay until the response is closed (``request_finished``), not only
    until this middleware returns: Django logs a 4xx or 5xx after the middleware
    chain ("Not Found: /…"), and that line needs the id most."""

    def __init__(self, get_response):
        self.get_response = get_response
        request_finished.connect(forget_request, dispatch_uid="handoff.request_id.finished")

    def __call__(self, request):
        request_id = request_id_from(request.headers.get(HEADER))
        request.request_id = request_id
        _context.set({"request_id": request_id, "method": request.method, "path": request.path,
                      "_request": request})
        response = self.get_response(request)
        response[HEADER] = request_id
        return response


def forget_request(**kwargs):
    _context.set(NOTHING)


def _user_id(request):
    # Only a user some middleware has already loaded: a log filter must never
    # run a query (it may be called while the database is the problem).
    user = getattr(request, "user", None)
    if user is None:
        return None
    wrapped = getattr(user, "_wrapped", user)
    if wrapped is None or wrapped is empty:  # a SimpleLazyObject nothing has evaluated yet
        return None
    return getattr(wrapped, "pk", None)


class ContextFilter(logging.Filter):
    """Adds request_id, user_id, path, method, task_name and task_id (those known here) to each record."""

    def filter(self, record):
        fields = _context.get()
        for name, value in fields.items():
            if not name.startswith("_") and not hasattr(record, name):
                setattr(record, name, value)
        request = fields.get("_request")
        if request is not None and not hasattr(record, "user_id"):
            user_id = _user_id(request)
            if user_id is not None:
                record.user_id = user_id
        return True


def json_formatter():
    """The JSON formatter of every process (web, worker, beat): one object per line."""
    from pythonjsonlogger.json import JsonFormatter

    return JsonFormatter("%(asctime)s %(levelname)s %(name)s %(message)s",
                         rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
                         timestamp=False)


# --- Celery: the id travels in the task's headers -------------------------------


def add_request_id_to_task(headers=None, **kwargs):
    """before_task_publish: the publishing request's (or task's) id goes with the message."""
    request_id = current_request_id()
    if request_id and headers is not None and TASK_HEADER not in headers:
        headers[TASK_HEADER] = request_id


_task_tokens = {}


def enter_task(task_id=None, task=None, **kwargs):
    """task_prerun: the task's log lines carry its name, id and the id of the request that started it."""
    request = getattr(task, "request", None)
    headers = getattr(request, "headers", None) or {}
    request_id = getattr(request, TASK_HEADER, None) or headers.get(TASK_HEADER)
    # An eager task runs inside the request that called it and keeps its id.
    request_id = request_id or current_request_id()
    fields = {"task_name": getattr(task, "name", None), "task_id": task_id}
    if request_id:
        fields["request_id"] = request_id
    _task_tokens[task_id] = _context.set(fields)


def leave_task(task_id=None, **kwargs):
    """task_postrun: back to what was there before (nothing, in a worker)."""
    token = _task_tokens.pop(task_id, None)
    if token is not None:
        try:
            _context.reset(token)
        except ValueError:  # set in another context (a thread pool): nothing of ours to restore there
            _context.set(NOTHING)


def connect_celery_signals():
    from celery.signals import before_task_publish, task_postrun, task_prerun

    before_task_publish.connect(add_request_id_to_task, dispatch_uid="handoff.request_id.publish", weak=False)
    task_prerun.connect(enter_task, dispatch_uid="handoff.request_id.prerun", weak=False)
    task_postrun.connect(leave_task, dispatch_uid="handoff.request_id.postrun", weak=False)


# --- The operator token ------------------------------------------------------------


def presents_operator_token(request):
    """Whether the request carries ``Authorization: Bearer <HANDOFF_OPERATOR_TOKEN>``
    (never, while no token is configured). Compared in constant time."""
    from django.conf import settings

    expected = settings.HANDOFF_OPERATOR_TOKEN
    if not expected:
        return False
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not given:
        return False
    return hmac.compare_digest(given.strip().encode(), expected.encode())
