"""End to end through a real Celery worker on Redis and PostgreSQL: real
models exported in the test (skl2onnx binary logistic regression, multiclass
MLP, ridge regression), a PyTorch MLP exported with torch.onnx (its small file
is committed, the suite needs no torch) and a safetensors file, with their
own predictions on scikit-learn data sets. Every measured metric equals
scikit-learn's, every parameter count equals the framework's own, and a false
accuracy claim fails the handover with a sentence naming both numbers."""

import hashlib
import json
import struct
from functools import cache
from pathlib import Path

import numpy as np
import pytest
from skl2onnx import to_onnx
from sklearn import metrics as sk
from sklearn.datasets import load_breast_cancer, load_diabetes, load_wine
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier
from sklearn.preprocessing import StandardScaler

from handoff.handovers import services
from handoff.handovers.models import ArtifactKind, Framework, Handover, HandoverState, TaskType
from handoff.validation.models import RunState, ValidationRun
from tests.factories import (
    ArtifactFactory,
    ClaimedMetricFactory,
    HandoverFactory,
    ModelFactory,
    ProjectFactory,
    RevisionFactory,
    member,
)
from tests.plugins.worker import assert_ran_in_worker
from tests.timing import wait_until

pytestmark = [
    pytest.mark.worker,
    # float32 probabilities widened to float64 sum to one only within float32 precision
    pytest.mark.filterwarnings("ignore:The y_prob values do not sum to one:UserWarning"),
]

TORCH = Path(__file__).parent / "checks" / "fixtures"


def _csv(columns):
    names = list(columns)
    rows = zip(*(columns[name] for name in names), strict=True)
    return ("\n".join([",".join(names), *(",".join(map(_cell, row)) for row in rows)]) + "\n").encode()


def _cell(value):
    return repr(float(value)) if isinstance(value, float | np.floating) else str(value)


def _split(x, y):
    return train_test_split(x.astype(np.float32), y, test_size=0.3, random_state=0)


@cache
def binary():
    x_train, x_test, y_train, y_test = _split(*load_breast_cancer(return_X_y=True))
    model = LogisticRegression(max_iter=5000).fit(x_train, y_train)
    # As the CSV holds them: float64 (scikit-learn keeps float32 for float32 input).
    score = model.predict_proba(x_test)[:, 1].astype(np.float64)
    predicted = model.predict(x_test)
    ids = np.arange(len(y_test)) * 3 + 11
    return {
        "task": TaskType.BINARY, "framework": Framework.SKLEARN,
        "model": ("model.onnx", to_onnx(model, x_train[:1], options={id(model): {"zipmap": False}})
                  .SerializeToString()),
        "predictions": _csv({"id": ids[::-1], "prediction": predicted[::-1], "score": score[::-1]}),
        "labels": _csv({"id": ids, "label": y_test}),
        "parameters": model.coef_.size + model.intercept_.size,
        "metrics": {"accuracy": sk.accuracy_score(y_test, predicted),
                    "precision": sk.precision_score(y_test, predicted),
                    "recall": sk.recall_score(y_test, predicted), "f1": sk.f1_score(y_test, predicted),
                    "roc_auc": sk.roc_auc_score(y_test, score), "log_loss": sk.log_loss(y_test, score)},
    }


@cache
def multiclass():
    x_train, x_test, y_train, y_test = _split(*load_wine(return_X_y=True))
    scaler = StandardScaler().fit(x_train)
    x_train = scaler.transform(x_train).astype(np.float32)
    x_test = scaler.transform(x_test).astype(np.float32)
    model = MLPClassifier(hidden_layer_sizes=(16,), max_iter=2000, random_state=0).fit(x_train, y_train)
    proba = model.predict_proba(x_test).astype(np.float64)
    predicted = model.predict(x_test)
    ids = np.arange(len(y_test)) + 100
    columns = {"id": ids, "prediction": predicted}
    columns.update({f"proba_{c}": proba[:, n] for n, c in enumerate(model.classes_)})
    return {
        "task": TaskType.MULTICLASS, "framework": Framework.SKLEARN,
        "model": ("model.onnx", to_onnx(model, x_train[:1], options={id(model): {"zipmap": False}})
                  .SerializeToString()),
        "predictions": _csv(columns), "labels": _csv({"id": ids, "label": y_test}),
        "parameters": sum(c.size for c in model.coefs_) + sum(i.size for i in model.intercepts_),
        "metrics": {"accuracy": sk.accuracy_score(y_test, predicted),
                    "f1": sk.f1_score(y_test, predicted, average="macro"),
                    "roc_auc": sk.roc_auc_score(y_test, proba, multi_class="ovr", average="macro"),
                    "log_loss": sk.log_loss(y_test, proba, labels=model.classes_)},
    }


@cache
def regression():
    x_train, x_test, y_train, y_test = _split(*load_diabetes(return_X_y=True))
    model = Ridge(alpha=1.0).fit(x_train, y_train)
    predicted = model.predict(x_test).astype(np.float64)
    ids = np.arange(len(y_test)) + 7
    return {
        "task": TaskType.REGRESSION, "framework": Framework.SKLEARN,
        "model": ("model.onnx", to_onnx(model, x_train[:1]).SerializeToString()),
        "predictions": _csv({"id": ids, "prediction": predicted}),
        "labels": _csv({"id": ids, "label": y_test}),
        "parameters": model.coef_.size + np.size(model.intercept_),
        "metrics": {"mae": sk.mean_absolute_error(y_test, predicted),
                    "rmse": sk.root_mean_squared_error(y_test, predicted),
                    "r2": sk.r2_score(y_test, predicted)},
    }


def torch_mlp():
    """The committed torch.onnx export, with the regression case's predictions as evidence."""
    recorded = json.loads((TORCH / "torch_mlp.json").read_text())
    return {**regression(), "framework": Framework.PYTORCH,
            "model": ("torch_mlp.onnx", (TORCH / "torch_mlp.onnx").read_bytes()),
            "parameters": recorded["parameters"]}


def safetensors():
    """Two float32 tensors and an int64 one (not parameters), header and bytes as the format says."""
    tensors = {"w": ("F32", [4, 3]), "b": ("F32", [3]), "steps": ("I64", [2])}
    header, offset, blob = {}, 0, b""
    for name, (dtype, shape) in tensors.items():
        size = int(np.prod(shape)) * (4 if dtype == "F32" else 8)
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [offset, offset + size]}
        blob += b"\0" * size
        offset += size
    encoded = json.dumps(header).encode()
    return {**regression(), "framework": Framework.OTHER,
            "model": ("weights.safetensors", struct.pack("<Q", len(encoded)) + encoded + blob),
            "parameters": 15}


def _file(case, *, claims=None):
    project = ProjectFactory()
    owner = member(project, "data_scientist")
    handover = HandoverFactory(model=ModelFactory(project=project, owner=owner))
    revision = RevisionFactory(
        handover=handover, number=1, task_type=case["task"], framework=case["framework"],
        parameter_count=case["parameters"], validation_row_count=None, latency_p95_ms=None,
        peak_memory_mb=None)
    for metric, value in (claims or case["metrics"]).items():
        ClaimedMetricFactory(revision=revision, metric=metric, claimed_value=round(value, 3), minimum=None)
    name, content = case["model"]
    for kind, (file_name, data) in {ArtifactKind.MODEL: (name, content),
                                    ArtifactKind.PREDICTIONS: ("predictions.csv", case["predictions"]),
                                    ArtifactKind.LABELS: ("labels.csv", case["labels"])}.items():
        ArtifactFactory(revision=revision, kind=kind, original_name=file_name, content=data)
    return handover, revision


def _validated(handover, revision, worker):
    services.submit_revision(handover.owner, revision)
    run = wait_until(lambda: ValidationRun.objects.filter(revision=revision, state__in=[
        RunState.PASSED, RunState.FAILED, RunState.ERROR]).first(), "the worker to validate the revision",
        timeout=90, detail=worker.log)
    assert_ran_in_worker({"hostname": run.worker, "pid": run.worker_pid}, worker)
    return run, {check.key: check for check in run.checks.all()}


@pytest.mark.parametrize("case", [binary, multiclass, regression, torch_mlp, safetensors],
                         ids=["binary-logistic-regression", "multiclass-mlp", "ridge-regression",
                              "pytorch-mlp", "safetensors"])
def test_every_claim_is_measured_in_the_worker_as_the_framework_and_scikit_learn_say(celery_worker, case):
    case = case()
    handover, revision = _file(case)
    run, checks = _validated(handover, revision, celery_worker)
    for metric, expected in case["metrics"].items():
        assert checks[f"metric.{metric}"].measured == pytest.approx(expected, abs=1e-9), metric
        assert checks[f"metric.{metric}"].status == "pass", checks[f"metric.{metric}"].message
    assert checks["model.parameters"].measured == case["parameters"]
    assert checks["model.parameters"].status == "pass", checks["model.parameters"].message
    failing = {key: c.message for key, c in checks.items() if c.status in ("fail", "error")}
    assert run.state == RunState.PASSED, failing
    assert Handover.objects.get(pk=handover.pk).state == HandoverState.AWAITING_REVIEW
    stored = revision.artifacts.get(kind="predictions")
    assert hashlib.sha256(case["predictions"]).hexdigest() == stored.sha256


def test_a_false_accuracy_claim_fails_the_handover_with_both_numbers(celery_worker):
    case = binary()
    measured = case["metrics"]["accuracy"]
    handover, revision = _file(case, claims={"accuracy": measured + 0.02})
    run, checks = _validated(handover, revision, celery_worker)
    assert run.state == RunState.FAILED
    message = checks["metric.accuracy"].message
    assert f"claimed {measured + 0.02:.3f}" in message and f"measured {measured:.3f}" in message, message
    assert Handover.objects.get(pk=handover.pk).state == HandoverState.VALIDATION_FAILED
