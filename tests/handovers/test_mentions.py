"""@mentions in comments and review comments: a member of the project is told
once, someone off the project is not (and the page says so), a name that is
no one's refuses the comment, and the page links members' mentions only."""

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from rest_framework.test import APIClient

from handoff.audit.models import AuditEvent
from handoff.core.errors import DomainError
from handoff.handovers import notices, services
from handoff.handovers.models import Comment, HandoverState, Review
from handoff.notifications.models import Notification

API = "/api/v1"


def told(user, kind=None):
    found = Notification.objects.filter(recipient=user)
    return found.filter(kind=kind) if kind else found


def awaiting_review(handover, revision):
    revision.submitted_at = revision.created_at
    revision.submitted_by = handover.owner
    revision.save()
    handover.state = HandoverState.AWAITING_REVIEW
    handover.save()
    return handover


@pytest.fixture
def handover(draft):
    return draft[0]


# --- services ------------------------------------------------------------------------------------


def test_mentioned_engineer_is_told_once(handover, scientist, engineer):
    services.add_comment(scientist, handover, body="@eli could you look at the latency budget?")
    event = AuditEvent.objects.get(verb="handover.commented")
    notices.announce(event, handover)  # the same event told again (a task run twice)
    assert told(engineer).count() == 1
    notification = told(engineer).get()
    assert notification.kind == "mentioned"
    assert "mentioned you" in notification.subject


def test_a_name_mentioned_twice_tells_once(handover, scientist, engineer):
    services.add_comment(scientist, handover, body="@eli, and again @eli.")
    assert told(engineer).count() == 1


def test_outsider_mentioned_is_not_told(handover, scientist, outsider):
    comment = services.add_comment(scientist, handover, body="@otto what do you think?")
    assert not told(outsider).exists()
    assert comment.mentions.outsiders == [outsider]
    assert Comment.objects.filter(pk=comment.pk).exists()  # the comment itself stands
    assert AuditEvent.objects.get(verb="handover.commented").details["not_told"] == ["otto"]


def test_mention_of_no_one_refuses_the_comment_and_stores_nothing(handover, scientist, engineer):
    with pytest.raises(DomainError) as refused:
        services.add_comment(scientist, handover, body="@eli and @nobody, please look")
    assert refused.value.field == "body"
    assert "@nobody" in refused.value.message and "Nothing was posted" in refused.value.message
    assert not Comment.objects.exists()
    assert not AuditEvent.objects.filter(verb="handover.commented").exists()
    assert not Notification.objects.exists()


def test_mention_inside_code_is_not_a_mention(handover, scientist):
    services.add_comment(scientist, handover, body="Config keys look like `@nobody` here.")
    assert Comment.objects.count() == 1


def test_an_address_is_not_a_mention(handover, scientist, engineer):
    services.add_comment(scientist, handover, body="Write to eli@example.org")
    assert not told(engineer).exists()


def test_team_leader_is_a_member_by_access(handover, scientist, project):
    # No role on the project, but access lets the team's leader see it: they are told.
    services.add_comment(scientist, handover, body=f"@{project.team.leader.username} FYI")
    assert told(project.team.leader, "mentioned").count() == 1


def test_mention_in_a_change_request_is_told(draft, scientist, engineer, manager):
    handover, revision = draft
    awaiting_review(handover, revision)
    services.request_changes(engineer, revision, comment="@mona is this use allowed?")
    assert told(manager, "mentioned").count() == 1


def test_unknown_mention_in_an_acceptance_refuses_it(draft, engineer):
    handover, revision = draft
    awaiting_review(handover, revision)
    with pytest.raises(DomainError, match="@ghost"):
        services.accept_revision(engineer, revision, comment="Thanks @ghost")
    handover.refresh_from_db()
    assert handover.state == HandoverState.AWAITING_REVIEW
    assert not Review.objects.exists()


def test_mentioned_follower_gets_one_notification_of_the_mention(handover, scientist, engineer,
                                                                  other_engineer):
    services.follow(engineer, handover)
    services.follow(other_engineer, handover)
    services.add_comment(scientist, handover, body="@eli over to you")
    event = AuditEvent.objects.get(verb="handover.commented")
    assert list(Notification.objects.filter(event=event, recipient=engineer).values_list("kind", flat=True)) \
        == ["mentioned"]
    assert list(Notification.objects.filter(event=event, recipient=other_engineer)
                .values_list("kind", flat=True)) == ["commented"]


# --- pages ---------------------------------------------------------------------------------------


def page_messages(response):
    return [str(m) for m in get_messages(response.wsgi_request)]


def test_page_says_an_outsider_was_not_notified(client, handover, scientist, outsider):
    client.force_login(scientist)
    response = client.post(reverse("handovers:comment", args=[handover.pk]), {"body": "@otto have a look"},
                           follow=True)
    assert response.status_code == 200
    assert "@otto is not on this project and was not notified." in response.content.decode()
    assert not told(outsider).exists()


def test_page_refuses_a_mention_of_no_one_and_keeps_the_text(client, handover, scientist):
    client.force_login(scientist)
    response = client.post(reverse("handovers:comment", args=[handover.pk]),
                           {"body": "Ping @nobody about this"})
    assert response.status_code == 400
    body = response.content.decode()
    assert "No one here is called @nobody" in body
    assert "Ping @nobody about this" in body  # what was typed is kept in the field
    assert not Comment.objects.exists()


def test_page_refuses_a_change_request_mentioning_no_one(client, draft, engineer):
    handover, revision = draft
    awaiting_review(handover, revision)
    client.force_login(engineer)
    response = client.post(reverse("handovers:request_changes", args=[handover.pk]),
                           {"comment": "@nobody check the labels"})
    assert response.status_code == 400
    assert "No one here is called @nobody" in response.content.decode()
    assert not Review.objects.exists()


def test_mention_is_a_link_only_for_members(client, handover, scientist, engineer, outsider, project):
    services.add_comment(scientist, handover, body="@eli and @otto")
    client.force_login(scientist)
    body = client.get(handover.get_absolute_url()).content.decode()
    link = f'href="{reverse("handovers:list")}?project={project.slug}&amp;owner=eli"'
    assert link in body
    assert "owner=otto" not in body
    assert " and @otto</p>" in body  # plain text, not a link


def test_mention_markup_cannot_run(client, handover, scientist, engineer):
    services.add_comment(scientist, handover,
                         body='@eli<script>alert(1)</script> @<script>alert(2)</script> @eli"><b onclick=x>')
    client.force_login(scientist)
    body = client.get(handover.get_absolute_url()).content.decode()
    assert "<script>alert" not in body
    assert "onclick" not in body
    assert "owner=eli" in body


def test_review_comment_mention_is_a_link(client, draft, scientist, engineer, manager):
    handover, revision = draft
    awaiting_review(handover, revision)
    services.request_changes(engineer, revision, comment="@mona please confirm")
    client.force_login(engineer)
    body = client.get(handover.get_absolute_url()).content.decode()
    assert "owner=mona" in body


# --- API -----------------------------------------------------------------------------------------


def api(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_api_comment_says_who_was_not_notified(handover, scientist, engineer, outsider):
    response = api(scientist).post(f"{API}/handovers/{handover.pk}/comments/", {"body": "@eli @otto"},
                                   format="json")
    assert response.status_code == 201, response.content
    assert response.json()["mentioned"] == ["eli"]
    assert response.json()["not_notified"] == ["otto"]
    assert told(engineer).count() == 1 and not told(outsider).exists()


def test_api_mention_of_no_one_is_a_400_on_body(handover, scientist):
    response = api(scientist).post(f"{API}/handovers/{handover.pk}/comments/", {"body": "hi @nobody"},
                                   format="json")
    assert response.status_code == 400
    assert "@nobody" in str(response.json()["body"])
    assert not Comment.objects.exists()
