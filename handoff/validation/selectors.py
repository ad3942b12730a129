"""Read queries for validation runs: the report on the handover page, the
live progress partial, the review queue's pass/fail counts and the API.
Every queryset is scoped with ``access.scope``; what a viewer held from blind
labels may read of a check is decided here (``visible_result``)."""

import copy

from django.db.models import Count, F, OuterRef, Prefetch, Subquery
from django.db.models.functions import Coalesce

from handoff.access import hides_labels, scope
from handoff.core.errors import NotFound
from handoff.handovers.models import Artifact, ArtifactKind, Revision

from .models import CheckResult, CheckStatus, ValidationRun

FAILING = (CheckStatus.FAIL, CheckStatus.ERROR)


def _checks_counted(statuses):
    checks = (CheckResult.objects.filter(run=OuterRef("pk"), status__in=statuses)
              .order_by().values("run").annotate(count=Count("pk")).values("count"))
    return Coalesce(Subquery(checks), 0)


def with_counts(runs):
    """Runs annotated with how many of their checks passed, failed (or
    errored) and were skipped.

    Counted per run by a correlated subquery, not ``Count`` over a join: an
    aggregate grouped every run in scope with all its checks before a list
    could paginate; these are evaluated only for the rows a page returns."""
    return runs.annotate(
        passed_count=_checks_counted([CheckStatus.PASS]),
        failed_count=_checks_counted(FAILING),
        skipped_count=_checks_counted([CheckStatus.SKIPPED]),
    )


def visible_runs(user):
    """Validation runs of handovers in the user's projects, newest first."""
    runs = (ValidationRun.objects.select_related("revision__handover", "requested_by")
            .order_by("-created_at", "-id"))
    return scope(with_counts(runs), user, project_field="revision__handover__project")


def report_checks():
    """A run's checks in the order they ran (``sorted_for_report`` puts
    failures first for the page)."""
    return CheckResult.objects.order_by("position")


def run_detail(user, pk):
    """One run with its checks, or NotFound when out of reach."""
    runs = visible_runs(user).prefetch_related(Prefetch("checks", queryset=report_checks()))
    run = runs.filter(pk=pk).first()
    if run is None:
        raise NotFound("Not found.")
    return run


def latest_runs(revision_ids):
    """{revision id: its latest run (with counts)} in one query."""
    of_same_revision = ValidationRun.objects.filter(revision_id=OuterRef("revision_id"))
    latest = of_same_revision.order_by("-number").values("pk")[:1]
    runs = with_counts(ValidationRun.objects.filter(revision_id__in=list(revision_ids), pk=Subquery(latest)))
    return {run.revision_id: run for run in runs}


def latest_run(revision):
    return latest_runs([revision.pk]).get(revision.pk)


def current_run(handover):
    """The latest run of the handover's latest revision, or None (one query)."""
    return (ValidationRun.objects.filter(revision__handover=handover)
            .order_by("-revision__number", "-number").first())


def latest_run_with_checks(revision):
    """The latest run of ``revision`` with its checks, or None."""
    runs = with_counts(ValidationRun.objects.filter(revision=revision)).order_by("-number")
    return runs.prefetch_related(Prefetch("checks", queryset=report_checks())).first()


def summaries_by_handover(handovers):
    """{handover id: summary of its current revision's latest run} in one query."""
    return summaries_by_handover_id([h.pk for h in handovers])


def summaries_by_handover_id(handover_ids):
    """The same, from handover ids (registered in ``handovers.extensions``)."""
    handover_ids = list(handover_ids)
    if not handover_ids:
        return {}
    current = Revision.objects.filter(handover_id=OuterRef("revision__handover_id")).order_by("-number")
    runs = with_counts(ValidationRun.objects.filter(
        revision__handover_id__in=handover_ids,
        revision_id=Subquery(current.values("pk")[:1]),
    )).annotate(handover_id=F("revision__handover_id")).order_by("handover_id", "-number")
    found = {}
    for run in runs:  # newest run first for each handover
        found.setdefault(run.handover_id, summary(run))
    return found


def summary(run):
    """What a list row or the handover JSON says of a run."""
    if run is None:
        return None
    return {
        "id": run.pk, "number": run.number, "state": run.state, "progress": run.progress,
        "passed": run.passed_count, "failed": run.failed_count, "skipped": run.skipped_count,
    }


def sorted_for_report(checks):
    """Failures (and errors) first, then skipped checks, then passes."""
    rank = {CheckStatus.FAIL: 0, CheckStatus.ERROR: 0, CheckStatus.SKIPPED: 1, CheckStatus.PASS: 2}
    return sorted(checks, key=lambda check: (rank.get(check.status, 3), check.position))


# --- blind labels ------------------------------------------------------------------------------------

# Checks whose findings are about rows of the labels: which ids are missing,
# duplicated or unknown, which rows hold an empty or unknown label.
ROW_LEVEL_CHECKS = frozenset({"data.ids", "data.rows"})
HELD_BLIND = "row-level findings are held blind"


def is_row_level(result):
    """Whether ``result``'s message may name rows, ids or labels of the
    validation set: the data checks, and a metric or fairness gap that could
    not be measured (its message says which rows stopped it)."""
    if result.key in ROW_LEVEL_CHECKS:
        return True
    measured_figure = result.key.startswith(("metric.", "fairness."))
    return measured_figure and result.measured is None and result.status in FAILING


def _aggregate_sentence(result):
    if result.key in ROW_LEVEL_CHECKS:
        matched = (result.details or {}).get("matched_rows")
        if matched is None and result.key == "data.ids":
            matched = result.measured
        if matched is not None:
            return f"{int(matched):,} rows matched; {HELD_BLIND}."
        return f"The predictions and labels could not be matched; {HELD_BLIND}."
    return f"Could not be measured; {HELD_BLIND} (an ML engineer of the project can read them)."


def visible_result(result, blind, *, labels_name=""):
    """``result`` (a CheckResult) as a viewer reads it: unchanged unless
    ``blind`` (``access.hides_labels`` of the viewer and the handover), when
    only aggregate figures remain: no ``details``, the message of a row-level
    check replaced by an aggregate sentence, and the labels file never named.
    The one rule the report partial and the API both apply (a copy: the row
    is not changed)."""
    if not blind:
        return result
    shown = copy.copy(result)
    shown.details = {}
    if is_row_level(result):
        shown.message = _aggregate_sentence(result)
    elif labels_name and labels_name in (shown.message or ""):
        shown.message = shown.message.replace(labels_name, "the labels file")
    return shown


def labels_name(revision_id):
    """The file name of a revision's labels ("" when it has none): one query."""
    name = (Artifact.objects.filter(revision_id=revision_id, kind=ArtifactKind.LABELS)
            .values_list("original_name", flat=True).first())
    return name or ""


def blind_for(user, handover):
    """Whether ``user`` reads ``handover``'s validation reports held blind."""
    return hides_labels(user, handover)


def visible_checks(checks, blind, *, revision_id=None):
    """A run's checks as a viewer reads them (``visible_result`` each)."""
    checks = list(checks)
    if not blind:
        return checks
    name = labels_name(revision_id) if revision_id is not None else ""
    return [visible_result(check, True, labels_name=name) for check in checks]
