"""A real `celery worker` process against Redis and the test database.

``celery_worker`` starts one worker per test session (per xdist worker) on a
queue of its own, switches the test process from eager tasks to sending them
through Redis, and yields a handle. Tests using it are transactional, so the
worker process sees what the test wrote.
"""

import os
import socket
import subprocess
import sys
import time
from urllib.parse import quote

import pytest

from .services import need, on_postgres, redis_url


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

        return bool(app.control.ping(destination=[self.nodename], timeout=timeout))


@pytest.fixture(scope="session")
def _celery_worker_session(django_db_setup, django_db_blocker, tmp_path_factory):
    with django_db_blocker.unblock():
        from django.db import connection

        need(on_postgres(), "a real worker needs PostgreSQL (set DATABASE_URL=postgres://...)")
        settings_dict = dict(connection.settings_dict)
    need(bool(redis_url()), "a real worker needs Redis (set REDIS_URL=redis://...)")

    from django.conf import settings

    queue = settings.CELERY_TASK_DEFAULT_QUEUE
    nodename = f"{queue}@{socket.gethostname()}"
    media_root = tmp_path_factory.mktemp("worker-media")
    log_path = tmp_path_factory.mktemp("worker-log") / "worker.log"
    env = {
        **os.environ,
        "DATABASE_URL": _database_url(settings_dict),
        "REDIS_URL": redis_url(),
        "CELERY_TASK_DEFAULT_QUEUE": queue,
        "MEDIA_ROOT": str(media_root),
        "DJANGO_SETTINGS_MODULE": "handoff.settings",
        "CONN_MAX_AGE": "0",
    }
    log = open(log_path, "w")  # noqa: SIM115 - closed at teardown
    process = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "handoff", "worker", "-Q", queue, "-n", nodename,
         "--pool", "prefork", "--concurrency", "1", "--loglevel", "INFO",
         "--without-gossip", "--without-mingle"],
        env=env, stdout=log, stderr=subprocess.STDOUT, cwd=str(settings.BASE_DIR),
    )
    handle = WorkerHandle(process, queue, nodename, log_path)
    handle.media_root = media_root
    deadline = time.monotonic() + 60
    while not handle.ping():
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"the Celery worker did not start:\n{handle.log()}", pytrace=False)
        time.sleep(0.3)
    yield handle
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
    log.close()


@pytest.fixture
def celery_worker(_celery_worker_session, transactional_db, settings):
    """Send tasks through Redis to a real worker process for this test."""
    from handoff.celery import app

    settings.MEDIA_ROOT = _celery_worker_session.media_root
    previous = app.conf.task_always_eager
    app.conf.task_always_eager = False
    yield _celery_worker_session
    app.conf.task_always_eager = previous
