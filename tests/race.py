"""A race harness that proves the two requests overlapped.

Two requests sent "at once" may still run one after the other (a busy machine
delays the second by longer than the first takes), and a test that then sees
one winner proves nothing about the lock. This harness makes the overlap
certain and checks it:

1. the first request is sent and held at ``handoff.core.locking``'s
   checkpoint just after it took the row lock, inside its transaction;
2. the second request is sent while the first holds the lock; the harness
   waits until PostgreSQL shows it *waiting on a lock*;
3. only then is the first let go; the second must not get past ``lock_row``
   before that (if it does, there is no lock and the race fails on that).

Then the caller asserts the outcome: the first wins, the second gets a clear
conflict. Any transition that takes its row with ``lock_row`` can be raced
this way, through the real HTTP stack of ``live_server``.
"""

import threading
from dataclasses import dataclass, field

import pytest
import requests
from django.conf import settings
from django.db import connection
from django.test import Client
from django.utils.crypto import get_random_string

from handoff.core import locking
from tests.timing import scaled, wait_until


class LockNotHeld(AssertionError):
    """The second request got past the row lock while the first held it."""


@dataclass
class Outcome:
    status: int
    body: object

    @property
    def detail(self):
        return self.body.get("detail", "") if isinstance(self.body, dict) else str(self.body)


@dataclass
class RaceResult:
    first: Outcome
    second: Outcome
    waited_on_lock: bool
    events: list = field(default_factory=list)


def _locks_waited_on():
    """Backends of this test database that are waiting for a lock, other than ours."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid() AND wait_event_type = 'Lock'"
        )
        return cursor.fetchone()[0]


def _outcome(response):
    try:
        body = response.json()
    except ValueError:
        body = response.text
    return Outcome(response.status_code, body)


def race(first, second):
    """Run ``first`` and ``second`` (callables that send one HTTP request each
    and return a ``requests.Response``) so that the second reaches the row lock
    while the first holds it. -> RaceResult

    Raises ``LockNotHeld`` when the second got past the lock before the first
    let go, and fails the test when the two never overlapped."""
    if connection.vendor != "postgresql":
        pytest.fail("the race harness reads pg_stat_activity: it needs PostgreSQL", pytrace=False)
    holder = {}
    events = []
    first_locked = threading.Event()
    second_arrived = threading.Event()
    release = threading.Event()
    violations = []
    guard = threading.Lock()

    def checkpoint(stage, model, lookup):
        me = threading.get_ident()
        with guard:
            events.append((stage, model.__name__, me))
            if "first" not in holder and stage == "locked":
                holder["first"] = me
                is_first, hold = True, True
            else:
                is_first, hold = holder.get("first") == me, False
            if not is_first and not release.is_set():
                second_arrived.set()
                if stage == "locked":
                    violations.append(f"the second request locked the {model.__name__} row "
                                      "while the first still held it")
        if hold:
            first_locked.set()
            release.wait(scaled(30))

    results = {}

    def send(name, call):
        try:
            results[name] = _outcome(call())
        except requests.RequestException as exc:  # pragma: no cover - reported below
            results[name] = Outcome(0, str(exc))

    locking.checkpoints.append(checkpoint)
    threads = []
    try:
        threads.append(threading.Thread(target=send, args=("first", first)))
        threads[0].start()
        wait_until(first_locked.is_set, "the first request to take the row lock", timeout=30)
        threads.append(threading.Thread(target=send, args=("second", second)))
        threads[1].start()
        wait_until(lambda: second_arrived.is_set() or "second" in results,
                   "the second request to reach the row lock", timeout=30)
        waited = False
        if not violations and "second" not in results:
            waited = wait_until(lambda: violations or _locks_waited_on() > 0,
                                "the second request to wait on the first one's lock", timeout=30)
            waited = not violations
    finally:
        release.set()
        for thread in threads:
            thread.join(scaled(60))
        locking.checkpoints.remove(checkpoint)
    if violations:
        raise LockNotHeld("; ".join(violations) + f" (events: {events})")
    if not waited:
        pytest.fail(f"the two requests did not overlap: the second finished ({results.get('second')}) "
                    f"without waiting on the first one's lock (events: {events})", pytrace=False)
    return RaceResult(results["first"], results["second"], waited, events)


def api_session(token):
    """A requests session with an API token. Close it when the test ends: the
    live server's thread for a kept-alive connection holds a database
    connection until then (one left open keeps the test database from being
    dropped)."""
    session = requests.Session()
    session.headers["Authorization"] = f"Token {token}"
    return session


def page_session(user):
    """A requests session logged in as ``user`` in the browser's way (session
    cookie, CSRF cookie and header), for racing page actions. Close it when
    the test ends, as an ``api_session``."""
    client = Client()
    client.force_login(user)
    secret = get_random_string(32)
    session = requests.Session()
    session.cookies.set(settings.SESSION_COOKIE_NAME, client.cookies[settings.SESSION_COOKIE_NAME].value)
    session.cookies.set(settings.CSRF_COOKIE_NAME, secret)
    session.headers["X-CSRFToken"] = secret
    return session
