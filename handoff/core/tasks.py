import os
import socket

from celery import shared_task

from handoff.audit.services import record


def worker_identity(task):
    """Which worker process runs ``task`` (a bound task): ``{"hostname", "pid"}``.

    ``hostname`` is the Celery node's name (``queue@host``) in a worker; a task
    run in-process (eager, or called directly) has no node and gets the
    machine's name. Stored with the work it did, so a test can tell a real
    worker from eager execution and a person can tell which worker ran it."""
    return {"hostname": task.request.hostname or socket.gethostname(), "pid": os.getpid()}


@shared_task(bind=True)
def probe(self, note="worker probe"):
    """Write one audit event, signed with the worker's identity: proves a
    worker can reach the database. Used by the worker tests."""
    event = record(None, "worker.probe", None, note=note, worker=worker_identity(self))
    return event.pk
