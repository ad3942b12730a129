"""Real models, real files: scikit-learn estimators trained on datasets shipped inside
scikit-learn, exported with skl2onnx, and their own predictions written as CSV or Parquet.

Each case is built once per test session; scikit-learn is the oracle for every figure.
"""

import hashlib
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from skl2onnx import to_onnx
from sklearn.datasets import load_breast_cancer, load_diabetes, load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier

from handoff.validation.checks import ArtifactFile, runtime

FIXTURES = Path(__file__).parent / "fixtures"


def artifact(path: Path, kind: str, name: str | None = None) -> ArtifactFile:
    """An ArtifactFile as Django would record it at upload: size and sha256 of the bytes."""
    data = Path(path).read_bytes()
    return ArtifactFile(
        kind=kind,
        path=Path(path),
        name=name or Path(path).name,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
    )


def write_table(path: Path, columns: dict) -> Path:
    """CSV or Parquet by the file's extension."""
    frame = pd.DataFrame(columns)
    if path.suffix == ".parquet":
        frame.to_parquet(path, index=False)
    else:
        frame.to_csv(path, index=False)
    return path


@dataclass
class Case:
    """A trained estimator, its ONNX export, and its predictions on a held-out split."""

    estimator: object
    onnx_path: Path
    X_test: np.ndarray
    y_test: np.ndarray
    ids: np.ndarray  # the test rows' ids, as written to both files
    prediction: np.ndarray
    proba: np.ndarray | None  # predict_proba, rows x classes (classifiers)
    expected_parameters: int  # the framework's own count

    def predictions_columns(self, order=None) -> dict:
        order = np.arange(len(self.ids)) if order is None else order
        columns = {"id": self.ids[order], "prediction": self.prediction[order]}
        if self.proba is not None and self.proba.shape[1] == 2:
            columns["score"] = self.proba[order, 1]
        elif self.proba is not None:
            for position, cls in enumerate(self.estimator.classes_):
                columns[f"proba_{cls}"] = self.proba[order, position]
        return columns

    def labels_columns(self, order=None) -> dict:
        order = np.arange(len(self.ids)) if order is None else order
        return {
            "id": self.ids[order],
            "label": self.y_test[order],
            "group": np.where(self.ids[order] % 2 == 0, "a", "b"),
        }

    def write(self, folder: Path, suffix: str = ".csv") -> tuple[ArtifactFile, ArtifactFile]:
        """Predictions in file order, labels in reverse order: the join must not rely on order."""
        folder.mkdir(parents=True, exist_ok=True)
        reverse = np.arange(len(self.ids))[::-1]
        predictions = write_table(folder / f"predictions{suffix}", self.predictions_columns())
        labels = write_table(folder / f"labels{suffix}", self.labels_columns(reverse))
        return artifact(predictions, "predictions"), artifact(labels, "labels")

    def model(self) -> ArtifactFile:
        return artifact(self.onnx_path, "model")


def _split(X, y, seed=0):
    return train_test_split(X, y, test_size=0.3, random_state=seed)


def _export(estimator, X_train, path: Path) -> Path:
    options = {"zipmap": False} if hasattr(estimator, "classes_") else None
    onnx_model = to_onnx(estimator, X_train[:1].astype(np.float32), options=options)
    path.write_bytes(onnx_model.SerializeToString())
    return path


@pytest.fixture(scope="session")
def binary_case(tmp_path_factory) -> Case:
    """LogisticRegression on breast cancer (binary): skl2onnx writes its weights twice, as -w and w."""
    X, y = load_breast_cancer(return_X_y=True)
    X_train, X_test, y_train, y_test = _split(X, y)
    estimator = LogisticRegression(solver="liblinear").fit(X_train, y_train)
    path = _export(estimator, X_train, tmp_path_factory.mktemp("binary") / "logistic.onnx")
    return Case(
        estimator,
        path,
        X_test,
        y_test,
        ids=np.arange(len(y_test)) * 7 + 1000,
        prediction=estimator.predict(X_test),
        proba=estimator.predict_proba(X_test),
        expected_parameters=estimator.coef_.size + estimator.intercept_.size,
    )


@pytest.fixture(scope="session")
def multiclass_case(tmp_path_factory) -> Case:
    """An MLPClassifier on digits (10 classes)."""
    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = _split(X / 16.0, y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        estimator = MLPClassifier(hidden_layer_sizes=(24,), max_iter=60, random_state=0).fit(X_train, y_train)
    path = _export(estimator, X_train, tmp_path_factory.mktemp("multiclass") / "mlp.onnx")
    return Case(
        estimator,
        path,
        X_test,
        y_test,
        ids=np.arange(len(y_test)) + 1,
        prediction=estimator.predict(X_test),
        proba=estimator.predict_proba(X_test),
        expected_parameters=sum(c.size for c in estimator.coefs_)
        + sum(i.size for i in estimator.intercepts_),
    )


@pytest.fixture(scope="session")
def regression_case(tmp_path_factory) -> Case:
    """Ridge regression on diabetes."""
    X, y = load_diabetes(return_X_y=True)
    X_train, X_test, y_train, y_test = _split(X, y)
    estimator = Ridge(alpha=0.5).fit(X_train, y_train)
    path = _export(estimator, X_train, tmp_path_factory.mktemp("regression") / "ridge.onnx")
    return Case(
        estimator,
        path,
        X_test,
        y_test,
        ids=np.arange(len(y_test)) + 500,
        prediction=estimator.predict(X_test),
        proba=None,
        expected_parameters=estimator.coef_.size + np.size(estimator.intercept_),
    )


@pytest.fixture(autouse=True)
def _quick_timing(monkeypatch):
    """The probe measures briefly in tests; the figures are not what is being tested."""
    monkeypatch.setattr(
        runtime,
        "TIMING",
        runtime.Timing(
            warmup_runs=1, min_runs=5, min_seconds=0.05, max_runs=200, max_seconds=2, timeout_seconds=60
        ),
    )
