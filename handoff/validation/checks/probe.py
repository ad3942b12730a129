"""Time an ONNX model and measure its peak memory, in a process of its own.

Started by ``runtime.py`` as ``python -I -B probe.py``, with a JSON request on
standard input; prints JSON lines on standard output: ``{"event": "progress",
…}`` while timing, then one ``{"event": "result", …}`` or ``{"event": "error",
…}``. It imports nothing from the project (``-I`` keeps the project, Django and
Celery out of the process), so the baseline is small and a hostile or crashing
model can take down only this process. Its own resource limits are set before
numpy or onnxruntime is imported.

Peak memory of inference: the resident set size after the imports and the
inputs are ready is the baseline; the kernel's peak counter (VmHWM) is reset to
it (``/proc/self/clear_refs``), then the session is created, warmed up and
timed; the peak is VmHWM at the end. The figure is the peak minus the baseline:
what loading and running the model added.
"""

import json
import math
import resource
import signal
import sys
import time

# ONNX TensorProto element types -> numpy dtype names.
DTYPES = {
    1: "float32",
    2: "uint8",
    3: "int8",
    4: "uint16",
    5: "int16",
    6: "int32",
    7: "int64",
    8: "object",
    9: "bool",
    10: "float16",
    11: "float64",
    12: "uint32",
    13: "uint64",
}


def emit(event: str, **fields) -> None:
    sys.stdout.write(json.dumps({"event": event, **fields}) + "\n")
    sys.stdout.flush()


class ProbeError(Exception):
    def __init__(self, stage: str, message: str):
        super().__init__(message)
        self.stage = stage


def status_kb(field: str) -> int | None:
    """A ``kB`` field of /proc/self/status (VmRSS, VmHWM), or None off Linux."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def set_limits(request: dict) -> None:
    memory = int(request.get("memory_limit_bytes") or 0)
    if memory:
        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    cpu = int(math.ceil(request.get("cpu_limit_seconds") or 0))
    if cpu:
        resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 5))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    # Nothing here writes files; a write past the limit fails instead of killing us.
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))


def batch_dims(shape, batch: int) -> list[int]:
    if shape is None:
        return [batch]
    dims = []
    for position, dim in enumerate(shape):
        dims.append(dim if dim else (batch if position == 0 else 1))
    return dims


def synthesise(feeds: list[dict], batch: int, np) -> dict:
    rng = np.random.default_rng(0)
    inputs = {}
    for feed in feeds:
        if feed.get("kind") != "tensor_type":
            raise ProbeError(
                "input",
                f"input {feed['name']!r} is a {feed.get('kind')}, which cannot be synthesised:"
                " attach a sample_input",
            )
        dtype = DTYPES.get(feed.get("elem_type"))
        if dtype is None:
            raise ProbeError(
                "input",
                f"input {feed['name']!r} has element type {feed.get('elem_type')}, which cannot be"
                " synthesised: attach a sample_input",
            )
        dims = batch_dims(feed.get("shape"), batch)
        if dtype.startswith("float"):
            inputs[feed["name"]] = rng.standard_normal(dims).astype(dtype)
        elif dtype == "object":
            inputs[feed["name"]] = np.full(dims, "", dtype=object)
        else:
            inputs[feed["name"]] = np.zeros(dims, dtype=dtype)
    return inputs


def _rows(array, batch: int, np):
    """The first ``batch`` rows of an array, repeated when it has fewer."""
    if array.shape[0] == 0:
        raise ProbeError("input", "the sample_input holds no rows")
    return np.take(array, np.arange(batch) % array.shape[0], axis=0)


def _table(path: str, suffix: str, batch: int):
    """The first ``batch`` rows of a CSV or Parquet file as a pyarrow Table."""
    import pyarrow as pa
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    batches, rows = [], 0
    if suffix in (".parquet", ".pq"):
        reader = pq.ParquetFile(path).iter_batches(batch_size=max(batch, 1024))
    else:
        reader = pacsv.open_csv(
            path, parse_options=pacsv.ParseOptions(delimiter="\t" if suffix == ".tsv" else ",")
        )
    for record_batch in reader:
        batches.append(record_batch)
        rows += record_batch.num_rows
        if rows >= batch:
            break
    return pa.Table.from_batches(batches) if batches else None


def sample(request: dict, np) -> dict:
    """Inputs from the data scientist's sample_input file."""
    path, suffix, batch = request["sample_path"], request["sample_suffix"], request["batch_size"]
    feeds = request["feeds"]
    by_name = {f["name"]: f for f in feeds}
    if suffix in (".npy", ".npz"):
        try:
            loaded = np.load(path, allow_pickle=False)
        except ValueError as exc:
            raise ProbeError("input", f"the sample_input cannot be read without pickle ({exc})") from None
        if suffix == ".npy":
            if len(feeds) != 1:
                raise ProbeError(
                    "input", f"the model takes {len(feeds)} inputs: give them as a .npz named after each"
                )
            arrays = {feeds[0]["name"]: loaded}
        else:
            arrays = {name: loaded[name] for name in loaded.files}
            missing = sorted(set(by_name) - set(arrays))
            if missing:
                raise ProbeError("input", f"the sample_input has no array for input(s) {', '.join(missing)}")
    elif suffix in (".csv", ".tsv", ".parquet", ".pq"):
        table = _table(path, suffix, batch)
        if table is None or table.num_rows == 0:
            raise ProbeError("input", "the sample_input holds no rows")
        columns = [c for c in table.column_names if c.strip().lower() != "id"]
        if len(feeds) == 1:
            arrays = {feeds[0]["name"]: np.column_stack([table.column(c).to_numpy() for c in columns])}
        else:
            missing = sorted(set(by_name) - set(columns))
            if missing:
                raise ProbeError("input", f"the sample_input has no column for input(s) {', '.join(missing)}")
            arrays = {name: table.column(name).to_numpy().reshape(-1, 1) for name in by_name}
    else:
        raise ProbeError(
            "input", f"a sample_input must be .npy, .npz, CSV or Parquet, not {suffix or 'no extension'}"
        )

    inputs = {}
    for name, array in arrays.items():
        feed = by_name.get(name)
        if feed is None:
            continue
        dtype = DTYPES.get(feed.get("elem_type"), "float32")
        shape = feed.get("shape")
        if (
            shape is not None
            and len(shape) == 2
            and array.ndim == 2
            and shape[1]
            and array.shape[1] != shape[1]
        ):
            raise ProbeError(
                "input",
                f"the sample_input has {array.shape[1]} feature columns, but input {name!r} takes {shape[1]}",
            )
        fixed = shape[0] if shape else None
        rows = _rows(array, fixed or batch, np)
        try:
            inputs[name] = rows.astype(dtype)
        except (TypeError, ValueError) as exc:
            raise ProbeError("input", f"the sample_input for {name!r} is not {dtype} ({exc})") from None
    return inputs


def percentile(sorted_ms: list[float], q: float) -> float:
    """numpy's default (linear) percentile of an already sorted list."""
    position = (len(sorted_ms) - 1) * q / 100
    low = math.floor(position)
    high = min(low + 1, len(sorted_ms) - 1)
    return sorted_ms[low] + (sorted_ms[high] - sorted_ms[low]) * (position - low)


def run(request: dict) -> dict:
    set_limits(request)
    import numpy as np
    import onnxruntime as ort

    batch = max(int(request.get("batch_size") or 1), 1)
    if request.get("sample_path"):
        inputs, source = sample(request, np), "sample_input"
    else:
        inputs, source = synthesise(request["feeds"], batch, np), "synthesised"

    baseline_kb = status_kb("VmRSS")
    try:
        with open("/proc/self/clear_refs", "w") as clear:
            clear.write("5")  # reset VmHWM to the current RSS
        peak_reset = True
    except OSError:
        peak_reset = False

    options = ort.SessionOptions()
    options.intra_op_num_threads = int(request["threads"])
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.log_severity_level = 3
    try:
        session = ort.InferenceSession(request["model_path"], options, providers=["CPUExecutionProvider"])
    except Exception as exc:
        raise ProbeError("load", f"onnxruntime cannot load the model: {exc}") from None

    def once():
        try:
            session.run(None, inputs)
        except Exception as exc:
            raise ProbeError("run", f"onnxruntime cannot run the model on these inputs: {exc}") from None

    timing = request["timing"]
    for _ in range(int(timing["warmup_runs"])):
        once()

    times_ns: list[int] = []
    started = time.perf_counter()
    last_report = started
    while True:
        t0 = time.perf_counter_ns()
        once()
        times_ns.append(time.perf_counter_ns() - t0)
        now = time.perf_counter()
        elapsed, runs = now - started, len(times_ns)
        if runs >= timing["max_runs"]:
            break
        if runs >= timing["min_runs"] and elapsed >= timing["min_seconds"]:
            break
        if elapsed >= timing["max_seconds"] and runs >= 3:
            break
        if now - last_report >= 0.25:
            mean = elapsed / runs
            expected = max(timing["min_runs"], math.ceil(timing["min_seconds"] / mean) if mean else 0)
            expected = min(expected, timing["max_runs"], max(runs, math.ceil(timing["max_seconds"] / mean)))
            emit("progress", done=runs, total=max(expected, runs + 1))
            last_report = now

    peak_kb = status_kb("VmHWM") if peak_reset else None
    if peak_kb is None:
        peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # kB on Linux
    ms = sorted(t / 1e6 for t in times_ns)
    return {
        "runs": len(ms),
        "warmup_runs": int(timing["warmup_runs"]),
        "seconds": round(time.perf_counter() - started, 3),
        "p50_ms": percentile(ms, 50),
        "p95_ms": percentile(ms, 95),
        "p99_ms": percentile(ms, 99),
        "mean_ms": sum(ms) / len(ms),
        "min_ms": ms[0],
        "max_ms": ms[-1],
        "baseline_rss_mb": (baseline_kb or 0) / 1024,
        "peak_rss_mb": peak_kb / 1024,
        "peak_memory_mb": max(peak_kb - (baseline_kb or 0), 0) / 1024,
        "peak_counter_reset": peak_reset,
        "threads": int(request["threads"]),
        "input_source": source,
        "inputs": {name: {"shape": list(a.shape), "dtype": str(a.dtype)} for name, a in inputs.items()},
        "onnxruntime": ort.__version__,
    }


def main() -> int:
    try:
        request = json.loads(sys.stdin.read())
        emit("result", **run(request))
    except ProbeError as exc:
        emit("error", stage=exc.stage, message=str(exc))
    except MemoryError:
        emit("error", stage="memory", message="the model ran out of memory under the probe's limit")
    return 0


if __name__ == "__main__":
    sys.exit(main())
