"""Hostile evidence, end to end through a real Celery worker on Redis and
PostgreSQL: each file is uploaded with the app's own upload service, the
revision is submitted, and the worker process validates it. Every hostile
input ends as a clear failed or skipped check, nothing in it is executed, the
handover moves once, and the same worker processes are still there and still
validate a good revision afterwards.

The pickles carry a payload that runs a shell command when unpickled; the
first test shows that it really does."""

import os
import pickle
import shlex
import struct
from dataclasses import dataclass

import numpy as np
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from onnx import TensorProto, helper, numpy_helper

from handoff.audit.models import AuditEvent
from handoff.handovers import services
from handoff.handovers.models import ArtifactKind, Handover, HandoverState, Metric
from handoff.validation.models import RunState, ValidationRun
from tests.factories import MEASURED, ClaimedMetricFactory, evidence, ready_draft
from tests.plugins.worker import assert_ran_in_worker
from tests.timing import wait_until

pytestmark = pytest.mark.worker

MODEL_DEPENDENT = ("model.framework", "model.parameters", "runtime.latency_p95_ms", "runtime.peak_memory_mb")
OUTCOME_VERBS = ("handover.validation_passed", "handover.validation_failed")


# --- hostile files, built small in the test ---------------------------------------------------


def trap(marker):
    """A pickle that, when loaded, runs ``touch marker`` in a shell."""

    class Trap:
        def __reduce__(self):
            return (os.system, (f"touch {shlex.quote(str(marker))}",))

    return pickle.dumps(Trap(), protocol=4)


def onnx_reading_external_data_from(location):
    """A parseable ONNX graph whose one weight lives in an external file at ``location``."""
    tensor = numpy_helper.from_array(np.ones(4, np.float32), "w")
    tensor.ClearField("raw_data")
    tensor.data_location = TensorProto.EXTERNAL
    for key, value in (("location", location), ("offset", "0"), ("length", "16")):
        entry = tensor.external_data.add()
        entry.key, entry.value = key, value
    graph = helper.make_graph(
        [helper.make_node("Add", ["x", "w"], ["y"])], "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [4])], [tensor])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]).SerializeToString()


def secret(tmp_path):
    """A real file outside the media folder: only the refusal keeps the model from reading it."""
    path = tmp_path / "secret.bin"
    path.write_bytes(b"\0" * 16)
    return path


def climbing_out(tmp_path):
    # More "..", than the artifact folder is deep, then down to the secret: valid from any depth.
    return "../" * 32 + str(secret(tmp_path)).lstrip("/")


def _csv_lines(kind):
    header, *rows = evidence(kind)[1].decode().splitlines()
    return header, rows


def _csv(header, rows):
    return ("\n".join([header, *rows]) + "\n").encode()


def duplicated_and_missing_ids():
    """The first prediction twice, the second one gone."""
    header, rows = _csv_lines(ArtifactKind.PREDICTIONS)
    return _csv(header, [rows[0], rows[0], *rows[2:]])


def non_numeric_score():
    header, rows = _csv_lines(ArtifactKind.PREDICTIONS)
    row_id, prediction, _score = rows[5].split(",")
    return _csv(header, [*rows[:5], f"{row_id},{prediction},high", *rows[6:]])


def labels_without_id():
    header, rows = _csv_lines(ArtifactKind.LABELS)
    assert header == "id,label,size"
    return _csv("row,label,size", rows)


def first_ids():
    _header, rows = _csv_lines(ArtifactKind.PREDICTIONS)
    return rows[0].split(",")[0], rows[1].split(",")[0]


# --- filing, validating, and what must hold afterwards ---------------------------------------


@pytest.fixture(scope="module")
def worker_pids(_celery_worker_session):
    """The worker's processes before this module's first revision: every test ends with the same."""
    return _celery_worker_session.pids()


def _filed(replace=None, claims=()):
    """The demo's passing draft, with one artifact replaced through the upload service."""
    handover, revision = ready_draft()
    for kind, (name, content) in (replace or {}).items():
        services.attach_artifact(handover.owner, revision, kind=kind,
                                 uploaded_file=SimpleUploadedFile(name, content))
    for metric in claims:
        ClaimedMetricFactory(revision=revision, metric=metric, claimed_value=round(MEASURED[metric], 3),
                             minimum=None)
    return handover, revision


def _validated(handover, revision, worker):
    services.submit_revision(handover.owner, revision)
    run = wait_until(lambda: ValidationRun.objects.filter(revision=revision, state__in=[
        RunState.PASSED, RunState.FAILED, RunState.ERROR]).first(), "the worker to validate the revision",
        timeout=90, detail=worker.log)
    assert_ran_in_worker({"hostname": run.worker, "pid": run.worker_pid}, worker)
    assert ValidationRun.objects.filter(revision=revision).count() == 1
    return run, {check.key: check for check in run.checks.all()}


def _moved_once(handover, worker, *, passed):
    """The handover left validating once, for review or back to its owner, and the worker
    recorded exactly that one outcome."""
    verb, state = (("handover.validation_passed", HandoverState.AWAITING_REVIEW) if passed
                   else ("handover.validation_failed", HandoverState.VALIDATION_FAILED))
    assert Handover.objects.get(pk=handover.pk).state == state
    events = list(AuditEvent.objects.filter(verb__in=OUTCOME_VERBS, details__handover=handover.pk))
    assert [event.verb for event in events] == [verb]
    assert_ran_in_worker(events[0].details["worker"], worker)
    return events[0]


def _still_up(worker, pids):
    assert worker.ping(), f"the worker no longer answers a ping:\n{worker.log()[-3000:]}"
    assert worker.pids() == pids, f"the worker's processes changed: {sorted(pids)} -> {sorted(worker.pids())}"


def _says(check, status, words):
    assert check.status == status, f"{check.key}: {check.status}: {check.message}"
    assert words in check.message, f"{check.key}: {check.message!r} does not say {words!r}"


def test_the_trap_would_run_code_if_unpickled(tmp_path):
    """What the worker tests below rely on: loading the payload creates the marker."""
    marker = tmp_path / "unpickled"
    pickle.loads(trap(marker))
    assert marker.exists()


@dataclass
class Unreadable:
    name: str
    content: object  # tmp_path -> bytes
    message: object  # tmp_path -> the words model.format must say
    why: str  # what each check that needs the model says instead


UNREADABLE_MODELS = {
    "pickle-named-onnx": Unreadable(
        "model.onnx", lambda tmp: trap(tmp / "unpickled"),
        lambda tmp: "not an ONNX file: it is a Python pickle, and pickles are never loaded",
        "the model file is not a valid ONNX file (see model.format)"),
    "onnx-external-data-climbing-out": Unreadable(
        "model.onnx", lambda tmp: onnx_reading_external_data_from(climbing_out(tmp)),
        lambda tmp: f"external data refused: tensor 'w' reads external data from {climbing_out(tmp)!r},"
                    " outside the model's folder (path traversal refused)",
        "the model's external data was refused (see model.format)"),
    "onnx-external-data-absolute": Unreadable(
        "model.onnx", lambda tmp: onnx_reading_external_data_from(str(secret(tmp))),
        lambda tmp: f"external data refused: tensor 'w' reads external data from the absolute path"
                    f" {str(secret(tmp))!r}; external data must sit beside the model",
        "the model's external data was refused (see model.format)"),
    "safetensors-huge-header": Unreadable(
        "weights.safetensors", lambda tmp: struct.pack("<Q", 2**63) + b"{}",
        lambda tmp: "not a valid safetensors file: its header claims 9,223,372,036,854,775,808 bytes,"
                    " but the file holds only 2 after the length",
        "the model file is not a valid safetensors file (see model.format)"),
}


@pytest.mark.parametrize("case", UNREADABLE_MODELS.values(), ids=UNREADABLE_MODELS.keys())
def test_a_model_that_cannot_be_read_fails_its_format_and_skips_what_needs_it(
        celery_worker, worker_pids, tmp_path, case):
    handover, revision = _filed({ArtifactKind.MODEL: (case.name, case.content(tmp_path))})
    run, checks = _validated(handover, revision, celery_worker)

    _says(checks["model.format"], "fail", case.message(tmp_path))
    for key in MODEL_DEPENDENT:
        _says(checks[key], "skipped", case.why)
    _says(checks["metric.accuracy"], "pass", "on 171 rows")  # the data are measured all the same
    assert run.state == RunState.FAILED
    event = _moved_once(handover, celery_worker, passed=False)
    assert event.details["failing"] == ["model.format"]
    assert not (tmp_path / "unpickled").exists(), "the worker unpickled the model"
    _still_up(celery_worker, worker_pids)


def test_a_pickle_named_pkl_is_stored_never_loaded_and_only_skipped(celery_worker, worker_pids, tmp_path):
    marker = tmp_path / "unpickled"
    handover, revision = _filed({ArtifactKind.MODEL: ("model.pkl", trap(marker))})
    run, checks = _validated(handover, revision, celery_worker)

    _says(checks["model.format"], "skipped", "cannot be verified: pickle files are never loaded or executed")
    for key in MODEL_DEPENDENT:
        _says(checks[key], "skipped", "the model is a .pkl file, and pickle files are never loaded")
    assert run.state == RunState.PASSED, {k: c.message for k, c in checks.items() if c.status == "fail"}
    _moved_once(handover, celery_worker, passed=True)
    assert revision.artifacts.get(kind=ArtifactKind.MODEL).file.read() == trap(marker)  # stored as sent
    assert not marker.exists(), "the worker unpickled the model"
    _still_up(celery_worker, worker_pids)


@dataclass
class BadEvidence:
    kind: str
    name: str
    content: object  # () -> bytes
    expected: dict  # check key -> (status, words its message must hold)
    failing: list  # the run's failing checks, as the audit event names them
    claims: tuple = ()


BAD_EVIDENCE = {
    "duplicate-and-missing-ids": BadEvidence(
        ArtifactKind.PREDICTIONS, "predictions.csv", duplicated_and_missing_ids, {
            "data.ids": ("fail", "1 ids of labels.csv are missing from predictions.csv (e.g. {missing});"
                                 " 1 ids appear more than once in predictions.csv, on 2 rows (e.g."
                                 " {duplicated}): the metrics use the 169 rows whose id appears once in each"
                                 " file"),
            "metric.accuracy": ("pass", "measured 0.959 on the 169 rows whose ids match (see data.ids)"),
        }, failing=["data.ids"]),
    "non-numeric-score": BadEvidence(
        ArtifactKind.PREDICTIONS, "predictions.csv", non_numeric_score, {
            "metric.roc_auc": ("fail", "roc_auc cannot be measured: the 'score' column of predictions.csv is"
                                       " not numeric (it holds 'high')"),
            "metric.accuracy": ("pass", "on 171 rows"),
            "data.ids": ("pass", "all 171 ids match"),
        }, claims=(Metric.ROC_AUC,), failing=["metric.roc_auc"]),
    "labels-without-id": BadEvidence(
        ArtifactKind.LABELS, "labels.csv", labels_without_id, {
            "data.ids": ("fail", "labels.csv has no id column (its columns: 'row', 'label', 'size')"),
            "data.rows": ("skipped", "cannot be counted: the labels could not be read (see data.ids)"),
            "metric.accuracy": ("skipped", "cannot be measured: the predictions and labels could not be"
                                           " read (see data.ids)"),
        }, failing=["data.ids"]),
}


@pytest.mark.parametrize("case", BAD_EVIDENCE.values(), ids=BAD_EVIDENCE.keys())
def test_bad_evidence_fails_the_check_that_names_what_to_fix(celery_worker, worker_pids, case):
    handover, revision = _filed({case.kind: (case.name, case.content())}, claims=case.claims)
    run, checks = _validated(handover, revision, celery_worker)

    duplicated, missing = first_ids()
    for key, (status, words) in case.expected.items():
        words = words.format(duplicated=duplicated, missing=missing)
        _says(checks[key], status, words)
    _says(checks["model.format"], "pass", "a valid ONNX model")  # the model is measured all the same
    assert run.state == RunState.FAILED
    event = _moved_once(handover, celery_worker, passed=False)
    assert event.details["failing"] == case.failing
    _still_up(celery_worker, worker_pids)


def test_the_same_worker_then_validates_a_good_revision(celery_worker, worker_pids):
    handover, revision = _filed()
    run, checks = _validated(handover, revision, celery_worker)

    assert run.state == RunState.PASSED, {k: c.message for k, c in checks.items() if c.status == "fail"}
    assert checks["model.parameters"].measured == MEASURED["parameters"]
    assert checks["runtime.latency_p95_ms"].status == "pass", checks["runtime.latency_p95_ms"].message
    _moved_once(handover, celery_worker, passed=True)
    assert run.worker_pid in worker_pids
    _still_up(celery_worker, worker_pids)
