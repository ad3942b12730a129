"""The data checks on real models' predictions: every figure equals scikit-learn's to 1e-9,
and every bad file or column gets a sentence that says what to fix."""

import numpy as np
import pytest
from sklearn import metrics as sk

from handoff.validation.checks import FAIL, PASS, SKIPPED, Claim, Terms, data

from .conftest import artifact, write_table

TOL = 1e-9


def _check(terms, predictions, labels, progress=None) -> dict:
    outcomes = list(data.check(terms, predictions, labels, progress=progress))
    keys = [o.key for o in outcomes]
    assert len(keys) == len(set(keys)), keys
    return {o.key: o for o in outcomes}


def _binary_oracle(case, rows=None):
    rows = np.arange(len(case.ids)) if rows is None else rows
    y, pred, score = case.y_test[rows], case.prediction[rows], case.proba[rows, 1]
    return {
        "accuracy": sk.accuracy_score(y, pred),
        "precision": sk.precision_score(y, pred),
        "recall": sk.recall_score(y, pred),
        "f1": sk.f1_score(y, pred),
        "roc_auc": sk.roc_auc_score(y, score),
        "log_loss": sk.log_loss(y, score),
    }


def _multiclass_oracle(case):
    y, pred, proba = case.y_test, case.prediction, case.proba
    return {
        "accuracy": sk.accuracy_score(y, pred),
        "precision": sk.precision_score(y, pred, average="macro"),
        "recall": sk.recall_score(y, pred, average="macro"),
        "f1": sk.f1_score(y, pred, average="macro"),
        "roc_auc": sk.roc_auc_score(y, proba, multi_class="ovr", average="macro"),
        "log_loss": sk.log_loss(y, proba),
    }


def _regression_oracle(case):
    y, pred = case.y_test, case.prediction
    return {
        "mae": sk.mean_absolute_error(y, pred),
        "rmse": sk.root_mean_squared_error(y, pred),
        "r2": sk.r2_score(y, pred),
    }


def _terms(task, oracle, **extra) -> Terms:
    claims = [Claim(name, value) for name, value in oracle.items()]
    return Terms(task_type=task, framework="scikit-learn", claims=claims, **extra)


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
@pytest.mark.parametrize(
    ("case_name", "task", "oracle"),
    [
        ("binary_case", "binary_classification", _binary_oracle),
        ("multiclass_case", "multiclass_classification", _multiclass_oracle),
        ("regression_case", "regression", _regression_oracle),
    ],
    ids=["binary", "multiclass", "regression"],
)
def test_every_metric_equals_sklearn(request, tmp_path, suffix, case_name, task, oracle):
    case = request.getfixturevalue(case_name)
    expected = oracle(case)
    predictions, labels = case.write(tmp_path, suffix)
    found = _check(_terms(task, expected, row_count=len(case.ids)), predictions, labels)
    assert found["data.ids"].status == PASS and found["data.rows"].status == PASS
    for name, value in expected.items():
        outcome = found[f"metric.{name}"]
        assert outcome.measured == pytest.approx(value, abs=TOL), name
        assert outcome.status == PASS, outcome.message
        assert f"on {len(case.ids)} rows" in outcome.message


def test_a_false_accuracy_claim_fails_naming_both_numbers(tmp_path, binary_case):
    actual = sk.accuracy_score(binary_case.y_test, binary_case.prediction)
    predictions, labels = binary_case.write(tmp_path)
    terms = Terms("binary_classification", "scikit-learn", [Claim("accuracy", actual + 0.02)])
    outcome = _check(terms, predictions, labels)["metric.accuracy"]
    assert outcome.status == FAIL
    assert outcome.message == (
        f"accuracy claimed {actual + 0.02:.3f}, measured {actual:.3f} on {len(binary_case.ids)} rows:"
        " outside the tolerance of 0.005"
    )
    assert (outcome.claimed, outcome.tolerance) == (actual + 0.02, 0.005)


def test_limits_fail_with_the_limit_named(tmp_path, binary_case):
    expected = _binary_oracle(binary_case)
    predictions, labels = binary_case.write(tmp_path)
    terms = Terms(
        "binary_classification",
        "scikit-learn",
        [
            Claim("f1", expected["f1"], minimum=0.999),
            Claim("log_loss", expected["log_loss"], maximum=0.001),
            Claim("roc_auc", expected["roc_auc"], minimum=0.5),
        ],
    )
    found = _check(terms, predictions, labels)
    assert found["metric.f1"].status == FAIL and "below the minimum of 0.999" in found["metric.f1"].message
    assert found["metric.f1"].limit == 0.999
    assert "above the maximum of 0.001" in found["metric.log_loss"].message
    assert (
        found["metric.roc_auc"].status == PASS
        and "not below the minimum of 0.500" in found["metric.roc_auc"].message
    )


@pytest.mark.parametrize(
    ("metric", "side", "offset", "status", "verdict"),
    [
        ("accuracy", "minimum", -0.05, PASS, "not below the minimum of {:.3f}"),
        ("accuracy", "minimum", +0.05, FAIL, "below the minimum of {:.3f}"),
        ("log_loss", "maximum", +0.05, PASS, "within the maximum of {:.3f}"),
        ("log_loss", "maximum", -0.05, FAIL, "above the maximum of {:.3f}"),
    ],
    ids=["minimum-met", "minimum-missed", "maximum-met", "maximum-exceeded"],
)
def test_a_bound_without_a_claimed_value_is_judged_by_the_bound_alone(
    tmp_path, binary_case, metric, side, offset, status, verdict
):
    actual = _binary_oracle(binary_case)[metric]
    limit = actual + offset
    predictions, labels = binary_case.write(tmp_path)
    terms = Terms("binary_classification", "scikit-learn", [Claim(metric, None, **{side: limit})])
    outcome = _check(terms, predictions, labels)[f"metric.{metric}"]
    assert outcome.status == status
    assert outcome.message == (
        f"{metric} measured {actual:.3f} on {len(binary_case.ids)} rows: {verdict.format(limit)}"
    )
    assert (outcome.claimed, outcome.tolerance, outcome.limit) == (None, None, limit)


def test_a_bound_without_a_claimed_value_that_cannot_be_measured_has_no_tolerance(tmp_path, binary_case):
    columns = binary_case.predictions_columns()
    del columns["score"]
    predictions = artifact(write_table(tmp_path / "p.csv", columns), "predictions")
    labels = artifact(write_table(tmp_path / "l.csv", binary_case.labels_columns()), "labels")
    terms = Terms("binary_classification", "scikit-learn", [Claim("roc_auc", minimum=0.9)])
    outcome = _check(terms, predictions, labels)["metric.roc_auc"]
    assert outcome.status == FAIL
    assert outcome.message.startswith("roc_auc cannot be measured: p.csv has no score column")
    assert (outcome.claimed, outcome.tolerance) == (None, None)


def test_fairness_gap_per_slice_equals_sklearn(tmp_path, binary_case):
    predictions, labels = binary_case.write(tmp_path, ".parquet")
    group = np.where(binary_case.ids % 2 == 0, "a", "b")
    per_slice = {
        g: sk.accuracy_score(binary_case.y_test[group == g], binary_case.prediction[group == g]) for g in "ab"
    }
    terms = Terms(
        "binary_classification", "scikit-learn", [], fairness_slice_column="group", fairness_max_gap=0.0
    )
    outcome = _check(terms, predictions, labels)["fairness.accuracy_gap"]
    slices = {s["value"]: s for s in outcome.details["slices"]}
    for g in "ab":
        assert slices[g]["measured"] == pytest.approx(per_slice[g], abs=TOL)
        assert slices[g]["rows"] == int((group == g).sum())
    assert outcome.measured == pytest.approx(abs(per_slice["a"] - per_slice["b"]), abs=TOL)
    assert outcome.status == FAIL and "above the maximum of 0.000" in outcome.message
    assert "'group' = a" in outcome.message and "'group' = b" in outcome.message


def test_fairness_with_another_metric(tmp_path, multiclass_case):
    predictions, labels = multiclass_case.write(tmp_path)
    group = np.where(multiclass_case.ids % 2 == 0, "a", "b")
    terms = Terms(
        "multiclass_classification", "scikit-learn", [], fairness_slice_column="group", fairness_metric="f1"
    )
    outcome = _check(terms, predictions, labels)["fairness.f1_gap"]
    mask = group == "a"
    expected_a = sk.f1_score(multiclass_case.y_test[mask], multiclass_case.prediction[mask], average="macro")
    slices = {s["value"]: s["measured"] for s in outcome.details["slices"]}
    assert slices["a"] == pytest.approx(expected_a, abs=TOL)
    assert outcome.status == SKIPPED and "no largest gap was agreed" in outcome.message


def test_regression_fairness_defaults_to_mae(tmp_path, regression_case):
    predictions, labels = regression_case.write(tmp_path)
    terms = Terms("regression", "scikit-learn", [], fairness_slice_column="group", fairness_max_gap=1000)
    outcome = _check(terms, predictions, labels)["fairness.mae_gap"]
    assert outcome.status == PASS and outcome.details["metric"] == "mae"


def test_mismatched_ids_fail_and_metrics_use_the_matched_rows(tmp_path, binary_case):
    n = len(binary_case.ids)
    p_rows = np.r_[np.arange(n - 5), [3, 4]]  # last five missing, rows 3 and 4 twice
    l_rows = np.arange(n)
    p_columns = {k: v[p_rows] for k, v in binary_case.predictions_columns().items()}
    p_columns["id"] = np.r_[binary_case.ids[: n - 5], binary_case.ids[[3, 4]]]
    p_columns["id"][0] = 99_999  # unknown to the labels
    predictions = artifact(write_table(tmp_path / "p.csv", p_columns), "predictions")
    labels = artifact(write_table(tmp_path / "l.csv", binary_case.labels_columns(l_rows)), "labels")
    found = _check(_terms("binary_classification", _binary_oracle(binary_case)), predictions, labels)

    ids = found["data.ids"]
    assert ids.status == FAIL
    assert ids.details["missing_from_predictions"]["ids"] == 6  # five dropped, and the one replaced
    assert ids.details["duplicated_in_predictions"] == {
        "ids": 2,
        "rows": 4,
        "examples": binary_case.ids[[3, 4]].tolist(),
    }
    assert ids.details["unknown_to_labels"] == {"ids": 1, "rows": 1, "examples": [99_999]}
    assert "6 ids of l.csv are missing from p.csv" in ids.message
    assert "2 ids appear more than once in p.csv, on 4 rows" in ids.message

    matched = np.setdiff1d(np.arange(1, n - 5), [3, 4])
    expected = _binary_oracle(binary_case, matched)
    accuracy = found["metric.accuracy"]
    assert accuracy.measured == pytest.approx(expected["accuracy"], abs=TOL)
    assert f"on the {len(matched)} rows whose ids match (see data.ids)" in accuracy.message


def test_row_count_claim(tmp_path, binary_case):
    predictions, labels = binary_case.write(tmp_path)
    found = _check(Terms("binary_classification", "scikit-learn", [], row_count=200), predictions, labels)
    assert found["data.rows"].status == FAIL
    assert (
        found["data.rows"].message
        == f"row count claimed 200, but the labels hold {len(binary_case.ids)} rows"
    )
    unclaimed = _check(Terms("binary_classification", "scikit-learn", []), predictions, labels)["data.rows"]
    assert unclaimed.status == SKIPPED and unclaimed.measured == len(binary_case.ids)


def test_a_non_numeric_score_fails_only_the_metrics_that_need_it(tmp_path, binary_case):
    columns = binary_case.predictions_columns()
    columns["score"] = columns["score"].astype(object)
    columns["score"][7] = "high"
    predictions = artifact(write_table(tmp_path / "p.csv", columns), "predictions")
    labels = artifact(write_table(tmp_path / "l.csv", binary_case.labels_columns()), "labels")
    found = _check(_terms("binary_classification", _binary_oracle(binary_case)), predictions, labels)
    assert found["metric.roc_auc"].status == FAIL
    assert "the 'score' column of p.csv is not numeric (it holds 'high')" in found["metric.roc_auc"].message
    assert found["metric.log_loss"].status == FAIL
    assert found["metric.accuracy"].status == PASS


def test_labels_without_an_id_column(tmp_path, binary_case):
    predictions, _ = binary_case.write(tmp_path)
    labels = artifact(write_table(tmp_path / "bad.csv", {"row": [1, 2], "label": [0, 1]}), "labels")
    found = _check(_terms("binary_classification", {"accuracy": 0.9}), predictions, labels)
    assert found["data.ids"].status == FAIL
    assert found["data.ids"].message.startswith("bad.csv has no id column (its columns: 'row', 'label')")
    assert found["metric.accuracy"].status == SKIPPED and "see data.ids" in found["metric.accuracy"].message


def test_empty_and_header_only_files(tmp_path, binary_case):
    predictions, _ = binary_case.write(tmp_path)
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    found = _check(_terms("binary_classification", {"accuracy": 0.9}), predictions, artifact(empty, "labels"))
    assert found["data.ids"].status == FAIL and "empty.csv is empty" in found["data.ids"].message
    header_only = tmp_path / "header.csv"
    header_only.write_text("id,label\n")
    found = _check(
        _terms("binary_classification", {"accuracy": 0.9}), predictions, artifact(header_only, "labels")
    )
    assert "header.csv has a header but no rows" in found["data.ids"].message
    assert found["data.rows"].status == SKIPPED


def test_a_label_outside_the_binary_classes(tmp_path, binary_case):
    predictions, _ = binary_case.write(tmp_path)
    columns = binary_case.labels_columns()
    columns["label"] = columns["label"].copy()
    columns["label"][0] = 2
    labels = artifact(write_table(tmp_path / "l.csv", columns), "labels")
    found = _check(_terms("binary_classification", {"accuracy": 0.9}), predictions, labels)
    assert found["metric.accuracy"].status == FAIL
    assert "a binary task has two classes, but the labels and predictions hold 3 (0, 1, 2)" in (
        found["metric.accuracy"].message
    )


def test_a_positive_label_that_is_not_a_class(tmp_path, binary_case):
    predictions, labels = binary_case.write(tmp_path)
    terms = _terms("binary_classification", {"precision": 0.9}, positive_label="yes")
    outcome = _check(terms, predictions, labels)["metric.precision"]
    assert outcome.status == FAIL
    assert "the positive label 'yes' is not one of the classes in the files (0, 1)" in outcome.message


def test_text_classes_with_a_text_positive_label(tmp_path, binary_case):
    names = np.array(["benign", "malignant"])
    p_columns = binary_case.predictions_columns()
    p_columns["prediction"] = names[p_columns["prediction"]]
    l_columns = binary_case.labels_columns()
    l_columns["label"] = names[l_columns["label"]]
    predictions = artifact(write_table(tmp_path / "p.csv", p_columns), "predictions")
    labels = artifact(write_table(tmp_path / "l.csv", l_columns), "labels")
    expected = sk.recall_score(binary_case.y_test, binary_case.prediction)
    terms = _terms("binary_classification", {"recall": expected}, positive_label="malignant")
    outcome = _check(terms, predictions, labels)["metric.recall"]
    assert (
        outcome.measured == pytest.approx(expected, abs=TOL)
        and outcome.details["positive_label"] == "malignant"
    )


def test_a_multiclass_label_without_a_proba_column(tmp_path, multiclass_case):
    predictions, _ = multiclass_case.write(tmp_path)
    columns = multiclass_case.labels_columns()
    columns["label"] = columns["label"].astype(object)
    columns["label"][4] = "cat"
    labels = artifact(write_table(tmp_path / "l.csv", columns), "labels")
    outcome = _check(_terms("multiclass_classification", {"accuracy": 0.9}), predictions, labels)[
        "metric.accuracy"
    ]
    assert outcome.status == FAIL
    assert "'cat' (in l.csv) is not among the task's classes" in outcome.message


def test_a_missing_score_column_fails_the_score_metrics(tmp_path, binary_case):
    columns = binary_case.predictions_columns()
    del columns["score"]
    predictions = artifact(write_table(tmp_path / "p.csv", columns), "predictions")
    labels = artifact(write_table(tmp_path / "l.csv", binary_case.labels_columns()), "labels")
    found = _check(_terms("binary_classification", {"roc_auc": 0.9, "accuracy": 0.9}), predictions, labels)
    assert found["metric.roc_auc"].status == FAIL and "has no score column" in found["metric.roc_auc"].message
    assert found["metric.accuracy"].status in (PASS, FAIL) and "score" not in found["metric.accuracy"].message


def test_binary_proba_columns_stand_in_for_score(tmp_path, binary_case):
    columns = binary_case.predictions_columns()
    columns["proba_0"] = 1 - columns.pop("score")
    columns["proba_1"] = binary_case.proba[:, 1]
    predictions = artifact(write_table(tmp_path / "p.csv", columns), "predictions")
    labels = artifact(write_table(tmp_path / "l.csv", binary_case.labels_columns()), "labels")
    expected = _binary_oracle(binary_case)["roc_auc"]
    outcome = _check(_terms("binary_classification", {"roc_auc": expected}), predictions, labels)[
        "metric.roc_auc"
    ]
    assert outcome.measured == pytest.approx(expected, abs=TOL)


def test_metrics_that_do_not_apply_are_skipped(tmp_path, regression_case):
    predictions, labels = regression_case.write(tmp_path)
    found = _check(_terms("regression", {"accuracy": 0.9, "bleu": 0.3}), predictions, labels)
    assert (
        found["metric.accuracy"].status == SKIPPED
        and "classification metric" in found["metric.accuracy"].message
    )
    assert found["metric.bleu"].status == SKIPPED and "unknown metric 'bleu'" in found["metric.bleu"].message


def test_a_regression_prediction_that_is_empty(tmp_path, regression_case):
    columns = regression_case.predictions_columns()
    columns["prediction"] = columns["prediction"].copy()
    columns["prediction"][2] = np.nan
    predictions = artifact(write_table(tmp_path / "p.csv", columns), "predictions")
    labels = artifact(write_table(tmp_path / "l.csv", regression_case.labels_columns()), "labels")
    outcome = _check(_terms("regression", {"mae": 40}), predictions, labels)["metric.mae"]
    assert outcome.status == FAIL
    assert f"p.csv has 1 rows with an empty or non-numeric prediction (e.g. id {regression_case.ids[2]})" in (
        outcome.message
    )


def test_the_slice_column_must_exist(tmp_path, binary_case):
    predictions, labels = binary_case.write(tmp_path)
    terms = Terms("binary_classification", "scikit-learn", [], fairness_slice_column="region")
    outcome = _check(terms, predictions, labels)["fairness.accuracy_gap"]
    assert outcome.status == FAIL and "has no column 'region', the contract's slice column" in outcome.message


def test_progress_counts_rows_read(tmp_path, binary_case):
    predictions, labels = binary_case.write(tmp_path)
    calls = []
    _check(
        Terms("binary_classification", "scikit-learn", []), predictions, labels, lambda *c: calls.append(c)
    )
    n = len(binary_case.ids)
    assert calls[-1] == ("data.ids", 2 * n, 2 * n)
    assert all(key == "data.ids" for key, _, _ in calls)


def test_missing_files_skip_the_data_checks():
    found = _check(Terms("binary_classification", "scikit-learn", [Claim("accuracy", 0.9)]), None, None)
    assert {o.status for o in found.values()} == {SKIPPED}
    assert "no predictions and no labels file is attached" in found["data.ids"].message


def test_pyarrow_threads_give_the_same_outcomes(tmp_path, binary_case):
    """threads > 1 lets pyarrow parse with its thread pool; the outcomes do not change."""
    predictions, labels = binary_case.write(tmp_path)
    terms = _terms("binary_classification", _binary_oracle(binary_case), fairness_slice_column="group")
    one = list(data.check(terms, predictions, labels, threads=1))
    two = list(data.check(terms, predictions, labels, threads=2))
    assert [(o.key, o.status, o.measured) for o in one] == [(o.key, o.status, o.measured) for o in two]


def _with_ids(columns: dict, ids) -> dict:
    return {**columns, "id": np.asarray(ids, dtype=object)}


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_text_ids_are_joined_and_every_metric_equals_sklearn(tmp_path, binary_case, suffix):
    expected = _binary_oracle(binary_case)
    n = len(binary_case.ids)
    ids = np.array([f"a-{i:03d}" for i in range(n)], dtype=object)
    reverse = np.arange(n)[::-1]
    predictions = artifact(
        write_table(tmp_path / f"p{suffix}", _with_ids(binary_case.predictions_columns(), ids)), "predictions"
    )
    labels = artifact(
        write_table(tmp_path / f"l{suffix}", _with_ids(binary_case.labels_columns(reverse), ids[reverse])),
        "labels",
    )
    found = _check(_terms("binary_classification", expected, row_count=n), predictions, labels)
    assert found["data.ids"].status == PASS, found["data.ids"].message
    for name, value in expected.items():
        outcome = found[f"metric.{name}"]
        assert outcome.measured == pytest.approx(value, abs=TOL), name
        assert outcome.status == PASS and f"on {n} rows" in outcome.message, outcome.message


def test_mismatched_text_ids_are_named_as_written(tmp_path, binary_case):
    n = len(binary_case.ids)
    ids = np.array([f"a-{i:03d}" for i in range(n)], dtype=object)
    p_rows = np.r_[np.arange(1, n), [7]]  # a-000 missing, a-007 twice
    p_columns = {k: v[p_rows] for k, v in _with_ids(binary_case.predictions_columns(), ids).items()}
    predictions = artifact(write_table(tmp_path / "p.csv", p_columns), "predictions")
    labels = artifact(write_table(tmp_path / "l.csv", _with_ids(binary_case.labels_columns(), ids)), "labels")
    found = _check(_terms("binary_classification", {"accuracy": 0.9}), predictions, labels)
    assert found["data.ids"].status == FAIL
    assert "1 ids of l.csv are missing from p.csv (e.g. a-000)" in found["data.ids"].message
    assert "1 ids appear more than once in p.csv, on 2 rows (e.g. a-007)" in found["data.ids"].message
    matched = np.setdiff1d(np.arange(1, n), [7])
    accuracy = found["metric.accuracy"]
    assert accuracy.measured == pytest.approx(_binary_oracle(binary_case, matched)["accuracy"], abs=TOL)


def test_zero_padded_ids_match_when_the_other_file_holds_a_text_id(tmp_path, binary_case):
    """Labels whose ids are all numbers are read as integers (0001 is 1); predictions with one
    stray text id are read as text, as written. 0001 must still meet 0001."""
    n = len(binary_case.ids)
    ids = np.array([f"{i:04d}" for i in range(1, n + 1)], dtype=object)
    p_columns = _with_ids(binary_case.predictions_columns(), ids)
    p_columns = {k: np.r_[v, v[:1]] for k, v in p_columns.items()}
    p_columns["id"][-1] = "x-1"
    predictions = artifact(write_table(tmp_path / "p.csv", p_columns), "predictions")
    labels = artifact(write_table(tmp_path / "l.csv", _with_ids(binary_case.labels_columns(), ids)), "labels")
    found = _check(_terms("binary_classification", {"accuracy": 0.9}), predictions, labels)
    ids_outcome = found["data.ids"]
    assert ids_outcome.status == FAIL and ids_outcome.measured == n, ids_outcome.message
    assert ids_outcome.details["unknown_to_labels"] == {"ids": 1, "rows": 1, "examples": ["x-1"]}
    assert ids_outcome.details["missing_from_predictions"]["ids"] == 0
    accuracy = found["metric.accuracy"]
    assert accuracy.measured == pytest.approx(_binary_oracle(binary_case)["accuracy"], abs=TOL)
