"""``runtime.latency_p95_ms`` and ``runtime.peak_memory_mb``: the model run in onnxruntime.

The measuring happens in a child process (``probe.py``, run by path with
``python -I -B`` so that neither Django nor Celery nor this engine is imported
there), with a fixed thread count, resource limits the child sets on itself
(address space, CPU time, no core dumps, no files written) and a wall-clock
timeout after which its whole process group is killed. A model that crashes,
hangs or eats memory takes down only the child, and the worker reports it.
"""

import json
import os
import selectors
import signal
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from .outcomes import ERROR, FAIL, Outcome, judge

LATENCY = "runtime.latency_p95_ms"
MEMORY = "runtime.peak_memory_mb"
PROBE = Path(__file__).with_name("probe.py")
STDERR_KEPT = 4000


@dataclass
class Timing:
    """How long and how hard the probe measures. Tests shorten it."""

    warmup_runs: int = 5
    min_runs: int = 50
    min_seconds: float = 2.0
    max_runs: int = 5000
    max_seconds: float = 30.0
    timeout_seconds: float = 120.0  # the whole child: imports, load, warm-up and runs
    memory_limit_bytes: int = 8 << 30  # the child's address space


TIMING = Timing()


class ProbeFailed(Exception):
    """The model could not be measured; ``status`` is FAIL (the model's fault) or ERROR (ours)."""

    def __init__(self, message: str, status: str = FAIL, details: dict | None = None):
        super().__init__(message)
        self.status = status
        self.details = details or {}


def measure(
    model_path: Path,
    feeds: list[dict],
    *,
    batch_size: int,
    threads: int,
    sample=None,
    progress=None,
    timing: Timing | None = None,
) -> dict:
    """Run the probe on one model; its result dict, or ProbeFailed."""
    timing = timing or TIMING
    request = {
        "model_path": str(model_path),
        "feeds": feeds,
        "batch_size": max(int(batch_size or 1), 1),
        "threads": max(int(threads or 1), 1),
        "timing": asdict(timing),
        "memory_limit_bytes": timing.memory_limit_bytes,
        "cpu_limit_seconds": timing.timeout_seconds * max(int(threads or 1), 1) + 10,
    }
    if sample is not None:
        request["sample_path"] = str(sample.path)
        request["sample_suffix"] = sample.suffix
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "LANG": "C.UTF-8",
        "OMP_NUM_THREADS": str(request["threads"]),
        "OPENBLAS_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
    }
    child = subprocess.Popen(  # noqa: S603 - our own interpreter and our own script, no shell
        [sys.executable, "-I", "-B", str(PROBE)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        cwd=str(Path(model_path).parent),
        start_new_session=True,
    )
    try:
        return _conversation(child, request, timing.timeout_seconds, progress)
    finally:
        if child.poll() is None:
            _kill(child)
        for stream in (child.stdin, child.stdout, child.stderr):
            if stream and not stream.closed:
                stream.close()


def _kill(child: subprocess.Popen) -> None:
    try:
        os.killpg(child.pid, signal.SIGKILL)  # the child and anything it started
    except ProcessLookupError:
        pass
    child.wait()


def _conversation(child: subprocess.Popen, request: dict, timeout: float, progress) -> dict:
    child.stdin.write(json.dumps(request).encode())
    child.stdin.close()
    deadline = time.monotonic() + timeout
    selector = selectors.DefaultSelector()
    selector.register(child.stdout, selectors.EVENT_READ, "out")
    selector.register(child.stderr, selectors.EVENT_READ, "err")
    out, err = b"", b""
    final = None
    open_streams = 2
    while open_streams:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            _kill(child)
            raise ProbeFailed(
                f"the model did not finish loading, warm-up and timing within {timeout:.0f} s; it was stopped"
            )
        for key, _ in selector.select(timeout=min(remaining, 1.0)):
            chunk = os.read(key.fileobj.fileno(), 65536)
            if not chunk:
                selector.unregister(key.fileobj)
                open_streams -= 1
                continue
            if key.data == "err":
                err = (err + chunk)[-STDERR_KEPT:]
                continue
            out += chunk
            while b"\n" in out:
                line, out = out.split(b"\n", 1)
                event = _parse(line)
                if event.get("event") == "progress" and progress is not None:
                    progress(LATENCY, int(event.get("done", 0)), event.get("total"))
                elif event.get("event") in ("result", "error"):
                    final = event
    selector.close()
    try:
        code = child.wait(timeout=max(deadline - time.monotonic(), 1.0))
    except subprocess.TimeoutExpired:
        _kill(child)
        code = child.returncode
    stderr_tail = err.decode("utf-8", "replace").strip()[-1000:]
    if final is None:
        if code is not None and code < 0:
            name = signal.Signals(-code).name if -code in signal.Signals._value2member_map_ else str(-code)
            raise ProbeFailed(
                f"onnxruntime crashed while loading or running the model (signal {name})",
                details={"stderr": stderr_tail},
            )
        raise ProbeFailed(
            f"the measuring process ended without a result (exit code {code})",
            status=ERROR,
            details={"stderr": stderr_tail},
        )
    if final["event"] == "error":
        raise ProbeFailed(
            final.get("message", "the model could not be run"), details={"stage": final.get("stage")}
        )
    return final


def _parse(line: bytes) -> dict:
    try:
        event = json.loads(line)
    except ValueError:
        return {}
    return event if isinstance(event, dict) else {}


def outcomes(terms, result: dict, environment: dict) -> list[Outcome]:
    """Both runtime outcomes from one probe result, against the contract's budgets."""
    runs = result["runs"]
    batch = terms.latency_batch_size or 1
    shared = {
        "runs": runs,
        "batch_size": batch,
        "input_source": result.get("input_source"),
        "inputs": result.get("inputs"),
        "cpu_model": environment.get("cpu_model"),
        "threads": result.get("threads"),
        "onnxruntime": result.get("onnxruntime"),
    }
    latency_details = {
        **shared,
        **{k: result[k] for k in ("p50_ms", "p95_ms", "p99_ms", "mean_ms", "min_ms", "max_ms", "seconds")},
    }
    memory_details = {
        **shared,
        **{k: result[k] for k in ("baseline_rss_mb", "peak_rss_mb", "peak_counter_reset")},
    }
    basis = f"over {runs:,} runs at batch size {batch}"
    latency = judge(
        LATENCY,
        "p95 latency",
        round(result["p95_ms"], 4),
        claimed=None,
        tolerance=None,
        maximum=terms.latency_p95_ms,
        unit="ms",
        basis=basis,
        details=latency_details,
    )
    memory = judge(
        MEMORY,
        "peak inference memory",
        round(result["peak_memory_mb"], 2),
        claimed=None,
        tolerance=None,
        maximum=terms.peak_memory_mb,
        unit="MB",
        basis=f"above a baseline of {result['baseline_rss_mb']:.0f} MB {basis}",
        details=memory_details,
    )
    if terms.latency_p95_ms is None:
        latency.message = (
            f"p95 latency measured {latency.measured:.3f} ms {basis}: no latency budget was agreed"
        )
    if terms.peak_memory_mb is None:
        memory.message = (
            f"peak inference memory measured {memory.measured:.1f} MB {basis}: no memory budget was agreed"
        )
    return [latency, memory]
