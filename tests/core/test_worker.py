import time

import pytest

from handoff.audit.models import AuditEvent
from handoff.core.tasks import probe

pytestmark = pytest.mark.worker


def test_real_worker_runs_a_task_that_writes_to_the_database(celery_worker):
    assert celery_worker.ping()
    probe.delay("from the test")
    # No result backend: the database the worker writes to is the evidence.
    deadline = time.monotonic() + 30
    while not AuditEvent.objects.filter(verb="worker.probe", details__note="from the test").exists():
        assert time.monotonic() < deadline, f"the worker wrote nothing:\n{celery_worker.log()}"
        time.sleep(0.2)
