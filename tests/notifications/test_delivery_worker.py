"""Notifications end to end through real worker processes on Redis and
PostgreSQL, with the emails received by a real SMTP server on 127.0.0.1
(tests/plugins/smtp.py): told once however often a task runs, and told once
when the broker was down at the moment of the change."""

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from django.core import mail

from handoff.audit.models import AuditEvent
from handoff.core.tasks import probe
from handoff.handovers import services as handovers
from handoff.handovers.models import ClaimedMetric, Handover, HandoverState
from handoff.notifications import tasks as notification_tasks
from handoff.notifications.models import Delivery, DeliveryState, Notification
from handoff.teams.models import Role
from handoff.validation import tasks as validation_tasks
from handoff.validation.models import RunState, ValidationRun
from tests.factories import MEASURED, ProjectFactory, member, ready_draft
from tests.faults.servers import PrivateRedis, kill_tree
from tests.plugins.services import need, on_postgres
from tests.plugins.worker import _database_url, assert_ran_in_worker
from tests.timing import scaled, wait_until

from .conftest import awaiting_review

pytestmark = [pytest.mark.worker]

ROOT = Path(__file__).resolve().parents[2]
WORKER_START = 60  # seconds, scaled: from `celery worker` to "ready."
QUEUE = "notify-resilience"


def _sent_by(received, worker_pids):
    """The email came from a worker process, not from an eager task in this one."""
    assert received.pid is not None, "the SMTP server could not tell which process sent the email"
    assert received.pid != os.getpid(), "the email was sent by the test process: tasks ran eagerly"
    assert received.pid in worker_pids, f"pid {received.pid} is not a worker's {sorted(worker_pids)}"


def _barrier(note, worker):
    """Wait until the worker has taken every task sent before this one: it
    works one task at a time, in the order they were sent."""
    probe.delay(note)
    wait_until(lambda: AuditEvent.objects.filter(verb="worker.probe", details__note=note).exists(),
               f"the worker to reach the probe {note!r}", timeout=60, detail=worker.log)


def test_a_false_accuracy_claim_tells_the_owner_once_in_the_app_and_by_email(celery_worker, smtp_server):
    project = ProjectFactory()
    owner = member(project, Role.DATA_SCIENTIST, email="owner@example.org")
    handover, revision = ready_draft(project=project, owner=owner)
    ClaimedMetric.objects.filter(revision=revision, metric="accuracy").update(
        claimed_value=round(MEASURED["accuracy"] + 0.02, 3))

    handovers.submit_revision(owner, revision)
    run = wait_until(lambda: ValidationRun.objects.filter(
        revision=revision, state__in=[RunState.PASSED, RunState.FAILED, RunState.ERROR]).first(),
        "the worker to validate the revision", timeout=120, detail=celery_worker.log)
    assert_ran_in_worker({"hostname": run.worker, "pid": run.worker_pid}, celery_worker)
    assert run.state == RunState.FAILED
    assert Handover.objects.get(pk=handover.pk).state == HandoverState.VALIDATION_FAILED

    [received] = smtp_server.wait_for(owner.email, timeout=60, detail=celery_worker.log)
    _sent_by(received, celery_worker.pids())
    assert "validation failed" in received.subject
    assert "metric.accuracy" in received.part("text/plain")
    assert "metric.accuracy" in received.part("text/html")
    notification = Notification.objects.get(recipient=owner)
    assert notification.kind == "validation_failed" and "metric.accuracy" in notification.body
    delivery = wait_until(lambda: Delivery.objects.filter(notification=notification,
                                                          state=DeliveryState.SENT).first(),
                          "the delivery to be marked sent", detail=celery_worker.log)

    # The validation task again (a redelivery), the email's doorbell again, a sweep: no one is told twice.
    validation_tasks.run_validation.delay(run.pk)
    notification_tasks.send_email.delay(delivery.pk)
    notification_tasks.sweep_deliveries.delay()
    _barrier("after the repeated tasks", celery_worker)

    assert Notification.objects.filter(recipient=owner).count() == 1
    assert len(smtp_server.to(owner.email)) == 1
    assert Delivery.objects.get(pk=delivery.pk).attempts == 1
    assert ValidationRun.objects.filter(revision=revision).count() == 1
    assert mail.outbox == []  # nothing was sent from this process either


# --- the broker down at the moment of the change --------------------------------------------------


class Processes:
    """A worker and one-off commands against a private Redis and the test
    database; kills every process it started at the end of the test."""

    def __init__(self, redis, env, folder):
        self.redis, self.env, self.folder = redis, env, folder
        self.workers = []

    def run(self, code):
        return subprocess.run([sys.executable, "-c", "import django; django.setup()\n" + code],
                              env=self.env, capture_output=True, text=True, timeout=scaled(60), cwd=str(ROOT))

    def worker(self, name, **settings):
        env = {**self.env, **{key: str(value) for key, value in settings.items()}}
        log_path = self.folder / f"{name}.log"
        with open(log_path, "w") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "celery", "-A", "handoff", "worker", "-Q", QUEUE,
                 "-n", f"{name}@{socket.gethostname()}", "--pool", "prefork", "--concurrency", "1",
                 "--loglevel", "INFO", "--without-gossip", "--without-mingle", "--without-heartbeat"],
                env=env, stdout=log, stderr=subprocess.STDOUT, cwd=str(ROOT), start_new_session=True)
        self.workers.append(process)
        process.log = lambda: log_path.read_text() if log_path.exists() else ""
        wait_until(lambda: process.poll() is not None or " ready." in process.log(),
                   f"worker {name} to be ready", timeout=WORKER_START, interval=0.2, detail=process.log)
        assert process.poll() is None, f"worker {name} exited:\n{process.log()}"
        return process

    def close(self):
        for process in self.workers:
            if process.poll() is None:
                kill_tree(process)
        self.redis.stop()


@pytest.fixture
def processes(transactional_db, smtp_server, tmp_path):
    from django.db import connection

    need(on_postgres(), "real workers need PostgreSQL (set DATABASE_URL=postgres://...)")
    need(bool(__import__("shutil").which("redis-server")), "redis-server is needed on PATH")
    redis = PrivateRedis(tmp_path)
    redis.start()
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("HANDOFF_NOTIFY_", "CELERY_", "EMAIL_"))}
    env.update({
        "DATABASE_URL": _database_url(connection.settings_dict),
        "REDIS_URL": redis.url,
        "CELERY_TASK_DEFAULT_QUEUE": QUEUE,
        "MEDIA_ROOT": str(tmp_path),
        "DJANGO_SETTINGS_MODULE": "handoff.settings",
        "CONN_MAX_AGE": "0",
        "EMAIL_HOST": smtp_server.host,
        "EMAIL_PORT": str(smtp_server.port),
    })
    procs = Processes(redis, env, tmp_path)
    yield procs
    procs.close()


def _pids(process):
    import psutil

    main = psutil.Process(process.pid)
    return {main.pid, *(child.pid for child in main.children(recursive=True))}


def test_a_decision_taken_while_redis_is_down_is_told_once_when_it_is_back(processes, smtp_server):
    project = ProjectFactory()
    owner = member(project, Role.DATA_SCIENTIST, email="owner@example.org")
    engineer = member(project, Role.ML_ENGINEER)
    handover, revision = awaiting_review(project, owner)
    processes.redis.stop()

    done = processes.run(
        "from django.contrib.auth import get_user_model\n"
        "from handoff.handovers import services\n"
        "from handoff.handovers.models import Revision\n"
        f"services.accept_revision(get_user_model().objects.get(pk={engineer.pk}),"
        f" Revision.objects.get(pk={revision.pk}))\n")
    assert done.returncode == 0, done.stderr
    assert "could not enqueue email delivery" in done.stderr, done.stderr
    assert Handover.objects.get(pk=handover.pk).state == HandoverState.ACCEPTED
    notification = Notification.objects.get(recipient=owner)  # stored with the decision
    assert notification.kind == "accepted"
    delivery = Delivery.objects.get(notification=notification)
    assert delivery.state == DeliveryState.PENDING and delivery.attempts == 0
    assert smtp_server.messages == []

    processes.redis.start()
    # No beat runs here: the worker's own start sends what waited.
    worker = processes.worker("back", HANDOFF_NOTIFY_GRACE_SECONDS=0)
    [received] = smtp_server.wait_for(owner.email, timeout=60, detail=worker.log)
    _sent_by(received, _pids(worker))
    assert "was accepted" in received.subject
    wait_until(lambda: Delivery.objects.filter(pk=delivery.pk, state=DeliveryState.SENT).exists(),
               "the delivery to be marked sent", detail=worker.log)

    # Another sweep and another doorbell, then a probe behind them: still once.
    done = processes.run(
        "from handoff.core.tasks import probe\n"
        "from handoff.notifications import tasks\n"
        f"tasks.sweep_deliveries.delay(); tasks.send_email.delay({delivery.pk}); probe.delay('behind')\n")
    assert done.returncode == 0, done.stderr
    wait_until(lambda: AuditEvent.objects.filter(verb="worker.probe", details__note="behind").exists(),
               "the worker to reach the probe", timeout=60, detail=worker.log)
    assert Notification.objects.filter(recipient=owner).count() == 1
    assert len(smtp_server.to(owner.email)) == 1
    assert Delivery.objects.get(pk=delivery.pk).attempts == 1
