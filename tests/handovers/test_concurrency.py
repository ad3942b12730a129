"""Two people changing the same handover at the same moment, through real
concurrent HTTP requests against PostgreSQL: the first to lock the row wins,
the second waits for it and then gets a clear conflict.

``tests/race.py`` proves that the two requests overlapped (the second waited
on the first one's row lock); without ``select_for_update`` these tests fail
on that proof, whatever the outcome would have been.
"""

import pytest

from handoff.handovers import services
from handoff.handovers.models import Artifact, ArtifactKind, Handover, HandoverState, Review
from handoff.teams.models import Role
from tests.factories import ProjectFactory, ReviewFactory, api_token, member, ready_draft
from tests.race import api_session, race

pytestmark = pytest.mark.postgres


@pytest.fixture
def people(postgres, live_server):
    project = ProjectFactory()
    scientist = member(project, Role.DATA_SCIENTIST)
    engineers = member(project, Role.ML_ENGINEER), member(project, Role.ML_ENGINEER)
    # Tokens are made here: a thread that touched the ORM would leave a
    # connection open and keep the test database from being dropped.
    sessions = {user.pk: api_session(api_token(user))
                for user in (scientist, *engineers)}
    yield project, scientist, engineers, sessions
    for session in sessions.values():
        session.close()


def _post(live_server, sessions, user, handover, action, **kwargs):
    url = f"{live_server.url}/api/v1/handovers/{handover.pk}/{action}/"
    return lambda: sessions[user.pk].post(url, timeout=60, **kwargs)


def _under_review(project, scientist):
    handover, revision = ready_draft(project=project, owner=scientist)
    services.submit_revision(scientist, revision)  # transactional test: validation runs on commit
    assert Handover.objects.get(pk=handover.pk).state == HandoverState.AWAITING_REVIEW
    return handover


def _state(handover):
    return Handover.objects.get(pk=handover.pk).state


@pytest.mark.parametrize(("second_action", "second_body"), [
    ("accept", {"comment": "Signed too"}),
    ("request-changes", {"comment": "Not yet"}),
])
def test_accept_wins_over_a_second_decision_made_at_once(people, live_server, second_action, second_body):
    project, scientist, (eli, emma), sessions = people
    handover = _under_review(project, scientist)
    result = race(
        _post(live_server, sessions, eli, handover, "accept", json={"comment": "Signed"}),
        _post(live_server, sessions, emma, handover, second_action, json=second_body),
    )
    assert (result.first.status, result.second.status) == (200, 409), result
    assert "accepted now" in result.second.detail and "Reload" in result.second.detail
    review = Review.objects.get(revision__handover=handover)
    assert (review.reviewer, review.decision) == (eli, "accept")
    assert _state(handover) == HandoverState.ACCEPTED


def test_request_changes_wins_over_an_accept_made_at_once(people, live_server):
    project, scientist, (eli, emma), sessions = people
    handover = _under_review(project, scientist)
    result = race(
        _post(live_server, sessions, emma, handover, "request-changes", json={"comment": "Fix the labels"}),
        _post(live_server, sessions, eli, handover, "accept", json={"comment": "Signed"}),
    )
    assert (result.first.status, result.second.status) == (200, 409), result
    assert "changes requested now" in result.second.detail
    assert Review.objects.get(revision__handover=handover).decision == "request_changes"
    assert _state(handover) == HandoverState.CHANGES_REQUESTED


def test_submitting_twice_at_once_submits_once(people, live_server):
    project, scientist, _, sessions = people
    handover, revision = ready_draft(project=project, owner=scientist)
    result = race(
        _post(live_server, sessions, scientist, handover, "submit"),
        _post(live_server, sessions, scientist, handover, "submit"),
    )
    assert (result.first.status, result.second.status) == (200, 409), result
    assert "already been submitted" in result.second.detail
    revision.refresh_from_db()
    assert revision.submitted_at is not None
    from handoff.audit.models import AuditEvent
    assert AuditEvent.objects.filter(verb="handover.submitted", details__handover=handover.pk).count() == 1


def test_an_upload_that_arrives_while_the_revision_is_submitted_is_refused_and_not_stored(
    people, live_server, settings
):
    project, scientist, _, sessions = people
    handover, revision = ready_draft(project=project, owner=scientist)
    before = set(Artifact.objects.filter(revision=revision).values_list("pk", "sha256"))
    upload_url = f"{live_server.url}/api/v1/handovers/{handover.pk}/revisions/1/artifacts/"
    result = race(
        _post(live_server, sessions, scientist, handover, "submit"),
        lambda: sessions[scientist.pk].post(
            upload_url, data={"kind": ArtifactKind.PREDICTIONS},
            files={"file": ("late.csv", b"id,prediction\n1,1\n")}, timeout=60),
    )
    assert (result.first.status, result.second.status) == (200, 409), result
    assert "frozen" in result.second.detail
    assert set(Artifact.objects.filter(revision=revision).values_list("pk", "sha256")) == before
    stored = {path.name for path in (settings.MEDIA_ROOT).rglob("*") if path.is_file()}
    assert not any(name.startswith("late") for name in stored), stored


def test_a_revision_opened_at_once_with_an_accept_leaves_nothing_to_accept(people, live_server):
    project, scientist, (eli, _), sessions = people
    handover, revision = ready_draft(project=project, owner=scientist)
    services.submit_revision(scientist, revision)
    Handover.objects.filter(pk=handover.pk).update(state=HandoverState.CHANGES_REQUESTED)
    ReviewFactory(revision=revision, reviewer=eli)
    result = race(
        _post(live_server, sessions, scientist, handover, "revise"),
        _post(live_server, sessions, eli, handover, "accept", json={"comment": "Signed"}),
    )
    assert (result.first.status, result.second.status) == (200, 409), result
    assert "draft now" in result.second.detail
    assert _state(handover) == HandoverState.DRAFT
    assert handover.revisions.count() == 2

