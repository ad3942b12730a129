"""Two engineers deciding on the same revision at the same moment, through
real concurrent HTTP requests against PostgreSQL: exactly one wins."""

import threading
import time

import pytest
import requests
from rest_framework.authtoken.models import Token

from handoff.handovers import services
from handoff.handovers.models import Handover, HandoverState, Review
from handoff.teams.models import Role
from tests.factories import ProjectFactory, member, ready_draft

pytestmark = pytest.mark.postgres


def _race(live_server, handover, first, second):
    """POST two decisions at once (a barrier releases both threads together)."""
    barrier = threading.Barrier(2)
    results = {}

    # Tokens are made here: a thread that touched the ORM would leave a
    # connection open and keep the test database from being dropped.
    tokens = {user.pk: Token.objects.get_or_create(user=user)[0].key for user in (first[0], second[0])}

    def decide(name, user, action, body):
        token = tokens[user.pk]
        session = requests.Session()
        session.headers["Authorization"] = f"Token {token}"
        barrier.wait()
        response = session.post(
            f"{live_server.url}/api/v1/handovers/{handover.pk}/{action}/", json=body, timeout=30
        )
        results[name] = (response.status_code, response.json())

    threads = [
        threading.Thread(target=decide, args=("first", *first)),
        threading.Thread(target=decide, args=("second", *second)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


@pytest.fixture
def under_review(postgres, live_server):
    project = ProjectFactory()
    scientist = member(project, Role.DATA_SCIENTIST)
    engineers = member(project, Role.ML_ENGINEER), member(project, Role.ML_ENGINEER)
    handover, revision = ready_draft(project=project, owner=scientist)
    services.submit_revision(scientist, revision)  # transactional test: validation runs on commit
    assert Handover.objects.get(pk=handover.pk).state == HandoverState.AWAITING_REVIEW
    return handover, engineers


@pytest.fixture
def slow_lock(monkeypatch):
    """Hold the handover's row lock a little longer, so the two requests are
    certainly inside their transactions at the same time."""
    original = services._lock

    def slow(handover):
        locked = original(handover)
        time.sleep(0.3)
        return locked

    monkeypatch.setattr(services, "_lock", slow)


@pytest.mark.parametrize("second_action", ["accept", "request-changes"])
def test_two_engineers_deciding_at_once_one_wins(under_review, live_server, slow_lock, second_action):
    handover, (eli, emma) = under_review
    results = _race(
        live_server,
        handover,
        (eli, "accept", {"comment": "Signed"}),
        (emma, second_action, {"comment": "Not yet"}),
    )
    statuses = sorted(status for status, _ in results.values())
    assert statuses == [200, 409], results
    loser = next(body for status, body in results.values() if status == 409)
    assert "reload" in loser["detail"].lower()
    assert Review.objects.filter(revision__handover=handover).count() == 1
    handover.refresh_from_db()
    review = Review.objects.get(revision__handover=handover)
    assert handover.reviewer == review.reviewer
    assert handover.state == (
        HandoverState.ACCEPTED if review.decision == "accept" else HandoverState.CHANGES_REQUESTED
    )
