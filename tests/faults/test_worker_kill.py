"""A worker SIGKILLed in the middle of its work (no warm shutdown, no ack, no
reject): once a new worker runs, the work is done once.

* During a webhook delivery, while the receiver holds the request open: the
  delivery is sent again after its lease ends. On the wire that is
  at-least-once, so every request carries ``X-Handoff-Delivery``, the same id
  and the same body each time, by which the receiver drops the repeat; in
  Handoff the delivery row is sent once.
* During a metric batch's evaluation, held up by a real lock (another
  transaction holding the incidents table against writes, as a long
  migration would): the killed evaluation's transaction is rolled back,
  beat's sweep rings again, and the batch is evaluated once: one incident,
  one breach.
"""

import time
from collections import Counter
from contextlib import closing

import pytest

from tests.timing import wait_until

from .receiver import Receiver
from .servers import kill_tree, sweeping

pytestmark = [pytest.mark.faults]

WEBHOOK_TIMEOUT = 2  # seconds: a delivery's lease is 3 x this + 30 s (handoff.notifications.webhooks)
WORKER = {"HANDOFF_WEBHOOK_TIMEOUT_SECONDS": WEBHOOK_TIMEOUT}

SEED = """
from handoff.notifications import webhooks
from handoff.teams.models import Role
from tests.factories import DeploymentFactory, ProjectFactory, ingestion_token, member, signed_handover

project = ProjectFactory()
owner = member(project, Role.DATA_SCIENTIST)
engineer = member(project, Role.ML_ENGINEER)
signed = [signed_handover(project=project, owner=owner, reviewer=engineer)[0] for _ in range(2)]
deployments = [DeploymentFactory(handover=handover).pk for handover in signed]
_, secret = ingestion_token(project, created_by=engineer)
webhooks.create_webhook(project, url="%(url)s", created_by=engineer, events=["incident.opened"])
out = {"deployments": deployments, "ingestion": secret}
"""


@pytest.fixture(scope="module")
def receiver():
    receiver = Receiver().start()
    yield receiver
    receiver.close()


@pytest.fixture(scope="module")
def running(stack, receiver):
    stack.seeded = stack.seed(SEED % {"url": receiver.url})
    stack.env.update(sweeping(seconds=1, grace=2))  # beat rings the sweeps; the workers run them
    app = stack.processes.app(workers=1)
    stack.processes.beat()
    return app


def _post_breach(app, stack, deployment):
    import requests

    body = {"observations": [{"metric": "accuracy", "value": 0.90, "window_start": "2026-01-01T00:00:00Z",
                              "window_end": "2026-01-01T00:05:00Z"}]}
    response = requests.post(f"{app.url}/api/v1/deployments/{deployment}/metrics/", json=body, timeout=30,
                             headers={"Authorization": f"Bearer {stack.seeded['ingestion']}"})
    assert response.status_code == 202, response.text
    return response.json()["batch"]


def _incident_counts(stack, deployment):
    """(incidents, breaches recorded, incident.opened events) of ``deployment``."""
    return stack.rows("""
        SELECT (SELECT count(*) FROM incidents_incident WHERE deployment_id = %(d)s),
               (SELECT count(*) FROM incidents_timelineevent t JOIN incidents_incident i
                ON i.id = t.incident_id WHERE i.deployment_id = %(d)s AND t.kind = 'breach'),
               (SELECT count(*) FROM audit_auditevent WHERE verb = 'incident.opened'
                AND (details->>'deployment')::int = %(d)s)""", {"d": deployment})[0]


def _locked(stack, batch):
    """Whether another transaction holds ``batch``'s row (as an evaluation claims it)."""
    import psycopg2.errors

    with closing(stack.pg.connect(stack.database)) as connection, connection.cursor() as cursor:
        connection.autocommit = False
        try:
            cursor.execute("SELECT id FROM deployments_metricbatch WHERE id = %s FOR UPDATE NOWAIT", (batch,))
        except psycopg2.errors.LockNotAvailable:
            return True
        finally:
            connection.rollback()
    return False


def _logs(stack):
    return "\n".join(f"--- {p.name}\n{p.log()[-3000:]}" for p in stack.processes.started)


def test_a_worker_killed_during_a_webhook_delivery_sends_it_again_with_the_same_id(stack, running, receiver):
    deployment = stack.seeded["deployments"][0]
    first = stack.processes.worker("worker-first", **WORKER)
    receiver.hold()
    _post_breach(running, stack, deployment)
    assert receiver.arrived.wait(timeout=60), _logs(stack)
    kill_tree(first.process)  # SIGKILL while the receiver still holds the request open
    receiver.release()
    killed_at = time.monotonic()
    [(delivery, state, attempts)] = stack.rows(
        "SELECT id, state, attempts FROM notifications_webhookdelivery")
    assert (state, attempts) == ("pending", 1), "the delivery ended before the kill"

    stack.processes.worker("worker-second", **WORKER)
    wait_until(lambda: stack.value("SELECT state FROM notifications_webhookdelivery WHERE id = %s",
                                   (delivery,)) != "pending",
               "the delivery to be sent again", timeout=WEBHOOK_TIMEOUT * 3 + 30 + 60, interval=0.5,
               detail=lambda: _logs(stack))
    print(f"\ndelivery sent again {time.monotonic() - killed_at:.1f} s after the kill")

    [(state, attempts)] = stack.rows("SELECT state, attempts FROM notifications_webhookdelivery")
    assert (state, attempts) == ("sent", 2)
    # At-least-once on the wire: both requests name the same delivery and carry the same body.
    assert receiver.by_delivery() == Counter({str(delivery): 2})
    payloads = [payload for _, _, payload in receiver.hits]
    assert payloads[0] == payloads[1]
    assert receiver.events() == {str(delivery): "incident.opened"}
    assert _incident_counts(stack, deployment) == (1, 1, 1)


def test_a_worker_killed_during_a_metric_evaluation_leaves_it_to_be_done_once(stack, running):
    deployment = stack.seeded["deployments"][1]
    worker = next((p for p in stack.processes.started if p.name.startswith("worker") and p.alive()), None)
    worker = worker or stack.processes.worker("worker-third", **WORKER)

    # Another transaction holds the incidents table against writes (reads go on): the evaluation
    # claims its batch, locks the deployment, reads the observations, and waits to open the incident.
    holder = stack.pg.connect(stack.database)
    holder.autocommit = False
    with closing(holder):
        holder.cursor().execute("LOCK TABLE incidents_incident IN SHARE MODE")
        batch = _post_breach(running, stack, deployment)
        waiting = """SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()
                     AND wait_event_type = 'Lock' AND query LIKE 'INSERT INTO "incidents_incident"%%'"""
        wait_until(lambda: stack.value(waiting), "the evaluation to be opening its incident", timeout=60,
                   detail=worker.log)
        assert _locked(stack, batch), "the evaluation has not claimed its batch"
        kill_tree(worker.process)  # SIGKILL in the middle of the evaluation's transaction
        holder.rollback()

    killed_at = time.monotonic()
    # The killed evaluation's transaction is rolled back: its claim on the batch is gone, nothing was written.
    wait_until(lambda: not _locked(stack, batch), "the killed evaluation's lock to go", timeout=30)
    assert stack.value("SELECT evaluated_at FROM deployments_metricbatch WHERE id = %s", (batch,)) is None
    assert _incident_counts(stack, deployment) == (0, 0, 0)
    stack.processes.worker("worker-fourth", **WORKER)
    ready = time.monotonic() - killed_at
    evaluated = "SELECT evaluated_at FROM deployments_metricbatch WHERE id = %s"
    wait_until(lambda: stack.value(evaluated, (batch,)), "the batch to be evaluated", timeout=60,
               interval=0.5, detail=lambda: _logs(stack))
    print(f"\nafter the kill: new worker ready {ready:.1f} s, "
          f"batch evaluated {time.monotonic() - killed_at:.1f} s")
    # The sweep rang for it more than once meanwhile: every ring after the first finds it done.
    import redis

    queue = redis.Redis.from_url(stack.redis.url)
    wait_until(lambda: queue.llen("faults") == 0, "the queue to be drained", timeout=30)
    assert _incident_counts(stack, deployment) == (1, 1, 1)
