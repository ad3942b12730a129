"""The figures of a contract's candidates, side by side: the read model of the
comparison page and of ``GET /api/v1/contracts/{id}/comparison/`` (one place
for what is compared and which value is best).

Every figure is what validation measured on the candidate's current revision
(its latest run), never what was claimed; the contract says what is required.

``candidate_figures(contract)`` -> one dict per candidate, in filing order::

    {"handover": 12, "model": "logreg", "version_label": "1.0.0",
     "owner": "dana", "owner_name": "Dana Scientist", "state": "awaiting_review",
     "filed_at": datetime,
     "run": {"id": 7, "number": 1, "state": "passed"} or None (never submitted),
     "checks": {"metric.accuracy": {"status": "pass", "measured": 0.959, "limit": 0.95,
                                    "unit": "", "claimed": None, "message": "…"}, …}}

``requirement_rows(contract, candidates)`` -> one dict per row to compare (each
metric requirement, then p95 latency, peak memory and parameter count)::

    {"key": "metric.accuracy", "label": "Accuracy", "unit": "", "better": "higher",
     "minimum": 0.95, "maximum": None, "required": True,
     "cells": [{"handover": 12, "status": "pass", "measured": 0.959, "claimed": None,
                "limit": 0.95, "best": True}, …],   # one per candidate, in the same order
     "best": [12]}                                  # handover ids holding the best measured value

Both read a constant number of queries whatever the number of candidates:
``candidate_figures`` three (candidates with model and owner, the latest runs,
their checks); ``requirement_rows`` one (the requirements) when given the
candidates.
"""

from handoff.handovers.models import LOWER_IS_BETTER, Metric
from handoff.validation.models import CheckResult
from handoff.validation.selectors import summaries_by_handover_id

from .models import Candidate

HIGHER, LOWER = "higher", "lower"
LATENCY, MEMORY, PARAMETERS = "runtime.latency_p95_ms", "runtime.peak_memory_mb", "model.parameters"
# Per check: what the comparison shows of it.
CHECK_FIELDS = ("status", "measured", "limit", "unit", "claimed", "message")


def candidates_of(contract):
    """The contract version's candidates in filing order, with their handover, model and owner."""
    return (
        Candidate.objects.filter(contract=contract)
        .select_related("handover__model", "handover__owner")
        .order_by("filed_at", "id")
    )


def candidate_figures(contract):
    """What validation measured of each candidate of ``contract`` (see the module docstring)."""
    candidates = list(candidates_of(contract))
    runs = summaries_by_handover_id([c.handover_id for c in candidates])
    checks = {}
    run_ids = [run["id"] for run in runs.values()]
    if run_ids:
        for check in CheckResult.objects.filter(run_id__in=run_ids).order_by("run_id", "position"):
            checks.setdefault(check.run_id, {})[check.key] = {
                name: getattr(check, name) for name in CHECK_FIELDS
            }
    figures = []
    for candidate in candidates:
        handover = candidate.handover
        run = runs.get(handover.pk)
        figures.append(
            {
                "handover": handover.pk,
                "model": handover.model.name,
                "version_label": handover.version_label,
                "owner": handover.owner.username,
                "owner_name": handover.owner.display_name,
                "state": handover.state,
                "filed_at": candidate.filed_at,
                "run": {"id": run["id"], "number": run["number"], "state": run["state"]} if run else None,
                "checks": checks.get(run["id"], {}) if run else {},
            }
        )
    return figures


def _rows_to_compare(contract):
    """(key, label, unit, better, minimum, maximum, required) of each row, in page order."""
    rows = []
    for requirement in contract.requirements.all():
        metric = Metric(requirement.metric)
        rows.append(
            (
                f"metric.{metric.value}",
                str(metric.label),
                "",
                LOWER if metric in LOWER_IS_BETTER else HIGHER,
                requirement.minimum,
                requirement.maximum,
                True,
            )
        )
    batch = contract.latency_batch_size or 1
    rows += [
        (
            LATENCY,
            f"p95 latency (batch {batch})",
            "ms",
            LOWER,
            None,
            contract.latency_p95_ms,
            contract.latency_p95_ms is not None,
        ),
        (
            MEMORY,
            "Peak memory",
            "MB",
            LOWER,
            None,
            contract.peak_memory_mb,
            contract.peak_memory_mb is not None,
        ),
        (
            PARAMETERS,
            "Parameters",
            "parameters",
            LOWER,
            None,
            contract.max_parameter_count,
            contract.max_parameter_count is not None,
        ),
    ]
    return rows


def requirement_rows(contract, candidates=None):
    """The rows of the comparison, each with a cell per candidate and the best
    measured value marked (see the module docstring). ``candidates`` is
    ``candidate_figures(contract)``, read here when not given.

    A row's best is the highest (or lowest, as ``better`` says) measured value
    among the candidates measured; every candidate holding it is best (ties).
    A cell without a measured value (not run yet, skipped) is never best."""
    if candidates is None:
        candidates = candidate_figures(contract)
    rows = []
    for key, label, unit, better, minimum, maximum, required in _rows_to_compare(contract):
        cells = []
        for candidate in candidates:
            check = candidate["checks"].get(key, {})
            cells.append(
                {
                    "handover": candidate["handover"],
                    "status": check.get("status"),
                    "measured": check.get("measured"),
                    "claimed": check.get("claimed"),
                    "limit": check.get("limit"),
                    "message": check.get("message", ""),
                }
            )
        measured = [cell["measured"] for cell in cells if cell["measured"] is not None]
        best_value = (max if better == HIGHER else min)(measured) if measured else None
        for cell in cells:
            cell["best"] = best_value is not None and cell["measured"] == best_value
        rows.append(
            {
                "key": key,
                "label": label,
                "unit": unit,
                "better": better,
                "minimum": minimum,
                "maximum": maximum,
                "required": required,
                "cells": cells,
                "best": [cell["handover"] for cell in cells if cell["best"]],
            }
        )
    return rows


def comparison(contract):
    """{"candidates": candidate_figures, "rows": requirement_rows}: everything the comparison shows."""
    candidates = candidate_figures(contract)
    return {"candidates": candidates, "rows": requirement_rows(contract, candidates)}
