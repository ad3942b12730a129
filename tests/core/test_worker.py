import pytest

from handoff.audit.models import AuditEvent
from handoff.core.tasks import probe
from tests.plugins.worker import assert_ran_in_worker
from tests.timing import wait_until

pytestmark = pytest.mark.worker


def test_real_worker_runs_a_task_that_writes_to_the_database(celery_worker):
    assert celery_worker.ping()
    probe.delay("from the test")
    # No result backend: the database the worker writes to is the evidence.
    event = wait_until(
        lambda: AuditEvent.objects.filter(verb="worker.probe", details__note="from the test").first(),
        "the worker to write the probe's audit event", detail=celery_worker.log,
    )
    # Eager execution would write the same event, but from this process.
    assert_ran_in_worker(event.details.get("worker"), celery_worker)
