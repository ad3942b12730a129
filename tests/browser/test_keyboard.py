"""Everything a handover needs can be done with the keyboard alone, with focus visible."""

import hashlib
import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from handoff.handovers.models import Comment, HandoverState, Review, ReviewDecision
from handoff.teams.models import Role
from tests.factories import (
    HandoverFactory,
    ModelFactory,
    ProjectFactory,
    RevisionFactory,
    member,
    ready_draft,
)
from tests.plugins.browser import log_in

pytestmark = pytest.mark.browser


@pytest.fixture
def awaiting_review(transactional_db):
    project = ProjectFactory(name="Card fraud scoring", slug="card-fraud-scoring")
    scientist = member(project, Role.DATA_SCIENTIST, username="scientist")
    engineer = member(project, Role.ML_ENGINEER, username="engineer")
    handover, revision = ready_draft(project, scientist)
    revision.submitted_at = timezone.now()
    revision.submitted_by = scientist
    revision.save()
    handover.state = HandoverState.AWAITING_REVIEW
    handover.awaiting_review_since = timezone.now()
    handover.save()
    return handover, scientist, engineer


def intercept_file_choosers(page):
    """Have Playwright catch file choosers from now on (turning it on lazily races a quick key press)."""
    page.on("filechooser", lambda chooser: None)


def tab_to(page, locator, limit=80):
    """Press Tab until ``locator`` has focus (and fail if it never does)."""
    for _ in range(limit):
        if locator.evaluate("node => node === document.activeElement"):
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"Tab never reached {locator}")


def outline_of(locator):
    return locator.evaluate("node => getComputedStyle(node).outlineStyle")


def test_user_menu_opens_announces_closes_with_escape_and_logs_out(page, awaiting_review):
    log_in(page, "engineer")
    summary = page.locator("details.user-menu summary")
    expect(summary).to_have_attribute("aria-expanded", "false")

    tab_to(page, summary)
    assert outline_of(summary) != "none"  # focus is visible
    page.keyboard.press("Enter")
    expect(summary).to_have_attribute("aria-expanded", "true")
    expect(page.get_by_role("link", name="API token")).to_be_visible()

    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="API token")).to_be_focused()
    page.keyboard.press("Escape")
    expect(summary).to_have_attribute("aria-expanded", "false")
    expect(summary).to_be_focused()
    expect(page.get_by_role("link", name="API token")).to_be_hidden()

    # Open it again and log out without the mouse.
    page.keyboard.press("Space")
    expect(summary).to_have_attribute("aria-expanded", "true")
    log_out = page.get_by_role("button", name="Log out")
    tab_to(page, log_out)
    page.keyboard.press("Enter")
    expect(page.get_by_role("button", name="Log in")).to_be_visible()
    assert page.external_requests == []


def test_user_menu_closes_when_focus_leaves_it(page, awaiting_review):
    log_in(page, "engineer")
    summary = page.locator("details.user-menu summary")
    tab_to(page, summary)
    page.keyboard.press("Enter")
    tab_to(page, page.get_by_role("button", name="Log out"))
    page.keyboard.press("Tab")
    expect(summary).to_have_attribute("aria-expanded", "false")


def test_skip_link_moves_focus_to_the_content(page, awaiting_review):
    log_in(page, "engineer")
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to content")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("main")).to_be_focused()
    page.keyboard.press("Tab")
    # The next stop is inside the content, not the navigation.
    assert page.evaluate("document.querySelector('main').contains(document.activeElement)")


def test_engineer_comments_and_requests_changes_by_keyboard(page, awaiting_review):
    handover, scientist, engineer = awaiting_review
    log_in(page, "engineer")

    # Reach the handover through the review queue by keyboard.
    tab_to(page, page.get_by_role("link", name="Review queue"))
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Review queue")).to_be_visible()
    link = page.get_by_role("link", name=str(handover.model.name))
    tab_to(page, link)
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(rf"/handovers/{handover.pk}/$"))

    # A comment.
    tab_to(page, page.get_by_label("Comment", exact=True))
    page.keyboard.type("Looking at the labels now.")
    page.keyboard.press("Tab")
    add = page.get_by_role("button", name="Add comment")
    expect(add).to_be_focused()
    assert outline_of(add) != "none"
    page.keyboard.press("Enter")
    expect(page.locator(".messages").get_by_role("status")).to_contain_text("Comment added")
    expect(page.locator("#comments")).to_contain_text("Looking at the labels now.")
    assert Comment.objects.filter(handover=handover, author=engineer).count() == 1

    # Requesting changes without saying what: the error sits on the field, which gets focus.
    tab_to(page, page.get_by_role("button", name="Request changes"))
    page.keyboard.press("Enter")
    comment = page.get_by_label("Review comment")
    expect(comment).to_be_focused()
    expect(comment).to_have_attribute("aria-invalid", "true")
    expect(comment).to_have_accessible_description(re.compile("a comment is required"))
    assert not Review.objects.exists()

    # Say what, then request changes with the keyboard.
    page.keyboard.type("The labels file has duplicate ids.")
    tab_to(page, page.get_by_role("button", name="Request changes"))
    page.keyboard.press("Enter")
    expect(page.locator(".handover-state .badge")).to_have_text("Changes requested")
    review = Review.objects.get()
    assert review.decision == ReviewDecision.REQUEST_CHANGES and "duplicate ids" in review.comment
    assert page.external_requests == []


def test_the_upload_picker_opens_from_the_keyboard(page, awaiting_review, tmp_path):
    handover, scientist, engineer = awaiting_review
    draft = HandoverFactory(model=ModelFactory(project=handover.project, owner=scientist))
    RevisionFactory(handover=draft, number=1)
    intercept_file_choosers(page)
    log_in(page, "scientist")
    page.goto(draft.get_absolute_url())
    page.locator("html.js-upload").wait_for(state="attached")

    picker = page.locator("#upload-labels")
    tab_to(page, picker)
    assert outline_of(picker) != "none"
    path = tmp_path / "labels.csv"
    content = b"id,label\n1,0\n2,1\n"
    path.write_bytes(content)
    with page.expect_file_chooser() as chooser:
        page.keyboard.press("Space")
    chooser.value.set_files(str(path))
    expect(page.locator("#upload-labels-status")).to_contain_text(hashlib.sha256(content).hexdigest())
    expect(page.locator('#artifact-rows tr[data-kind="labels"]')).to_contain_text("labels.csv")
    expect(page.locator("form[data-kind=labels] [data-live]")).to_have_text("Stored labels.csv.")



def test_the_upload_button_opens_the_picker_from_the_keyboard(page, awaiting_review):
    handover, scientist, engineer = awaiting_review
    draft = HandoverFactory(model=ModelFactory(project=handover.project, owner=scientist))
    RevisionFactory(handover=draft, number=1)
    intercept_file_choosers(page)
    log_in(page, "scientist")
    page.goto(draft.get_absolute_url())
    page.locator("html.js-upload").wait_for(state="attached")

    tab_to(page, page.locator("#upload-model"))
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Upload model")).to_be_focused()
    with page.expect_file_chooser():
        page.keyboard.press("Enter")


def test_small_screen_menu_opens_by_keyboard(open_page, awaiting_review):
    page = open_page()
    page.set_viewport_size({"width": 390, "height": 800})
    log_in(page, "engineer")
    toggle = page.get_by_role("button", name="Menu")
    expect(toggle).to_have_attribute("aria-expanded", "false")
    expect(page.get_by_role("link", name="Review queue")).to_be_hidden()
    tab_to(page, toggle)
    page.keyboard.press("Enter")
    expect(toggle).to_have_attribute("aria-expanded", "true")
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Home")).to_be_focused()
    page.keyboard.press("Escape")
    expect(toggle).to_be_focused()
    expect(page.get_by_role("link", name="Review queue")).to_be_hidden()
