"""Validation throughput benchmark: the engine's data checks against a reference pipeline.

For each size (1 M and 10 M rows by default) it writes a binary task's
predictions (``id``, ``prediction``, ``score``) and labels (``id``, ``label``,
``segment``) as CSV under a temporary folder, with integer ids shuffled
differently in the two files, then times three things, each in a fresh child
process so that one's memory does not pollute another's:

- validation: ``run_checks`` with the predictions and labels (integrity hashing,
  the id join, data.rows, accuracy, precision, recall, F1, ROC AUC, log loss and
  the per-segment accuracy gap);
- reference: pyarrow's CSV reader, a pandas merge on ``id``, scikit-learn's
  accuracy, precision, recall, F1, ROC AUC and log loss, and per-segment
  accuracy with a pandas groupby;
- floor: pyarrow reading both files, and nothing else.

It prints, per size, the times, the ratio of validation to reference, and the
peak resident memory of each child (and its growth over the child's baseline
after imports). It also checks that the validation's figures equal the
reference's. Targets at 10 M rows: ratio <= 0.5, validation peak < 1.5 GB.

    .venv/bin/python benchmarks/validation_throughput.py [--sizes 1000000 10000000] [--threads 2]
"""

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
METRICS = ("accuracy", "precision", "recall", "f1", "roc_auc", "log_loss")
SEGMENTS = ("north", "south", "east", "west", "online")
CHUNK_ROWS = 1_000_000


def status_kb(field: str) -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def reset_peak() -> None:
    """Make VmHWM start from the current RSS, so imports do not count."""
    try:
        with open("/proc/self/clear_refs", "w") as clear:
            clear.write("5")
    except OSError:
        pass


# --- data -------------------------------------------------------------------


def generate(folder: Path, rows: int, seed: int = 12) -> tuple[Path, Path]:
    import numpy as np
    import pyarrow as pa
    import pyarrow.csv as pacsv

    rng = np.random.default_rng(seed)
    label = (rng.random(rows) < 0.3).astype(np.int8)
    score = 1 / (1 + np.exp(-(rng.normal(size=rows) * 1.2 + 2.2 * label - 1.1)))
    score = np.round(score, 6)  # six decimals, as a model's export often writes them
    segment = rng.integers(0, len(SEGMENTS), rows).astype(np.int8)
    segment_names = np.array(SEGMENTS)
    predictions, labels = folder / "predictions.csv", folder / "labels.csv"
    for path, order, make in (
        (
            predictions,
            rng.permutation(rows),
            lambda ids: {"id": ids, "prediction": (score[ids] > 0.5).astype(np.int8), "score": score[ids]},
        ),
        (
            labels,
            rng.permutation(rows),
            lambda ids: {"id": ids, "label": label[ids], "segment": segment_names[segment[ids]]},
        ),
    ):
        with pacsv.CSVWriter(path, pa.table(make(order[:1])).schema) as writer:
            for start in range(0, rows, CHUNK_ROWS):
                writer.write_table(pa.table(make(order[start : start + CHUNK_ROWS])))
    return predictions, labels


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        while chunk := stream.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


# --- the three measured runs, each in a child ------------------------------------


def child_validation(folder: Path, threads: int) -> dict:
    sys.path.insert(0, str(ROOT))
    from handoff.validation.checks import ArtifactFile, Claim, Terms, run_checks

    records = json.loads((folder / "artifacts.json").read_text())
    artifacts = [ArtifactFile(r["kind"], Path(r["path"]), r["name"], r["size"], r["sha256"]) for r in records]
    terms = Terms(
        task_type="binary_classification",
        framework="other",
        claims=[Claim(name, 0.5) for name in METRICS],
        row_count=records[0]["rows"],
        fairness_slice_column="segment",
        fairness_max_gap=0.05,
    )
    baseline = status_kb("VmRSS")
    reset_peak()
    started = time.perf_counter()
    arrivals, figures = {}, {}
    for outcome in run_checks(terms, artifacts, threads=threads):
        arrivals[outcome.key] = time.perf_counter() - started
        figures[outcome.key] = outcome.measured
        if outcome.key.startswith("fairness."):
            figures["slices"] = {s["value"]: s["measured"] for s in outcome.details.get("slices", [])}
    seconds = time.perf_counter() - started
    return {
        "seconds": seconds,
        "integrity_seconds": arrivals.get("integrity"),
        "figures": {k: figures.get(f"metric.{k}") for k in METRICS} | {"slices": figures.get("slices")},
        "peak_kb": status_kb("VmHWM"),
        "baseline_kb": baseline,
    }


def child_reference(folder: Path, threads: int) -> dict:
    import pyarrow.csv as pacsv
    from sklearn import metrics as sk

    baseline = status_kb("VmRSS")
    reset_peak()
    started = time.perf_counter()
    predictions = pacsv.read_csv(folder / "predictions.csv").to_pandas()
    labels = pacsv.read_csv(folder / "labels.csv").to_pandas()
    merged = predictions.merge(labels, on="id", how="inner")
    y, pred, score = merged["label"], merged["prediction"], merged["score"]
    figures = {
        "accuracy": sk.accuracy_score(y, pred),
        "precision": sk.precision_score(y, pred),
        "recall": sk.recall_score(y, pred),
        "f1": sk.f1_score(y, pred),
        "roc_auc": sk.roc_auc_score(y, score),
        "log_loss": sk.log_loss(y, score),
    }
    figures["slices"] = {
        str(segment): sk.accuracy_score(group["label"], group["prediction"])
        for segment, group in merged.groupby("segment")
    }
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "figures": figures, "peak_kb": status_kb("VmHWM"), "baseline_kb": baseline}


def child_floor(folder: Path, threads: int) -> dict:
    import pyarrow.csv as pacsv

    baseline = status_kb("VmRSS")
    reset_peak()
    started = time.perf_counter()
    rows = sum(pacsv.read_csv(folder / name).num_rows for name in ("predictions.csv", "labels.csv"))
    return {
        "seconds": time.perf_counter() - started,
        "rows": rows,
        "peak_kb": status_kb("VmHWM"),
        "baseline_kb": baseline,
    }


CHILDREN = {"validation": child_validation, "reference": child_reference, "floor": child_floor}


def in_child(mode: str, folder: Path, threads: int) -> dict:
    result = subprocess.run(
        [sys.executable, __file__, "--child", mode, str(folder), "--threads", str(threads)],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )
    if result.returncode != 0:
        raise SystemExit(f"{mode} failed:\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


# --- the table ------------------------------------------------------------------


def agree(ours: dict, theirs: dict) -> str:
    worst = 0.0
    for name in METRICS:
        worst = max(worst, abs(ours[name] - theirs[name]))
    for segment, value in theirs["slices"].items():
        worst = max(worst, abs(ours["slices"][segment] - value))
    return f"yes (max diff {worst:.1e})" if worst <= 1e-9 else f"NO (max diff {worst:.1e})"


def mb(kb: int) -> str:
    return f"{kb / 1024:,.0f} MB"


def bench(rows: int, threads: int, keep: bool) -> dict:
    folder = Path(tempfile.mkdtemp(prefix=f"handoff-bench-{rows}-"))
    try:
        started = time.perf_counter()
        predictions, labels = generate(folder, rows)
        generated = time.perf_counter() - started
        records = [
            {
                "kind": kind,
                "path": str(path),
                "name": path.name,
                "size": path.stat().st_size,
                "sha256": sha256(path),
                "rows": rows,
            }
            for kind, path in (("predictions", predictions), ("labels", labels))
        ]
        (folder / "artifacts.json").write_text(json.dumps(records))
        size_mb = sum(r["size"] for r in records) / 2**20
        floor = in_child("floor", folder, threads)
        validation = in_child("validation", folder, threads)
        reference = in_child("reference", folder, threads)
        return {
            "rows": rows,
            "files_mb": size_mb,
            "generate_s": generated,
            "floor": floor,
            "validation": validation,
            "reference": reference,
            "agree": agree(validation["figures"], reference["figures"]),
        }
    finally:
        if not keep:
            shutil.rmtree(folder, ignore_errors=True)


def print_table(result: dict, threads: int) -> None:
    v, r, f = result["validation"], result["reference"], result["floor"]
    print(f"\n{result['rows']:,} rows  ({result['files_mb']:,.0f} MB of CSV in two files, threads={threads})")

    def row(name, child):
        return (
            name,
            f"{child['seconds']:.2f} s",
            mb(child["peak_kb"]),
            mb(child["peak_kb"] - child["baseline_kb"]),
        )

    lines = [
        row("validation (run_checks)", v),
        ("  of which integrity (sha256)", f"{v['integrity_seconds']:.2f} s", "", ""),
        row("reference (pyarrow+pandas+sklearn)", r),
        row("floor (pyarrow read of both)", f),
    ]
    print(f"  {'':36} {'time':>9} {'peak RSS':>10} {'growth':>10}")
    for name, seconds, peak, growth in lines:
        print(f"  {name:36} {seconds:>9} {peak:>10} {growth:>10}")
    ratio = v["seconds"] / r["seconds"]
    data_only = (v["seconds"] - v["integrity_seconds"]) / r["seconds"]
    print(f"  ratio validation / reference: {ratio:.2f} (without integrity hashing: {data_only:.2f})")
    print(f"  figures equal the reference's: {result['agree']}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000_000, 10_000_000])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--keep", action="store_true", help="keep the generated files")
    parser.add_argument("--child", nargs=2, metavar=("MODE", "FOLDER"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        mode, folder = args.child
        print(json.dumps(CHILDREN[mode](Path(folder), args.threads)))
        return
    for rows in args.sizes:
        print_table(bench(rows, args.threads, args.keep), args.threads)


if __name__ == "__main__":
    main()
