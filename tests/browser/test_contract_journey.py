"""An agreed contract and three candidates in Chromium: the engineer drafts and
proposes, both sides sign, the scientist files three real exports against it,
the comparison marks the one over the parameter budget, the engineer selects
one and the scientist hears the others were not selected.

The MLP's parameter cell is marked failing by the engine's parameter-budget
check (the engine-budgets branch); until that is merged the assertion on it
fails, as it should."""

import hashlib
import re

import pytest
from playwright.sync_api import expect

from handoff.contracts.models import Contract, ContractState
from handoff.handovers.models import Handover, HandoverState
from handoff.teams.models import Role
from tests.factories import CANDIDATE_EVIDENCE, MEASURED, ProjectFactory, member
from tests.plugins.browser import log_in

pytestmark = pytest.mark.browser

LABELS = (CANDIDATE_EVIDENCE / "labels.csv").read_bytes()
CANDIDATES = ("logreg", "scaled-logreg", "mlp")


def sha(content):
    return hashlib.sha256(content).hexdigest()


@pytest.fixture
def people(transactional_db):
    project = ProjectFactory(name="Breast screening", slug="breast-screening")
    scientist = member(project, Role.DATA_SCIENTIST, username="scientist")
    engineer = member(project, Role.ML_ENGINEER, username="engineer")
    return project, scientist, engineer


def watched(page):
    """Collect console errors and uncaught page errors (a CSP refusal is a console error)."""
    page.problems = []
    page.on("console", lambda msg: page.problems.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda error: page.problems.append(str(error)))
    return page


def upload(page, kind, path, content):
    """Upload through the handover page's upload widget and wait for its row."""
    page.locator("html.js-upload").wait_for(state="attached")
    page.locator(f"#upload-{kind}").set_input_files(str(path))
    expect(page.locator(f'#artifact-rows tr[data-kind="{kind}"]')).to_contain_text(sha(content))


def test_a_contract_is_agreed_three_candidates_compared_and_one_selected(open_page, people, tmp_path):
    project, scientist, engineer = people
    labels_path = tmp_path / "labels.csv"
    labels_path.write_bytes(LABELS)
    eng = watched(open_page())
    sci = watched(open_page())

    # The engineer drafts the contract: accuracy ≥ 0.95, p95 latency ≤ 500 ms, at most 100 parameters,
    # blind labels.
    log_in(eng, "engineer")
    eng.get_by_role("link", name="Contracts", exact=True).click()
    eng.get_by_role("link", name="Draft a contract").first.click()
    eng.get_by_label("Title").fill("Second reads")
    eng.get_by_label("Project", exact=True).select_option(label=project.name)
    eng.get_by_label("Task type").select_option("binary_classification")
    eng.get_by_label("scikit-learn").check()
    eng.get_by_label("ONNX").check()
    eng.get_by_label("Hold the labels blind").check()
    eng.get_by_label("Metric 1", exact=True).select_option("accuracy")
    eng.get_by_label("Minimum 1", exact=True).fill("0.95")
    eng.get_by_label("p95 latency budget (ms)").fill("500")
    eng.get_by_label("Largest parameter count").fill("100")
    eng.get_by_label("Validation set row count").fill(str(MEASURED["rows"]))
    eng.get_by_role("button", name="Save as draft").click()
    expect(eng).to_have_url(re.compile(r"/contracts/\d+/$"))
    contract = Contract.objects.get(title="Second reads")
    expect(eng.locator(".contract-state")).to_contain_text("Draft")

    eng.locator("#contract-upload-labels").set_input_files(str(labels_path))
    eng.get_by_role("button", name="Upload validation labels").click()
    expect(eng.locator('#contract-files tr[data-kind="labels"]')).to_contain_text(sha(LABELS))
    eng.get_by_role("button", name="Propose").click()
    expect(eng.locator(".contract-state")).to_contain_text("Proposed")

    # The scientist signs without ever seeing the labels; then the engineer signs.
    log_in(sci, "scientist")
    sci.goto(contract.get_absolute_url())
    expect(sci.locator("#labels-blind")).to_contain_text("Labels held blind")
    expect(sci.locator("#validation-set")).not_to_contain_text(sha(LABELS))
    sci.get_by_role("button", name="Sign v1").click()
    expect(sci.locator("#signatures")).to_contain_text(scientist.display_name)
    eng.reload()
    eng.get_by_role("button", name="Sign v1").click()
    expect(eng.locator(".contract-state")).to_contain_text("Agreed")
    expect(eng.get_by_role("link", name="Edit terms")).to_have_count(0)
    expect(eng.get_by_role("button", name="Upload validation labels")).to_have_count(0)
    expect(eng.get_by_role("button", name=re.compile("^Remove"))).to_have_count(0)
    contract.refresh_from_db()
    assert contract.state == ContractState.AGREED

    # The scientist files the three real exports, each with its model and predictions, and submits them.
    for name in CANDIDATES:
        sci.goto(contract.get_absolute_url())
        sci.get_by_role("link", name="File a candidate").first.click()
        sci.get_by_label("or a new model named").fill(name)
        sci.get_by_label("Version label").fill("1.0.0")
        sci.get_by_label("Framework", exact=True).select_option("scikit-learn")
        sci.get_by_role("button", name="File candidate").click()
        expect(sci).to_have_url(re.compile(r"/handovers/\d+/$"))
        expect(sci.locator("#candidacy")).to_contain_text(f"Candidate of {contract}")
        for kind, file_name in (("model", "model.onnx"), ("predictions", "predictions.csv")):
            path = CANDIDATE_EVIDENCE / name / file_name
            upload(sci, kind, path, path.read_bytes())
        sci.get_by_role("button", name="Submit revision 1").click()
        # Validation runs eagerly in tests: the page comes back measured.
        expect(sci.locator(".handover-state .badge")).to_have_text(
            re.compile("Awaiting review|Validation failed"))
    assert Handover.objects.filter(candidacy__contract=contract).count() == 3

    # The comparison shows the three, the MLP's parameter count failing, and the chart.
    eng.goto(contract.get_absolute_url())
    eng.get_by_role("link", name="Compare candidates").click()
    expect(eng).to_have_url(re.compile(rf"/contracts/{contract.pk}/comparison/$"))
    header = eng.locator("#comparison thead")
    for name in CANDIDATES:
        expect(header).to_contain_text(f"{name} 1.0.0")
    expect(eng.locator("#trade-off-chart g.point")).to_have_count(3)
    expect(eng.locator("#trade-off-chart [data-limit]")).to_have_count(2)
    mlp = Handover.objects.get(model__name="mlp")
    columns = [int(h) for h in eng.locator("#comparison thead th[data-handover]").evaluate_all(
        "cells => cells.map(c => c.dataset.handover)")]
    parameters = eng.locator('#comparison tr[data-row="model.parameters"] td')
    mlp_cell = parameters.nth(columns.index(mlp.pk))
    expect(mlp_cell).to_have_attribute("data-status", "fail")
    expect(mlp_cell).to_contain_text("✗ fail")

    # The engineer selects the logistic regression; the other two are not selected.
    eng.get_by_label("Why this one (optional)").fill("Smallest that meets every requirement.")
    eng.get_by_role("button", name="Select logreg 1.0.0").click()
    expect(eng.locator(".messages")).to_contain_text("Selected logreg 1.0.0")
    expect(header.locator(".badge.state-not_selected")).to_have_count(2)
    expect(header.locator(".badge.state-accepted")).to_have_text("Accepted")
    chosen = Handover.objects.get(model__name="logreg")
    assert chosen.state == HandoverState.ACCEPTED
    assert set(Handover.objects.filter(candidacy__contract=contract).exclude(pk=chosen.pk)
               .values_list("state", flat=True)) == {HandoverState.NOT_SELECTED}

    # The scientist hears of it.
    sci.goto("/notifications/")
    expect(sci.locator(".notification-list")).to_contain_text("was not selected")
    sci.goto(contract.get_absolute_url())
    expect(sci.locator("#candidates")).to_contain_text("Not selected")

    assert eng.problems == [] and sci.problems == []
    assert eng.external_requests == [] and sci.external_requests == []
