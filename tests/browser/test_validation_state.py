"""While validation runs the handover page says so and updates by itself, then stops asking."""

import re
import time

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from handoff.handovers.models import HandoverState
from handoff.teams.models import Role
from tests.factories import ProjectFactory, member, ready_draft
from tests.plugins.browser import log_in, timeout_ms
from tests.timing import scaled

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


def poll_interval(state):
    """Seconds between two polls, as the page's htmx trigger says (``every 2s``)."""
    trigger = state.get_attribute("hx-trigger") or ""
    found = re.fullmatch(r"every (\d+(?:\.\d+)?)(ms|s)", trigger.strip())
    assert found, f"the state is not polled at a fixed interval: hx-trigger={trigger!r}"
    value, unit = float(found[1]), found[2]
    return value / 1000 if unit == "ms" else value


def is_poll(request):
    return "/state/" in request.url


def test_page_shows_validation_running_then_updates_and_stops_polling(page, validating):
    handover = validating
    polls = []  # (when it was seen, url)

    def note_poll(request):
        if is_poll(request):
            polls.append((time.monotonic(), request.url))

    page.on("request", note_poll)
    log_in(page, "scientist")
    page.goto(handover.get_absolute_url())

    state = page.locator("#handover-state")
    expect(state.get_by_role("status")).to_contain_text("Validation is running")
    expect(state.get_by_role("progressbar", name="Validation in progress")).to_be_visible()
    interval = poll_interval(state)
    # Playwright delivers page events only inside its own calls, so wait in one
    # for a poll to be answered (not a fixed time that may race the timer).
    page.wait_for_event("requestfinished", is_poll, timeout=timeout_ms(3 * interval + 10))
    assert polls, "the state partial is polled while validating"
    expect(state.get_by_role("status")).to_contain_text("Validation is running")

    # The worker finishes: the page reloads itself with the new state and its actions.
    handover.state = HandoverState.AWAITING_REVIEW
    handover.awaiting_review_since = timezone.now()
    handover.save()
    expect(page.locator(".handover-state .badge")).to_have_text(
        "Awaiting review", timeout=timeout_ms(3 * interval + 10))
    expect(page.get_by_role("progressbar", name="Validation in progress")).to_have_count(0)
    expect(page.locator("main [hx-trigger]")).to_have_count(0)  # the bell in the header polls on

    # Quiet for at least two intervals after the last poll (more on a slow
    # machine, where a timer may fire late): had polling gone on, one would show.
    seen = len(polls)
    last_poll = polls[-1][0]
    quiet = max(scaled(2 * interval), 2 * interval) + 0.5
    page.wait_for_timeout(max(0.0, last_poll + quiet - time.monotonic()) * 1000)
    assert len(polls) == seen, f"polling stops once validation is over; polled again: {polls[seen:]}"
    assert page.external_requests == []
