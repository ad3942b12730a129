"""A breach triaged in Chromium by the engineer, and its fix filed by the
model's data scientist: the queue's buttons work in place (no reload), the
incident page resolves it, and the owner files the next version from it."""

import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from handoff.deployments.models import Deployment, Environment
from handoff.incidents import breaches
from handoff.incidents.models import Incident, IncidentStatus
from handoff.teams.models import Role
from tests.factories import ProjectFactory, member, signed_handover
from tests.incidents.conftest import stored_batch
from tests.plugins.browser import log_in

pytestmark = pytest.mark.browser


@pytest.fixture
def breach(transactional_db):
    """A deployment whose accuracy fell under the contract's 0.95, evaluated as the worker would."""
    project = ProjectFactory(name="Card fraud scoring", slug="card-fraud-scoring")
    scientist = member(project, Role.DATA_SCIENTIST, username="scientist")
    engineer = member(project, Role.ML_ENGINEER, username="engineer")
    handover, revision = signed_handover(project, scientist, engineer, minimum=0.95)
    deployment = Deployment.objects.create(project=project, handover=handover, revision=revision,
                                           environment=Environment.PRODUCTION, traffic_share=100,
                                           deployed_at=timezone.now(), deployed_by=engineer)
    breaches.evaluate_batch(stored_batch(deployment, 0.97, 0.96, 0.91, 0.90).pk)
    return Incident.objects.get(deployment=deployment), handover, scientist, engineer


def press(locator):
    """Activate a control from the keyboard, as a keyboard user would."""
    locator.focus()
    locator.press("Enter")


def test_a_breach_is_triaged_resolved_and_its_fix_filed(page, open_page, breach):
    incident, handover, scientist, engineer = breach

    # The engineer finds it at the top of the queue and works it without leaving the page.
    log_in(page, "engineer")
    page.get_by_role("link", name="Incidents", exact=True).click()
    first = page.locator("#triage-list tbody tr").first
    expect(first).to_have_attribute("id", f"incident-{incident.pk}")
    page.evaluate("window.stillThisPage = true")
    press(first.get_by_role("button", name=re.compile("^Acknowledge")))
    expect(first).to_contain_text("Acknowledged")
    press(first.get_by_role("button", name=re.compile("^Assign to me")))
    expect(first).to_contain_text(engineer.display_name)
    press(first.get_by_role("button", name=re.compile("^Start investigating")))
    expect(first).to_contain_text("Investigating")
    press(first.get_by_role("button", name=re.compile("^Mark mitigated")))
    expect(first).to_contain_text("Mitigated")
    assert page.evaluate("window.stillThisPage") is True  # no full reload

    # Resolving asks for a root cause: on the incident page.
    press(first.get_by_role("link", name=re.compile("^Resolve")))
    expect(page).to_have_url(re.compile(rf"/incidents/{incident.pk}/#resolve$"))
    expect(page.locator("#latest-observed")).to_have_text("0.9")
    expect(page.locator(".metric-chart svg")).to_be_visible()
    page.get_by_label("Root cause").select_option("data_drift")
    page.get_by_label("What was done").fill("Rolled back to the previous model; retraining on fresh data.")
    press(page.get_by_role("button", name="Resolve incident"))
    expect(page.locator("#incident-status")).to_have_text("Resolved")

    # The data scientist sees it on the handover page and in notifications, and files the fix.
    second = open_page()
    log_in(second, "scientist")
    second.goto(handover.get_absolute_url())
    section = second.locator("#incidents")
    expect(section).to_contain_text(incident.title)
    second.goto("/notifications/")
    expect(second.locator(".notification-list")).to_contain_text(incident.title)
    second.goto(handover.get_absolute_url())
    press(section.get_by_role("link", name=re.compile(incident.title)))
    second.get_by_label("Version label").fill("2.0.0")
    press(second.get_by_role("button", name=re.compile("^File the fix as version")))
    expect(second).to_have_url(re.compile(r"/handovers/\d+/edit/$"))
    second.goto(incident.get_absolute_url())
    expect(second.locator("#fix-handover")).to_contain_text("2.0.0")

    incident.refresh_from_db()
    assert incident.status == IncidentStatus.RESOLVED and incident.assignee == engineer
    assert incident.fix_handover.version_label == "2.0.0"
    assert page.external_requests == [] and second.external_requests == []


POLLS = """() => {
  window.polls = [];
  document.addEventListener("htmx:beforeRequest", function (event) {
    if (event.detail.elt.id === "triage-list") { window.polls.push(event.defaultPrevented); }
  });
  var list = document.getElementById("triage-list");
  list.dataset.marker = "first";
  list.setAttribute("hx-trigger", "every 200ms");
  htmx.process(list);
}"""


def test_the_queue_is_not_polled_away_from_under_the_keyboard(page, breach):
    # The list polls (every 10 s; 200 ms here) but skips its turn while focus is inside it.
    log_in(page, "engineer")
    page.goto("/incidents/")
    page.locator("#triage-list").get_by_role("button", name=re.compile("^Acknowledge")).focus()
    page.evaluate(POLLS)
    page.wait_for_function("() => window.polls.length >= 3 || !document.querySelector('[data-marker]')")
    assert all(page.evaluate("window.polls")), "a poll went ahead while focus was in the list"
    expect(page.locator("#triage-list")).to_have_attribute("data-marker", "first")

    # Focus leaves: the next poll replaces the list.
    page.get_by_role("link", name="Handoff").focus()
    expect(page.locator("#triage-list")).not_to_have_attribute("data-marker", "first")
    assert False in page.evaluate("window.polls")
