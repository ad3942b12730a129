"""Two evaluators holding breaching batches of one deployment's metric at the
same moment open one incident, not two (PostgreSQL, two threads, each its
own connection and transaction).

The overlap is proven, not hoped for: the first evaluation is held by
``handoff.core.locking``'s checkpoint just after it took the deployment's
row lock; the second is started then, and is let go only once PostgreSQL
shows it waiting on a lock. If the second got past the deployment lock while
the first held it, the test fails on that.
"""

import threading

import pytest
from django.db import connection

from handoff.core import locking
from handoff.deployments.models import Deployment, MetricBatch
from handoff.incidents import breaches
from handoff.incidents.models import EventKind, Incident
from handoff.notifications.models import Notification
from tests.race import _locks_waited_on
from tests.timing import scaled, wait_until

from .conftest import stored_batch

pytestmark = pytest.mark.postgres


def _evaluate(batch, results):
    try:
        results[threading.current_thread().name] = breaches.evaluate_batch(batch.pk)
    except Exception as exc:  # reported by the test
        results[threading.current_thread().name] = exc
    finally:
        connection.close()  # a thread's connection left open keeps the test database from being dropped


def test_two_breaching_batches_evaluated_at_once_open_one_incident(transactional_db, postgres, deployment,
                                                                   scientist):
    batches = stored_batch(deployment, 0.91), stored_batch(deployment, 0.90)
    first_locked, release = threading.Event(), threading.Event()
    events, violations, results = [], [], {}

    def checkpoint(stage, model, lookup):
        if model is not Deployment:
            return
        name = threading.current_thread().name
        events.append((name, stage))
        if name == "second" and stage == "locked" and not release.is_set():
            violations.append("the second evaluation locked the deployment while the first held it")
        if name == "first" and stage == "locked":
            first_locked.set()
            release.wait(scaled(30))

    threads = [threading.Thread(target=_evaluate, args=(batch, results), name=name)
               for name, batch in zip(("first", "second"), batches, strict=True)]
    locking.checkpoints.append(checkpoint)
    try:
        threads[0].start()
        wait_until(first_locked.is_set, "the first evaluation to lock the deployment")
        threads[1].start()
        wait_until(lambda: ("second", "waiting") in events,
                   "the second evaluation to reach the deployment lock")
        wait_until(lambda: violations or _locks_waited_on() > 0,
                   "the second evaluation to wait on the first one's deployment lock")
        assert not violations, violations
        assert ("second", "locked") not in events
    finally:
        release.set()
        for thread in threads:
            if thread.ident is not None:  # started
                thread.join(scaled(60))
        locking.checkpoints.remove(checkpoint)

    assert [name for name, stage in events if stage == "locked"] == ["first", "second"]
    assert results["first"]["opened"] and results["second"] == {"opened": [], "breaches": 1, "recoveries": 0}
    incident = Incident.objects.get()
    assert incident.timeline.filter(kind=EventKind.BREACH).count() == 2
    assert incident.timeline.filter(kind=EventKind.OPENED).count() == 1
    assert not MetricBatch.objects.filter(evaluated_at__isnull=True).exists()
    assert Notification.objects.filter(recipient=scientist, kind="incident_opened").count() == 1
