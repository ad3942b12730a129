"""Metrics on numpy arrays, vectorised, giving scikit-learn's figures (to 1e-9) with its defaults.

- Classes are small integer codes; in binary tasks code 1 is the positive class.
- precision, recall and F1 are 0.0 where scikit-learn's ``zero_division="warn"`` gives 0.0.
  Multiclass figures are macro averages over the classes that appear in the labels or the
  predictions, as scikit-learn's ``average="macro"`` does.
- ROC AUC is the Mann-Whitney statistic: sort, then count for each positive the negatives
  scored below it and half those tied with it, which is exactly the area under scikit-learn's
  trapezoidal ROC curve; integer counts keep it exact at millions of rows. Multiclass: the
  unweighted mean of one-vs-rest AUCs (``multi_class="ovr", average="macro"``).
- log loss clips probabilities to ``[eps, 1 - eps]`` (float64's machine epsilon) as scikit-learn
  1.9 does; it does not renormalise rows (scikit-learn only warns when they do not sum to 1).
- R² is 1.0 for a perfect fit of constant labels and 0.0 for an imperfect one
  (scikit-learn's ``force_finite=True``).
"""

import math

import numpy as np

EPS = float(np.finfo(np.float64).eps)
CHUNK = 1 << 20

CLASSIFICATION = ("accuracy", "precision", "recall", "f1", "roc_auc", "log_loss")
REGRESSION = ("mae", "rmse", "r2")
NEEDS_SCORES = frozenset({"roc_auc", "log_loss"})


class Undefined(Exception):
    """The metric has no value on this data; the message says why."""


def _divide(numerator, denominator):
    numerator = np.asarray(numerator, dtype=np.float64)
    denominator = np.asarray(denominator, dtype=np.float64)
    out = np.zeros_like(numerator)
    np.divide(numerator, denominator, out=out, where=denominator != 0)
    return out


def accuracy(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    return float(np.count_nonzero(y_true == y_pred) / len(y_true))


def binary_counts(y_true: np.ndarray, y_pred: np.ndarray) -> tuple[int, int, int]:
    """(true positives, predicted positives, actual positives) with code 1 positive."""
    t = y_true == 1
    p = y_pred == 1
    return int(np.count_nonzero(t & p)), int(np.count_nonzero(p)), int(np.count_nonzero(t))


def binary_scores(y_true: np.ndarray, y_pred: np.ndarray) -> dict[str, float]:
    tp, predicted, actual = binary_counts(y_true, y_pred)
    return {
        "precision": tp / predicted if predicted else 0.0,
        "recall": tp / actual if actual else 0.0,
        "f1": 2 * tp / (actual + predicted) if actual + predicted else 0.0,
    }


def macro_scores(y_true: np.ndarray, y_pred: np.ndarray, n_classes: int) -> dict[str, float]:
    confusion = np.bincount(
        y_true.astype(np.int64) * n_classes + y_pred.astype(np.int64), minlength=n_classes * n_classes
    ).reshape(n_classes, n_classes)
    tp = np.diag(confusion)
    predicted = confusion.sum(axis=0)
    actual = confusion.sum(axis=1)
    present = (predicted + actual) > 0
    return {
        "precision": float(np.mean(_divide(tp, predicted)[present])),
        "recall": float(np.mean(_divide(tp, actual)[present])),
        "f1": float(np.mean(_divide(2 * tp, actual + predicted)[present])),
    }


def _finite(values: np.ndarray, what: str) -> None:
    bad = np.count_nonzero(~np.isfinite(values))
    if bad:
        raise Undefined(f"{what} is empty or not a finite number on {bad:,} rows")


def _chunks(n: int):
    """Slices of at most CHUNK rows: temporaries stay small whatever the row count."""
    for start in range(0, n, CHUNK):
        yield slice(start, min(start + CHUNK, n))


def roc_auc_binary(positive: np.ndarray, score: np.ndarray) -> float:
    _finite(score, "the score")
    pos = score[positive]
    neg = score[~positive]
    if not len(pos) or not len(neg):
        raise Undefined("ROC AUC is not defined when the labels hold only one class")
    pos.sort()  # in place: these are copies already
    neg.sort()
    twice = 0  # twice the Mann-Whitney U: ties count one half
    for part in _chunks(len(pos)):
        below = np.searchsorted(neg, pos[part], side="left")
        not_above = np.searchsorted(neg, pos[part], side="right")
        twice += int(below.sum(dtype=np.int64)) + int(not_above.sum(dtype=np.int64))
    return twice / (2 * len(pos) * len(neg))


def roc_auc_ovr(y_true: np.ndarray, proba: np.ndarray, names: list[str]) -> float:
    _finite(proba, "a proba_ column")
    counts = np.bincount(y_true.astype(np.int64), minlength=proba.shape[1])
    absent = [names[c] for c in np.flatnonzero(counts == 0)]
    if absent:
        raise Undefined(f"one-vs-rest ROC AUC is not defined: class {absent[0]} has no rows in the labels")
    sums = proba.sum(axis=1)
    off = np.count_nonzero(~np.isclose(sums, 1.0, rtol=1e-5, atol=1e-8))
    if off:
        raise Undefined(
            f"the proba_ columns do not sum to 1 on {off:,} rows: multiclass ROC AUC needs probabilities"
        )
    return float(np.mean([roc_auc_binary(y_true == c, proba[:, c]) for c in range(proba.shape[1])]))


def _probabilities(values: np.ndarray, what: str) -> None:
    _finite(values, what)
    if values.size and (values.min() < 0 or values.max() > 1):
        outside = np.count_nonzero((values < 0) | (values > 1))
        raise Undefined(f"{what} is outside [0, 1] on {outside:,} rows: log loss needs probabilities")


def log_loss_binary(positive: np.ndarray, score: np.ndarray) -> float:
    _probabilities(score, "the score")
    total = 0.0
    for part in _chunks(len(score)):
        p_true = np.where(positive[part], score[part], 1.0 - score[part])
        total += float(np.log(np.clip(p_true, EPS, 1 - EPS, out=p_true), out=p_true).sum())
    return -total / len(score)


def log_loss_multiclass(y_true: np.ndarray, proba: np.ndarray) -> float:
    _probabilities(proba, "a proba_ column")
    p_true = proba[np.arange(len(y_true)), y_true.astype(np.int64)]
    return float(-np.mean(np.log(np.clip(p_true, EPS, 1 - EPS))))


def rows_not_summing_to_one(proba: np.ndarray) -> int:
    sums = proba.sum(axis=1)
    return int(np.count_nonzero(~np.isclose(sums, 1.0, rtol=math.sqrt(EPS), atol=0)))


def mae(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    return float(np.mean(np.abs(y_pred - y_true)))


def rmse(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    return float(np.sqrt(np.mean((y_true - y_pred) ** 2)))


def r2(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    numerator = float(((y_true - y_pred) ** 2).sum())
    denominator = float(((y_true - np.mean(y_true)) ** 2).sum())
    if denominator == 0:
        return 1.0 if numerator == 0 else 0.0
    return 1 - numerator / denominator
