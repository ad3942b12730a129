"""PostgreSQL restarts under a stream of requests to the real app (gunicorn,
DEBUG off): meanwhile every answer is a 2xx or a 503 that says to retry,
never a 500 or a traceback; every write that was answered 2xx is stored
once, none answered 503 is; and the app recovers by itself, its pooled
connections dropped and opened again, without being restarted."""

import threading
import time

import pytest

from tests.timing import scaled, wait_until

pytestmark = [pytest.mark.faults]

RECOVERY = 5  # seconds, scaled: from PostgreSQL accepting again to the first answered request
OUTAGE_MESSAGE = "the database is unavailable; retry in a few seconds"

SEED = """
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore
from tests.factories import api_token

from handoff.teams.models import Role
from tests.factories import (DeploymentFactory, HandoverFactory, ModelFactory, ProjectFactory,
                             RevisionFactory, ingestion_token, member, signed_handover)

project = ProjectFactory()
owner = member(project, Role.DATA_SCIENTIST)
handover = HandoverFactory(model=ModelFactory(project=project, owner=owner))
RevisionFactory(handover=handover, number=1)
deployment = DeploymentFactory(handover=signed_handover(project=project, owner=owner)[0])
_, secret = ingestion_token(project)
session = SessionStore()
session[SESSION_KEY] = str(owner.pk)
session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
session[HASH_SESSION_KEY] = owner.get_session_auth_hash()
session.create()
out = {"handover": handover.pk, "deployment": deployment.pk, "ingestion": secret,
       "token": api_token(owner), "session": session.session_key}
"""


@pytest.fixture(scope="module")
def app(stack):
    stack.seeded = stack.seed(SEED)
    # Two gunicorn processes, each keeping its connection between requests (CONN_MAX_AGE's default of 60 s
    # with DATABASE_URL), as in production.
    return stack.processes.app(workers=2)


def _observation(n):
    return {"observations": [{"metric": "accuracy", "value": 0.97, "sample_size": n + 1,
                              "window_start": "2026-01-01T00:00:00Z", "window_end": "2026-01-01T00:05:00Z"}]}


def _requests(seeded):
    """One round of a user's and monitoring's traffic: lists, a page, two writes marked with ``n``."""
    api = {"Authorization": f"Token {seeded['token']}"}
    monitoring = {"Authorization": f"Bearer {seeded['ingestion']}"}
    handover, deployment = seeded["handover"], seeded["deployment"]

    def round_(n):
        return [
            ("list", "GET", "/api/v1/handovers/", None, api, None),
            ("comment", "POST", f"/api/v1/handovers/{handover}/comments/", {"body": f"fault-{n}"}, api,
             f"fault-{n}"),
            ("list", "GET", f"/api/v1/deployments/{deployment}/observations/", None, api, None),
            ("metrics", "POST", f"/api/v1/deployments/{deployment}/metrics/", _observation(n), monitoring,
             n + 1),
            ("page", "GET", "/", None, {"Cookie": f"sessionid={seeded['session']}"}, None),
        ]
    return round_


def _is_clean_503(record):
    """A 503 a client can act on: JSON with the message under /api/, the page elsewhere; Retry-After."""
    if record.status != 503 or not record.headers.get("Retry-After", "").isdigit():
        return False
    if record.path.startswith("/api/"):
        return record.content_type == "application/json" and OUTAGE_MESSAGE in record.json()["detail"]
    return record.content_type.startswith("text/html") and "Back in a moment" in record.body \
        and OUTAGE_MESSAGE in record.body and "Traceback" not in record.body


def _app_connections(stack):
    return stack.value("SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
                       (stack.database,))


def test_pooled_connections_that_died_with_a_restart_are_replaced_without_an_error(stack, app):
    from tests.faults.client import Stream

    stream = Stream(app.url, _requests(stack.seeded))
    api = {"Authorization": f"Token {stack.seeded['token']}"}
    # Both gunicorn processes answer some of these at once, each keeping a connection.
    threads = [threading.Thread(target=lambda: [stream.send("list", "GET", "/api/v1/handovers/", None, api)
                                                for _ in range(10)]) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(record.ok for record in stream.sent), [(r.status, r.body[:200]) for r in stream.sent]
    assert _app_connections(stack) >= 2, "the app keeps no connection between requests"

    stack.pg.restart()  # fast: every connection is ended; nobody is sending meanwhile
    assert _app_connections(stack) == 0

    after = [stream.send("list", "GET", "/api/v1/handovers/", None, api) for _ in range(10)]
    assert [record.status for record in after] == [200] * 10, [r.body[:300] for r in after if not r.ok]


def test_a_restart_during_a_stream_of_requests_gives_503s_then_recovers(stack, app):
    from tests.faults.client import Stream

    stream = Stream(app.url, _requests(stack.seeded), limit=600).start()
    try:
        wait_until(lambda: stream.count(lambda r: r.ok) >= 20, "the stream to be answered", timeout=30)
        stack.pg.stop()
        down = time.monotonic()
        # Away for a few seconds, as a restart with a checkpoint or a failover is.
        wait_until(lambda: stream.count(lambda r: r.status == 503 and r.started > down) >= 10
                   and time.monotonic() - down > 2, "503s while PostgreSQL is stopped", timeout=30,
                   detail=lambda: [(r.status, r.body[:200]) for r in stream.sent[-5:]])
        stack.pg.start()
        back = time.monotonic()
        recovered = wait_until(
            lambda: next((r for r in stream.answered_since(back) if r.ok), None), "a request answered again",
            timeout=RECOVERY * 2)
        wait_until(lambda: len(stream.answered_since(back)) >= 50, "50 requests after the restart",
                   timeout=60)
    finally:
        stream.stop()

    sent = stream.sent
    print(f"\n{len(sent)} requests; {sum(r.ok for r in sent)} 2xx, {sum(r.status == 503 for r in sent)} 503; "
          f"PostgreSQL away {back - down:.1f} s; "
          f"first success {recovered.ended - back:.2f} s after it was back")
    unclean = [(r.what, r.status, r.error, r.body[:300]) for r in sent if not (r.ok or _is_clean_503(r))]
    assert not unclean, f"answers other than 2xx or a clean 503: {unclean[:5]}"
    assert recovered.ended - back < scaled(RECOVERY)
    # Once PostgreSQL accepts connections, every request is answered: no 503 from a dead pooled connection.
    late = [r for r in sent if r.started > back + 0.5]
    assert late and all(r.ok for r in late), [(r.what, r.status, r.body[:200]) for r in late if not r.ok]

    for what, query in (("comment", "SELECT body, count(*) FROM handovers_comment GROUP BY body"),
                        ("metrics", "SELECT sample_size, count(*) FROM deployments_metricobservation "
                                    "GROUP BY sample_size")):
        stored = dict(stack.rows(query))
        answered = [r.marker for r in sent if r.what == what and r.ok]
        refused = [r.marker for r in sent if r.what == what and r.status == 503]
        assert refused, f"no {what} was refused: the outage missed the writes"
        assert {marker: stored.get(marker, 0) for marker in answered} == {marker: 1 for marker in answered}
        committed_anyway = [marker for marker in refused if marker in stored]
        assert not committed_anyway, f"{what}s answered 503 but stored: {committed_anyway}"
        assert len(stored) == len(answered), "a write was stored that no 2xx answered"
