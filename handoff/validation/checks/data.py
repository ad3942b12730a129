"""The data checks: ``data.ids``, ``data.rows``, ``metric.<name>`` and ``fairness.<metric>_gap``.

Predictions (``id``, ``prediction``, optional ``score`` or ``proba_<class>``) are
joined with labels (``id``, ``label``, optional slice columns) by id.

Where the ids do not match one to one, ``data.ids`` fails and the metrics are
still computed, on the rows whose id appears exactly once in each file; their
messages say so. A fault is reported as a FAIL once, where it is: a file that
cannot be read fails ``data.ids`` and the metrics that depend on it are
SKIPPED naming it; a column that is missing or unusable (no score column, a
non-numeric score, a label outside the task's classes) fails the metrics that
need that column, with a sentence saying what to fix.
"""

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import numpy as np

from . import metrics
from .join import Join, join
from .outcomes import PASS, Outcome, failed, figure, guard, judge, skipped
from .tables import (
    ClassBook,
    Column,
    FileProblem,
    Table,
    canonical,
    estimate_rows,
    find,
    header_of,
    proba_columns,
    read_table,
)
from .terms import ArtifactFile, Terms

IDS, ROWS = "data.ids", "data.rows"
ROW_EXAMPLES = 3


def metric_key(name: str) -> str:
    return f"metric.{name}"


def fairness_metric(terms: Terms) -> str:
    return terms.fairness_metric or ("accuracy" if terms.is_classification else "mae")


def fairness_key(terms: Terms) -> str:
    return f"fairness.{fairness_metric(terms)}_gap"


def unique_claims(terms: Terms) -> list:
    """One claim per metric (the first), so that every key is reported once."""
    seen, claims = set(), []
    for claim in terms.claims:
        if claim.metric not in seen:
            seen.add(claim.metric)
            claims.append(claim)
    return claims


@dataclass
class Evidence:
    """The matched rows, aligned: what the metrics are computed on."""

    rows: int
    basis: str
    task: str
    y_true: np.ndarray | None = None
    y_pred: np.ndarray | None = None
    score: np.ndarray | None = None  # binary: probability or score of the positive class
    proba: np.ndarray | None = None  # multiclass: rows x classes
    slices: np.ndarray | None = None
    slice_names: list[str] = field(default_factory=list)
    class_names: list[str] = field(default_factory=list)
    problems: dict[str, str] = field(default_factory=dict)  # role -> what is wrong with it
    notes: dict = field(default_factory=dict)

    def needs(self, name: str) -> list[str]:
        if name in metrics.NEEDS_SCORES:
            return ["label", "score"]
        return ["label", "prediction"]


def check(
    terms: Terms,
    predictions: ArtifactFile | None,
    labels: ArtifactFile | None,
    *,
    progress: Callable | None = None,
    threads: int = 1,
) -> Iterator[Outcome]:
    claims = unique_claims(terms)
    keys = [metric_key(c.metric) for c in claims]
    if terms.fairness_slice_column:
        keys.append(fairness_key(terms))

    missing = [
        kind for kind, artifact in (("predictions", predictions), ("labels", labels)) if artifact is None
    ]
    if missing:
        why = f"no {' and no '.join(missing)} file is attached (see integrity)"
        yield skipped(IDS, f"cannot be checked: {why}")
        yield skipped(ROWS, f"cannot be counted: {why}", claimed=terms.row_count, unit="rows")
        for key in keys:
            yield skipped(key, f"cannot be measured: {why}")
        return

    gathered = _gather(terms, claims, predictions, labels, progress, threads)
    if isinstance(gathered, _Unreadable):
        yield failed(IDS, gathered.message, details=gathered.details)
        yield _rows_outcome(terms, gathered.labels_rows, None, None)
        for key in keys:
            yield skipped(
                key, "cannot be measured: the predictions and labels could not be read (see data.ids)"
            )
        return

    evidence, joined, prediction_table, label_table = gathered
    yield guard(IDS, lambda: _ids_outcome(joined, prediction_table, label_table))
    yield guard(ROWS, lambda: _rows_outcome(terms, label_table.rows, prediction_table.rows, joined.matched))
    for claim in claims:
        yield guard(metric_key(claim.metric), lambda claim=claim: _metric_outcome(terms, claim, evidence))
    if terms.fairness_slice_column:
        yield guard(fairness_key(terms), lambda: _fairness_outcome(terms, evidence))


@dataclass
class _Unreadable:
    message: str
    details: dict
    labels_rows: int | None = None


class _Rows:
    """Rows read so far in each file, summed for the progress bar."""

    def __init__(self, progress, artifacts: list[ArtifactFile]):
        self.progress = progress
        estimates = [estimate_rows(a) for a in artifacts]
        self.total = None if any(e is None for e in estimates) else sum(estimates)
        self.done = [0] * len(artifacts)

    def counter(self, index: int):
        def count(rows: int, _file_total):
            self.done[index] = rows
            self.report()

        return count

    def report(self) -> None:
        if self.progress is not None:
            done = sum(self.done)
            self.progress(IDS, done, None if self.total is None else max(self.total, done))


def _gather(terms, claims, predictions, labels, progress, threads):
    classification = terms.is_classification
    wanted = {c.metric for c in claims}
    if terms.fairness_slice_column:
        wanted.add(fairness_metric(terms))
    needs_scores = classification and bool(wanted & metrics.NEEDS_SCORES)

    problems: list[str] = []
    p_header = l_header = None
    try:
        p_header = header_of(predictions)
    except FileProblem as exc:
        problems.append(str(exc))
    try:
        l_header = header_of(labels)
    except FileProblem as exc:
        problems.append(str(exc))
    for artifact, header in ((predictions, p_header), (labels, l_header)):
        if header is not None and find(header, "id") is None:
            problems.append(
                f"{artifact.name} has no id column (its columns: {_names(header)}): add an id column that"
                " names each row the same way in the predictions and the labels"
            )
    if problems:
        return _Unreadable("; ".join(problems), {})

    column_problems: dict[str, str] = {}
    probas = proba_columns(p_header) if classification else {}
    positive = canonical(terms.positive_label)
    if terms.task_type == "multiclass_classification" and probas:
        book = ClassBook(sorted(probas, key=_class_order), closed=True)
    else:
        book = ClassBook()
    books = {"label": book, "prediction": book, "slice": ClassBook()}
    kind = "classes" if classification else "float"

    p_columns = [Column("id", find(p_header, "id"), "id")]
    if (header := find(p_header, "prediction")) is not None:
        p_columns.append(Column("prediction", header, kind))
    else:
        column_problems["prediction"] = (
            f"{predictions.name} has no prediction column (its columns: {_names(p_header)})"
        )
    if needs_scores:
        if terms.task_type == "binary_classification":
            header = find(p_header, "score") or probas.get(positive)
            if header is not None:
                p_columns.append(Column("score", header, "float"))
            else:
                column_problems["score"] = (
                    f"{predictions.name} has no score column: add 'score' (the probability of the positive"
                    f" class {terms.positive_label!r}) or 'proba_{terms.positive_label}'"
                )
        elif probas:
            p_columns.extend(Column(f"proba:{name}", header, "float") for name, header in probas.items())
        else:
            column_problems["score"] = (
                f"{predictions.name} has no proba_<class> columns: add one probability column per class"
                " (proba_0, proba_1 …) to measure roc_auc and log_loss"
            )

    l_columns = [Column("id", find(l_header, "id"), "id")]
    if (header := find(l_header, "label")) is not None:
        l_columns.append(Column("label", header, kind))
    else:
        column_problems["label"] = f"{labels.name} has no label column (its columns: {_names(l_header)})"
    if terms.fairness_slice_column:
        header = find(l_header, terms.fairness_slice_column)
        if header is not None:
            l_columns.append(Column("slice", header, "slice"))
        else:
            column_problems["slice"] = (
                f"{labels.name} has no column {terms.fairness_slice_column!r}, the contract's slice column"
                f" (its columns: {_names(l_header)})"
            )

    rows = _Rows(progress, [labels, predictions])
    outcomes = []
    for i, (artifact, columns) in enumerate(((labels, l_columns), (predictions, p_columns))):
        # Read one after the other: reading both at once in two threads measured no faster here
        # (the time goes to parsing and to fresh memory, which two threads share).
        outcomes.append(_attempt(read_table, artifact, columns, books, rows.counter(i), threads > 1))
        if isinstance(outcomes[-1], FileProblem):
            break
    label_table = outcomes[0] if isinstance(outcomes[0], Table) else None
    problems = [str(o) for o in outcomes if isinstance(o, FileProblem)]
    for table in outcomes:
        if isinstance(table, Table) and table.rows == 0:
            problems.append(f"{table.name} has a header but no rows")
    if problems:
        return _Unreadable("; ".join(problems), {}, label_table.rows if label_table is not None else None)
    label_table, prediction_table = outcomes
    rows.report()

    column_problems.update(label_table.problems)
    column_problems.update(prediction_table.problems)
    joined = join(prediction_table, label_table)
    evidence = _evidence(terms, book, books["slice"], joined, prediction_table, label_table, column_problems)
    return evidence, joined, prediction_table, label_table


def _attempt(read, *args):
    try:
        return read(*args)
    except FileProblem as exc:
        return exc


def _class_order(name: str):
    try:
        return (0, float(name), name)
    except ValueError:
        return (1, 0.0, name)


def _names(header: list[str], limit: int = 12) -> str:
    shown = ", ".join(repr(h) for h in header[:limit])
    return shown + (f" and {len(header) - limit} more" if len(header) > limit else "") if header else "none"


def _row(rows: np.ndarray | None, i: int) -> int:
    """The file row of the i-th matched row (rows None: the file's own order)."""
    return int(i if rows is None else rows[i])


def _id_of(table: Table, row: int):
    if table.text_ids is not None:
        return table.text_ids[int(row)].as_py()
    return int(table.int_ids[int(row)])


def _evidence(terms, book, slice_book, joined: Join, predictions: Table, labels: Table, problems) -> Evidence:
    rows = joined.matched
    basis = f"on {rows:,} rows" if joined.clean else f"on the {rows:,} rows whose ids match (see data.ids)"
    ev = Evidence(rows=rows, basis=basis, task=terms.task_type, problems=dict(problems))
    p_rows = None if joined.predictions_in_order else joined.pred_rows
    l_rows = joined.label_rows

    def matched_predictions(array: np.ndarray) -> np.ndarray:
        return array if joined.predictions_in_order else array[p_rows]

    if "label" in labels.arrays:
        ev.y_true = labels.arrays["label"][l_rows]
    if "prediction" in predictions.arrays:
        ev.y_pred = matched_predictions(predictions.arrays["prediction"])
    if "score" in predictions.arrays:
        ev.score = matched_predictions(predictions.arrays["score"])
    if "slice" in labels.arrays:
        ev.slices = labels.arrays["slice"][l_rows]
        ev.slice_names = list(slice_book.names)

    if terms.is_classification:
        _resolve_classes(terms, book, ev, predictions, labels, p_rows, l_rows)
        proba_roles = [f"proba:{name}" for name in book.names]
        if terms.task_type == "multiclass_classification" and all(
            r in predictions.arrays for r in proba_roles
        ):
            ev.proba = (
                np.column_stack([matched_predictions(predictions.arrays[r]) for r in proba_roles])
                if rows
                else (np.empty((0, len(proba_roles))))
            )
            ev.score = None
            off = metrics.rows_not_summing_to_one(ev.proba) if rows else 0
            if off:
                ev.notes["rows_whose_probabilities_do_not_sum_to_1"] = off
        elif terms.task_type == "multiclass_classification":
            for role in proba_roles:
                if role in predictions.problems:
                    ev.problems["score"] = predictions.problems[role]
    else:
        for role, array, table, table_rows in (
            ("label", ev.y_true, labels, l_rows),
            ("prediction", ev.y_pred, predictions, p_rows),
        ):
            if array is None or role in ev.problems:
                continue
            bad = np.flatnonzero(~np.isfinite(array))
            if len(bad):
                examples = ", ".join(str(_id_of(table, _row(table_rows, i))) for i in bad[:ROW_EXAMPLES])
                ev.problems[role] = (
                    f"{table.name} has {len(bad):,} rows with an empty or non-numeric {role}"
                    f" (e.g. id {examples}): every row needs a number"
                )
    return ev


def _resolve_classes(terms, book: ClassBook, ev: Evidence, predictions, labels, p_rows, l_rows) -> None:
    """Turn codes of first appearance into the task's classes, or say what is wrong with them."""
    names = list(book.names)
    shown = sorted(names, key=_class_order)
    if book.strangers:
        strangers = ", ".join(f"{name!r} (in {where})" for name, where in list(book.strangers.items())[:5])
        ev.problems.setdefault(
            "label",
            f"{strangers} {'is' if len(book.strangers) == 1 else 'are'} not among the task's classes,"
            " which are"
            f" named by the proba_ columns ({', '.join(shown)}): fix the value or add its proba_ column",
        )
    if terms.task_type == "binary_classification":
        positive = canonical(terms.positive_label)
        if len(names) > 2:
            ev.problems.setdefault(
                "label",
                f"a binary task has two classes, but the labels and predictions hold {len(names)}"
                f" ({', '.join(shown[:10])}): is the task multiclass?",
            )
            return
        if positive not in names and len(names) == 2:
            ev.problems.setdefault(
                "label",
                f"the positive label {terms.positive_label!r} is not one of the classes in the files"
                f" ({', '.join(shown)}): set the contract's positive label to one of them",
            )
            return
        negative = next((n for n in names if n != positive), None)
        remap = np.array([1 if n == positive else 0 for n in names] + [-2, -1], dtype=np.int16)
        ev.class_names = [negative or "(none)", positive]
    else:
        order = sorted(range(len(names)), key=lambda i: _class_order(names[i]))
        rank = np.empty(len(names), dtype=np.int16)
        rank[order] = np.arange(len(names), dtype=np.int16)
        remap = np.concatenate([rank, np.array([-2, -1], dtype=np.int16)])
        ev.class_names = [names[i] for i in order]
        # proba columns follow the book's order: keep them in the sorted order too
        book.names = ev.class_names
    for role, table, rows in (("label", labels, l_rows), ("prediction", predictions, p_rows)):
        array = ev.y_true if role == "label" else ev.y_pred
        if array is None:
            continue
        bad = np.flatnonzero(array < 0)
        if len(bad) and role not in ev.problems:
            examples = ", ".join(str(_id_of(table, _row(rows, i))) for i in bad[:ROW_EXAMPLES])
            ev.problems[role] = (
                f"{table.name} has {len(bad):,} rows with an empty or unknown {role} (e.g. id {examples})"
            )
        remapped = remap[array]
        if role == "label":
            ev.y_true = remapped
        else:
            ev.y_pred = remapped


def _ids_outcome(joined: Join, predictions: Table, labels: Table) -> Outcome:
    details = {
        "predictions_rows": predictions.rows,
        "labels_rows": labels.rows,
        "matched_rows": joined.matched,
        "missing_from_predictions": joined.missing.as_dict(),
        "unknown_to_labels": joined.unknown.as_dict(),
        "duplicated_in_predictions": joined.duplicated_in_predictions.as_dict(),
        "duplicated_in_labels": joined.duplicated_in_labels.as_dict(),
        "rows_without_id": {"predictions": joined.empty_in_predictions, "labels": joined.empty_in_labels},
    }
    if joined.clean:
        return Outcome(
            IDS,
            PASS,
            measured=joined.matched,
            unit="rows",
            details=details,
            message=f"all {joined.matched:,} ids match one to one between {predictions.name}"
            f" and {labels.name}",
        )

    def examples(ids: list) -> str:
        return ", ".join(str(i) for i in ids)

    parts = []
    if joined.missing.ids:
        parts.append(
            f"{joined.missing.ids:,} ids of {labels.name} are missing from {predictions.name}"
            f" (e.g. {examples(joined.missing.examples)})"
        )
    if joined.unknown.ids:
        parts.append(
            f"{joined.unknown.ids:,} ids of {predictions.name} are not in {labels.name}"
            f" (e.g. {examples(joined.unknown.examples)})"
        )
    for table, dup in (
        (predictions, joined.duplicated_in_predictions),
        (labels, joined.duplicated_in_labels),
    ):
        if dup.ids:
            parts.append(
                f"{dup.ids:,} ids appear more than once in {table.name}, on {dup.rows:,} rows"
                f" (e.g. {examples(dup.examples)})"
            )
    for table, empty in ((predictions, joined.empty_in_predictions), (labels, joined.empty_in_labels)):
        if empty:
            parts.append(f"{empty:,} rows of {table.name} have no id")
    message = (
        "; ".join(parts) + f": the metrics use the {joined.matched:,} rows whose id appears once in each file"
    )
    return failed(IDS, message, measured=joined.matched, unit="rows", details=details)


def _rows_outcome(terms: Terms, label_rows: int | None, prediction_rows: int | None, matched: int | None):
    claimed = terms.row_count
    details = {"labels_rows": label_rows, "predictions_rows": prediction_rows, "matched_rows": matched}
    if label_rows is None:
        return skipped(
            ROWS,
            "cannot be counted: the labels could not be read (see data.ids)",
            claimed=claimed,
            unit="rows",
            details=details,
        )
    if claimed is None:
        return skipped(
            ROWS,
            f"the labels hold {label_rows:,} rows: no row count was claimed",
            measured=label_rows,
            unit="rows",
            details=details,
        )
    if label_rows == claimed:
        return Outcome(
            ROWS,
            PASS,
            claimed=claimed,
            measured=label_rows,
            unit="rows",
            details=details,
            message=f"row count claimed {claimed:,}, the labels hold {label_rows:,} rows",
        )
    return failed(
        ROWS,
        f"row count claimed {claimed:,}, but the labels hold {label_rows:,} rows",
        claimed=claimed,
        measured=label_rows,
        unit="rows",
        details=details,
    )


def _applies(name: str, terms: Terms) -> str | None:
    """Why a metric does not apply to this task, or None when it does."""
    if name not in metrics.CLASSIFICATION + metrics.REGRESSION:
        known = ", ".join(metrics.CLASSIFICATION + metrics.REGRESSION)
        return f"unknown metric {name!r}: the engine measures {known}"
    if terms.is_classification and name in metrics.REGRESSION:
        return f"{name} is a regression metric, and this is a {terms.task_type.replace('_', ' ')} task"
    if not terms.is_classification and name in metrics.CLASSIFICATION:
        return f"{name} is a classification metric, and this is a regression task"
    return None


def compute(name: str, ev: Evidence, rows: np.ndarray | None = None) -> float:
    """One metric on the evidence, or on some of its rows. Raises metrics.Undefined."""

    def take(array):
        return array if rows is None or array is None else array[rows]

    y_true, y_pred = take(ev.y_true), take(ev.y_pred)
    if name == "accuracy":
        return metrics.accuracy(y_true, y_pred)
    if name in ("precision", "recall", "f1"):
        if ev.task == "binary_classification":
            return metrics.binary_scores(y_true, y_pred)[name]
        return metrics.macro_scores(y_true, y_pred, len(ev.class_names))[name]
    if name in ("roc_auc", "log_loss"):
        if ev.task == "binary_classification":
            positive, score = y_true == 1, take(ev.score)
            return (
                metrics.roc_auc_binary(positive, score)
                if name == "roc_auc"
                else (metrics.log_loss_binary(positive, score))
            )
        proba = take(ev.proba)
        if name == "roc_auc":
            return metrics.roc_auc_ovr(y_true, proba, ev.class_names)
        return metrics.log_loss_multiclass(y_true, proba)
    return {"mae": metrics.mae, "rmse": metrics.rmse, "r2": metrics.r2}[name](y_true, y_pred)


def _blocking_problem(name: str, ev: Evidence) -> str | None:
    for role in ev.needs(name):
        if role in ev.problems:
            return ev.problems[role]
    if name in metrics.NEEDS_SCORES and ev.score is None and ev.proba is None:
        return "the predictions give no probabilities"
    if name not in metrics.NEEDS_SCORES and (ev.y_pred is None or ev.y_true is None):
        return "the predictions or labels column is missing"
    return None


def _metric_outcome(terms: Terms, claim, ev: Evidence) -> Outcome:
    name = claim.metric
    key = metric_key(name)
    # A requirement with only a bound claims no value: there is nothing for a tolerance to apply to.
    tolerance = terms.tolerance if claim.claimed is not None else None
    why_not = _applies(name, terms)
    if why_not:
        return skipped(key, f"cannot be measured: {why_not}", claimed=claim.claimed)
    problem = _blocking_problem(name, ev)
    if problem:
        return failed(
            key, f"{name} cannot be measured: {problem}", claimed=claim.claimed, tolerance=tolerance
        )
    if ev.rows == 0:
        return skipped(
            key, "cannot be measured: no id appears once in both files (see data.ids)", claimed=claim.claimed
        )
    try:
        value = compute(name, ev)
    except metrics.Undefined as exc:
        return failed(key, f"{name} cannot be measured: {exc}", claimed=claim.claimed, tolerance=tolerance)
    details = {"rows": ev.rows, **ev.notes}
    if ev.class_names:
        details["classes"] = ev.class_names[:100]
        if ev.task == "binary_classification":
            details["positive_label"] = ev.class_names[1]
    return judge(
        key,
        name,
        value,
        claimed=claim.claimed,
        tolerance=terms.tolerance,
        minimum=claim.minimum,
        maximum=claim.maximum,
        basis=ev.basis,
        details=details,
    )


def _slice_groups(codes: np.ndarray, n_slices: int) -> list[tuple[int, np.ndarray]]:
    order = np.argsort(codes, kind="stable")
    counts = np.bincount(codes, minlength=n_slices)
    bounds = np.concatenate([[0], np.cumsum(counts)])
    return [(s, order[bounds[s] : bounds[s + 1]]) for s in range(n_slices) if counts[s]]


def _fairness_outcome(terms: Terms, ev: Evidence) -> Outcome:
    name = fairness_metric(terms)
    key = fairness_key(terms)
    column = terms.fairness_slice_column
    why_not = _applies(name, terms)
    if why_not:
        return skipped(key, f"cannot be measured: {why_not}")
    problem = ev.problems.get("slice") or _blocking_problem(name, ev)
    if problem:
        return failed(key, f"the {name} gap cannot be measured: {problem}", limit=terms.fairness_max_gap)
    if ev.rows == 0:
        return skipped(key, "cannot be measured: no id appears once in both files (see data.ids)")

    codes = ev.slices.astype(np.int64)
    n_slices = len(ev.slice_names)
    slices, undefined = [], []
    if name == "accuracy":
        counts = np.bincount(codes, minlength=n_slices)
        correct = np.bincount(codes, weights=(ev.y_true == ev.y_pred), minlength=n_slices)
        for s in np.flatnonzero(counts):
            slices.append(
                {
                    "value": ev.slice_names[s],
                    "rows": int(counts[s]),
                    "measured": float(correct[s] / counts[s]),
                }
            )
    else:
        for s, rows in _slice_groups(codes, n_slices):
            try:
                value = compute(name, ev, rows)
            except metrics.Undefined as exc:
                undefined.append({"value": ev.slice_names[s], "rows": int(len(rows)), "why": str(exc)})
                continue
            slices.append({"value": ev.slice_names[s], "rows": int(len(rows)), "measured": value})
    details = {"metric": name, "slice_column": column, "slices": slices[:1000]}
    if undefined:
        details["undefined_slices"] = undefined[:100]
    if len(slices) < 2:
        return skipped(
            key,
            f"only {len(slices)} value{'s' if len(slices) != 1 else ''} of {column!r} with a defined {name}:"
            " there is no gap to measure",
            limit=terms.fairness_max_gap,
            details=details,
        )
    best = max(slices, key=lambda s: s["measured"])
    worst = min(slices, key=lambda s: s["measured"])
    gap = best["measured"] - worst["measured"]
    decimals = 3
    basis = (
        f"between {column!r} = {best['value']} ({figure(best['measured'], decimals)}"
        f" on {best['rows']:,} rows) and {column!r} = {worst['value']}"
        f" ({figure(worst['measured'], decimals)} on {worst['rows']:,} rows)"
    )
    outcome = judge(
        key,
        f"{name} gap",
        gap,
        claimed=None,
        tolerance=None,
        maximum=terms.fairness_max_gap,
        basis=basis,
        details=details,
    )
    if terms.fairness_max_gap is None:
        outcome.message = f"{name} gap measured {figure(gap, decimals)} {basis}: no largest gap was agreed"
    return outcome
