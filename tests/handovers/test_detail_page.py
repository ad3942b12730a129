"""The handover page opens with what its viewer needs: for the owner, the change request;
on an older revision, a banner pointing at the current one."""

import re
from datetime import datetime, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from handoff.handovers.models import HandoverState, ReviewDecision
from handoff.teams.models import Role, RoleAssignment
from tests.factories import ReviewFactory, RevisionFactory, member

S = HandoverState
BLOCK = 'id="change-request"'
BANNER = 'id="older-revision"'


@pytest.fixture
def as_user(client):
    def log_in(user):
        client.force_login(user)
        return client

    return log_in


def submitted(revision, when=None):
    revision.submitted_at = when or timezone.now()
    revision.submitted_by = revision.handover.owner
    revision.save()
    return revision


def request_changes(handover, revision, reviewer, comment, *, when=None):
    """Revision ``revision`` reviewed with a change request, the handover waiting on it."""
    submitted(revision)
    review = ReviewFactory(revision=revision, reviewer=reviewer, comment=comment,
                           decision=ReviewDecision.REQUEST_CHANGES)
    if when is not None:
        type(review).objects.filter(pk=review.pk).update(created_at=when)
    handover.state = S.CHANGES_REQUESTED
    handover.reviewer = reviewer
    handover.save()
    return review


def page(client, handover, query=""):
    response = client.get(handover.get_absolute_url() + query)
    assert response.status_code == 200
    return response.content.decode()


def block_of(body):
    """The change-request block's HTML (it fails the test when there is none)."""
    found = re.search(r'<section class="card change-request".*?</section>', body, re.S)
    assert found, "no change-request block on the page"
    return found.group(0)


# --- the owner after a change request --------------------------------------------------------


def test_owner_reads_the_change_request_first_with_the_next_step(as_user, draft, scientist, engineer):
    handover, revision = draft
    request_changes(handover, revision, engineer, "Add the **fairness** slice.<script>alert(1)</script>")
    body = page(as_user(scientist), handover)

    block = block_of(body)
    # First on the page under its title: before the summary, the report and the terms.
    assert body.index(BLOCK) < body.index('id="facts-heading"') < body.index('>Terms</caption>')
    assert "Changes requested on revision 1" in block
    assert f"<strong>{engineer.display_name}</strong> asked for changes on" in block
    assert "Add the <strong>fairness</strong> slice." in block  # Markdown, rendered
    assert "<script>" not in block  # and sanitised, as everywhere reviews are shown
    assert f'action="{reverse("handovers:revise", args=[handover.pk])}"' in block
    assert "Start revision 2" in block
    # The next step is offered once, with the comment, not again in the actions card.
    assert body.count("Start revision 2</button>") == 1
    # The review also stays in the discussion, as before.
    assert body.count("Add the <strong>fairness</strong> slice.") == 2


def test_the_block_shows_the_change_request_of_the_current_revision(as_user, draft, scientist, engineer,
                                                                           other_engineer):
    handover, first = draft
    request_changes(handover, first, engineer, "Comment on revision one.")
    second = RevisionFactory(handover=handover, number=2)
    # Dated before the review of revision 1: the current revision's review is chosen, not the newest.
    request_changes(handover, second, other_engineer, "The request on two.",
                    when=timezone.now() - timedelta(hours=2))

    block = block_of(page(as_user(scientist), handover))
    assert "The request on two." in block and other_engineer.display_name in block
    assert "Comment on revision one." not in block
    assert "Changes requested on revision 2" in block and "Start revision 3" in block


def test_owner_who_may_not_revise_reads_the_request_without_the_button(as_user, draft, scientist,
                                                                       engineer):
    handover, revision = draft
    request_changes(handover, revision, engineer, "Add the fairness slice.")
    RoleAssignment.objects.filter(user=scientist, project=handover.project).update(role=Role.MANAGER)

    body = page(as_user(scientist), handover)
    block = block_of(body)
    assert "Add the fairness slice." in block
    assert "Start revision" not in body
    assert reverse("handovers:revise", args=[handover.pk]) not in body


def test_other_viewers_read_the_request_in_the_discussion_only(as_user, draft, project, scientist, engineer,
                                                               manager):
    handover, revision = draft
    request_changes(handover, revision, engineer, "Add the fairness slice.")
    colleague = member(project, Role.DATA_SCIENTIST, username="carla")  # may revise, but is not the owner
    assert "Add the fairness slice." in block_of(page(as_user(scientist), handover))  # the owner's page

    for viewer in (engineer, manager, colleague):
        body = page(as_user(viewer), handover)
        assert BLOCK not in body, f"{viewer} is not the owner"
        assert body.count("Add the fairness slice.") == 1  # in the discussion
        assert body.index('id="reviews-heading"') < body.index("Add the fairness slice.")
    assert "Start revision 2" in page(as_user(colleague), handover)  # still in the actions card


def test_no_block_once_the_owner_has_started_the_next_revision(as_user, draft, scientist, engineer):
    handover, revision = draft
    request_changes(handover, revision, engineer, "Add the fairness slice.")
    client = as_user(scientist)
    assert "Add the fairness slice." in block_of(page(client, handover))
    assert client.post(reverse("handovers:revise", args=[handover.pk])).status_code == 302

    body = page(client, handover)
    assert BLOCK not in body
    assert "Submit revision 2" in body


# --- an older revision -------------------------------------------------------------------------


@pytest.fixture
def three_revisions(draft):
    """A handover at revision 3 (a draft), revisions 1 and 2 submitted on known dates."""
    handover, first = draft
    submitted(first, timezone.make_aware(datetime(2025, 3, 4, 9, 30)))
    second = RevisionFactory(handover=handover, number=2)
    submitted(second, timezone.make_aware(datetime(2025, 3, 9, 16, 5)))
    RevisionFactory(handover=handover, number=3)
    return handover


def banner_of(body):
    found = re.search(r'<div class="revision-banner".*?</div>', body, re.S)
    assert found, "no banner on the page"
    return " ".join(found.group(0).split())


def test_an_older_revision_says_so_at_the_top_and_links_to_the_current_one(as_user, three_revisions,
                                                                            engineer):
    handover = three_revisions
    body = page(as_user(engineer), handover, "?revision=2")

    banner = banner_of(body)
    assert 'role="status"' in banner
    assert "You are looking at revision 2 of 3 (submitted" in banner
    assert ">9 Mar 2025 16:05</time>). The current revision is 3." in banner
    assert f'<a href="{handover.get_absolute_url()}">Show revision 3</a>' in banner
    assert body.index(BANNER) < body.index('id="facts-heading"')
    assert "Contract of revision 2" in body

    assert "You are looking at revision 1 of 3 (submitted" in banner_of(page(as_user(engineer), handover,
                                                                             "?revision=1"))


@pytest.mark.parametrize("query", ["", "?revision=3"])
def test_the_current_revision_has_no_banner(as_user, three_revisions, engineer, query):
    client = as_user(engineer)
    assert "revision 2 of 3" in banner_of(page(client, three_revisions, "?revision=2"))  # an older one has
    body = page(client, three_revisions, query)
    assert BANNER not in body and "You are looking at revision" not in body
    assert "Contract of revision 3" in body


@pytest.mark.parametrize("query", ["?revision=99", "?revision=0", "?revision=two", "?revision="])
def test_an_unknown_revision_number_shows_the_current_revision_without_a_banner(as_user, three_revisions,
                                                                                engineer, query):
    client = as_user(engineer)
    assert "revision 1 of 3" in banner_of(page(client, three_revisions, "?revision=1"))  # a known one has
    body = page(client, three_revisions, query)
    assert BANNER not in body
    assert "Contract of revision 3" in body


def test_owner_on_an_older_revision_gets_the_banner_then_the_change_request(as_user, draft, scientist,
                                                                             engineer):
    handover, first = draft
    submitted(first)
    second = RevisionFactory(handover=handover, number=2)
    request_changes(handover, second, engineer, "Add the fairness slice.")

    body = page(as_user(scientist), handover, "?revision=1")
    assert body.index(BANNER) < body.index(BLOCK) < body.index('id="facts-heading"')
    assert "Changes requested on revision 2" in block_of(body)
