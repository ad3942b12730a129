"""The result of one check, and the sentences that explain it."""

import logging
import math
from dataclasses import dataclass, field

logger = logging.getLogger(__name__)

PASS, FAIL, ERROR, SKIPPED = "pass", "fail", "error", "skipped"

# Two floats that print the same are the same figure: a metric of 0.965 against a claim of
# 0.970 with a tolerance of 0.005 passes although 0.970 - 0.965 is 0.005000000000000004.
FLOAT_SLACK = 1e-12

LOWER_IS_BETTER = frozenset({"log_loss", "mae", "rmse"})


@dataclass
class Outcome:
    """One stored CheckResult."""

    key: str
    status: str
    claimed: float | None = None
    measured: float | None = None
    tolerance: float | None = None
    limit: float | None = None  # the minimum or maximum acceptable, when there is one
    unit: str = ""  # "", "ms", "MB", "rows", "parameters"
    message: str = ""  # a plain sentence; always set for FAIL, ERROR and SKIPPED
    details: dict = field(default_factory=dict)  # JSON-serialisable only


def decimals_for(tolerance: float | None) -> int:
    """Enough decimals to show a difference of ``tolerance``: 3 for 0.005, 4 for 0.0001."""
    if not tolerance or tolerance <= 0 or not math.isfinite(tolerance):
        return 3
    return max(3, -math.floor(math.log10(tolerance)))


def figure(value: float | None, decimals: int = 3) -> str:
    """A number as a person reads it: 0.970, 12,345, 1.2e-07."""
    if value is None:
        return "none"
    if isinstance(value, int) or (float(value).is_integer() and abs(value) >= 1000):
        return f"{int(value):,}"
    if value != 0 and abs(value) < 10 ** (-decimals):
        return f"{value:.2g}"
    return f"{value:,.{decimals}f}"


def judge(
    key: str,
    name: str,
    measured: float,
    *,
    claimed: float | None,
    tolerance: float | None,
    minimum: float | None = None,
    maximum: float | None = None,
    unit: str = "",
    basis: str = "",
    details: dict | None = None,
) -> Outcome:
    """Compare a measured figure with its claim (within ``tolerance``) and its limits.

    ``basis`` says what it was measured on ("on 171 rows"); it goes into the sentence.
    A figure with neither claim nor limit is SKIPPED, with the measurement kept.
    """
    claimed, minimum, maximum = (None if v is None else float(v) for v in (claimed, minimum, maximum))
    decimals = decimals_for(tolerance)
    unit_text = f" {unit}" if unit and unit not in ("rows", "parameters") else ""
    on = f" {basis}" if basis else ""
    problems = []
    if claimed is not None and tolerance is not None:
        if abs(measured - claimed) > tolerance + FLOAT_SLACK:
            problems.append(f"outside the tolerance of {tolerance:g}")

    def bound(value: float) -> str:  # a budget reads as agreed: 10 ms, not 10.000 ms
        return f"{value:,g}{unit_text}" if unit_text else figure(value, decimals)

    if minimum is not None and measured < minimum - FLOAT_SLACK:
        problems.append(f"below the minimum of {bound(minimum)}")
    if maximum is not None and measured > maximum + FLOAT_SLACK:
        problems.append(f"above the maximum of {bound(maximum)}")

    measured_text = f"measured {figure(measured, decimals)}{unit_text}{on}"
    if claimed is not None:
        said = f"{name} claimed {figure(claimed, decimals)}{unit_text}, {measured_text}"
    else:
        said = f"{name} {measured_text}"
    limit = _limit(name, minimum, maximum)
    if problems:
        status, message = FAIL, f"{said}: {' and '.join(problems)}"
    elif claimed is None and minimum is None and maximum is None:
        status, message = SKIPPED, f"{said}: nothing was claimed to compare it with"
    else:
        agreed = []
        if claimed is not None and tolerance is not None:
            agreed.append(f"within the tolerance of {tolerance:g}")
        if minimum is not None:
            agreed.append(f"not below the minimum of {bound(minimum)}")
        if maximum is not None:
            agreed.append(f"within the maximum of {bound(maximum)}")
        status, message = PASS, f"{said}: {' and '.join(agreed)}"
    return Outcome(
        key=key,
        status=status,
        claimed=claimed,
        measured=measured,
        tolerance=tolerance if claimed is not None else None,
        limit=limit,
        unit=unit,
        message=message,
        details=details or {},
    )


def _limit(name: str, minimum: float | None, maximum: float | None) -> float | None:
    """The one limit to store: the minimum for a higher-is-better figure, else the maximum."""
    if minimum is not None and maximum is not None:
        return maximum if name in LOWER_IS_BETTER else minimum
    return minimum if minimum is not None else maximum


def skipped(key: str, message: str, **fields) -> Outcome:
    return Outcome(key=key, status=SKIPPED, message=message, **fields)


def failed(key: str, message: str, **fields) -> Outcome:
    return Outcome(key=key, status=FAIL, message=message, **fields)


class CallerError(Exception):
    """An exception raised by the caller's progress callback: it is the caller's, and goes back out."""

    def __init__(self, original: BaseException):
        super().__init__(str(original))
        self.original = original


# Exceptions a task runner raises inside running code to stop it (Celery's soft time limit):
# they must stop the run, not become an ERROR outcome. Matched by name to keep Celery out.
STOPPING = frozenset({"SoftTimeLimitExceeded", "TimeLimitExceeded", "Terminated", "WorkerLostError"})


def is_stopping(exc: BaseException) -> bool:
    return isinstance(exc, CallerError) or type(exc).__name__ in STOPPING


def error_outcome(key: str, exc: BaseException) -> Outcome:
    """The ERROR outcome for a check that raised unexpectedly (logged with its traceback)."""
    if isinstance(exc, MemoryError):
        logger.error("check %s ran out of memory", key, exc_info=exc)
        return Outcome(key, ERROR, message="the check ran out of memory; the other checks still ran")
    logger.error("check %s failed unexpectedly", key, exc_info=exc)
    text = " ".join(str(exc).split())[:300]
    return Outcome(
        key,
        ERROR,
        message=f"the check failed unexpectedly ({type(exc).__name__}: {text}); the other checks still ran",
        details={"exception": type(exc).__name__},
    )


def guard(key: str, compute) -> Outcome:
    """``compute()``, or an ERROR outcome for ``key`` when it raises unexpectedly."""
    try:
        return compute()
    except Exception as exc:
        if is_stopping(exc):
            raise
        return error_outcome(key, exc)
