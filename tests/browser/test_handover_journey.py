"""A handover filed, reviewed, revised and accepted in Chromium, by two people."""

import hashlib
import re

import pytest
from playwright.sync_api import expect

from handoff.handovers.models import ArtifactKind, Handover, HandoverState
from handoff.teams.models import Role
from tests.factories import ProjectFactory, evidence, member
from tests.plugins.browser import log_in

pytestmark = pytest.mark.browser

# The real evidence: an ONNX logistic regression, its predictions, the labels
# (accuracy 0.959 and ROC AUC 0.995 on 171 rows); revision 2 re-exports the
# same predictions in another order.
MODEL_BYTES = evidence(ArtifactKind.MODEL)[1]
PREDICTIONS_V1 = evidence(ArtifactKind.PREDICTIONS)[1]
_header, *_rows = PREDICTIONS_V1.splitlines(keepends=True)
PREDICTIONS_V2 = _header + b"".join(sorted(_rows))
LABELS = evidence(ArtifactKind.LABELS)[1]


def sha(content):
    return hashlib.sha256(content).hexdigest()


@pytest.fixture
def people(transactional_db):
    project = ProjectFactory(name="Card fraud scoring", slug="card-fraud-scoring")
    scientist = member(project, Role.DATA_SCIENTIST, username="scientist")
    engineer = member(project, Role.ML_ENGINEER, username="engineer")
    return project, scientist, engineer


@pytest.fixture
def second_page(open_page):
    """Another person's browser, guarded like ``page``."""
    return open_page()


@pytest.fixture
def files(tmp_path):
    paths = {}
    for name, content in (("model.onnx", MODEL_BYTES), ("predictions.csv", PREDICTIONS_V1),
                          ("predictions-v2.csv", PREDICTIONS_V2), ("labels.csv", LABELS)):
        path = tmp_path / name
        path.write_bytes(content)
        paths[name] = path
    return paths


def upload(page, kind, path, content):
    page.locator("html.js-upload").wait_for(state="attached")  # upload.js is listening
    page.locator(f"#upload-{kind}").set_input_files(str(path))
    digest = sha(content)
    expect(page.locator(f"#upload-{kind}-status")).to_contain_text(digest)
    expect(page.locator(f'#artifact-rows tr[data-kind="{kind}"]')).to_contain_text(digest)


def test_a_handover_is_filed_reviewed_revised_and_accepted(page, second_page, people, files):
    project, scientist, engineer = people

    # The data scientist files revision 1 as a draft.
    log_in(page, "scientist")
    page.get_by_role("link", name="New handover").first.click()
    page.get_by_label("Project", exact=True).select_option(label=project.name)
    page.get_by_label("or a new model named").fill("fraud-gbm")
    page.get_by_label("Version label").fill("1.4.0")
    page.get_by_label("Task type").select_option("binary_classification")
    page.get_by_label("Framework", exact=True).select_option("scikit-learn")
    page.get_by_label("Framework version").fill("1.5.2")
    page.get_by_label("Metric 1", exact=True).select_option("accuracy")
    page.get_by_label("Claimed value 1", exact=True).fill("0.959")
    page.get_by_label("Minimum 1", exact=True).fill("0.88")
    page.get_by_label("Metric 2", exact=True).select_option("roc_auc")
    page.get_by_label("Claimed value 2", exact=True).fill("0.995")
    page.get_by_label("p95 latency budget (ms)").fill("25")
    page.get_by_label("Peak inference memory budget (MB)").fill("300")
    page.get_by_label("Parameter count", exact=True).fill("31")
    page.get_by_label("Validation set row count").fill("171")
    page.get_by_label("Intended use").fill("Scoring **card transactions** for fraud review.")
    page.get_by_role("button", name="Save as draft").click()

    expect(page).to_have_url(re.compile(r"/handovers/\d+/$"))
    handover = Handover.objects.get(model__name="fraud-gbm")
    expect(page.locator(".handover-state .badge")).to_have_text("Draft")
    expect(page.locator(".prose strong")).to_have_text("card transactions")

    upload(page, "model", files["model.onnx"], MODEL_BYTES)
    upload(page, "predictions", files["predictions.csv"], PREDICTIONS_V1)
    upload(page, "labels", files["labels.csv"], LABELS)
    page.get_by_role("button", name="Submit revision 1").click()
    # Validation runs eagerly in tests, so the page comes back awaiting review.
    expect(page.locator(".handover-state .badge")).to_have_text("Awaiting review")
    expect(page.get_by_role("button", name="Submit revision 1")).to_have_count(0)

    # The ML engineer finds it in the review queue and asks for changes.
    log_in(second_page, "engineer")
    second_page.get_by_role("link", name="Review queue").click()
    second_page.get_by_role("link", name="fraud-gbm 1.4.0").click()
    expect(second_page).to_have_url(re.compile(rf"/handovers/{handover.pk}/$"))
    second_page.get_by_label("Review comment").fill("The predictions look stale; re-export them.")
    second_page.get_by_role("button", name="Request changes").click()
    expect(second_page.locator(".handover-state .badge")).to_have_text("Changes requested")
    expect(second_page.get_by_role("button", name="Accept and sign")).to_have_count(0)

    # The data scientist answers with revision 2 and new predictions.
    page.reload()
    expect(page.locator("#change-request")).to_contain_text("The predictions look stale; re-export them.")
    page.get_by_role("button", name="Start revision 2").click()
    expect(page.locator(".handover-state .badge")).to_have_text("Draft")
    upload(page, "predictions", files["predictions-v2.csv"], PREDICTIONS_V2)
    expect(page.locator("#artifact-rows tr")).to_have_count(3)
    page.get_by_role("button", name="Submit revision 2").click()
    expect(page.locator(".handover-state .badge")).to_have_text("Awaiting review")

    # The engineer accepts revision 2.
    second_page.get_by_role("link", name="Review queue").click()
    second_page.get_by_role("link", name="fraud-gbm 1.4.0").click()
    second_page.get_by_role("button", name="Accept and sign").click()
    expect(second_page.locator(".handover-state .badge")).to_have_text("Accepted")
    expect(second_page.locator(".facts")).to_contain_text("2 (current)")
    artifacts = second_page.locator("#artifact-rows")
    for content in (MODEL_BYTES, PREDICTIONS_V2, LABELS):
        expect(artifacts).to_contain_text(sha(content))
    history = second_page.get_by_role("table").filter(has_text="Submitted")
    expect(history.get_by_role("row", name=re.compile("Revision 1"))).to_contain_text("Changes requested")
    expect(history.get_by_role("row", name=re.compile("Revision 2"))).to_contain_text("Accepted")

    # The diff between the revisions shows the changed predictions hash.
    second_page.get_by_role("button", name="Show differences").click()
    expect(second_page).to_have_url(re.compile(r"/diff/\?from=1&to=2$"))
    predictions_row = second_page.get_by_role("row", name=re.compile("Predictions file"))
    expect(predictions_row).to_contain_text(sha(PREDICTIONS_V1))
    expect(predictions_row).to_contain_text(sha(PREDICTIONS_V2))

    handover.refresh_from_db()
    assert handover.state == HandoverState.ACCEPTED and handover.reviewer == engineer
    assert page.external_requests == []
    assert second_page.external_requests == []
