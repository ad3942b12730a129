"""While validation runs the handover page says so and updates by itself, then stops asking."""

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from handoff.handovers.models import HandoverState
from handoff.teams.models import Role
from tests.factories import ProjectFactory, member, ready_draft
from tests.plugins.browser import log_in

pytestmark = pytest.mark.browser


@pytest.fixture
def validating(transactional_db):
    project = ProjectFactory()
    scientist = member(project, Role.DATA_SCIENTIST, username="scientist")
    handover, revision = ready_draft(project, scientist)
    revision.submitted_at = timezone.now()
    revision.submitted_by = scientist
    revision.save()
    handover.state = HandoverState.VALIDATING
    handover.save()
    return handover


def test_page_shows_validation_running_then_updates_and_stops_polling(page, validating):
    handover = validating
    polls = []
    page.on("request", lambda request: polls.append(request.url) if "/state/" in request.url else None)
    log_in(page, "scientist")
    page.goto(handover.get_absolute_url())

    state = page.locator("#handover-state")
    expect(state.get_by_role("status")).to_contain_text("Validation is running")
    expect(state.get_by_role("progressbar", name="Validation in progress")).to_be_visible()
    page.wait_for_timeout(2500)
    assert polls, "the state partial is polled while validating"
    expect(state.get_by_role("status")).to_contain_text("Validation is running")

    # The worker finishes: the page reloads itself with the new state and its actions.
    handover.state = HandoverState.AWAITING_REVIEW
    handover.awaiting_review_since = timezone.now()
    handover.save()
    expect(page.locator(".handover-state .badge")).to_have_text("Awaiting review", timeout=10_000)
    expect(page.get_by_role("progressbar", name="Validation in progress")).to_have_count(0)
    expect(page.locator("[hx-trigger]")).to_have_count(0)

    seen = len(polls)
    page.wait_for_timeout(4500)
    assert len(polls) == seen, "polling stops once validation is over"
    assert page.external_requests == []
