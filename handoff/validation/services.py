"""Every change to validation runs: start, claim, heartbeat, finish, sweep.

A run row carries the truth about its work; Celery only rings the doorbell
with the run's id. Whatever the broker does (a task delivered twice, a task
lost while Redis was down, a worker killed half-way), the row decides:

* ``start_run`` creates the row inside the transaction that moved the
  handover to ``validating`` and enqueues its id after commit;
* ``work_run`` claims the row (one worker at a time: a claim token, and a
  heartbeat that a live worker keeps fresh), measures every claim with
  ``checks.run_checks``, and ``finish`` stores the results and tells the
  handovers app the outcome, once;
* ``sweep`` (Celery beat, and every worker as it starts) re-enqueues runs
  that no worker took and runs whose heartbeat stopped, and ends in error the
  runs that went past the time limit or the attempts allowed.

Validation never moves a handover itself: ``handovers.services
.record_validation_outcome`` does, and ignores an outcome that no longer
decides (a newer run was requested meanwhile).
"""

import contextlib
import logging
import time
import uuid
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Max, Q
from django.utils import timezone

from handoff.core.locking import lock_row
from handoff.core.storage import local_copy
from handoff.handovers import services as handover_services
from handoff.handovers.models import Handover

from .models import CheckResult, CheckStatus, RunState, ValidationRun

log = logging.getLogger(__name__)

UNFINISHED = (RunState.QUEUED, RunState.RUNNING)


def heartbeat_seconds():
    return settings.HANDOFF_VALIDATION_HEARTBEAT_SECONDS


def stale_seconds():
    """A running run whose heartbeat is older than this lost its worker."""
    return settings.HANDOFF_VALIDATION_STALE_SECONDS


def time_limit_seconds():
    return settings.HANDOFF_VALIDATION_TIME_LIMIT_SECONDS


def max_attempts():
    return settings.HANDOFF_VALIDATION_MAX_ATTEMPTS


class RunLost(BaseException):  # noqa: N818 - not an error: the work stops, someone else owns it
    """This worker's claim was taken over (or the run was superseded): stop.
    A BaseException so that no check mistakes it for a failure of its own."""


class RunTimedOut(BaseException):  # noqa: N818
    """The run went past the time limit."""


# --- start ---------------------------------------------------------------------------------------


def on_validation_requested(sender, revision, actor, **kwargs):
    """Receiver of ``handovers.signals.validation_requested``."""
    return start_run(revision, requested_by=actor)


def start_run(revision, *, requested_by=None):
    """Create run n+1 of ``revision`` and enqueue it after commit. -> ValidationRun

    Called inside the transaction that moved the handover to ``validating``
    (the handover row is locked), so numbering cannot race. An older run that
    is still queued or running is superseded: it ends in error and can no
    longer write its results."""
    now = timezone.now()
    number = (ValidationRun.objects.filter(revision=revision).aggregate(n=Max("number"))["n"] or 0) + 1
    ValidationRun.objects.filter(revision=revision, state__in=UNFINISHED).update(
        state=RunState.ERROR, finished_at=now, claim="", message=f"Superseded by run {number}.",
    )
    run = ValidationRun.objects.create(revision=revision, number=number, requested_by=requested_by)
    transaction.on_commit(lambda: enqueue(run.pk))
    return run


def enqueue(run_id):
    """Ring the doorbell for a run. A broker that is down is logged, not
    raised: the run row is committed and the sweep enqueues it later."""
    from .tasks import run_validation

    try:
        run_validation.apply_async((run_id,), retry=False)
    except Exception:  # kombu raises its own OperationalError family, among others
        log.warning("could not enqueue validation run %s; the sweep will retry", run_id, exc_info=True)
        return False
    return True


# --- work ----------------------------------------------------------------------------------------


def claim(run_id, *, worker):
    """Take the run for this worker, or None when there is nothing to do:
    it is finished, or another worker holds it with a fresh heartbeat. -> (run, token)"""
    now = timezone.now()
    with transaction.atomic():
        try:
            run = lock_row(ValidationRun.objects.all(), pk=run_id)
        except ValidationRun.DoesNotExist:
            return None
        if run.finished:
            return None
        if run.state == RunState.RUNNING and run.heartbeat_at and (
                (now - run.heartbeat_at).total_seconds() < stale_seconds()):
            log.info("run %s is being worked by %s; not taking it", run.pk, run.worker)
            return None
        token = uuid.uuid4().hex
        run.state = RunState.RUNNING
        run.claim = token
        run.worker = worker.get("hostname", "")[:255]
        run.worker_pid = worker.get("pid")
        run.attempts += 1
        run.started_at = run.started_at or now
        run.heartbeat_at = now
        run.progress = {"check": "", "done": 0, "total": None}
        run.save()
    return run, token


class Heartbeat:
    """Progress and liveness of a claimed run, written from the worker's own
    thread (every ``heartbeat_seconds`` at most) with the claim token: when
    the token no longer matches, the claim is lost and the work stops."""

    def __init__(self, run, token):
        self.run_id = run.pk
        self.token = token
        self.deadline = time.monotonic() + time_limit_seconds()
        self.last = 0.0
        self.check = None
        self.step = 0

    def progress(self, check="", done=None, total=None):
        now = time.monotonic()
        if now > self.deadline:
            raise RunTimedOut()
        if now - self.last < heartbeat_seconds() and check == self.check:
            return
        self.last, self.check = now, check
        alive = ValidationRun.objects.filter(pk=self.run_id, claim=self.token, state=RunState.RUNNING).update(
            heartbeat_at=timezone.now(),
            progress={"check": check, "done": done, "total": total, "step": self.step},
        )
        if not alive:
            raise RunLost()


def work_run(run_id, *, worker):
    """Claim the run and measure every claim of its revision; store the
    results and report the outcome. What happened, as a word: "done",
    "skipped" (nothing to do), "lost" (another worker took over)."""
    claimed = claim(run_id, worker=worker)
    if claimed is None:
        return "skipped"
    run, token = claimed
    beat = Heartbeat(run, token)
    started = time.monotonic()
    try:
        outcomes, environment = measure(run, beat)
    except RunLost:
        log.info("run %s was taken over or superseded; stopping", run_id)
        return "lost"
    except RunTimedOut:
        fail(run_id, f"Validation stopped after {time_limit_seconds()} s, its time limit; "
                     "re-run it, or ask an administrator to raise HANDOFF_VALIDATION_TIME_LIMIT_SECONDS.",
             token=token, worker=worker)
        return "done"
    except Exception as exc:
        log.exception("validation run %s crashed", run_id)
        fail(run_id, f"Validation could not finish: {exc.__class__.__name__}: {exc}", token=token,
             worker=worker)
        return "done"
    return finish(run_id, token, outcomes, worker=worker, environment=environment,
                  seconds=time.monotonic() - started)


def measure(run, beat):
    """Run every check of the run's revision. -> (outcomes, environment)"""
    from . import checks

    revision = run.revision
    terms = terms_of(revision)
    artifacts = list(revision.artifacts.all())
    with local_copies(artifacts) as files:
        outcomes = []
        for outcome in checks.run_checks(terms, files, progress=beat.progress,
                                         threads=settings.HANDOFF_VALIDATION_THREADS):
            beat.step += 1
            outcomes.append(outcome)
            beat.progress(outcome.key, None, None)
    return outcomes, checks.environment()


def terms_of(revision):
    """The revision's contract, in the engine's terms."""
    from . import checks

    claims = [checks.Claim(metric=c.metric, claimed=c.claimed_value, minimum=c.minimum, maximum=c.maximum)
              for c in revision.claimed_metrics.all()]
    return checks.Terms(
        task_type=revision.task_type, framework=revision.framework, claims=claims,
        positive_label=revision.positive_label or "1",
        tolerance=revision.metric_tolerance, latency_p95_ms=revision.latency_p95_ms,
        latency_batch_size=revision.latency_batch_size, peak_memory_mb=revision.peak_memory_mb,
        parameter_count=revision.parameter_count, max_parameter_count=revision.max_parameter_count,
        model_formats=tuple(name for name in revision.model_formats.split(",") if name),
        row_count=revision.validation_row_count,
        fairness_slice_column=revision.fairness_slice_column, fairness_max_gap=revision.fairness_max_gap,
        fairness_metric=revision.fairness_metric,
    )


@contextlib.contextmanager
def local_copies(artifacts):
    """Each artifact as a local file for the engine (``core.storage.local_copy``:
    the stored file itself on a local folder, a streamed temporary copy from an
    object store, deleted when the block ends)."""
    from . import checks

    with contextlib.ExitStack() as stack:
        yield [checks.ArtifactFile(kind=artifact.kind, path=stack.enter_context(local_copy(artifact.file)),
                                   name=artifact.original_name, size=artifact.size, sha256=artifact.sha256)
               for artifact in artifacts]


# --- finish ----------------------------------------------------------------------------------------


def _lock_for_outcome(run_id):
    """Lock the handover, then the run: the order every writer of both keeps
    (a re-run locks the handover and supersedes runs), so no deadlock."""
    runs = ValidationRun.objects.filter(pk=run_id)
    handover_id = runs.values_list("revision__handover_id", flat=True).first()
    if handover_id is None:
        return None
    lock_row(Handover.objects.all(), pk=handover_id)
    return lock_row(ValidationRun.objects.select_related("revision__handover"), pk=run_id)


def _decides(run):
    newer = ValidationRun.objects.filter(revision_id=run.revision_id, number__gt=run.number)
    return lambda: not newer.exists()


def finish(run_id, token, outcomes, *, worker, environment=None, seconds=None):
    """Store the results of a run this worker still holds and report the
    outcome to the handover, in one transaction. -> "done" | "lost"."""
    with transaction.atomic():
        run = _lock_for_outcome(run_id)
        if run is None or run.state != RunState.RUNNING or run.claim != token:
            return "lost"
        CheckResult.objects.bulk_create(
            CheckResult(run=run, key=o.key, position=n, status=o.status, claimed=o.claimed,
                        measured=o.measured, tolerance=o.tolerance, limit=o.limit, unit=o.unit,
                        message=o.message, details=o.details or {})
            for n, o in enumerate(outcomes)
        )
        failing = [o.key for o in outcomes if o.status in (CheckStatus.FAIL, CheckStatus.ERROR)]
        run.state = RunState.FAILED if failing else RunState.PASSED
        run.finished_at = timezone.now()
        run.seconds = seconds
        run.environment = environment or {}
        run.progress = {"check": "", "done": len(outcomes), "total": len(outcomes), "step": len(outcomes)}
        run.save()
        handover_services.record_validation_outcome(
            run.revision, passed=not failing, worker=worker, decides=_decides(run), run=run.number,
            failing=failing,
        )
    return "done"


def fail(run_id, message, *, token=None, worker=None):
    """End a run in error with ``message`` (its worker gave up, it timed out,
    it crashed) and report a failed validation. With ``token``, only if this
    worker still holds it."""
    with transaction.atomic():
        run = _lock_for_outcome(run_id)
        if run is None or run.finished or (token is not None and run.claim != token):
            return False
        run.state = RunState.ERROR
        run.message = message
        run.finished_at = timezone.now()
        run.claim = ""
        run.save()
        handover_services.record_validation_outcome(
            run.revision, passed=False, worker=worker, decides=_decides(run), run=run.number, error=message,
        )
    return True


# --- sweep -----------------------------------------------------------------------------------------


def sweep():
    """Re-enqueue runs that no worker took (the broker was down, the task was
    lost) and runs whose worker stopped beating; end in error the runs past
    the time limit or the attempts allowed. Safe to run anywhere, any time:
    a run enqueued twice is claimed once. -> {"enqueued": n, "failed": n}"""
    now = timezone.now()
    stale = now - timedelta(seconds=stale_seconds())
    forgotten = now - timedelta(seconds=settings.HANDOFF_VALIDATION_QUEUE_GRACE_SECONDS)
    too_old = now - timedelta(seconds=time_limit_seconds())
    counts = {"enqueued": 0, "failed": 0}
    candidates = ValidationRun.objects.filter(
        Q(state=RunState.QUEUED, created_at__lt=forgotten)
        | Q(state=RunState.RUNNING, heartbeat_at__lt=stale)
    ).values_list("pk", "state", "started_at", "attempts")
    for pk, state, started_at, attempts in candidates:
        if state == RunState.RUNNING and started_at and started_at < too_old:
            counts["failed"] += fail(pk, f"Validation did not finish within {time_limit_seconds()} s, "
                                         "its time limit; re-run it.")
        elif attempts >= max_attempts():
            counts["failed"] += fail(pk, f"Validation was started {attempts} times and its worker stopped "
                                         "each time; re-run it, or tell an administrator.")
        else:
            counts["enqueued"] += enqueue(pk)
    if counts["enqueued"] or counts["failed"]:
        log.info("validation sweep: %(enqueued)s enqueued again, %(failed)s ended in error", counts)
    return counts
