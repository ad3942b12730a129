import re

import pytest
from playwright.sync_api import expect

from handoff.teams.demo import PEOPLE, seed_demo

pytestmark = pytest.mark.browser


@pytest.fixture
def demo(transactional_db):
    return seed_demo()


def test_scientist_logs_in_and_sees_the_project_and_its_members(page, login, demo):
    login(page, "scientist")

    expect(page.get_by_role("heading", name="Your projects")).to_be_visible()
    projects = page.get_by_role("table")
    expect(projects.get_by_role("link", name="Card fraud scoring")).to_be_visible()
    expect(projects.get_by_role("link", name="Chargeback forecasting")).to_be_visible()
    expect(projects).not_to_contain_text("Query ranking")

    projects.get_by_role("link", name="Card fraud scoring").click()
    expect(page).to_have_url(re.compile(r"/projects/card-fraud-scoring/$"))
    expect(page.get_by_role("heading", name="Card fraud scoring", level=1)).to_be_visible()
    members = page.get_by_role("table", name="Members")
    expect(members.get_by_role("row", name=re.compile("Priya Raman"))).to_contain_text("Data scientist")
    expect(members.get_by_role("row", name=re.compile("Tomás Ortega"))).to_contain_text("ML engineer")
    expect(members.get_by_role("row", name=re.compile("Grace Okafor"))).to_contain_text("Manager")
    # A data scientist sees the members but cannot change them.
    expect(page.get_by_role("button", name="Add member")).to_have_count(0)
    # The stylesheet and htmx came from this server.
    page.wait_for_load_state("load")
    assert page.evaluate("typeof window.htmx") == "object"
    assert page.external_requests == []


def test_outsider_does_not_see_the_project_and_its_url_is_404(page, login, demo, live_server):
    login(page, "outsider")

    expect(page.get_by_role("link", name="Query ranking")).to_be_visible()
    expect(page.get_by_role("main")).not_to_contain_text("Card fraud scoring")

    response = page.goto("/projects/card-fraud-scoring/")
    assert response.status == 404
    expect(page.get_by_role("heading", name="Page not found")).to_be_visible()
    expect(page.get_by_role("main")).not_to_contain_text("Card fraud scoring")
    assert page.goto("/teams/fraud-analytics/").status == 404
    assert page.external_requests == []


def test_wrong_password_shows_a_message(page, demo):
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill("scientist")
    page.get_by_label("Password").fill("not-the-password")
    page.get_by_role("button", name="Log in").click()

    expect(page.get_by_role("alert")).to_contain_text("Please enter a correct username and password")
    expect(page).to_have_url(re.compile(r"/accounts/login/$"))


def test_leader_adds_changes_and_removes_a_member(page, login, demo):
    login(page, "manager")
    page.goto("/projects/chargeback-forecasting/")

    page.get_by_label("Username").fill("engineer2")
    page.get_by_label("Role", exact=True).select_option(label="Data engineer")
    page.get_by_role("button", name="Add member").click()
    expect(page.locator(".messages").get_by_role("status")).to_contain_text(
        "Aiko Tanaka (engineer2) is now Data engineer")

    page.get_by_label("New role for engineer2").select_option(label="ML engineer")
    page.get_by_role("button", name="Change role of engineer2").click()
    expect(page.locator(".messages").get_by_role("status")).to_contain_text("Aiko Tanaka is now ML engineer")

    page.get_by_role("button", name="Remove engineer2").click()
    expect(page.locator(".messages").get_by_role("status")).to_contain_text("Aiko Tanaka was removed")
    expect(page.get_by_role("table", name="Members")).not_to_contain_text("engineer2")

    page.get_by_label("Username").fill("nobody")
    page.get_by_role("button", name="Add member").click()
    expect(page.get_by_role("alert")).to_contain_text("There is no user called “nobody”")
    assert page.external_requests == []


def test_every_demo_account_logs_in_and_out(page, login, demo):
    for username in PEOPLE:
        login(page, username)
        menu = page.locator("details.user-menu")
        expect(menu.locator("summary")).to_contain_text(username)
        menu.locator("summary").click()
        page.get_by_role("button", name="Log out").click()
        expect(page.get_by_role("button", name="Log in")).to_be_visible()
    assert page.external_requests == []


def test_keyboard_user_can_skip_to_content(page, login, demo):
    login(page, "scientist")
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to content")
    expect(skip).to_be_focused()
    expect(skip).to_be_in_viewport()
