"""The runtime probe: the model runs in a child process, timed, its memory measured, and a
model that fails, hangs or crashes takes down only the child."""

import json
import os

import numpy as np
import onnx
from onnx import TensorProto, helper

from handoff.validation.checks import FAIL, PASS, SKIPPED, Terms, environment, runtime
from handoff.validation.checks.model import inspect, runtime_outcomes

from .conftest import FIXTURES, artifact, write_table


def _terms(**budgets) -> Terms:
    return Terms(task_type="binary_classification", framework="scikit-learn", **budgets)


def _run(terms, model_path, sample=None, progress=None):
    model = artifact(model_path, "model")
    found = inspect(model)
    return runtime_outcomes(
        terms, found, model, sample, threads=1, progress=progress, environment=environment(1)
    )


def test_latency_and_memory_are_measured_against_the_budgets(binary_case):
    calls = []
    latency, memory = _run(
        _terms(latency_p95_ms=1000, peak_memory_mb=500, latency_batch_size=4),
        binary_case.onnx_path,
        progress=lambda *call: calls.append(call),
    )
    assert latency.key == "runtime.latency_p95_ms" and latency.status == PASS
    assert 0 < latency.measured < 1000 and latency.unit == "ms" and latency.limit == 1000
    assert latency.details["p50_ms"] <= latency.details["p95_ms"] <= latency.details["max_ms"]
    assert latency.details["runs"] >= 5 and latency.details["threads"] == 1
    assert latency.details["inputs"] == {"X": {"shape": [4, 30], "dtype": "float32"}}
    assert latency.details["cpu_model"]
    assert memory.key == "runtime.peak_memory_mb" and memory.status == PASS
    assert 0 < memory.measured < 500 and memory.unit == "MB"
    assert memory.details["baseline_rss_mb"] > memory.measured / 10  # the baseline is not counted
    assert "at batch size 4: within the maximum of 1,000 ms" in latency.message


def test_a_budget_that_is_too_small_fails_with_both_figures(binary_case):
    latency, memory = _run(_terms(latency_p95_ms=1e-6, peak_memory_mb=0.001), binary_case.onnx_path)
    assert latency.status == FAIL and "above the maximum" in latency.message
    assert memory.status == FAIL and "above the maximum of 0.001 MB" in memory.message


def test_without_budgets_the_figures_are_reported_and_skipped(binary_case):
    latency, memory = _run(_terms(), binary_case.onnx_path)
    assert latency.status == memory.status == SKIPPED
    assert latency.measured > 0 and "no latency budget" in latency.message
    assert memory.measured >= 0 and "no memory budget" in memory.message


def test_symbolic_batch_dimension_follows_the_contract(tmp_path):
    latency, _ = _run(_terms(latency_batch_size=3), FIXTURES / "torch_mlp.onnx")
    assert latency.details["inputs"] == {"features": {"shape": [3, 12], "dtype": "float32"}}


def test_sample_input_from_csv_is_used(tmp_path, binary_case):
    columns = {"id": np.arange(5)} | {f"f{i}": binary_case.X_test[:5, i] for i in range(30)}
    sample = artifact(write_table(tmp_path / "sample.csv", columns), "sample_input")
    latency, _ = _run(_terms(latency_p95_ms=1000, latency_batch_size=8), binary_case.onnx_path, sample)
    assert latency.status == PASS
    assert latency.details["input_source"] == "sample_input"
    assert latency.details["inputs"]["X"]["shape"] == [8, 30]  # five rows, repeated to the batch


def test_sample_input_from_npy_is_loaded_without_pickle(tmp_path, binary_case):
    path = tmp_path / "sample.npy"
    np.save(path, binary_case.X_test[:2])
    latency, _ = _run(_terms(latency_p95_ms=1000), binary_case.onnx_path, artifact(path, "sample_input"))
    assert latency.status == PASS and latency.details["inputs"]["X"]["shape"] == [1, 30]


def test_an_object_npy_sample_is_refused(tmp_path, binary_case):
    path = tmp_path / "sample.npy"
    np.save(path, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    latency, memory = _run(_terms(), binary_case.onnx_path, artifact(path, "sample_input"))
    assert latency.status == memory.status == FAIL
    assert "without pickle" in latency.message


def test_a_sample_with_the_wrong_number_of_columns_fails(tmp_path, binary_case):
    sample = artifact(write_table(tmp_path / "sample.csv", {"a": [1.0], "b": [2.0]}), "sample_input")
    latency, _ = _run(_terms(), binary_case.onnx_path, sample)
    assert latency.status == FAIL
    assert "2 feature columns, but input 'X' takes 30" in latency.message


def test_a_model_onnxruntime_cannot_load_fails_cleanly(tmp_path):
    node = helper.make_node("Mystery", ["x"], ["y"], domain="com.example.custom")
    graph = helper.make_graph(
        [node],
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [None, 2])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [None, 2])],
    )
    model = helper.make_model(
        graph, opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("com.example.custom", 1)]
    )
    model.ir_version = 8
    path = tmp_path / "custom.onnx"
    onnx.save(model, path)
    latency, memory = _run(_terms(), path)
    assert latency.status == memory.status == FAIL
    assert "onnxruntime cannot load the model" in latency.message


def test_a_model_that_takes_too_long_is_stopped(monkeypatch, binary_case):
    monkeypatch.setattr(
        runtime, "TIMING", runtime.Timing(min_seconds=60, max_runs=10**9, timeout_seconds=1.5)
    )
    latency, memory = _run(_terms(), binary_case.onnx_path)
    assert latency.status == memory.status == FAIL
    assert "did not finish" in latency.message and "stopped" in latency.message


def test_a_crashing_probe_is_reported_not_raised(monkeypatch, tmp_path, binary_case):
    crasher = tmp_path / "crash.py"
    crasher.write_text("import os, signal\nos.kill(os.getpid(), signal.SIGSEGV)\n")
    monkeypatch.setattr(runtime, "PROBE", crasher)
    latency, _ = _run(_terms(), binary_case.onnx_path)
    assert latency.status == FAIL and "crashed" in latency.message and "SIGSEGV" in latency.message


def test_the_child_gets_its_own_limits_and_no_project_environment(monkeypatch, tmp_path, binary_case):
    spy = tmp_path / "spy.py"
    spy.write_text(
        "import json, os, resource, sys\n"
        "sys.stdin.read()\n"
        "print(json.dumps({'event': 'error', 'stage': 'spy', 'message': json.dumps({\n"
        "  'env': sorted(os.environ), 'modules': sorted(m for m in sys.modules if m.startswith(('django',"
        " 'celery', 'handoff'))),\n"
        "  'flags': [sys.flags.isolated, sys.flags.dont_write_bytecode]})}))\n"
    )
    monkeypatch.setenv("DJANGO_SETTINGS_MODULE", "handoff.settings")
    monkeypatch.setenv("SECRET_KEY", "not-for-the-child")
    monkeypatch.setattr(runtime, "PROBE", spy)
    latency, _ = _run(_terms(), binary_case.onnx_path)
    seen = json.loads(latency.message)
    assert "SECRET_KEY" not in seen["env"] and "DJANGO_SETTINGS_MODULE" not in seen["env"]
    assert seen["modules"] == [] and seen["flags"] == [1, 1]


def test_the_probe_sets_its_limits_before_importing(monkeypatch):
    calls = []
    import resource

    from handoff.validation.checks import probe

    monkeypatch.setattr(resource, "setrlimit", lambda which, value: calls.append((which, value)))
    monkeypatch.setattr(probe.signal, "signal", lambda *args: None)
    probe.set_limits({"memory_limit_bytes": 1 << 30, "cpu_limit_seconds": 10})
    limits = dict(calls)
    assert limits[resource.RLIMIT_AS] == (1 << 30, 1 << 30)
    assert limits[resource.RLIMIT_CPU] == (10, 15)
    assert limits[resource.RLIMIT_CORE] == (0, 0) and limits[resource.RLIMIT_FSIZE] == (0, 0)


def test_safetensors_and_pickles_are_not_run(tmp_path):
    pickled = tmp_path / "model.pkl"
    pickled.write_bytes(b"\x80\x04N.")
    latency, memory = _run(_terms(latency_p95_ms=5), pickled)
    assert latency.status == memory.status == SKIPPED
    assert "never loaded" in latency.message
    assert not any(p for p in os.listdir(tmp_path) if p != "model.pkl")
