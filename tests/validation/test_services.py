"""Validation runs through their services, in this process (eager tasks):
the run row carries the truth, one result set per run, the latest run decides."""

from datetime import timedelta

import pyarrow.csv as pacsv
import pytest
from django.utils import timezone
from sklearn import metrics as sk

from handoff.audit.models import AuditEvent
from handoff.core.errors import Forbidden, NotFound
from handoff.handovers import services as handover_services
from handoff.handovers.models import ClaimedMetric, Handover, HandoverState
from handoff.teams.models import Role
from handoff.validation import services
from handoff.validation.models import CheckResult, RunState, ValidationRun
from tests.callbacks import doorbells
from tests.factories import EVIDENCE, MEASURED, member

S = HandoverState
ME = {"hostname": "test@here", "pid": 1}


def _state(handover):
    return Handover.objects.get(pk=handover.pk).state


def _submit(scientist, revision, capture, execute=True):
    with capture(execute=execute) as callbacks:
        handover_services.submit_revision(scientist, revision)
    return callbacks


def test_submit_creates_a_queued_run_in_its_transaction_and_rings_after_commit(
    draft, scientist, django_capture_on_commit_callbacks
):
    handover, revision = draft
    callbacks = _submit(scientist, revision, django_capture_on_commit_callbacks, execute=False)
    run = ValidationRun.objects.get(revision=revision)
    assert (run.number, run.state, run.requested_by) == (1, RunState.QUEUED, scientist)
    assert len(doorbells(callbacks)) == 1  # the doorbell, after commit
    assert _state(handover) == S.VALIDATING


def test_a_true_contract_passes_every_check_and_awaits_review(
    draft, scientist, django_capture_on_commit_callbacks
):
    handover, revision = draft
    _submit(scientist, revision, django_capture_on_commit_callbacks)
    run = ValidationRun.objects.get(revision=revision)
    results = run.checks.values_list("key", "status", "message")
    assert run.state == RunState.PASSED, [result for result in results if result[1] != "pass"]
    keys = set(run.checks.values_list("key", flat=True))
    assert {"integrity", "model.format", "model.parameters", "model.framework", "data.ids", "data.rows",
            "metric.accuracy"} <= keys
    accuracy = run.checks.get(key="metric.accuracy")
    assert accuracy.measured == pytest.approx(MEASURED["accuracy"], abs=1e-9)
    assert run.checks.get(key="model.parameters").measured == MEASURED["parameters"]
    assert (run.worker, run.finished_at is not None, run.seconds is not None) == (run.worker, True, True)
    assert _state(handover) == S.AWAITING_REVIEW


def test_an_overstated_accuracy_fails_with_a_sentence_naming_both_numbers(
    draft, scientist, django_capture_on_commit_callbacks
):
    handover, revision = draft
    ClaimedMetric.objects.filter(revision=revision).update(claimed_value=0.970)
    _submit(scientist, revision, django_capture_on_commit_callbacks)
    run = ValidationRun.objects.get(revision=revision)
    assert run.state == RunState.FAILED
    accuracy = run.checks.get(key="metric.accuracy")
    assert accuracy.status == "fail"
    assert "0.970" in accuracy.message and "0.959" in accuracy.message and "171 rows" in accuracy.message
    assert _state(handover) == S.VALIDATION_FAILED
    event = AuditEvent.objects.get(verb="handover.validation_failed")
    assert event.details["failing"] == ["metric.accuracy"]


def test_the_contracts_positive_class_and_fairness_metric_are_what_is_measured(
    draft, scientist, django_capture_on_commit_callbacks
):
    handover, revision = draft
    labels = pacsv.read_csv(EVIDENCE / "labels.csv").to_pandas().set_index("id")
    predictions = pacsv.read_csv(EVIDENCE / "predictions.csv").to_pandas().set_index("id")
    joined = predictions.join(labels)
    by_size = {size: sk.recall_score(rows["label"], rows["prediction"], pos_label=0)
               for size, rows in joined.groupby("size")}
    negative_precision = sk.precision_score(joined["label"], joined["prediction"], pos_label=0)
    ClaimedMetric.objects.create(revision=revision, metric="precision",
                                 claimed_value=round(negative_precision, 3))
    handover_services.update_terms(scientist, revision, terms={
        "positive_label": "0", "fairness_slice_column": "size", "fairness_max_gap": 0.5,
        "fairness_metric": "recall"})

    _submit(scientist, revision, django_capture_on_commit_callbacks)

    run = ValidationRun.objects.get(revision=revision)
    precision = run.checks.get(key="metric.precision")
    assert precision.measured == pytest.approx(negative_precision, abs=1e-9)
    assert precision.measured != pytest.approx(MEASURED["precision"], abs=1e-3)  # not the class 1 figure
    gap = run.checks.get(key="fairness.recall_gap")
    assert gap.measured == pytest.approx(abs(by_size["large"] - by_size["small"]), abs=1e-9)
    assert not run.checks.filter(key="fairness.accuracy_gap").exists()


def test_working_a_run_twice_stores_one_result_set_and_moves_the_handover_once(
    draft, scientist, django_capture_on_commit_callbacks
):
    handover, revision = draft
    _submit(scientist, revision, django_capture_on_commit_callbacks, execute=False)
    run = ValidationRun.objects.get(revision=revision)
    assert services.work_run(run.pk, worker=ME) == "done"
    results = list(CheckResult.objects.filter(run=run).values_list("key", "status"))
    assert services.work_run(run.pk, worker=ME) == "skipped"
    assert list(CheckResult.objects.filter(run=run).values_list("key", "status")) == results
    assert AuditEvent.objects.filter(verb="handover.validation_passed").count() == 1
    assert services.work_run(10**9, worker=ME) == "skipped"  # a deleted run is nothing to do


def test_a_run_held_by_a_live_worker_is_not_taken_but_a_silent_one_is(
    draft, scientist, django_capture_on_commit_callbacks, settings
):
    _, revision = draft
    _submit(scientist, revision, django_capture_on_commit_callbacks, execute=False)
    run = ValidationRun.objects.get(revision=revision)
    first = services.claim(run.pk, worker={"hostname": "w1", "pid": 11})
    assert first is not None
    assert services.claim(run.pk, worker={"hostname": "w2", "pid": 22}) is None
    stale = timezone.now() - timedelta(seconds=settings.HANDOFF_VALIDATION_STALE_SECONDS + 1)
    ValidationRun.objects.filter(pk=run.pk).update(heartbeat_at=stale)
    second = services.claim(run.pk, worker={"hostname": "w2", "pid": 22})
    assert second is not None and second[1] != first[1]
    # The first worker comes back to life: its results are refused, the second's count.
    assert services.finish(run.pk, first[1], [], worker={"hostname": "w1", "pid": 11}) == "lost"
    run.refresh_from_db()
    assert (run.state, run.worker, run.attempts) == (RunState.RUNNING, "w2", 2)


def test_the_sweep_enqueues_forgotten_runs_again_and_ends_hopeless_ones(
    draft, scientist, django_capture_on_commit_callbacks, settings
):
    handover, revision = draft
    _submit(scientist, revision, django_capture_on_commit_callbacks, execute=False)
    run = ValidationRun.objects.get(revision=revision)
    assert services.sweep() == {"enqueued": 0, "failed": 0}  # just queued: a worker may still take it
    long_ago = timezone.now() - timedelta(hours=1)
    ValidationRun.objects.filter(pk=run.pk).update(created_at=long_ago)
    with django_capture_on_commit_callbacks(execute=True):
        assert services.sweep() == {"enqueued": 1, "failed": 0}  # eager: the doorbell works it
    run.refresh_from_db()
    assert run.state == RunState.PASSED and _state(handover) == S.AWAITING_REVIEW


def test_a_run_whose_worker_keeps_dying_ends_in_error_and_fails_validation(
    draft, scientist, django_capture_on_commit_callbacks, settings
):
    handover, revision = draft
    _submit(scientist, revision, django_capture_on_commit_callbacks, execute=False)
    run = ValidationRun.objects.get(revision=revision)
    stale = timezone.now() - timedelta(seconds=settings.HANDOFF_VALIDATION_STALE_SECONDS + 1)
    ValidationRun.objects.filter(pk=run.pk).update(
        state=RunState.RUNNING, started_at=timezone.now(), heartbeat_at=stale,
        attempts=settings.HANDOFF_VALIDATION_MAX_ATTEMPTS)
    assert services.sweep() == {"enqueued": 0, "failed": 1}
    run.refresh_from_db()
    assert run.state == RunState.ERROR and "stopped each time" in run.message
    assert _state(handover) == S.VALIDATION_FAILED


def test_a_run_past_its_time_limit_ends_in_error_with_a_message(
    draft, scientist, django_capture_on_commit_callbacks, settings
):
    handover, revision = draft
    settings.HANDOFF_VALIDATION_TIME_LIMIT_SECONDS = 0
    _submit(scientist, revision, django_capture_on_commit_callbacks)
    run = ValidationRun.objects.get(revision=revision)
    assert run.state == RunState.ERROR
    assert "time limit" in run.message
    assert _state(handover) == S.VALIDATION_FAILED


def test_the_owner_or_an_engineer_can_run_validation_again_and_only_the_latest_run_decides(
    draft, project, scientist, engineer, django_capture_on_commit_callbacks
):
    handover, revision = draft
    _submit(scientist, revision, django_capture_on_commit_callbacks, execute=False)
    first = ValidationRun.objects.get(revision=revision)
    claimed = services.claim(first.pk, worker=ME)
    # An engineer asks again while run 1 is still working: run 2 supersedes it.
    with django_capture_on_commit_callbacks(execute=False):
        handover_services.revalidate(engineer, Handover.objects.get(pk=handover.pk))
    second = ValidationRun.objects.get(revision=revision, number=2)
    first.refresh_from_db()
    assert (first.state, second.state) == (RunState.ERROR, RunState.QUEUED)
    assert "Superseded by run 2" in first.message
    assert services.finish(first.pk, claimed[1], [], worker=ME) == "lost"
    assert _state(handover) == S.VALIDATING
    assert services.work_run(second.pk, worker=ME) == "done"
    assert _state(handover) == S.AWAITING_REVIEW
    # The owner may ask again once it is under review; another data scientist may not.
    with django_capture_on_commit_callbacks(execute=True):
        handover_services.revalidate(scientist, Handover.objects.get(pk=handover.pk))
    assert ValidationRun.objects.filter(revision=revision).count() == 3
    other = member(project, Role.DATA_SCIENTIST)
    with pytest.raises(Forbidden):
        handover_services.revalidate(other, Handover.objects.get(pk=handover.pk))
    with pytest.raises(NotFound):
        handover_services.revalidate(member(_other_project(), Role.ML_ENGINEER),
                                     Handover.objects.get(pk=handover.pk))


def _other_project():
    from tests.factories import ProjectFactory

    return ProjectFactory()


def test_an_outcome_that_arrives_after_a_new_run_was_requested_does_not_decide(
    draft, scientist, engineer, django_capture_on_commit_callbacks
):
    handover, revision = draft
    _submit(scientist, revision, django_capture_on_commit_callbacks)
    assert _state(handover) == S.AWAITING_REVIEW
    with django_capture_on_commit_callbacks(execute=False):
        handover_services.revalidate(engineer, Handover.objects.get(pk=handover.pk))
    # run 1's outcome arrives again (a redelivered task that somehow got this far)
    moved = handover_services.record_validation_outcome(
        revision, passed=True, decides=lambda: not ValidationRun.objects.filter(number__gt=1).exists())
    assert moved is False and _state(handover) == S.VALIDATING
