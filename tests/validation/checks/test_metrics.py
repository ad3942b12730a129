"""The vectorised metrics give scikit-learn's figures to 1e-9, edge cases included."""

import warnings

import numpy as np
import pytest
from sklearn import metrics as sk

from handoff.validation.checks import metrics

TOL = 1e-9


@pytest.fixture
def rng():
    return np.random.default_rng(12)


def _quiet(fn, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(*args, **kwargs)


def test_binary_metrics_equal_sklearn_on_random_data(rng):
    y_true = rng.integers(0, 2, 5000)
    score = np.clip(y_true * 0.3 + rng.random(5000) * 0.7, 0, 1)
    y_pred = (score > 0.5).astype(int)
    positive = y_true == 1

    assert metrics.accuracy(y_true, y_pred) == pytest.approx(sk.accuracy_score(y_true, y_pred), abs=TOL)
    scores = metrics.binary_scores(y_true, y_pred)
    assert scores["precision"] == pytest.approx(sk.precision_score(y_true, y_pred), abs=TOL)
    assert scores["recall"] == pytest.approx(sk.recall_score(y_true, y_pred), abs=TOL)
    assert scores["f1"] == pytest.approx(sk.f1_score(y_true, y_pred), abs=TOL)
    assert metrics.roc_auc_binary(positive, score) == pytest.approx(sk.roc_auc_score(y_true, score), abs=TOL)
    assert metrics.log_loss_binary(positive, score) == pytest.approx(sk.log_loss(y_true, score), abs=TOL)


def test_roc_auc_counts_ties_as_sklearn_does(rng):
    y_true = rng.integers(0, 2, 4000)
    score = rng.integers(0, 5, 4000) / 4.0  # five distinct values: ties everywhere
    ours = metrics.roc_auc_binary(y_true == 1, score)
    assert ours == pytest.approx(sk.roc_auc_score(y_true, score), abs=TOL)


def test_roc_auc_accepts_scores_that_are_not_probabilities(rng):
    y_true = rng.integers(0, 2, 1000)
    margin = rng.normal(size=1000) * 5 + y_true
    assert metrics.roc_auc_binary(y_true == 1, margin) == pytest.approx(
        sk.roc_auc_score(y_true, margin), abs=TOL
    )


def test_log_loss_clips_certain_probabilities_as_sklearn_does():
    y_true = np.array([1, 0, 1, 0, 1])
    score = np.array([1.0, 0.0, 0.0, 1.0, 0.5])  # two certain and wrong
    ours = metrics.log_loss_binary(y_true == 1, score)
    assert ours == pytest.approx(sk.log_loss(y_true, score), abs=TOL)


def test_zero_division_gives_zero_like_sklearn():
    y_true = np.array([0, 0, 0, 1])
    y_pred = np.array([0, 0, 0, 0])  # no positive predicted
    scores = metrics.binary_scores(y_true, y_pred)
    assert scores["precision"] == _quiet(sk.precision_score, y_true, y_pred) == 0.0
    assert scores["f1"] == pytest.approx(_quiet(sk.f1_score, y_true, y_pred), abs=TOL)


def test_multiclass_macro_metrics_equal_sklearn(rng):
    n, k = 3000, 5
    y_true = rng.integers(0, k, n)
    logits = rng.normal(size=(n, k)) + np.eye(k)[y_true] * 1.5
    proba = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    y_pred = proba.argmax(axis=1)
    names = [str(c) for c in range(k)]

    assert metrics.accuracy(y_true, y_pred) == pytest.approx(sk.accuracy_score(y_true, y_pred), abs=TOL)
    scores = metrics.macro_scores(y_true, y_pred, k)
    for name, fn in (("precision", sk.precision_score), ("recall", sk.recall_score), ("f1", sk.f1_score)):
        assert scores[name] == pytest.approx(fn(y_true, y_pred, average="macro"), abs=TOL)
    assert metrics.roc_auc_ovr(y_true, proba, names) == pytest.approx(
        sk.roc_auc_score(y_true, proba, multi_class="ovr", average="macro"), abs=TOL
    )
    assert metrics.log_loss_multiclass(y_true, proba) == pytest.approx(sk.log_loss(y_true, proba), abs=TOL)


def test_macro_average_skips_classes_absent_from_labels_and_predictions(rng):
    y_true = rng.integers(0, 3, 500)  # class 3 of 4 never appears
    y_pred = rng.integers(0, 3, 500)
    scores = metrics.macro_scores(y_true, y_pred, 4)
    assert scores["f1"] == pytest.approx(sk.f1_score(y_true, y_pred, average="macro"), abs=TOL)


def test_multiclass_roc_auc_is_undefined_when_a_class_has_no_rows():
    y_true = np.array([0, 1, 0, 1])
    proba = np.full((4, 3), 1 / 3)
    with pytest.raises(metrics.Undefined, match="class c has no rows"):
        metrics.roc_auc_ovr(y_true, proba, ["a", "b", "c"])


def test_binary_roc_auc_is_undefined_for_one_class():
    with pytest.raises(metrics.Undefined, match="only one class"):
        metrics.roc_auc_binary(np.ones(5, dtype=bool), np.linspace(0, 1, 5))


def test_log_loss_refuses_values_outside_zero_one():
    with pytest.raises(metrics.Undefined, match=r"outside \[0, 1\] on 1 rows"):
        metrics.log_loss_binary(np.array([True, False]), np.array([0.5, 1.5]))


def test_nan_scores_are_undefined_not_silently_dropped():
    with pytest.raises(metrics.Undefined, match="not a finite number on 1 rows"):
        metrics.roc_auc_binary(np.array([True, False, True]), np.array([0.2, np.nan, 0.9]))


def test_regression_metrics_equal_sklearn(rng):
    y_true = rng.normal(size=2000) * 30 + 150
    y_pred = y_true + rng.normal(size=2000) * 10
    assert metrics.mae(y_true, y_pred) == pytest.approx(sk.mean_absolute_error(y_true, y_pred), abs=TOL)
    assert metrics.rmse(y_true, y_pred) == pytest.approx(sk.root_mean_squared_error(y_true, y_pred), abs=TOL)
    assert metrics.r2(y_true, y_pred) == pytest.approx(sk.r2_score(y_true, y_pred), abs=TOL)


def test_r2_of_constant_labels_follows_sklearn():
    constant = np.full(4, 3.0)
    assert metrics.r2(constant, constant) == sk.r2_score(constant, constant) == 1.0
    assert metrics.r2(constant, constant + 1) == sk.r2_score(constant, constant + 1) == 0.0


def test_chunked_sums_give_the_same_figures(rng, monkeypatch):
    """Large inputs are processed in chunks to bound memory; the figures do not change."""
    monkeypatch.setattr(metrics, "CHUNK", 7)
    y_true = rng.integers(0, 2, 1000)
    score = rng.integers(0, 20, 1000) / 19.0
    assert metrics.roc_auc_binary(y_true == 1, score) == pytest.approx(
        sk.roc_auc_score(y_true, score), abs=TOL
    )
    assert metrics.log_loss_binary(y_true == 1, score) == pytest.approx(sk.log_loss(y_true, score), abs=TOL)
