"""Redis restarts (losing every queued message: no persistence) while data
scientists submit revisions and monitoring posts metric batches, to the real
app with a real worker and beat. No request fails for it; once Redis is back,
every validation run finishes once, every batch is evaluated once, every
incident is opened once, and everyone is told once: in the app, by email and
by webhook. The rows carry the work; the broker only rings the doorbell, and
beat's sweeps ring again for what no worker took."""

import time
from collections import Counter

import pytest

from tests.timing import WaitTimeout, scaled, wait_until

from .receiver import Receiver
from .servers import sweeping

pytestmark = [pytest.mark.faults]

HANDOVERS = 4
DEPLOYMENTS = 3  # the first two are posted breaching figures; the third, figures within its contract
QUICK = 5  # seconds, scaled: the longest a request may take while Redis is away (6+ s when it retried)
DONE = 180  # seconds, scaled: for every run, batch and delivery to be done after Redis is back

SEED = """
from tests.factories import api_token

from handoff.notifications import webhooks
from handoff.teams.models import Role
from tests.factories import (DeploymentFactory, ProjectFactory, ingestion_token, member, ready_draft,
                             signed_handover)

project = ProjectFactory()
owner = member(project, Role.DATA_SCIENTIST)
engineer = member(project, Role.ML_ENGINEER)
drafts = [ready_draft(project, owner)[0].pk for _ in range(%(handovers)d)]
signed = [signed_handover(project=project, owner=owner, reviewer=engineer)[0] for _ in range(%(deployments)d)]
deployments = [DeploymentFactory(handover=handover).pk for handover in signed]
_, secret = ingestion_token(project, created_by=engineer)
webhooks.create_webhook(project, url="%(url)s", created_by=engineer,
                        events=["handover.validation_passed", "incident.opened"])
out = {"drafts": drafts, "deployments": deployments, "ingestion": secret, "owner": owner.pk,
       "engineer": engineer.pk, "token": api_token(owner)}
"""


@pytest.fixture(scope="module")
def receiver():
    receiver = Receiver().start()
    yield receiver
    receiver.close()


@pytest.fixture(scope="module")
def running(stack, receiver):
    stack.seeded = stack.seed(SEED % {"handovers": HANDOVERS, "deployments": DEPLOYMENTS,
                                      "url": receiver.url})
    stack.env.update(sweeping(seconds=1, grace=2))  # beat rings the sweeps; the workers run them
    app = stack.processes.app(workers=2)
    stack.processes.worker("worker", concurrency=2)
    stack.processes.beat()
    return app


def _batch(value, n):
    minute = f"{n:02d}"
    return {"observations": [{"metric": "accuracy", "value": value, "sample_size": 100 + n,
                              "window_start": f"2026-01-01T00:{minute}:00Z",
                              "window_end": f"2026-01-01T00:{minute}:30Z"}]}


def test_work_sent_while_redis_restarts_is_done_once_when_it_is_back(stack, running, receiver):
    import requests

    seeded = stack.seeded
    api = {"Authorization": f"Token {seeded['token']}"}
    monitoring = {"Authorization": f"Bearer {seeded['ingestion']}"}
    answers = []
    breaching = Counter()  # deployment id -> breaching observations posted and stored

    def post(phase, what, path, **kwargs):
        began = time.monotonic()
        response = requests.post(f"{running.url}{path}", timeout=30, **kwargs)
        answers.append((phase, what, response.status_code, response.text[:300], time.monotonic() - began))
        return response

    def send(n, phase):
        """Submit a handover (if one is left for this round) and post a batch to every deployment."""
        if n < HANDOVERS:
            post(phase, "submit", f"/api/v1/handovers/{seeded['drafts'][n]}/submit/", headers=api)
        for i, deployment in enumerate(seeded["deployments"]):
            value = 0.90 if i < 2 else 0.97  # the contract's minimum is 0.95
            response = post(phase, "metrics", f"/api/v1/deployments/{deployment}/metrics/",
                            json=_batch(value, n), headers=monitoring)
            if response.ok and value < 0.95:
                breaching[deployment] += 1

    send(0, "before")
    stack.redis.stop()
    started = time.monotonic()
    send(1, "redis away")
    send(2, "redis away")
    while time.monotonic() - started < 3:  # away past the sweeps' grace: they find the forgotten work
        time.sleep(0.2)
    stack.redis.start()
    back = time.monotonic()
    send(3, "after")
    send(4, "after")

    print("\n" + "\n".join(f"{phase:>10} {what:8} {status} {seconds:.2f} s"
                            for phase, what, status, _, seconds in answers))
    assert [a for a in answers if not 200 <= a[2] < 300] == [], "a request failed for Redis being away"
    # Nor is it held up: the enqueue gives up at once, and the sweeps ring later.
    waited = [a for a in answers if a[0] == "redis away" and a[4] > scaled(QUICK)]
    assert waited == [], "a request waited for Redis"
    sent_batches = sum(1 for a in answers if a[1] == "metrics")

    def done():
        counts = stack.rows("""
            SELECT (SELECT count(*) FROM validation_validationrun WHERE state IN ('queued', 'running')),
                   (SELECT count(*) FROM deployments_metricbatch WHERE evaluated_at IS NULL),
                   (SELECT count(*) FROM notifications_delivery WHERE state = 'pending'),
                   (SELECT count(*) FROM notifications_webhookdelivery WHERE state = 'pending'),
                   (SELECT count(*) FROM validation_validationrun)""")[0]
        return counts[:4] == (0, 0, 0, 0) and counts[4] == HANDOVERS

    logs = lambda: "\n".join(f"--- {p.name}\n{p.log()[-3000:]}" for p in stack.processes.started)  # noqa: E731
    try:
        wait_until(done, "every run, batch and delivery to be done", timeout=DONE / 2, interval=0.5)
    except WaitTimeout:
        # Seen once in CI: kombu's consumer stopped consuming after the broker came back (an ack on
        # the dropped connection, celery/celery#9054's family). A supervisor replaces such a worker;
        # the rows, not the broker, hold the work, so the new one finishes it, each thing once.
        print("\nthe worker stopped consuming after the restart; a new one is started")
        stack.processes.worker("worker-after", concurrency=2)
        wait_until(done, "every run, batch and delivery to be done", timeout=DONE / 2, interval=0.5,
                   detail=logs)
    print(f"\nall done {time.monotonic() - back:.1f} s after Redis was back")

    # Validation: one run per submitted revision, passed, its checks stored once, told once.
    runs = stack.rows("""SELECT r.revision_id, r.number, r.state, r.attempts,
                                (SELECT count(*) FROM validation_checkresult c WHERE c.run_id = r.id),
                                (SELECT count(DISTINCT key) FROM validation_checkresult c
                                 WHERE c.run_id = r.id)
                         FROM validation_validationrun r""")
    assert len(runs) == HANDOVERS
    assert all(number == 1 and state == "passed" and checks == keys > 0
               for _, number, state, _, checks, keys in runs), runs
    passed = stack.rows("SELECT details->>'handover' FROM audit_auditevent WHERE verb = %s",
                        ("handover.validation_passed",))
    assert sorted(int(h) for (h,) in passed) == sorted(seeded["drafts"])
    told = dict(stack.rows("SELECT kind, count(*) FROM notifications_notification WHERE recipient_id = %s "
                           "GROUP BY kind", (seeded["owner"],)))
    assert told.get("validation_passed") == HANDOVERS, told
    reviews = stack.value("SELECT count(*) FROM notifications_notification WHERE kind = 'awaiting_review' "
                          "AND recipient_id = %s", (seeded["engineer"],))
    assert reviews == HANDOVERS

    # Production: every batch evaluated once; one incident per breached deployment; each breach recorded once.
    assert stack.value("SELECT count(*) FROM deployments_metricbatch") == sent_batches
    incidents = stack.rows("SELECT deployment_id, count(*) FROM incidents_incident GROUP BY deployment_id")
    assert dict(incidents) == {deployment: 1 for deployment in breaching}
    breaches = dict(stack.rows("""SELECT i.deployment_id, count(*) FROM incidents_timelineevent t
                                  JOIN incidents_incident i ON i.id = t.incident_id
                                  WHERE t.kind = 'breach' GROUP BY i.deployment_id"""))
    assert breaches == dict(breaching)
    opened = stack.value("SELECT count(*) FROM audit_auditevent WHERE verb = 'incident.opened'")
    assert opened == len(breaching)

    # Emails: each delivery sent, once (the console backend prints each to the worker's log).
    emails = stack.rows("SELECT state, count(*) FROM notifications_delivery GROUP BY state")
    assert dict(emails).keys() == {"sent"}, emails
    printed = sum(p.log().count("Subject: [Handoff]") for p in stack.processes.started)
    assert printed == dict(emails)["sent"]

    # Webhooks: one delivery per event, each sent and received once.
    hooks = stack.rows("SELECT id, event_name, state FROM notifications_webhookdelivery")
    expected = Counter({"handover.validation_passed": HANDOVERS, "incident.opened": len(breaching)})
    assert Counter(name for _, name, _ in hooks) == expected
    assert {state for _, _, state in hooks} == {"sent"}
    assert receiver.by_delivery() == Counter({str(pk): 1 for pk, _, _ in hooks})
