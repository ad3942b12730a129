"""The comparison page (``selectors.comparison``) and the API
(``figures.comparison``) show the same figures and mark the same best values."""

import pytest

from handoff.contracts import figures, selectors
from tests.factories import filed_candidate

pytestmark = pytest.mark.django_db


def test_page_and_api_compare_the_same_measured_figures(contract, engineer, scientist,
                                                        django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        for name in ("logreg", "scaled-logreg", "mlp"):
            filed_candidate(contract, scientist, name, submit=True)
    page = selectors.comparison(contract, engineer)
    api = figures.comparison(contract)
    api_rows = {row["key"]: row for row in api["rows"]}
    order = [column["handover_id"] for column in page["columns"]]
    compared = 0
    for row in page["rows"]:
        if row["key"] not in api_rows:
            continue
        cells = {cell["handover"]: cell for cell in api_rows[row["key"]]["cells"]}
        for handover_id, cell in zip(order, row["cells"], strict=True):
            theirs = cells[handover_id]
            assert (cell["value"], cell["status"], cell["best"]) == (
                theirs["measured"], theirs["status"], theirs["best"]), (row["key"], handover_id)
            compared += 1
    assert {"metric.accuracy", "model.parameters"} <= {row["key"] for row in page["rows"]} & set(api_rows)
    assert compared >= 3 * 4
