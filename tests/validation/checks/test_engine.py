"""run_checks end to end: stable keys and order, hostile files, and nothing raised for bad input."""

import ast
import json
import pickle
import shutil
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from onnx import TensorProto, helper, numpy_helper
from sklearn import metrics as sk

from handoff.validation import checks
from handoff.validation.checks import (
    CHECK_KEYS_DOC,
    ERROR,
    FAIL,
    PASS,
    SKIPPED,
    ArtifactFile,
    Claim,
    Outcome,
    Terms,
    environment,
    run_checks,
)

from .conftest import FIXTURES, artifact, write_table
from .test_safetensors_model import write_safetensors

PACKAGE = Path(checks.__file__).parent
MODEL_KEYS = [
    "integrity",
    "model.format",
    "model.framework",
    "model.parameters",
    "runtime.latency_p95_ms",
    "runtime.peak_memory_mb",
]


def _binary_terms(case, **extra) -> Terms:
    accuracy = sk.accuracy_score(case.y_test, case.prediction)
    defaults = dict(
        task_type="binary_classification",
        framework="scikit-learn",
        claims=[
            Claim("accuracy", accuracy, minimum=0.9),
            Claim("roc_auc", sk.roc_auc_score(case.y_test, case.proba[:, 1])),
            Claim("log_loss", sk.log_loss(case.y_test, case.proba[:, 1]), maximum=0.5),
        ],
        latency_p95_ms=1000,
        peak_memory_mb=1000,
        parameter_count=case.expected_parameters,
        row_count=len(case.ids),
        fairness_slice_column="group",
        fairness_max_gap=0.2,
    )
    return Terms(**(defaults | extra))


def _run(terms, artifacts, **kwargs) -> list[Outcome]:
    outcomes = list(run_checks(terms, artifacts, **kwargs))
    for outcome in outcomes:
        json.dumps(outcome.details)
        assert outcome.status in (PASS, FAIL, ERROR, SKIPPED)
        if outcome.status != PASS:
            assert outcome.message, outcome.key
    return outcomes


def _by_key(outcomes) -> dict:
    return {o.key: o for o in outcomes}


def test_a_sound_binary_handover_passes_every_check_in_a_stable_order(tmp_path, binary_case):
    predictions, labels = binary_case.write(tmp_path)
    calls = []
    outcomes = _run(
        _binary_terms(binary_case),
        [binary_case.model(), predictions, labels],
        progress=lambda *call: calls.append(call),
    )
    assert [o.key for o in outcomes] == [
        *MODEL_KEYS,
        "data.ids",
        "data.rows",
        "metric.accuracy",
        "metric.roc_auc",
        "metric.log_loss",
        "fairness.accuracy_gap",
    ]
    assert {o.key: o.status for o in outcomes} == {o.key: PASS for o in outcomes}
    keys_reported = {key for key, _, _ in calls}
    assert {"integrity", "data.ids"} <= keys_reported
    found = _by_key(outcomes)
    assert found["model.parameters"].measured == 31
    assert found["runtime.latency_p95_ms"].details["cpu_model"] == environment()["cpu_model"]


def test_a_multiclass_mlp_handover(tmp_path, multiclass_case):
    predictions, labels = multiclass_case.write(tmp_path, ".parquet")
    terms = Terms(
        "multiclass_classification",
        "scikit-learn",
        [Claim("f1", sk.f1_score(multiclass_case.y_test, multiclass_case.prediction, average="macro"))],
        parameter_count=multiclass_case.expected_parameters,
    )
    found = _by_key(_run(terms, [multiclass_case.model(), predictions, labels], threads=2))
    assert found["model.parameters"].status == PASS and found["metric.f1"].status == PASS
    assert found["runtime.latency_p95_ms"].details["threads"] == 2
    assert found["runtime.latency_p95_ms"].status == SKIPPED  # measured, but no budget


def test_a_wrong_parameter_count_and_framework_fail(tmp_path, regression_case):
    predictions, labels = regression_case.write(tmp_path)
    terms = Terms("regression", "pytorch", [Claim("r2", 0.4)], parameter_count=12)
    found = _by_key(_run(terms, [regression_case.model(), predictions, labels]))
    assert found["model.parameters"].status == FAIL
    assert found["model.parameters"].message.startswith("parameters claimed 12, counted 11")
    assert found["model.framework"].status == FAIL
    assert found["model.framework"].message == (
        "declared pytorch, but the file was written by skl2onnx (scikit-learn)"
    )


def test_the_pytorch_export_matches_its_declared_framework_and_count(tmp_path):
    model = artifact(FIXTURES / "torch_mlp.onnx", "model")
    record = json.loads((FIXTURES / "torch_mlp.json").read_text())
    terms = Terms("multiclass_classification", "pytorch", [], parameter_count=record["parameters"])
    found = _by_key(_run(terms, [model]))
    assert found["model.framework"].status == PASS and found["model.parameters"].status == PASS
    assert found["model.format"].details["producer_name"] == "pytorch"
    assert found["integrity"].status == FAIL  # no predictions, no labels
    assert found["data.ids"].status == SKIPPED


def _pickle_with_marker(path: Path, marker: Path) -> Path:
    class Trap:
        def __reduce__(self):
            return (open, (str(marker), "w"))

    path.write_bytes(pickle.dumps(Trap(), protocol=4))
    return path


def test_the_pickle_trap_really_would_fire(tmp_path):
    """The trap used below: unpickling it creates the marker file."""
    marker = tmp_path / "fired"
    pickle.loads(_pickle_with_marker(tmp_path / "trap.pkl", marker).read_bytes())
    assert marker.exists()


def test_a_pickle_named_onnx_fails_and_is_never_unpickled(tmp_path, binary_case):
    marker = tmp_path / "unpickled"
    model = artifact(_pickle_with_marker(tmp_path / "model.onnx", marker), "model")
    predictions, labels = binary_case.write(tmp_path / "data")
    found = _by_key(_run(_binary_terms(binary_case), [model, predictions, labels]))
    assert found["model.format"].status == FAIL
    assert found["model.format"].message == (
        "not an ONNX file: it is a Python pickle, and pickles are never loaded"
    )
    for key in MODEL_KEYS[2:]:
        assert found[key].status == SKIPPED and "not a valid ONNX file" in found[key].message
    assert found["metric.accuracy"].status == PASS  # the data checks still run
    assert not marker.exists()


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("model.pkl", "cannot be verified: pickle files are never loaded or executed"),
        ("model.joblib", "cannot be verified: joblib files are pickles"),
        ("model.pt", "cannot be verified: PyTorch .pt files are pickles"),
        ("model.h5", "cannot be verified: Keras .h5 files are never loaded"),
    ],
    ids=["pickle", "joblib", "pt", "h5"],
)
def test_formats_that_are_never_loaded_are_skipped(tmp_path, name, reason):
    marker = tmp_path / "unpickled"
    model = artifact(_pickle_with_marker(tmp_path / name, marker), "model")
    found = _by_key(_run(Terms("binary_classification", "scikit-learn", [], parameter_count=10), [model]))
    assert found["model.format"].status == SKIPPED and found["model.format"].message.startswith(reason)
    assert found["model.parameters"].status == SKIPPED and "never loaded" in found["model.parameters"].message
    assert found["runtime.latency_p95_ms"].status == SKIPPED
    assert not marker.exists()


def test_onnx_external_data_pointing_outside_its_folder_fails(tmp_path):
    tensor = numpy_helper.from_array(np.ones(4, np.float32), "w")
    tensor.ClearField("raw_data")
    tensor.data_location = TensorProto.EXTERNAL
    for key, value in (("location", "../../etc/passwd"), ("offset", "0"), ("length", "16")):
        entry = tensor.external_data.add()
        entry.key, entry.value = key, value
    graph = helper.make_graph(
        [helper.make_node("Add", ["x", "w"], ["y"])],
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [4])],
        [tensor],
    )
    onnx_model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    folder = tmp_path / "artifacts"
    folder.mkdir()
    path = folder / "model.onnx"
    path.write_bytes(onnx_model.SerializeToString())
    found = _by_key(_run(Terms("regression", "other", []), [artifact(path, "model")]))
    assert found["model.format"].status == FAIL
    assert "external data refused" in found["model.format"].message
    assert "'../../etc/passwd', outside the model's folder" in found["model.format"].message
    assert found["runtime.latency_p95_ms"].status == SKIPPED


def test_a_safetensors_header_claiming_a_huge_length_fails(tmp_path):
    path = tmp_path / "weights.safetensors"
    path.write_bytes(struct.pack("<Q", 2**63) + b"{}")
    found = _by_key(_run(Terms("regression", "pytorch", []), [artifact(path, "model")]))
    assert found["model.format"].status == FAIL
    assert found["model.format"].message.startswith("not a valid safetensors file: its header claims")


def test_safetensors_weights_are_counted_but_not_run(tmp_path):
    path = write_safetensors(
        tmp_path / "weights.safetensors",
        {"w": np.zeros((4, 3), np.float32), "ids": np.arange(3)},
        {"format": "pt"},
    )
    found = _by_key(_run(Terms("regression", "pytorch", [], parameter_count=12), [artifact(path, "model")]))
    assert found["model.format"].status == PASS
    assert found["model.parameters"].status == PASS and found["model.parameters"].measured == 12
    assert found["model.framework"].status == PASS
    assert found["runtime.latency_p95_ms"].status == SKIPPED
    assert "safetensors holds weights only" in found["runtime.latency_p95_ms"].message


def test_an_empty_model_file_fails(tmp_path):
    path = tmp_path / "model.onnx"
    path.write_bytes(b"")
    found = _by_key(_run(Terms("regression", "other", []), [artifact(path, "model")]))
    assert found["model.format"].status == FAIL and "the file is empty" in found["model.format"].message


def test_a_csv_with_bom_and_quoted_header_is_read(tmp_path, binary_case):
    ids = binary_case.ids
    rows = "".join(
        f'"{i}","{p}","{float(s)!r}"\n'
        for i, p, s in zip(ids, binary_case.prediction, binary_case.proba[:, 1])
    )
    p_path = tmp_path / "predictions.csv"
    p_path.write_bytes(('\ufeff"id","prediction","score"\n' + rows).encode())
    labels = artifact(write_table(tmp_path / "labels.csv", binary_case.labels_columns()), "labels")
    terms = _binary_terms(binary_case, fairness_slice_column="")
    found = _by_key(_run(terms, [binary_case.model(), artifact(p_path, "predictions"), labels]))
    assert found["data.ids"].status == PASS
    assert found["metric.roc_auc"].status == PASS


def test_a_bug_in_one_check_is_an_error_and_the_others_run(tmp_path, binary_case, monkeypatch):
    from handoff.validation.checks import model

    def broken(terms, found):
        raise ZeroDivisionError("division by zero")

    monkeypatch.setattr(model, "parameters_outcome", broken)
    predictions, labels = binary_case.write(tmp_path)
    found = _by_key(_run(_binary_terms(binary_case), [binary_case.model(), predictions, labels]))
    assert found["model.parameters"].status == ERROR
    assert "ZeroDivisionError" in found["model.parameters"].message
    assert found["metric.accuracy"].status == PASS and found["model.framework"].status == PASS


def test_a_bug_while_reading_data_is_an_error_for_each_data_check(tmp_path, binary_case, monkeypatch):
    from handoff.validation.checks import data

    def broken(*args, **kwargs):
        raise IndexError("index out of range")

    monkeypatch.setattr(data, "join", broken)
    predictions, labels = binary_case.write(tmp_path)
    outcomes = _run(_binary_terms(binary_case), [binary_case.model(), predictions, labels])
    found = _by_key(outcomes)
    data_keys = [o.key for o in outcomes][len(MODEL_KEYS) :]
    assert data_keys == [
        "data.ids",
        "data.rows",
        "metric.accuracy",
        "metric.roc_auc",
        "metric.log_loss",
        "fairness.accuracy_gap",
    ]
    assert {found[key].status for key in data_keys} == {ERROR}
    assert found["model.format"].status == PASS


def test_an_exception_from_progress_stops_the_run_and_reaches_the_caller(tmp_path, binary_case):
    class Cancelled(Exception):
        pass

    def progress(key, done, total):
        raise Cancelled(key)

    predictions, labels = binary_case.write(tmp_path)
    with pytest.raises(Cancelled):
        list(run_checks(_binary_terms(binary_case), [binary_case.model(), predictions, labels], progress))


def test_a_missing_file_on_disk_is_reported_not_raised(tmp_path, binary_case):
    predictions, labels = binary_case.write(tmp_path)
    gone = ArtifactFile("labels", tmp_path / "nowhere.csv", "labels.csv", labels.size, labels.sha256)
    found = _by_key(_run(_binary_terms(binary_case), [binary_case.model(), predictions, gone]))
    assert found["integrity"].status == FAIL
    assert found["data.ids"].status == FAIL and "labels.csv" in found["data.ids"].message


def test_check_keys_doc_covers_every_key(tmp_path, binary_case):
    predictions, labels = binary_case.write(tmp_path)
    for outcome in _run(_binary_terms(binary_case), [binary_case.model(), predictions, labels]):
        pattern = outcome.key
        if pattern.startswith("metric."):
            pattern = "metric.<name>"
        elif pattern.startswith("fairness."):
            pattern = "fairness.<metric>_gap"
        assert CHECK_KEYS_DOC[pattern]


ALLOWED_IMPORTS = {"numpy", "pyarrow", "onnx", "onnxruntime"}


def test_the_engine_imports_no_django_and_nothing_of_the_project():
    for path in PACKAGE.glob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level:  # relative: inside the package
                    continue
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                assert top in ALLOWED_IMPORTS or top in sys.stdlib_module_names, f"{path.name} imports {name}"


def test_the_engine_runs_outside_the_project(tmp_path):
    """Imported as a package of its own, with no handoff and no Django anywhere.

    A copy in a folder of its own: on the path, the app's folder would let its
    modules (``selectors.py``) shadow the standard library's."""
    shutil.copytree(PACKAGE, tmp_path / "checks", ignore=shutil.ignore_patterns("__pycache__"))
    code = (
        "import sys; sys.path.insert(0, sys.argv[1]); import checks; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('django', 'celery', 'handoff')))"
    )
    result = subprocess.run(
        [sys.executable, "-I", "-c", code, str(tmp_path)], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
