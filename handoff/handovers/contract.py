"""Contract terms: the one place that decides what a valid contract is.

Forms, the API and the services call ``clean_terms`` and ``clean_metrics``;
the services call them on every write, so no path can store nonsense.
Both raise ``django.core.exceptions.ValidationError`` with a message on the
field (``{"latency_p95_ms": ["..."]}``); claimed-metric errors sit on
``metrics`` and name the metric, with ``params`` {"index", "field"} for a
formset that wants to put the message on the row.
"""

import math
import re

from django.core.exceptions import ValidationError

from .models import (
    LOWER_IS_BETTER,
    METRICS_FOR_TASK,
    UNIT_INTERVAL_METRICS,
    Framework,
    Metric,
    TaskType,
)

DEFAULT_TOLERANCE = 0.005

# Every contract term a revision holds, in the order pages show them.
TERM_FIELDS = (
    "task_type",
    "positive_label",
    "framework",
    "framework_version",
    "latency_p95_ms",
    "latency_batch_size",
    "peak_memory_mb",
    "parameter_count",
    "max_parameter_count",
    "model_formats",
    "validation_description",
    "validation_row_count",
    "fairness_slice_column",
    "fairness_max_gap",
    "fairness_metric",
    "intended_use",
    "limitations",
    "metric_tolerance",
)
TERM_LABELS = {
    "task_type": "Task type",
    "positive_label": "Positive class",
    "framework": "Framework",
    "framework_version": "Framework version",
    "latency_p95_ms": "p95 latency budget (ms)",
    "latency_batch_size": "Latency batch size",
    "peak_memory_mb": "Peak memory budget (MB)",
    "parameter_count": "Parameter count",
    "max_parameter_count": "Largest parameter count allowed",
    "model_formats": "Accepted model formats",
    "validation_description": "Validation set",
    "validation_row_count": "Validation rows",
    "fairness_slice_column": "Fairness slice column",
    "fairness_max_gap": "Largest allowed gap between slices",
    "fairness_metric": "Fairness metric",
    "intended_use": "Intended use",
    "limitations": "Limitations",
    "metric_tolerance": "Metric tolerance",
}
METRIC_FIELDS = ("metric", "claimed_value", "minimum", "maximum")
# The model formats the engine can read and check (others are stored, never loaded).
MODEL_FORMATS = {"onnx": "ONNX", "safetensors": "safetensors"}
# Terms a candidate of an agreed contract states itself; every other term is the
# contract's requirement and cannot change on the candidate.
CANDIDATE_FREE_TERMS = frozenset({"framework_version", "parameter_count"})

_TEXT_LIMITS = {
    "framework_version": 32,
    "positive_label": 64,
    "fairness_slice_column": 64,
    "validation_description": 5000,
    "intended_use": 20000,
    "limitations": 20000,
}
# The largest value each whole-number term's column holds (PostgreSQL integer, bigint).
_WHOLE_LIMITS = {"latency_batch_size": 2**31 - 1, "validation_row_count": 2**31 - 1,
                 "parameter_count": 2**63 - 1, "max_parameter_count": 2**63 - 1}
# An integer written out (longer ones go through float and are refused as too large).
_INTEGER_TEXT = re.compile(r"[+-]?[0-9]{1,30}")
# Contract terms that may be left empty (None) while the revision is a draft.
_OPTIONAL_NUMBERS = {"latency_p95_ms", "peak_memory_mb", "parameter_count", "validation_row_count",
                     "fairness_max_gap"}


def _is_blank(value):
    return value is None or (isinstance(value, str) and value.strip() == "")


def _number(value, label):
    """A finite float from a number or a numeric string, else a message."""
    if isinstance(value, bool):
        raise ValueError(f"{label} must be a number.")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{label} must be a number.") from None
    except OverflowError:  # an integer beyond any float, such as 10**400
        raise ValueError(f"{label} is too large.") from None
    if not math.isfinite(number):
        raise ValueError(f"{label} must be a finite number.")
    return number


def _whole(value, label):
    """A whole number, kept exact: going through a float would change any
    integer above 2**53 (and fail on one above 10**308)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and _INTEGER_TEXT.fullmatch(value.strip()):
        return int(value.strip())
    number = _number(value, label)
    if not number.is_integer():
        raise ValueError(f"{label} must be a whole number.")
    return int(number)


def _within_limit(name, number, label):
    if number > _WHOLE_LIMITS[name]:
        raise ValueError(f"{label} is too large (at most {_WHOLE_LIMITS[name]}).")
    return number


def _choice(value, choices, label):
    value = str(value).strip()
    if value not in choices.values:
        options = ", ".join(str(c.label) for c in choices)
        raise ValueError(f"{value!r} is not a {label.lower()} Handoff knows; choose one of {options}.")
    return value


def _clean_term(name, value):
    label = TERM_LABELS[name]
    if name == "task_type":
        return "" if _is_blank(value) else _choice(value, TaskType, label)
    if name == "framework":
        return "" if _is_blank(value) else _choice(value, Framework, label)
    if name == "fairness_metric":
        return "" if _is_blank(value) else _choice(value, Metric, label)
    if name == "model_formats":
        return clean_model_formats(value, label)
    if name in _TEXT_LIMITS:
        if value is None:
            return ""
        if not isinstance(value, str):
            raise ValueError(f"{label} must be text.")
        value = value.strip()
        if len(value) > _TEXT_LIMITS[name]:
            raise ValueError(f"{label} is too long ({len(value)} characters; at most {_TEXT_LIMITS[name]}).")
        return value
    if name == "metric_tolerance":
        if _is_blank(value):
            return DEFAULT_TOLERANCE
        number = _number(value, label)
        if number < 0:
            raise ValueError(f"{label} cannot be negative (got {number:g}).")
        if number >= 1:
            raise ValueError(f"{label} is an absolute difference between metric values; {number:g} "
                             "would accept anything. Use a small value such as 0.005.")
        return number
    if name == "latency_batch_size":
        if _is_blank(value):
            return 1
        number = _whole(value, label)
        if number < 1:
            raise ValueError(f"{label} must be at least 1 (got {number}).")
        return _within_limit(name, number, label)
    if _is_blank(value):
        return None
    if name in {"latency_p95_ms", "peak_memory_mb"}:
        number = _number(value, label)
        if number <= 0:
            raise ValueError(f"{label} must be greater than 0 (got {number:g}).")
        return number
    if name in {"parameter_count", "validation_row_count", "max_parameter_count"}:
        number = _whole(value, label)
        if number < 1:
            raise ValueError(f"{label} must be at least 1 (got {number}).")
        return _within_limit(name, number, label)
    if name == "fairness_max_gap":
        number = _number(value, label)
        if number < 0:
            raise ValueError(f"{label} cannot be negative (got {number:g}).")
        return number
    raise AssertionError(name)  # pragma: no cover - every field is handled above


def clean_model_formats(value, label=TERM_LABELS["model_formats"]):
    """Accepted model formats, as a list or comma-separated text -> "onnx,safetensors"
    (known formats only, each once, in a fixed order; "" accepts any)."""
    if _is_blank(value):
        return ""
    if isinstance(value, str):
        names = [part.strip().lower() for part in value.split(",") if part.strip()]
    elif isinstance(value, list | tuple):
        if not all(isinstance(part, str) for part in value):
            raise ValueError(f"{label} must be names of formats, such as onnx.")
        names = [part.strip().lower() for part in value if part.strip()]
    else:
        raise ValueError(f"{label} must be a list of formats, such as [\"onnx\"].")
    unknown = [name for name in names if name not in MODEL_FORMATS]
    if unknown:
        raise ValueError(f"{', '.join(repr(n) for n in unknown)} is not a format Handoff can check; "
                         f"choose from {', '.join(MODEL_FORMATS)}.")
    return ",".join(name for name in MODEL_FORMATS if name in names)


def clean_terms(terms):
    """Validate and normalise contract terms -> dict of Revision field values.

    Each term is checked on its own: only the keys present are cleaned (so a
    partial update passes the merged terms); unknown keys are refused. Rules
    between terms wait for ``submission_problems``: a draft may hold a fairness
    gap before its slice column. Raises ValidationError({field: message})."""
    errors = {}
    cleaned = {}
    for name, value in (terms or {}).items():
        if name not in TERM_LABELS:
            errors[name] = f"{name!r} is not a contract term."
            continue
        try:
            cleaned[name] = _clean_term(name, value)
        except ValueError as exc:
            errors[name] = str(exc)
    if errors:
        raise ValidationError(errors)
    return cleaned


def fairness_metric(task_type, metric=""):
    """The metric compared between slices: the one chosen, else accuracy
    (classification) or MAE (regression)."""
    if metric:
        return metric
    return Metric.MAE if task_type == TaskType.REGRESSION else Metric.ACCURACY


def submission_problems(terms, claims=()):
    """What the rules between terms still find wrong in a draft's terms and
    cleaned claims, as sentences; submitting refuses a revision with any (the
    contract is frozen whole, so these are checked then and not on every
    change of a draft, which may be written a term at a time)."""
    task_type = terms.get("task_type")
    problems = []
    if not _is_blank(task_type):  # else the task type is what is missing
        relations = (_claim_relation(task_type, claim) for claim in claims)
        problems += [problem[1] for problem in relations if problem]
    claimed_count, budget = terms.get("parameter_count"), terms.get("max_parameter_count")
    if claimed_count is not None and budget is not None and claimed_count > budget:
        problems.append(f"The claimed parameter count {claimed_count:,} is above the largest allowed, "
                        f"{budget:,}.")
    column, gap = terms.get("fairness_slice_column"), terms.get("fairness_max_gap")
    if gap is not None and not column:
        problems.append("Name the slice column of the labels file that the fairness gap "
                        f"of {gap:g} applies to.")
    if column and gap is None:
        problems.append(f"Give the largest allowed gap between the slices of {column!r}.")
    if not column and gap is None:
        return problems
    chosen = terms.get("fairness_metric") or ""
    metric = Metric(fairness_metric(task_type, chosen))
    fitting = METRICS_FOR_TASK[TaskType(task_type)] if task_type else set(Metric)
    if metric not in fitting:
        options = ", ".join(str(m.label) for m in Metric if m in fitting)
        problems.append(f"The fairness metric {metric.label} does not fit a "
                        f"{TaskType(task_type).label.lower()} task; choose one of {options}.")
    elif gap is not None and gap >= 1 and metric in UNIT_INTERVAL_METRICS:
        problems.append(f"A fairness gap of {gap:g} between {metric.label} figures (which lie between "
                        "0 and 1) checks nothing; give a gap below 1.")
    return problems


def _metric_bounds_message(metric, value, what):
    label = Metric(metric).label
    if metric in UNIT_INTERVAL_METRICS and not 0 <= value <= 1:
        return f"{label}: {what} {value:g} is impossible; {label} lies between 0 and 1."
    if metric == Metric.R2 and value > 1:
        return f"{label}: {what} {value:g} is impossible; R² is at most 1."
    if metric in LOWER_IS_BETTER and value < 0:
        return f"{label}: {what} {value:g} is impossible; {label} cannot be negative."
    return None


def _claim_values(row, *, requirement=False):
    """One claimed metric's own fields -> dict(metric, claimed_value, minimum, maximum).

    Raises ValidationError({field: message}): an unknown field or metric, a
    missing claimed value, a value the metric cannot take. A ``requirement``
    (an agreed contract's) needs a minimum or a maximum instead of a claimed value."""
    unknown = set(row) - set(METRIC_FIELDS) - {"id"}
    if unknown:
        names = ", ".join(sorted(unknown))
        raise ValidationError({"metric": f"Unknown field(s) on a claimed metric: {names}."})
    metric = row.get("metric")
    if _is_blank(metric):
        raise ValidationError({"metric": "Choose a metric."})
    metric = str(metric).strip()
    if metric not in Metric.values:
        raise ValidationError({"metric": f"{metric!r} is not a metric Handoff knows; choose one of "
                                         f"{', '.join(str(m.label) for m in Metric)}."})
    label = Metric(metric).label
    cleaned = {"metric": metric}
    for field, what in (("claimed_value", "claimed value"), ("minimum", "minimum"), ("maximum", "maximum")):
        value = row.get(field)
        if _is_blank(value):
            if field == "claimed_value" and not requirement:
                raise ValidationError({field: f"{label}: give the claimed value."})
            cleaned[field] = None
            continue
        try:
            number = _number(value, f"{label}: the {what}")
        except ValueError as exc:
            raise ValidationError({field: str(exc)}) from None
        message = _metric_bounds_message(metric, number, what)
        if message:
            raise ValidationError({field: message})
        cleaned[field] = number
    if requirement and cleaned["minimum"] is None and cleaned["maximum"] is None:
        raise ValidationError({"minimum": f"{label}: give the minimum or the maximum a model must meet."})
    return cleaned


def _claim_relation(task_type, claim):
    """What is wrong between a cleaned claim, the task type and its own bounds:
    (field, message), or None."""
    label = Metric(claim["metric"]).label
    if _is_blank(task_type):
        return "metric", f"{label}: choose a task type before claiming metrics."
    allowed = METRICS_FOR_TASK[TaskType(task_type)]
    if claim["metric"] not in allowed:
        options = ", ".join(str(m.label) for m in Metric if m in allowed)
        return "metric", (f"{label} does not fit a {TaskType(task_type).label.lower()} task; "
                          f"claim one of {options}.")
    low, high, claimed = claim["minimum"], claim["maximum"], claim["claimed_value"]
    if low is not None and high is not None and low > high:
        return "minimum", f"{label}: the minimum {low:g} is above the maximum {high:g}."
    if claimed is None:
        return None
    if low is not None and claimed < low:
        return "minimum", f"{label}: the claimed value {claimed:g} is below its own minimum {low:g}."
    if high is not None and claimed > high:
        return "maximum", f"{label}: the claimed value {claimed:g} is above its own maximum {high:g}."
    return None


def clean_metric(task_type, row):
    """One claimed metric, its own fields and how they stand to the task type
    and to each other -> dict(metric, claimed_value, minimum, maximum).

    Raises ValidationError({field: message}) for the row's own fields."""
    cleaned = _claim_values(row)
    problem = _claim_relation(task_type, cleaned)
    if problem:
        raise ValidationError({problem[0]: problem[1]})
    return cleaned


def artifact_key(artifact):
    """How an artifact is named in the signed record (``Review.artifact_hashes``)
    and in revision diffs: its kind, or ``other:<name>`` for the kind that may repeat."""
    return artifact.kind if artifact.kind != "other" else f"other:{artifact.original_name}"


def clean_claims(metrics):
    """A draft's claimed metrics, each on its own and once per metric -> list
    of cleaned dicts in the given order. How a claim stands to the task type
    and to its own minimum and maximum waits for ``submission_problems``, as
    the other rules between terms do. Raises as ``clean_metrics``."""
    return _clean_metrics(None, metrics, relations=False)


def clean_requirements(task_type, metrics):
    """An agreed contract's metric requirements: each a metric with a minimum
    and/or a maximum (no claimed value), once per metric, fitting the task type
    when one is given. Raises as ``clean_metrics``."""
    return _clean_metrics(task_type, metrics, relations=bool(task_type), requirement=True)


def clean_metrics(task_type, metrics, *, requirement=False):
    """Claimed metrics -> list of cleaned dicts, one per metric, in the given order.
    With ``requirement`` (a candidate's, from its contract) a claimed value is
    optional and a bound is needed.

    Raises ValidationError({"metrics": [messages]}); each message names the
    metric and carries params {"index": i, "field": name}."""
    return _clean_metrics(task_type, metrics, relations=True, requirement=requirement)


def _clean_metrics(task_type, metrics, *, relations, requirement=False):
    errors = []
    cleaned = []
    seen = set()
    if metrics is None:
        return []
    if not isinstance(metrics, list | tuple):
        raise ValidationError({"metrics": "Claimed metrics must be a list."})
    for index, row in enumerate(metrics):
        if not isinstance(row, dict):
            errors.append(ValidationError("Each claimed metric must be an object.", code="invalid",
                                          params={"index": index, "field": "metric"}))
            continue
        try:
            clean = _claim_values(row, requirement=requirement)
            problem = _claim_relation(task_type, clean) if relations else None
            if problem:
                raise ValidationError({problem[0]: problem[1]})
        except ValidationError as exc:
            for field, messages in exc.message_dict.items():
                for message in messages:
                    errors.append(ValidationError(message.replace("%", "%%"), code="invalid",
                                                  params={"index": index, "field": field}))
            continue
        if clean["metric"] in seen:
            errors.append(ValidationError(
                f"{Metric(clean['metric']).label} is claimed twice; keep one claim per metric.",
                code="duplicate", params={"index": index, "field": "metric"}))
            continue
        seen.add(clean["metric"])
        cleaned.append(clean)
    if errors:
        raise ValidationError({"metrics": errors})
    return cleaned
