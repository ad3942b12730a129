"""Workers that lose nothing: real worker processes on a private Redis server,
killed, starved of their broker, and handed the same task twice, while the
run row decides who works and what is stored.

Every test uses a Redis server of its own (not the machine's shared one, not
the session worker's queue), submits through a separate process configured
for it, and kills every process it started. The evidence is the demo's real
logistic regression with its predictions and labels tiled a few thousand
times (every metric is unchanged by tiling), so a run lasts long enough to be
caught in the middle.
"""

import os
import subprocess
import sys
import time

import numpy as np
import psutil
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pytest

from handoff.audit.models import AuditEvent
from handoff.handovers.models import ArtifactKind, Handover, HandoverState
from handoff.validation.models import CheckResult, RunState, ValidationRun
from tests.factories import (
    EVIDENCE,
    MEASURED,
    ArtifactFactory,
    ClaimedMetricFactory,
    HandoverFactory,
    ModelFactory,
    ProjectFactory,
    RevisionFactory,
    evidence,
    member,
)
from tests.faults import servers
from tests.faults.servers import PrivateRedis, kill_tree
from tests.plugins.services import need, on_postgres
from tests.plugins.worker import _database_url
from tests.timing import scaled, wait_until

pytestmark = [pytest.mark.worker]

TILES = 30_000  # 171 rows each: about 5 million rows, a run of several seconds
QUEUE = "resilience"
FINISHED = (RunState.PASSED, RunState.FAILED, RunState.ERROR)


# --- processes ---------------------------------------------------------------------------------------


class Processes(servers.Processes):
    """Starts workers and submitters against the private Redis and the test
    database; kills every one of them at the end of the test."""

    def __init__(self, redis, env, folder):
        super().__init__(env, folder, QUEUE)
        self.redis = redis

    def submit(self, revision):
        """Submit ``revision`` from a process of its own, whose broker is the private Redis."""
        code = ("import django; django.setup()\n"
                "from handoff.handovers import services\n"
                "from handoff.handovers.models import Revision\n"
                f"revision = Revision.objects.get(pk={revision.pk})\n"
                "services.submit_revision(revision.handover.owner, revision)\n")
        return subprocess.run([sys.executable, "-c", code], env=self.env, capture_output=True, text=True,
                              timeout=scaled(60), cwd=str(servers.ROOT))

    def close(self):
        super().close()
        self.redis.stop()


@pytest.fixture
def processes(transactional_db, settings, tmp_path):
    from django.db import connection

    need(on_postgres(), "real workers need PostgreSQL (set DATABASE_URL=postgres://...)")
    need(bool(__import__("shutil").which("redis-server")), "redis-server is needed on PATH")
    media = tmp_path / "media"
    media.mkdir()
    settings.MEDIA_ROOT = media
    redis = PrivateRedis(tmp_path)
    redis.start()
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("HANDOFF_VALIDATION_", "CELERY_"))}
    env.update({
        "DATABASE_URL": _database_url(connection.settings_dict),
        "REDIS_URL": redis.url,
        "CELERY_TASK_DEFAULT_QUEUE": QUEUE,
        "MEDIA_ROOT": str(media),
        "DJANGO_SETTINGS_MODULE": "handoff.settings",
        "CONN_MAX_AGE": "0",
    })
    procs = Processes(redis, env, tmp_path)
    yield procs
    procs.close()


# --- evidence ------------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def big_evidence(tmp_path_factory):
    """The demo's predictions and labels, each row repeated ``TILES`` times
    under new ids: the same accuracy, ``171 * TILES`` rows."""
    files = {}
    for kind in (ArtifactKind.PREDICTIONS, ArtifactKind.LABELS):
        name, _ = evidence(kind)
        table = pacsv.read_csv(EVIDENCE / name)
        rows = table.num_rows
        tiled = pa.concat_tables([table] * TILES)
        offsets = pa.array(np.repeat(np.arange(TILES, dtype=np.int64) * 1_000_000, rows))
        ids = pc.add(tiled.column("id").cast(pa.int64()), offsets)
        tiled = tiled.set_column(tiled.schema.get_field_index("id"), "id", ids)
        path = tmp_path_factory.mktemp("evidence") / name
        pacsv.write_csv(tiled, path)
        files[kind] = (name, path.read_bytes())
    return files


def _big_draft(big_evidence):
    project = ProjectFactory()
    owner = member(project, "data_scientist")
    handover = HandoverFactory(model=ModelFactory(project=project, owner=owner))
    revision = RevisionFactory(handover=handover, number=1, parameter_count=MEASURED["parameters"],
                               validation_row_count=MEASURED["rows"] * TILES)
    ClaimedMetricFactory(revision=revision, claimed_value=round(MEASURED["accuracy"], 3))
    ArtifactFactory(revision=revision, kind=ArtifactKind.MODEL, original_name="model.onnx",
                    content=evidence(ArtifactKind.MODEL)[1])
    for kind, (name, content) in big_evidence.items():
        ArtifactFactory(revision=revision, kind=kind, original_name=name, content=content)
    return handover, revision


def _submitted(processes, revision):
    done = processes.submit(revision)
    assert done.returncode == 0, done.stderr
    return ValidationRun.objects.get(revision=revision)


def _finished(run, workers, timeout):
    return wait_until(
        lambda: ValidationRun.objects.filter(pk=run.pk, state__in=FINISHED).first(),
        f"run {run.pk} to finish", timeout=timeout,
        detail=lambda: "\n".join(f"--- {w.log_path}\n{w.log()[-3000:]}" for w in workers))


def _assert_passed_once(run, handover):
    """One result set, one state change: the run passed, each check stored
    once, one validation_passed event, the handover awaiting review."""
    assert run.state == RunState.PASSED, {c.key: c.message for c in run.checks.exclude(status="pass")}
    keys = list(CheckResult.objects.filter(run=run).values_list("key", flat=True))
    assert keys and len(keys) == len(set(keys)), keys
    assert CheckResult.objects.filter(run__revision=run.revision).count() == len(keys)
    assert CheckResult.objects.get(run=run, key="data.rows").measured == MEASURED["rows"] * TILES
    events = AuditEvent.objects.filter(details__handover=handover.pk, verb__startswith="handover.validation_")
    assert list(events.values_list("verb", flat=True)) == ["handover.validation_passed"]
    assert Handover.objects.get(pk=handover.pk).state == HandoverState.AWAITING_REVIEW


def _running(run):
    return ValidationRun.objects.filter(pk=run.pk, state=RunState.RUNNING, heartbeat_at__isnull=False).first()


# --- tests ----------------------------------------------------------------------------------------------


def test_a_worker_killed_in_the_middle_of_a_run_loses_nothing(processes, big_evidence):
    handover, revision = _big_draft(big_evidence)
    first = processes.worker("first")
    run = _submitted(processes, revision)
    running = wait_until(lambda: _running(run), "the first worker to claim the run", timeout=30,
                         detail=first.log)
    assert running.attempts == 1

    kill_tree(first.process)  # SIGKILL, main process and pool: no warm shutdown, no ack, no reject
    assert ValidationRun.objects.get(pk=run.pk).state == RunState.RUNNING, "the run ended before the kill"
    # The orphan is stale once its heartbeat is older than the new worker's STALE_SECONDS.
    wait_until(lambda: (time.time() - ValidationRun.objects.get(pk=run.pk).heartbeat_at.timestamp()) > 6,
               "the killed worker's heartbeat to go stale", timeout=30)

    started = time.monotonic()
    second = processes.worker("second", HANDOFF_VALIDATION_STALE_SECONDS=5)
    run = _finished(run, [first, second], timeout=120)
    print(f"run finished {time.monotonic() - started:.1f} s after the new worker was started")
    assert run.attempts == 2
    assert run.worker.startswith("second@")
    _assert_passed_once(run, handover)


def test_a_run_submitted_while_redis_is_down_is_worked_when_it_is_back(processes, big_evidence):
    handover, revision = _big_draft(big_evidence)
    processes.redis.stop()

    done = processes.submit(revision)
    assert done.returncode == 0, done.stderr
    assert "could not enqueue validation run" in done.stderr, done.stderr
    run = ValidationRun.objects.get(revision=revision)
    assert run.state == RunState.QUEUED
    assert Handover.objects.get(pk=handover.pk).state == HandoverState.VALIDATING

    processes.redis.start()
    worker = processes.worker("back", HANDOFF_VALIDATION_QUEUE_GRACE_SECONDS=1)
    run = _finished(run, [worker], timeout=120)
    assert run.attempts == 1
    _assert_passed_once(run, handover)


def test_a_run_longer_than_the_visibility_timeout_is_worked_by_one_worker(processes, big_evidence):
    handover, revision = _big_draft(big_evidence)
    first = processes.worker("first", CELERY_VISIBILITY_TIMEOUT=2)
    run = _submitted(processes, revision)
    wait_until(lambda: _running(run), "the first worker to claim the run", timeout=30, detail=first.log)
    # Hold the run in the middle, however fast this machine measures: the
    # first worker's pool process is paused (a stalled worker, as under memory
    # pressure) until the second worker has come and gone. Without the pause a
    # quick run could end, and be acknowledged, before the second worker polls.
    pool = psutil.Process(first.process.pid).children(recursive=True)
    assert pool, first.log()
    for child in pool:
        child.suspend()
    # Past the visibility timeout, the task is still unacknowledged: a worker
    # that starts now restores it to the queue (kombu does so as it starts
    # polling, then every few seconds) and receives it while the first one is
    # still working.
    wait_until(lambda: time.time() - ValidationRun.objects.get(pk=run.pk).started_at.timestamp() > 2.5,
               "the visibility timeout to pass", timeout=10)
    # The paused run's heartbeat stands still; the second worker must still see a live run.
    second = processes.worker("second", CELERY_VISIBILITY_TIMEOUT=2, HANDOFF_VALIDATION_STALE_SECONDS=600)
    wait_until(lambda: "'skipped'" in second.log(), "the second worker to receive the task and skip it",
               timeout=60, detail=second.log)
    assert ValidationRun.objects.get(pk=run.pk).state == RunState.RUNNING, "the run ended while paused"
    for child in pool:
        child.resume()
    run = _finished(run, [first, second], timeout=60)

    assert "is being worked by first@" in second.log(), second.log()
    assert "Task handoff.validation.tasks.run_validation[" in second.log()
    assert run.attempts == 1
    assert run.worker.startswith("first@")
    _assert_passed_once(run, handover)
