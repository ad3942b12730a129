"""``run_checks``: every check of one revision, in a stable order, one Outcome each."""

import os
import platform
import time
from collections.abc import Callable, Iterator

from . import data, integrity, model, runtime
from .outcomes import CallerError, Outcome, error_outcome, guard, is_stopping
from .terms import ArtifactFile, Terms

CHECK_KEYS_DOC = {
    "integrity": (
        "Every required artifact (model, predictions, labels) is attached, and its size and sha256,"
        " recomputed from the stored file, equal those recorded at upload."
    ),
    "model.format": (
        "The model file parses safely as ONNX (checker run; external data must stay in the model's folder)"
        " or safetensors (header only); opset, inputs, outputs and producer in details. Pickle, joblib,"
        " .pt, .h5 and other formats are never loaded: SKIPPED as 'cannot be verified'. When the contract"
        " names the formats it accepts, a model in another format fails, and so does one whose format"
        " cannot be verified."
    ),
    "model.framework": (
        "The declared framework agrees with the framework the file's producer stands for (skl2onnx:"
        " scikit-learn, pytorch: PyTorch, tf2onnx/keras2onnx: TensorFlow, onnxmltools: XGBoost or"
        " LightGBM); SKIPPED when the producer does not say."
    ),
    "model.parameters": (
        "The learned floating-point values in the file (initializers, Constant nodes, ai.onnx.ml"
        " coefficients, thresholds and weights; safetensors float tensors) equal the claimed count and"
        " do not exceed the contract's parameter budget. A budget on a model that cannot be counted"
        " fails: it cannot be verified."
    ),
    "runtime.latency_p95_ms": (
        "95th-percentile latency of one onnxruntime call at the contract's batch size, on the sample"
        " input or synthesised inputs, with a fixed thread count; against the latency budget."
    ),
    "runtime.peak_memory_mb": (
        "Peak resident memory that loading and running the model added above the measuring process's"
        " baseline; against the memory budget."
    ),
    "data.ids": (
        "Predictions and labels are readable and their ids match one to one: missing, unknown and"
        " duplicated ids are counted with examples; metrics use the rows whose id appears once in each file."
    ),
    "data.rows": "The labels file's row count equals the claimed row count of the validation set.",
    "metric.<name>": (
        "A claimed metric (accuracy, precision, recall, f1, roc_auc, log_loss, mae, rmse, r2) re-measured"
        " from the predictions and labels as scikit-learn computes it, within the claim's tolerance and"
        " its minimum or maximum."
    ),
    "fairness.<metric>_gap": (
        "The metric per value of the contract's slice column; the largest difference between two slices"
        " against the largest gap allowed."
    ),
}

PROGRESS_INTERVAL = 0.1  # seconds between progress calls for the same check


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as info:
            for line in info:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown"


def environment(threads: int = 1) -> dict:
    """The CPU and thread count to show beside the runtime figures."""
    return {"cpu_model": cpu_model(), "threads": threads, "logical_cpus": os.cpu_count()}


def _reporter(progress: Callable | None) -> Callable | None:
    """The caller's progress callback, rate-limited, with its exceptions marked as the caller's."""
    if progress is None:
        return None
    last: dict[str, float] = {}

    def report(key: str, done: int, total: int | None) -> None:
        now = time.monotonic()
        finished = total is not None and done >= total
        if not finished and now - last.get(key, 0.0) < PROGRESS_INTERVAL:
            return
        last[key] = now
        try:
            progress(key, done, total)
        except Exception as exc:
            raise CallerError(exc) from exc

    return report


def _one(artifacts: list[ArtifactFile], kind: str) -> ArtifactFile | None:
    return next((a for a in artifacts if a.kind == kind), None)


def _guarded_series(keys: list[str], outcomes: Callable[[], Iterator[Outcome]]) -> Iterator[Outcome]:
    """The outcomes of a series of checks; if it breaks, an ERROR for each key it did not reach."""
    done = set()
    try:
        for outcome in outcomes():
            done.add(outcome.key)
            yield outcome
    except Exception as exc:
        if is_stopping(exc):
            raise
        for key in keys:
            if key not in done:
                yield error_outcome(key, exc)


def run_checks(
    terms: Terms, artifacts: list[ArtifactFile], progress=None, *, threads: int = 1
) -> Iterator[Outcome]:
    """Yields every Outcome in a stable order. ``progress(check_key, done, total)`` (total may be
    None) is called often enough for a live progress bar (rows read while reading data; runs while
    timing). Never raises for bad input: a bad file is a FAIL or SKIPPED outcome with a message; an
    unexpected bug in one check becomes an ERROR outcome for that check and the others still run.
    An exception raised by ``progress`` itself stops the run and is raised again to the caller."""
    try:
        yield from _run(terms, artifacts, _reporter(progress), max(int(threads or 1), 1))
    except CallerError as exc:
        raise exc.original from None


def _run(terms: Terms, artifacts: list[ArtifactFile], report, threads: int) -> Iterator[Outcome]:
    env = environment(threads)
    yield guard(integrity.KEY, lambda: integrity.check(artifacts, report))

    model_file = _one(artifacts, "model")
    try:
        found = model.inspect(model_file)
    except Exception as exc:
        if is_stopping(exc):
            raise
        found = model.Inspection(
            "",
            error_outcome(model.FORMAT, exc),
            why_not="the model file could not be inspected (see model.format)",
        )
    yield guard(model.FORMAT, lambda: model.format_outcome(terms, found))
    yield guard(model.FRAMEWORK, lambda: model.framework_outcome(terms, found))
    yield guard(model.PARAMETERS, lambda: model.parameters_outcome(terms, found))
    yield from _guarded_series(
        [runtime.LATENCY, runtime.MEMORY],
        lambda: iter(
            model.runtime_outcomes(
                terms,
                found,
                model_file,
                _one(artifacts, "sample_input"),
                threads=threads,
                progress=report,
                environment=env,
            )
        ),
    )

    data_keys = [data.IDS, data.ROWS] + [data.metric_key(c.metric) for c in data.unique_claims(terms)]
    if terms.fairness_slice_column:
        data_keys.append(data.fairness_key(terms))
    yield from _guarded_series(
        data_keys,
        lambda: data.check(
            terms,
            _one(artifacts, "predictions"),
            _one(artifacts, "labels"),
            progress=report,
            threads=threads,
        ),
    )
