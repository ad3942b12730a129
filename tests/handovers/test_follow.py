"""Following a handover: its owner, reviewer and commenters follow it by
default, anyone on the project may follow or unfollow it (idempotent), an
unfollow sticks, and followers hear of comments and decisions."""

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from handoff.audit.models import AuditEvent
from handoff.core.errors import NotFound
from handoff.handovers import notices, services
from handoff.handovers.models import Follow, HandoverState
from handoff.notifications.models import Notification
from handoff.teams.models import RoleAssignment
from tests.factories import ModelFactory

API = "/api/v1"


def told(user, kind=None):
    found = Notification.objects.filter(recipient=user)
    return found.filter(kind=kind) if kind else found


@pytest.fixture
def handover(draft):
    return draft[0]


def awaiting_review(handover, revision):
    revision.submitted_at = revision.created_at
    revision.submitted_by = handover.owner
    revision.save()
    handover.state = HandoverState.AWAITING_REVIEW
    handover.save()
    return handover


# --- services ------------------------------------------------------------------------------------


def test_filing_a_handover_follows_it(project, scientist):
    model = ModelFactory(project=project, owner=scientist)
    handover = services.create_handover(scientist, model, version_label="2.0.0")
    assert notices.is_following(scientist, handover)


def test_commenting_follows_and_deciding_follows(draft, manager, engineer):
    handover, revision = draft
    services.add_comment(manager, handover, body="Looks useful.")
    assert notices.is_following(manager, handover)
    awaiting_review(handover, revision)
    services.accept_revision(engineer, revision)
    assert notices.is_following(engineer, handover)


def test_follow_and_unfollow_are_idempotent_and_audited_once(handover, manager):
    services.follow(manager, handover)
    services.follow(manager, handover)
    assert Follow.objects.filter(user=manager, handover=handover, following=True).count() == 1
    services.unfollow(manager, handover)
    services.unfollow(manager, handover)
    assert Follow.objects.filter(user=manager, handover=handover).count() == 1
    assert not notices.is_following(manager, handover)
    verbs = list(AuditEvent.objects.filter(actor=manager).order_by("id").values_list("verb", flat=True))
    assert verbs == ["handover.followed", "handover.unfollowed"]


def test_outsider_cannot_follow(handover, outsider):
    with pytest.raises(NotFound):
        services.follow(outsider, handover)
    assert not Follow.objects.filter(user=outsider).exists()


def test_followers_hear_of_comments_and_decisions(draft, scientist, engineer, manager):
    handover, revision = draft
    services.follow(manager, handover)
    services.follow(scientist, handover)
    services.add_comment(engineer, handover, body="One question on the labels.")
    assert told(manager, "commented").count() == 1
    assert told(scientist, "commented").count() == 1
    assert not told(engineer).exists()  # not told of their own comment
    awaiting_review(handover, revision)
    services.request_changes(engineer, revision, comment="Add the fairness terms.")
    assert told(manager, "changes_requested").count() == 1
    assert told(scientist, "changes_requested").count() == 1


def test_non_followers_hear_nothing_of_comments(handover, scientist, manager):
    services.add_comment(scientist, handover, body="Note to self.")
    assert not told(manager).exists()


def test_unfollow_sticks_when_commenting_again(handover, scientist, manager):
    services.add_comment(manager, handover, body="First thought.")
    services.unfollow(manager, handover)
    services.add_comment(manager, handover, body="Second thought.")
    assert not notices.is_following(manager, handover)
    services.add_comment(scientist, handover, body="An answer.")
    assert not told(manager).exists()


def test_unfollowed_person_still_hears_a_mention(handover, scientist, manager):
    services.unfollow(manager, handover)
    services.add_comment(scientist, handover, body="@mona a question for you")
    assert told(manager, "mentioned").count() == 1


def test_follower_who_left_the_project_is_not_told(handover, scientist, manager):
    services.follow(manager, handover)
    RoleAssignment.objects.filter(user=manager).delete()
    services.add_comment(scientist, handover, body="Still here?")
    assert not told(manager).exists()


# --- pages ---------------------------------------------------------------------------------------


def test_follow_button_follows_then_unfollows(client, handover, manager):
    client.force_login(manager)
    page = client.get(handover.get_absolute_url()).content.decode()
    assert reverse("handovers:follow", args=[handover.pk]) in page
    response = client.post(reverse("handovers:follow", args=[handover.pk]), follow=True)
    assert response.status_code == 200
    page = response.content.decode()
    assert "You follow this handover" in page
    assert reverse("handovers:unfollow", args=[handover.pk]) in page
    assert notices.is_following(manager, handover)
    client.post(reverse("handovers:unfollow", args=[handover.pk]))
    assert not notices.is_following(manager, handover)


def test_outsider_gets_404_for_follow(client, handover, outsider):
    client.force_login(outsider)
    for name in ("follow", "unfollow"):
        assert client.post(reverse(f"handovers:{name}", args=[handover.pk])).status_code == 404
    assert not Follow.objects.filter(user=outsider).exists()


# --- API -----------------------------------------------------------------------------------------


def api(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_api_follow_and_unfollow(handover, manager):
    client = api(manager)
    assert client.get(f"{API}/handovers/{handover.pk}/").json()["following"] is False
    for _ in range(2):
        response = client.post(f"{API}/handovers/{handover.pk}/follow/")
        assert response.status_code == 200 and response.json() == {"following": True}
    assert client.get(f"{API}/handovers/{handover.pk}/").json()["following"] is True
    response = client.post(f"{API}/handovers/{handover.pk}/unfollow/")
    assert response.status_code == 200 and response.json() == {"following": False}
    assert client.get(f"{API}/handovers/{handover.pk}/").json()["following"] is False


def test_api_outsider_gets_404_for_follow(handover, outsider):
    response = api(outsider).post(f"{API}/handovers/{handover.pk}/follow/")
    assert response.status_code == 404
    assert not Follow.objects.filter(user=outsider).exists()


def test_follow_is_in_the_schema(client):
    schema = client.get(reverse("schema"), HTTP_ACCEPT="application/json").content.decode()
    assert "/api/v1/handovers/{id}/follow/" in schema and "/api/v1/handovers/{id}/unfollow/" in schema
