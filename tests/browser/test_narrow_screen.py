"""On a 390 px phone the handover page fits the screen: wide tables scroll inside their own box."""

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from handoff.handovers.models import ArtifactKind, HandoverState, Metric, ReviewDecision
from handoff.teams.models import Role
from handoff.validation.models import CheckStatus, RunState
from tests.factories import (
    ArtifactFactory,
    CheckResultFactory,
    ClaimedMetricFactory,
    HandoverFactory,
    ModelFactory,
    ProjectFactory,
    ReviewFactory,
    RevisionFactory,
    ValidationRunFactory,
    member,
)
from tests.plugins.browser import log_in

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
# Long words that cannot wrap: what a real report carries (check keys, slice
# columns, file names, hashes, big figures with units).
LONG_KEY = "fairness.gap.customer_segment_enterprise_premium_north_america"[:64]
LONG_NAME = "predictions_holdout_march_2025_customer_segment_enterprise_premium.parquet"
LONG_URL = ("https://dashboards.example.org/fraud/holdout/2025-03/customer_segment_enterprise_premium_north_america"
            "/roc_curve_by_slice")


@pytest.fixture
def failed_with_long_values(transactional_db):
    """A handover whose validation failed, with a report, terms, claims and files of long values."""
    project = ProjectFactory(name="Card fraud scoring", slug="card-fraud-scoring")
    scientist = member(project, Role.DATA_SCIENTIST, username="scientist")
    handover = HandoverFactory(model=ModelFactory(project=project, owner=scientist, name="fraud-gbm"),
                               state=HandoverState.VALIDATION_FAILED)
    revision = RevisionFactory(
        handover=handover, number=1, submitted_at=timezone.now(), submitted_by=scientist,
        framework_version="2.3.1+cu121.post20250301.dev7", parameter_count=123456789012345,
        fairness_slice_column="customer_segment_enterprise_premium_north_america",
        validation_description="s3://evaluation-sets/fraud/holdout_2025_03_customer_segment_enterprise.parquet",
    )
    for metric in (Metric.ACCURACY, Metric.ROC_AUC, Metric.LOG_LOSS):
        ClaimedMetricFactory(revision=revision, metric=metric, claimed_value=0.123456789012345,
                             minimum=0.000000123456789, maximum=0.987654321098765)
    for kind in (ArtifactKind.MODEL, ArtifactKind.PREDICTIONS, ArtifactKind.LABELS):
        ArtifactFactory(revision=revision, kind=kind, original_name=f"{kind}_{LONG_NAME}")
    run = ValidationRunFactory(revision=revision, number=1, state=RunState.FAILED,
                               finished_at=timezone.now(), seconds=12.5)
    for position, status in enumerate((CheckStatus.FAIL, CheckStatus.ERROR, CheckStatus.PASS)):
        CheckResultFactory(
            run=run, position=position, status=status, key=f"{position}{LONG_KEY}"[:64],
            claimed=123456789012.1234, measured=987654321098.5678, tolerance=0.0051234,
            limit=555555555555.5555, unit="megabytes/second",
            message=f"{LONG_KEY} measured on predictions_holdout_march_2025_enterprise: over the limit",
        )
    return handover


def on_a_phone(open_page, handover):
    page = open_page()
    page.set_viewport_size(PHONE)
    log_in(page, "scientist")
    page.goto(handover.get_absolute_url())
    return page


def page_width(page):
    return page.evaluate("document.documentElement.scrollWidth")


def test_handover_page_fits_a_phone_and_its_tables_scroll_in_their_box(open_page, failed_with_long_values):
    page = on_a_phone(open_page, failed_with_long_values)
    expect(page.locator("table.report")).to_be_visible()
    width = page_width(page)
    assert width <= PHONE["width"], f"the page is {width} px wide on a {PHONE['width']} px screen"

    # The report is wider than the screen and scrolls inside its own box, which
    # a keyboard user can reach (focusable) and a screen reader names.
    box = page.get_by_role("region", name="Validation report", exact=True)
    expect(box).to_have_attribute("tabindex", "0")
    widths = box.evaluate("node => [node.scrollWidth, node.clientWidth]")
    assert widths[0] > widths[1], f"the report's box does not scroll: {widths}"
    box.focus()
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    expect(box).not_to_have_js_property("scrollLeft", 0)
    for name in ("Terms", "Claimed metrics", "Artifacts of revision 1", "Revisions"):
        expect(page.get_by_role("region", name=name, exact=True)).to_have_attribute("tabindex", "0")
    assert page.external_requests == []


def test_a_change_request_with_a_long_link_fits_a_phone(open_page, failed_with_long_values):
    """The owner's page after a change request: the comment at the top and in the discussion wraps."""
    handover = failed_with_long_values
    revision = handover.revisions.get()
    ReviewFactory(revision=revision, decision=ReviewDecision.REQUEST_CHANGES,
                  comment=f"The ROC AUC does not hold on enterprise customers: see {LONG_URL}")
    handover.state = HandoverState.CHANGES_REQUESTED
    handover.save()

    page = on_a_phone(open_page, handover)
    expect(page.get_by_role("region", name="Changes requested on revision 1")).to_contain_text(LONG_URL)
    width = page_width(page)
    assert width <= PHONE["width"], f"the page is {width} px wide on a {PHONE['width']} px screen"
