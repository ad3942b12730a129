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
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

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
from tests.plugins.services import need, on_postgres
from tests.plugins.worker import _database_url
from tests.timing import scaled, wait_until

pytestmark = [pytest.mark.worker]

TILES = 30_000  # 171 rows each: about 5 million rows, a run of several seconds
QUEUE = "resilience"
REDIS_START = 10  # seconds, scaled
WORKER_START = 60  # seconds, scaled: from `celery worker` to "ready."
STOP = 20  # seconds, scaled
FINISHED = (RunState.PASSED, RunState.FAILED, RunState.ERROR)


# --- processes ---------------------------------------------------------------------------------------


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _kill_tree(process, sig=signal.SIGKILL):
    """Signal ``process``'s whole group (the worker's main process and its pool)."""
    try:
        members = [psutil.Process(process.pid), *psutil.Process(process.pid).children(recursive=True)]
    except psutil.NoSuchProcess:
        members = []
    try:
        os.killpg(process.pid, sig)
    except ProcessLookupError:
        pass
    for member_ in members:  # a child that left the group
        try:
            member_.send_signal(sig)
        except psutil.NoSuchProcess:
            pass
    try:
        process.wait(timeout=scaled(STOP))
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    psutil.wait_procs(members, timeout=scaled(STOP))


class PrivateRedis:
    """A redis-server of this test's own, which it may stop and start again."""

    def __init__(self, folder):
        self.port = _free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.folder = folder
        self.process = None

    def _answers(self):
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as s:
                s.sendall(b"PING\r\n")
                return s.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def start(self):
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.folder)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        wait_until(self._answers, f"redis-server on port {self.port} to answer", timeout=REDIS_START)

    def stop(self):
        if self.process is not None and self.process.poll() is None:
            _kill_tree(self.process)
        self.process = None
        wait_until(lambda: not self._answers(), "the private Redis to stop", timeout=REDIS_START)


class Worker:
    def __init__(self, process, log_path):
        self.process = process
        self.log_path = log_path

    def log(self):
        try:
            return Path(self.log_path).read_text()
        except OSError:
            return ""


class Processes:
    """Starts workers and submitters against the private Redis and the test
    database; kills every one of them at the end of the test."""

    def __init__(self, redis, env, folder):
        self.redis = redis
        self.env = env
        self.folder = folder
        self.workers = []

    def worker(self, name, **settings):
        env = {**self.env, **{key: str(value) for key, value in settings.items()}}
        log_path = self.folder / f"{name}.log"
        with open(log_path, "w") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "celery", "-A", "handoff", "worker", "-Q", QUEUE,
                 "-n", f"{name}@{socket.gethostname()}", "--pool", "prefork", "--concurrency", "1",
                 "--loglevel", "INFO", "--without-gossip", "--without-mingle", "--without-heartbeat"],
                env=env, stdout=log, stderr=subprocess.STDOUT, cwd=str(Path(__file__).parents[2]),
                start_new_session=True)
        worker = Worker(process, log_path)
        self.workers.append(worker)
        wait_until(lambda: process.poll() is not None or " ready." in worker.log(),
                   f"worker {name} to be ready", timeout=WORKER_START, interval=0.2, detail=worker.log)
        assert process.poll() is None, f"worker {name} exited:\n{worker.log()}"
        return worker

    def submit(self, revision):
        """Submit ``revision`` from a process of its own, whose broker is the private Redis."""
        code = ("import django; django.setup()\n"
                "from handoff.handovers import services\n"
                "from handoff.handovers.models import Revision\n"
                f"revision = Revision.objects.get(pk={revision.pk})\n"
                "services.submit_revision(revision.handover.owner, revision)\n")
        return subprocess.run([sys.executable, "-c", code], env=self.env, capture_output=True, text=True,
                              timeout=scaled(60), cwd=str(Path(__file__).parents[2]))

    def close(self):
        for worker in self.workers:
            if worker.process.poll() is None:
                _kill_tree(worker.process)
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

    _kill_tree(first.process)  # SIGKILL, main process and pool: no warm shutdown, no ack, no reject
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
