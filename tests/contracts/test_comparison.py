"""The comparison: every candidate against the agreed requirements, from its
latest validation run, in a constant number of queries; the failing cell and
the best value marked; sortable; the trade-off chart drawn."""

import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from handoff.contracts import selectors
from handoff.contracts.models import Candidate
from handoff.handovers.models import HandoverState
from handoff.validation.models import CheckStatus, RunState
from tests.factories import (
    CheckResultFactory,
    HandoverFactory,
    ModelFactory,
    RevisionFactory,
    ValidationRunFactory,
    filed_candidate,
)
from tests.querycount import assert_queries_do_not_grow

pytestmark = pytest.mark.django_db


def client_of(user):
    client = Client()
    client.force_login(user)
    return client


def measured_candidate(contract, owner, name, *, accuracy, latency, memory=120.0, parameters=31,
                       failing=(), state=HandoverState.AWAITING_REVIEW, runs=1):
    """A candidate whose latest validation run holds these figures, as rows
    (building many through the real engine would take minutes). ``failing``
    names check keys that failed. An earlier run with other figures proves
    only the latest one counts."""
    handover = HandoverFactory(model=ModelFactory(project=contract.project, owner=owner, name=name),
                               version_label="1.0.0", state=state, is_candidate=True)
    revision = RevisionFactory(handover=handover, number=1)
    Candidate.objects.create(contract=contract, handover=handover)
    figures = {"metric.accuracy": accuracy, "metric.roc_auc": 0.99, "runtime.latency_p95_ms": latency,
               "runtime.peak_memory_mb": memory, "model.parameters": parameters}
    for number in range(1, runs + 1):
        latest = number == runs
        run = ValidationRunFactory(revision=revision, number=number,
                                   state=RunState.FAILED if failing and latest else RunState.PASSED)
        for position, (key, value) in enumerate(figures.items()):
            CheckResultFactory(run=run, key=key, position=position, measured=value if latest else 0.0001,
                               status=CheckStatus.FAIL if key in failing and latest else CheckStatus.PASS)
        CheckResultFactory(run=run, key="model.format", position=9, measured=None, details={"format": "onnx"})
    return handover


@pytest.fixture
def three(contract, scientist):
    return [
        measured_candidate(contract, scientist, "logreg", accuracy=0.959, latency=0.2, parameters=31),
        measured_candidate(contract, scientist, "scaled-logreg", accuracy=0.971, latency=0.3, parameters=91,
                           runs=2),
        measured_candidate(contract, scientist, "mlp", accuracy=0.971, latency=0.5, parameters=573,
                           failing=("model.parameters",)),
    ]


def row(table, key):
    return next(r for r in table["rows"] if r["key"] == key)


def test_comparison_has_a_row_per_requirement_and_budget_and_a_column_per_candidate(
        contract, engineer, three):
    table = selectors.comparison(contract, engineer)
    assert [c["model"] for c in table["columns"]] == ["logreg", "scaled-logreg", "mlp"]
    assert [r["key"] for r in table["rows"]] == [
        "metric.accuracy", "metric.roc_auc", "runtime.latency_p95_ms", "runtime.peak_memory_mb",
        "model.parameters", "model.format",
    ]
    assert row(table, "metric.accuracy")["requirement"] == "≥ 0.95"
    assert row(table, "model.parameters")["requirement"] == "≤ 100"
    # The latest run counts, not the earlier one (0.0001).
    assert [c["value"] for c in row(table, "metric.accuracy")["cells"]] == [0.959, 0.971, 0.971]


def test_the_failing_cell_is_marked(contract, engineer, three):
    table = selectors.comparison(contract, engineer)
    assert [c["status"] for c in row(table, "model.parameters")["cells"]] == ["pass", "pass", "fail"]
    assert [c["verdict"] for c in table["columns"]] == ["pass", "pass", "fail"]
    body = client_of(engineer).get(f"/contracts/{contract.pk}/comparison/").content.decode()
    cells = re.search(r'<tr data-row="model.parameters">(.*?)</tr>', body, re.S).group(1)
    assert cells.count("✗ fail") == 1 and cells.count("✓ pass") == 2
    assert 'data-status="fail"' in cells


def test_the_best_value_in_each_row_is_marked(contract, engineer, three):
    table = selectors.comparison(contract, engineer)
    # Higher accuracy is better (a tie marks both); lower latency and fewer parameters are.
    assert [c["best"] for c in row(table, "metric.accuracy")["cells"]] == [False, True, True]
    assert [c["best"] for c in row(table, "runtime.latency_p95_ms")["cells"]] == [True, False, False]
    assert [c["best"] for c in row(table, "model.parameters")["cells"]] == [True, False, False]
    body = client_of(engineer).get(f"/contracts/{contract.pk}/comparison/").content.decode()
    cells = re.search(r'<tr data-row="runtime.latency_p95_ms">(.*?)</tr>', body, re.S).group(1)
    assert cells.count("★ best") == 1


def test_a_lower_is_better_metric_marks_the_smallest(project, scientist, engineer):
    from tests.factories import agreed_contract

    contract = agreed_contract(project, scientist, engineer)
    contract.requirements.create(metric="log_loss", maximum=0.5)
    handovers = [measured_candidate(contract, scientist, f"m{i}", accuracy=0.96, latency=1.0)
                 for i in range(2)]
    for handover, value in zip(handovers, (0.2, 0.1), strict=True):
        run = handover.revisions.get().validation_runs.get()
        CheckResultFactory(run=run, key="metric.log_loss", position=20, measured=value)
    table = selectors.comparison(contract, engineer)
    assert row(table, "metric.log_loss")["better"] == "lower"
    assert [c["best"] for c in row(table, "metric.log_loss")["cells"]] == [False, True]


def test_sorting_orders_candidates_best_first(contract, engineer, three):
    table = selectors.comparison(contract, engineer, sort="runtime.latency_p95_ms")
    assert [c["model"] for c in table["columns"]] == ["logreg", "scaled-logreg", "mlp"]
    table = selectors.comparison(contract, engineer, sort="model.parameters")
    assert [c["model"] for c in table["columns"]] == ["logreg", "scaled-logreg", "mlp"]
    table = selectors.comparison(contract, engineer, sort="metric.accuracy")
    assert [c["model"] for c in table["columns"]] == ["scaled-logreg", "mlp", "logreg"]
    # The cells follow their column.
    assert [c["value"] for c in row(table, "model.parameters")["cells"]] == [91, 573, 31]
    url = f"/contracts/{contract.pk}/comparison/?sort=metric.accuracy"
    body = client_of(engineer).get(url).content.decode()
    header = re.search(r"<thead>(.*?)</thead>", body, re.S).group(1)
    assert header.index("scaled-logreg") < header.index("mlp") < header.index(">logreg")


def test_an_unknown_sort_keeps_the_filing_order(contract, engineer, three):
    table = selectors.comparison(contract, engineer, sort="metric.nonsense")
    assert table["sort"] is None and [c["model"] for c in table["columns"]][0] == "logreg"
    assert client_of(engineer).get(f"/contracts/{contract.pk}/comparison/?sort=x&x=y&y=z").status_code == 200


def test_the_chart_draws_a_point_per_candidate_and_the_requirement_lines(contract, engineer, three):
    url = f"/contracts/{contract.pk}/comparison/?x=latency&y=accuracy"
    body = client_of(engineer).get(url).content.decode()
    svg = re.search(r'<svg[^>]*id="trade-off-chart".*?</svg>', body, re.S).group(0)
    assert svg.count('<g class="point') == 3
    assert svg.count("<circle") == 2 and svg.count("<path") == 1  # a cross for the failing one
    assert 'data-limit="metric"' in svg and 'data-limit="budget"' in svg
    for name in ("logreg 1.0.0", "scaled-logreg 1.0.0", "mlp 1.0.0"):
        assert name in svg
    table = re.search(r'<details class="chart-table".*?</details>', body, re.S).group(0)
    assert "Accuracy" in table and "p95 latency (ms)" in table and table.count("<tr>") == 4
    memory = client_of(engineer).get(f"/contracts/{contract.pk}/comparison/?x=memory").content.decode()
    assert "Peak memory (MB)" in re.search(r"<svg.*?</svg>", memory, re.S).group(0)


def test_comparison_without_candidates_says_how_they_arrive(contract, engineer):
    body = client_of(engineer).get(f"/contracts/{contract.pk}/comparison/").content.decode()
    assert "No candidate yet" in body


def test_only_engineers_see_select_buttons(contract, scientist, engineer, three):
    url = f"/contracts/{contract.pk}/comparison/"
    assert "Select logreg 1.0.0" in client_of(engineer).get(url).content.decode()
    assert "Select logreg" not in client_of(scientist).get(url).content.decode()


def test_outsider_gets_404_for_the_comparison(contract, outsider):
    assert client_of(outsider).get(f"/contracts/{contract.pk}/comparison/").status_code == 404


def test_comparison_queries_are_the_same_at_3_and_30_candidates(contract, scientist, engineer):
    serial = iter(range(1000))

    def grow(n):
        names = []
        for _ in range(n):
            name = f"cand{next(serial):04d}"
            measured_candidate(contract, scientist, name, accuracy=0.96, latency=0.4)
            names.append(name)
        return names

    small, large = assert_queries_do_not_grow(client_of(engineer), f"/contracts/{contract.pk}/comparison/",
                                              grow, ceiling=11, small=3, large=30)
    assert small == large


def test_selector_queries_are_the_same_at_3_and_30_candidates(contract, scientist, engineer):
    for i in range(3):
        measured_candidate(contract, scientist, f"a{i}", accuracy=0.96, latency=0.4)
    with CaptureQueriesContext(connection) as at_three:
        selectors.comparison(contract, engineer)
    for i in range(27):
        measured_candidate(contract, scientist, f"b{i}", accuracy=0.96, latency=0.4)
    with CaptureQueriesContext(connection) as at_thirty:
        table = selectors.comparison(contract, engineer)
    assert len(table["columns"]) == 30
    assert len(at_three.captured_queries) == len(at_thirty.captured_queries) == 4


def test_real_candidates_are_compared_and_the_mlp_breaks_the_parameter_budget(
        contract, scientist, engineer, django_capture_on_commit_callbacks):
    """Through the real engine. The parameter-budget check lands with the
    engine-budgets branch: until it is merged the MLP passes ``model.parameters``
    (573 claimed, 573 measured) and the last assertion fails."""
    for name in ("logreg", "scaled-logreg", "mlp"):
        with django_capture_on_commit_callbacks(execute=True):
            filed_candidate(contract, scientist, name, submit=True)
    table = selectors.comparison(contract, engineer)
    cells = row(table, "model.parameters")["cells"]
    parameters = {c["model"]: cell for c, cell in zip(table["columns"], cells, strict=True)}
    assert (parameters["logreg"]["value"], parameters["scaled-logreg"]["value"]) == (31, 91)
    assert parameters["mlp"]["value"] > 100  # over the contract's budget of 100
    accuracy = row(table, "metric.accuracy")
    assert [round(c["value"], 3) for c in accuracy["cells"]] == [0.959, 0.971, 0.971]
    assert parameters["mlp"]["status"] == "fail"
