"""The Django admin in Chromium under the Content-Security-Policy: its pages,
widgets (autocomplete, prepopulated slug, inline rows, raw-id lookups, the
theme toggle) and read-only records work with no violation (the browser
plugin fails the test on one), so the admin needs no relaxation of the policy."""

import re

import pytest
from playwright.sync_api import expect

from handoff.teams.models import Project, Role
from tests.factories import ProjectFactory, TeamFactory, UserFactory, accepted_handover, member

pytestmark = pytest.mark.browser


@pytest.fixture
def records(transactional_db):
    UserFactory(username="root", is_staff=True, is_superuser=True)
    team = TeamFactory(name="Fraud Analytics", slug="fraud-analytics")
    project = ProjectFactory(team=team, name="Card fraud scoring", slug="card-fraud-scoring")
    handover, _ = accepted_handover(project=project)
    engineer = member(project, Role.ML_ENGINEER, username="engineer", first_name="Ena")
    return team, handover, engineer


def test_a_superuser_works_in_the_admin_without_a_policy_violation(page, records):
    team, handover, engineer = records
    page.goto("/admin/")
    page.get_by_label("Username").fill("root")
    page.get_by_label("Password").fill("handoff-demo")
    page.get_by_role("button", name="Log in").click()
    expect(page.locator("#site-name")).to_be_visible()

    # A project added with its slug filled from the name and a member chosen by autocomplete.
    page.goto("/admin/teams/project/add/")
    page.get_by_label("Name:").press_sequentially("Chargeback forecasting")  # keyup fills the slug
    expect(page.get_by_label("Slug:")).to_have_value("chargeback-forecasting")
    page.get_by_label("Team:").select_option(label=team.name)
    rows = page.locator("#role_assignments-group tbody tr.form-row:not(.empty-form)")
    row = rows.first
    row.locator(".select2-selection").click()
    page.locator(".select2-search__field").fill("engineer")
    page.get_by_role("option", name=re.compile("Ena")).click()
    row.locator("select[name$='-role']").select_option(Role.ML_ENGINEER.value)
    page.get_by_role("button", name="Add another Role assignment").click()
    expect(rows).to_have_count(2)
    page.locator("input[name='_save']").click()
    expect(page.locator(".messagelist")).to_contain_text("was added successfully")
    assert Project.objects.get(slug="chargeback-forecasting").role_assignments.filter(user=engineer).exists()

    # A list with filters and search, a read-only record with inlines, a raw-id lookup, the theme toggle.
    page.goto("/admin/handovers/handover/?state__exact=accepted")
    expect(page.locator("#result_list tbody tr")).to_have_count(1)
    page.goto(f"/admin/handovers/handover/{handover.pk}/change/")
    expect(page.locator("#revisions-group")).to_be_visible()
    page.goto("/admin/handovers/comment/add/")
    with page.expect_popup() as popup:
        page.locator("#lookup_id_author").click()
    lookup = popup.value
    lookup.wait_for_load_state()  # its links answer the opener only once the admin's scripts ran
    lookup.get_by_role("link", name="engineer", exact=True).click()
    expect(page.locator("#id_author")).to_have_value(str(engineer.pk))
    page.locator("button.theme-toggle").first.click()
    page.goto("/admin/audit/auditevent/")
    expect(page.locator("#changelist")).to_be_visible()
    assert page.external_requests == []
