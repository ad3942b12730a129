"""The team dashboard in Chromium: the leader changes the period and the project,
and the figures and the charts follow; a screenshot of it is saved for people to look at."""

import os
import re
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone
from playwright.sync_api import expect

from handoff.handovers.models import Review, Revision
from handoff.incidents.models import Severity
from handoff.teams.models import Role
from handoff.validation.models import CheckStatus, RunState, ValidationRun
from tests.factories import (
    CheckResultFactory,
    DeploymentFactory,
    IncidentFactory,
    ProjectFactory,
    TeamFactory,
    UserFactory,
    ValidationRunFactory,
    accepted_handover,
    member,
)
from tests.plugins.browser import log_in

pytestmark = pytest.mark.browser

SCREENSHOTS = Path(os.environ.get("HANDOFF_SCREENSHOTS", settings.BASE_DIR / "screenshots"))


def accepted(project, *, days_ago, hours):
    """A handover of ``project`` accepted ``days_ago`` days ago, ``hours`` after it was submitted."""
    handover, revision = accepted_handover(project=project)
    at = timezone.now() - timedelta(days=days_ago)
    Review.objects.filter(revision=revision).update(created_at=at)
    Revision.objects.filter(pk=revision.pk).update(submitted_at=at - timedelta(hours=hours))
    return handover


@pytest.fixture
def team(transactional_db):
    manager = UserFactory(username="manager")
    fraud = TeamFactory(name="Fraud Analytics", slug="fraud-analytics", leader=manager)
    cards = ProjectFactory(team=fraud, name="Card fraud scoring", slug="card-fraud-scoring")
    chargebacks = ProjectFactory(team=fraud, name="Chargeback forecasting", slug="chargeback-forecasting")
    first = [accepted(cards, days_ago=days_ago, hours=hours)
             for days_ago, hours in ((1, 2), (3, 4), (10, 6), (60, 48), (75, 30))]
    # Cards' first validation runs: one failed its accuracy check, one passed (the first-pass rate
    # and the failures by check, each drawn with a small bar).
    for handover, state in ((first[0], RunState.FAILED), (first[1], RunState.PASSED)):
        run = ValidationRunFactory(revision=handover.revisions.get(number=1), number=1, state=state)
        ValidationRun.objects.filter(pk=run.pk).update(finished_at=timezone.now() - timedelta(days=1))
        if state == RunState.FAILED:
            CheckResultFactory(run=run, key="metric.accuracy", status=CheckStatus.FAIL)
    live = accepted(chargebacks, days_ago=2, hours=10)
    DeploymentFactory(handover=live, monthly_value=Decimal("12000"), monthly_cost=Decimal("1500"))
    IncidentFactory(project=cards, severity=Severity.SEV2, assignee=member(cards, Role.ML_ENGINEER))
    return fraud


def figure(page, name):
    return page.locator(f'[data-figure="{name}"]')


def test_the_leader_changes_period_and_project_and_the_figures_and_charts_follow(page, team):
    log_in(page, "manager")
    page.goto("/teams/fraud-analytics/dashboard/")

    # Last 90 days: six accepted (five on cards, one on chargebacks), one open SEV2, one model deployed.
    expect(figure(page, "accepted")).to_have_text("6")
    expect(figure(page, "open-incidents")).to_contain_text("SEV2 1")
    expect(figure(page, "deployed")).to_have_text("1")
    expect(figure(page, "value")).to_contain_text("12,000 EUR")
    bars = page.locator("#chart-accepted rect.bar")
    weeks_in_90_days = bars.count()
    assert weeks_in_90_days >= 13
    expect(page.locator("#chart-lead-time svg")).to_be_visible()
    expect(page.locator('[data-table="projects"] tbody tr')).to_have_count(2)
    # The small bars: cards' first pass 50 %, the one failing check the longest (100 %).
    cards_bar = page.locator('tr[data-project="card-fraud-scoring"] .minibar-fill')
    expect(cards_bar).to_have_attribute("width", "50%")
    expect(page.locator('[data-table="failures"] .minibar-fill')).to_have_attribute("width", "100%")
    fill = page.locator('[data-table="failures"] .minibar-fill').bounding_box()
    track = page.locator('[data-table="failures"] .minibar-track').bounding_box()
    assert fill["width"] == track["width"] > 0
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    shot = SCREENSHOTS / "dashboard.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 10_000

    # The last 30 days: the two older acceptances drop out, and the charts cover five or six weeks.
    page.get_by_label("Period", exact=True).select_option("30")
    page.get_by_role("button", name="Show").click()
    expect(page).to_have_url(re.compile(r"/dashboard/\?period=30"))
    expect(figure(page, "accepted")).to_have_text("4")
    expect(page.get_by_label("Period", exact=True)).to_have_value("30")
    assert bars.count() < weeks_in_90_days and bars.count() in (5, 6)

    # One project: chargebacks alone.
    page.get_by_label("Project", exact=True).select_option("chargeback-forecasting")
    page.get_by_role("button", name="Show").click()
    expect(figure(page, "accepted")).to_have_text("1")
    expect(figure(page, "lead-time")).to_contain_text("10.0 h")
    expect(figure(page, "open-incidents")).to_contain_text("0")
    expect(page.locator('[data-table="projects"] tbody tr')).to_have_count(1)
    expect(page.locator("#chart-incidents")).to_contain_text("No incident was opened in this period.")
    # Every chart's numbers are there as a table too.
    page.locator("#chart-accepted summary").click()
    expect(page.locator("#chart-accepted table tbody tr").first).to_be_visible()
    page.screenshot(path=str(SCREENSHOTS / "dashboard-one-project.png"), full_page=True)
