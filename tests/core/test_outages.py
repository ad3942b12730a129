"""A service away for a moment is a 503 with Retry-After (JSON under /api/, a page
elsewhere), whatever DEBUG says; any other error stays a 500. The real restarts
are in tests/faults; these pin down which exceptions count."""

import sqlite3
import sys

import kombu.exceptions
import psycopg2
import pytest
import redis.exceptions
from django.db import InterfaceError, OperationalError
from django.http import HttpResponse
from django.test import RequestFactory
from django.urls import path
from rest_framework.permissions import AllowAny
from rest_framework.views import APIView

from handoff.core import outages
from handoff.core.views import server_error
from handoff.urls import handler404, handler500  # noqa: F401
from handoff.urls import urlpatterns as base_urlpatterns

pytestmark = [pytest.mark.urls(__name__)]

MESSAGE = "the database is unavailable; retry in a few seconds"


class _Coded(Exception):
    """A driver error with a SQLSTATE, as psycopg2 raises them."""

    def __init__(self, pgcode):
        super().__init__(pgcode)
        self.pgcode = pgcode


def _wrapped(cause, cls=OperationalError):
    """``cause`` as Django's database wrapper raises it."""
    try:
        try:
            raise cause
        except Exception as exc:
            raise cls(str(exc)) from exc
    except cls as exc:
        return exc


def _database_away():
    return _wrapped(psycopg2.OperationalError("server closed the connection unexpectedly"))


RAISE = {"away": _database_away, "bug": lambda: RuntimeError("a bug"),
         "redis": lambda: redis.exceptions.ConnectionError("Connection refused")}


class Raise(APIView):
    permission_classes = [AllowAny]

    def get(self, request, kind):
        raise RAISE[kind]()


def page(request, kind):
    raise RAISE[kind]()


def ok(request):
    return HttpResponse("ok")


urlpatterns = [path("api/outage/<slug:kind>/", Raise.as_view()), path("outage/<slug:kind>/", page),
               *base_urlpatterns]


@pytest.mark.parametrize(("exc", "away"), [
    (_database_away(), "the database"),
    (_wrapped(_Coded("57P01")), "the database"),  # terminating connection due to administrator command
    (_wrapped(_Coded("08006")), "the database"),  # connection failure
    (_wrapped(psycopg2.InterfaceError("connection already closed"), InterfaceError), "the database"),
    (_wrapped(sqlite3.OperationalError("database is locked")), "the database"),
    (redis.exceptions.ConnectionError("Error 111 connecting to 127.0.0.1:6379"), "Redis"),
    (redis.exceptions.TimeoutError("Timeout reading from socket"), "Redis"),
    (kombu.exceptions.OperationalError("Error 111 connecting"), "Redis"),
    (_wrapped(_Coded("57014")), None),  # a statement timeout: the query's fault, not an outage
    (_wrapped(_Coded("40P01")), None),  # a deadlock
    (_wrapped(sqlite3.OperationalError("no such table: handovers_handover")), None),
    (RuntimeError("a bug"), None),
])
def test_which_exceptions_are_a_service_away(exc, away):
    assert outages.service_away(exc) == away
    assert outages.is_outage(exc) is (away is not None)


@pytest.mark.parametrize("debug", [False, True])
def test_an_api_view_whose_database_is_away_answers_503_json(client, settings, debug):
    settings.DEBUG = debug
    response = client.get("/api/outage/away/")
    assert response.status_code == 503
    assert response["Content-Type"] == "application/json"
    assert response["Retry-After"] == str(outages.RETRY_AFTER_SECONDS)
    assert MESSAGE in response.json()["detail"]


@pytest.mark.parametrize("debug", [False, True])
def test_a_page_whose_database_is_away_answers_the_503_page(client, settings, debug):
    settings.DEBUG = debug
    response = client.get("/outage/away/")
    assert response.status_code == 503
    assert response["Retry-After"] == str(outages.RETRY_AFTER_SECONDS)
    text = response.content.decode()
    assert "Back in a moment" in text and MESSAGE in text and "Traceback" not in text


def test_redis_away_is_named_in_the_503(client):
    response = client.get("/api/outage/redis/")
    assert response.status_code == 503
    assert "Redis is unavailable; retry in a few seconds" in response.json()["detail"]


def test_a_bug_is_still_a_500(client):
    client.raise_request_exception = False
    assert client.get("/api/outage/bug/").status_code == 500
    assert client.get("/outage/bug/").status_code == 500


@pytest.mark.parametrize(("url", "json"), [("/api/v1/handovers/", True), ("/handovers/", False)])
def test_handler500_answers_503_for_an_outage_raised_outside_a_view(url, json):
    """A middleware's exception (the session's, the user's) reaches only handler500,
    which Django calls inside its ``except`` block."""
    request = RequestFactory().get(url)
    try:
        raise _database_away()
    except OperationalError:
        assert sys.exc_info()[1] is not None
        response = server_error(request)
    assert response.status_code == 503
    assert response["Retry-After"] == str(outages.RETRY_AFTER_SECONDS)
    body = response.content.decode()
    assert MESSAGE in body
    assert body.startswith("{") is json


def test_handler500_without_an_outage_is_the_500():
    request = RequestFactory().get("/api/v1/handovers/")
    try:
        raise RuntimeError("a bug")
    except RuntimeError:
        assert server_error(request).status_code == 500
