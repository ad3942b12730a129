"""The bell counts what is new without a reload; opening a notification marks it read and lands on
its handover."""

import re

import pytest
from playwright.sync_api import expect

from handoff.handovers import services as handover_services
from handoff.handovers.models import ClaimedMetric
from handoff.teams.models import Role
from tests.factories import ProjectFactory, member, ready_draft
from tests.plugins.browser import log_in

pytestmark = pytest.mark.browser


@pytest.fixture
def owner(transactional_db):
    project = ProjectFactory()
    scientist = member(project, Role.DATA_SCIENTIST, username="scientist")
    handover, revision = ready_draft(project, scientist)
    ClaimedMetric.objects.filter(revision=revision).update(claimed_value=0.970)  # validation will fail
    return scientist, handover, revision


def poll_seconds(bell):
    """The bell's polling interval, as its htmx trigger says (``every 15s``)."""
    found = re.search(r"every (\d+)s", bell.get_attribute("hx-trigger") or "")
    assert found, "the bell is not polled"
    return int(found[1])


def test_the_bell_count_rises_without_a_reload_and_opening_marks_read(page, owner):
    scientist, handover, revision = owner
    page.clock.install()  # the page's timers run as usual; fast_forward fires the next poll at once
    log_in(page, "scientist")
    page.goto("/handovers/")
    bell = page.locator("#notification-bell")
    expect(bell).to_have_attribute("data-unread", "0")  # loaded by htmx after the page
    expect(bell).to_have_accessible_name("Notifications")
    page.evaluate("window.sameDocument = true")

    # Validation of the false accuracy claim fails: its owner is told.
    handover_services.submit_revision(scientist, revision)
    assert scientist.notifications.filter(kind="validation_failed", read_at=None).count() == 1

    page.clock.fast_forward(poll_seconds(bell) * 1000 + 1000)
    expect(bell).to_have_attribute("data-unread", "1")
    expect(bell).to_have_accessible_name("Notifications, 1 unread")
    expect(page.get_by_role("status")).to_have_text("1 unread notification")
    assert page.evaluate("window.sameDocument") is True, "the page was reloaded"

    bell.click()
    page.wait_for_url("**/notifications/")
    item = page.get_by_role("button", name=re.compile("validation failed"))
    expect(item).to_contain_text("Unread:")
    item.focus()
    page.keyboard.press("Enter")  # a keyboard opens it as a click does
    page.wait_for_url(f"**{handover.get_absolute_url()}")
    expect(page.locator("#notification-bell")).to_have_attribute("data-unread", "0")
    assert scientist.notifications.get().read_at is not None
    assert page.external_requests == []
