"""A real `celery worker` process against Redis and the test database.

``celery_worker`` starts one worker per test session (per xdist worker) on a
queue of its own, switches the test process from eager tasks to sending them
through Redis, and yields a handle. Tests using it are transactional, so the
worker process sees what the test wrote.

A start that fails (a busy machine, a worker slow to answer its first ping)
is retried once, with the first failure's reason shown as a warning, so one
slow start does not fail every worker test of the run.
"""

import os
import socket
import subprocess
import sys
import warnings
from urllib.parse import quote

import psutil
import pytest

from tests.timing import WaitTimeout, scaled, wait_until

from .services import need, on_postgres, redis_url

START_TIMEOUT = 60  # seconds, scaled: from `celery worker` to its first answered ping
STOP_TIMEOUT = 20  # seconds, scaled: from SIGTERM to exit (a warm shutdown ends the current task)


def _database_url(settings_dict):
    user = quote(settings_dict.get("USER") or "", safe="")
    password = quote(settings_dict.get("PASSWORD") or "", safe="")
    auth = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    host = settings_dict.get("HOST") or "127.0.0.1"
    port = settings_dict.get("PORT") or 5432
    return f"postgres://{auth}{host}:{port}/{settings_dict['NAME']}"


class WorkerHandle:
    def __init__(self, process, queue, nodename, log_path):
        self.process = process
        self.queue = queue
        self.nodename = nodename
        self.log_path = log_path

    def log(self):
        try:
            with open(self.log_path) as f:
                return f.read()
        except OSError:
            return ""

    def ping(self, timeout=1.0):
        from handoff.celery import app

        return bool(app.control.ping(destination=[self.nodename], timeout=scaled(timeout)))

    def idle(self, timeout=1.0):
        """Whether the worker holds no task, running or reserved (a task that a
        finishing one enqueued counts too, once the worker has taken it)."""
        from handoff.celery import app

        inspect = app.control.inspect(destination=[self.nodename], timeout=scaled(timeout))
        active, reserved = inspect.active() or {}, inspect.reserved() or {}
        return not any(active.values()) and not any(reserved.values())

    def pids(self):
        """The worker's main process and its pool processes (where tasks run)."""
        try:
            main = psutil.Process(self.process.pid)
            return {main.pid, *(child.pid for child in main.children(recursive=True))}
        except psutil.NoSuchProcess:
            return set()


def assert_ran_in_worker(identity, worker):
    """``identity`` (``{"hostname", "pid"}``, as ``handoff.core.tasks.worker_identity``
    records it) names a process of ``worker``: not this test process, which is
    where an eager task would have run."""
    assert identity, "the task recorded no worker identity"
    assert identity["pid"] != os.getpid(), (
        f"the task ran in the test process (pid {os.getpid()}): tasks were eager, not sent to the worker")
    assert identity["hostname"] == worker.nodename, (
        f"the task ran on {identity['hostname']!r}, not on the worker {worker.nodename!r}")
    assert identity["pid"] in worker.pids(), (
        f"pid {identity['pid']} is not one of the worker's processes {sorted(worker.pids())}")


class WorkerDidNotStart(Exception):
    pass


def _stop(process):
    try:
        pool = psutil.Process(process.pid).children(recursive=True)
    except psutil.NoSuchProcess:
        pool = []
    process.terminate()
    try:
        process.wait(timeout=scaled(STOP_TIMEOUT))
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    # A pool process left behind would take the next worker's tasks.
    for child in pool:
        try:
            child.kill()
        except psutil.NoSuchProcess:
            pass


def _tail(log, lines=40):
    return "\n".join(log.splitlines()[-lines:])


def _start_worker(command, env, cwd, queue, nodename, log_path):
    with open(log_path, "w") as log:
        process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=cwd)
    handle = WorkerHandle(process, queue, nodename, log_path)
    try:
        wait_until(lambda: process.poll() is not None or handle.ping(), "the Celery worker to answer a ping",
                   timeout=START_TIMEOUT, interval=0.3, detail=lambda: _tail(handle.log()))
    except WaitTimeout as exc:
        _stop(process)
        raise WorkerDidNotStart(str(exc)) from None
    if process.poll() is not None:
        raise WorkerDidNotStart(f"it exited with status {process.returncode}:\n{_tail(handle.log())}")
    return handle


@pytest.fixture(scope="session")
def _celery_worker_session(django_db_setup, django_db_blocker, tmp_path_factory, smtp_server_session):
    with django_db_blocker.unblock():
        from django.db import connection

        need(on_postgres(), "a real worker needs PostgreSQL (set DATABASE_URL=postgres://...)")
        settings_dict = dict(connection.settings_dict)
    need(bool(redis_url()), "a real worker needs Redis (set REDIS_URL=redis://...)")

    from django.conf import settings

    queue = settings.CELERY_TASK_DEFAULT_QUEUE
    nodename = f"{queue}@{socket.gethostname()}"
    media_root = tmp_path_factory.mktemp("worker-media")
    logs = tmp_path_factory.mktemp("worker-log")
    env = {
        **os.environ,
        "DATABASE_URL": _database_url(settings_dict),
        "REDIS_URL": redis_url(),
        "CELERY_TASK_DEFAULT_QUEUE": queue,
        "MEDIA_ROOT": str(media_root),
        "DJANGO_SETTINGS_MODULE": "handoff.settings",
        "CONN_MAX_AGE": "0",
        # Webhook retries in seconds, not minutes, and a receiver on 127.0.0.1 allowed
        # (tests/notifications/test_webhook_worker.py).
        "HANDOFF_WEBHOOK_BACKOFF_SECONDS": "1",
        "HANDOFF_WEBHOOK_TIMEOUT_SECONDS": "2",
        "HANDOFF_WEBHOOK_MAX_ATTEMPTS": "3",
        "HANDOFF_WEBHOOK_ALLOW_PRIVATE": "true",
        # The worker's emails go to the session's SMTP server (tests/plugins/smtp.py).
        "EMAIL_HOST": smtp_server_session.host,
        "EMAIL_PORT": str(smtp_server_session.port),
        # JSON lines, as in production: tests/core/test_request_id.py follows a request id into them.
        "LOG_FORMAT": "json",
    }
    command = [sys.executable, "-m", "celery", "-A", "handoff", "worker", "-Q", queue, "-n", nodename,
               "--pool", "prefork", "--concurrency", "1", "--loglevel", "INFO",
               "--without-gossip", "--without-mingle"]
    start = (command, env, str(settings.BASE_DIR), queue, nodename)
    failures = []
    for log_name in ("worker.log", "worker-retry.log"):
        try:
            handle = _start_worker(*start, logs / log_name)
            break
        except WorkerDidNotStart as exc:
            failures.append(str(exc))
            if len(failures) == 1:
                warnings.warn(f"the Celery worker did not start; trying once more. First attempt: {exc}")
    else:
        pytest.fail("the Celery worker did not start, twice.\n" + "\n".join(failures), pytrace=False)
    handle.media_root = media_root
    yield handle
    _stop(handle.process)


@pytest.fixture
def celery_worker(_celery_worker_session, transactional_db, settings):
    """Send tasks through Redis to a real worker process for this test."""
    from handoff.celery import app

    settings.MEDIA_ROOT = _celery_worker_session.media_root
    previous = app.conf.task_always_eager
    app.conf.task_always_eager = False
    yield _celery_worker_session
    app.conf.task_always_eager = previous
    # The test's database is flushed next: a task still writing to it would
    # deadlock the flush (TRUNCATE against the task's row locks).
    try:
        wait_until(lambda: _celery_worker_session.idle() and _celery_worker_session.idle(),
                   "the Celery worker to finish the test's tasks", timeout=30, interval=0.3)
    except WaitTimeout:
        warnings.warn("the Celery worker was still busy 30 s after the test; flushing anyway")


# --- a worker with settings of its own -----------------------------------------------------------------
# The session's worker reads its settings once, at start; a test whose worker needs other settings
# (artifacts on an object store: tests/handovers/test_object_storage.py) starts one of its own on a
# queue of its own and sends this process's tasks there for the test.


class _RoutedTo:
    """The app's router, every task sent to ``queue``."""

    def __init__(self, router, queue):
        self.router = router
        self.queue = queue

    def route(self, options, name, *args, **kwargs):
        return self.router.route({**options, "queue": self.queue}, name, *args, **kwargs)


@pytest.fixture(scope="module")
def start_own_worker(django_db_setup, django_db_blocker, tmp_path_factory, smtp_server_session):
    """``start_own_worker(name, extra_env)`` -> a WorkerHandle: a worker process as the session's
    (the test database, Redis, the session's SMTP server) with ``extra_env`` added to its
    environment, on the queue ``<the session's queue>-<name>``; stopped at the end of the module."""
    with django_db_blocker.unblock():
        from django.db import connection

        need(on_postgres(), "a real worker needs PostgreSQL (set DATABASE_URL=postgres://...)")
        settings_dict = dict(connection.settings_dict)
    need(bool(redis_url()), "a real worker needs Redis (set REDIS_URL=redis://...)")
    from django.conf import settings

    started = []

    def start(name, extra_env):
        queue = f"{settings.CELERY_TASK_DEFAULT_QUEUE}-{name}"
        nodename = f"{queue}@{socket.gethostname()}"
        media_root = tmp_path_factory.mktemp(f"{name}-media")
        env = {
            **os.environ,
            "DATABASE_URL": _database_url(settings_dict),
            "REDIS_URL": redis_url(),
            "CELERY_TASK_DEFAULT_QUEUE": queue,
            "HANDOFF_VALIDATION_QUEUE": queue,
            "MEDIA_ROOT": str(media_root),
            "DJANGO_SETTINGS_MODULE": "handoff.settings",
            "CONN_MAX_AGE": "0",
            "EMAIL_HOST": smtp_server_session.host,
            "EMAIL_PORT": str(smtp_server_session.port),
            **extra_env,
        }
        command = [sys.executable, "-m", "celery", "-A", "handoff", "worker", "-Q", queue, "-n", nodename,
                   "--pool", "prefork", "--concurrency", "1", "--loglevel", "INFO",
                   "--without-gossip", "--without-mingle"]
        log_path = tmp_path_factory.mktemp(f"{name}-log") / "worker.log"
        try:
            handle = _start_worker(command, env, str(settings.BASE_DIR), queue, nodename, log_path)
        except WorkerDidNotStart as exc:
            pytest.fail(f"the Celery worker {name!r} did not start: {exc}", pytrace=False)
        handle.media_root = media_root
        started.append(handle)
        return handle

    yield start
    for handle in started:
        _stop(handle.process)


@pytest.fixture
def send_tasks_to(transactional_db):
    """``send_tasks_to(handle)``: for the rest of the test, this process's tasks go through Redis
    to that worker (not eager, not to the session's worker)."""
    from handoff.celery import app

    previous = app.conf.task_always_eager, app.amqp.router
    chosen = []

    def send(handle):
        app.conf.task_always_eager = False
        app.amqp.router = _RoutedTo(previous[1], handle.queue)
        chosen.append(handle)

    yield send
    app.conf.task_always_eager, app.amqp.router = previous
    for handle in chosen:  # as celery_worker: the test's database is flushed next
        try:
            wait_until(lambda handle=handle: handle.idle() and handle.idle(),
                       "the Celery worker to finish the test's tasks", timeout=30, interval=0.3)
        except WaitTimeout:
            warnings.warn("the Celery worker was still busy 30 s after the test; flushing anyway")
