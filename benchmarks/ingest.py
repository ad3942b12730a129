"""Metric ingestion under load: monitoring posting to gunicorn with a real worker.

Creates a fresh PostgreSQL database, a project with four deployments of signed
handovers (accuracy >= 0.95, p95 latency <= 20 ms) and an ingestion token;
starts gunicorn and a Celery worker on 127.0.0.1; then 8 client threads post
10 000 observations in batches to ``POST /api/v1/deployments/{id}/metrics/``.
Three of the deployments have breaching windows spread over many batches sent
from different clients at once (two accuracy, one latency), the fourth none.

It waits until the worker has evaluated every batch and checks: zero errors,
as many observations stored as sent, exactly one incident per breaching
deployment and metric and none elsewhere. It prints the throughput and the
p50/p95/max latency of the POST, next to a reference on the same data in the
same run: inserting the same observations straight into the database with
the ORM, in one process (the least any ingestion must do), and the ratio.

    make bench-ingest        # or: .venv/bin/python benchmarks/ingest.py [--observations 10000]

Needs PostgreSQL and Redis (DATABASE_URL and REDIS_URL, else the local
defaults below); the database it creates is dropped at the end.
"""

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg2
import requests

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
BIN = Path(PYTHON).parent
DEFAULT_DATABASE_URL = "postgres://handoff:handoff@127.0.0.1:5432/handoff"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/13"
DEPLOYMENTS = 4
# (deployment index, metric) pairs that breach; each must end as exactly one incident.
BREACHING = {(0, "accuracy"), (1, "accuracy"), (2, "latency_p95_ms")}

SETUP = """
import json
import django
django.setup()
from django.contrib.auth import get_user_model
from django.utils import timezone
from handoff.deployments import services as deployments
from handoff.handovers.models import (ClaimedMetric, Handover, HandoverState, Model, Review, ReviewDecision,
                                      Revision, TaskType, Framework)
from handoff.teams.models import Project, Role, RoleAssignment, Team

User = get_user_model()
dana = User.objects.create_user("bench-dana", password="bench-password")
eli = User.objects.create_user("bench-eli", password="bench-password")
lead = User.objects.create_user("bench-lead", password="bench-password")
team = Team.objects.create(name="Bench", slug="bench", leader=lead)
project = Project.objects.create(team=team, name="Bench", slug="bench")
RoleAssignment.objects.create(user=dana, project=project, role=Role.DATA_SCIENTIST)
RoleAssignment.objects.create(user=eli, project=project, role=Role.ML_ENGINEER)
ids = []
for n in range({deployments}):
    model = Model.objects.create(project=project, name=f"bench-model-{{n}}", owner=dana)
    handover = Handover.objects.create(model=model, project=project, version_label="1.0.0", owner=dana,
                                       state=HandoverState.ACCEPTED, reviewer=eli)
    revision = Revision.objects.create(handover=handover, number=1, created_by=dana, submitted_by=dana,
                                       submitted_at=timezone.now(), task_type=TaskType.BINARY,
                                       framework=Framework.SKLEARN, latency_p95_ms=20.0)
    ClaimedMetric.objects.create(revision=revision, metric="accuracy", claimed_value=0.96, minimum=0.95)
    Review.objects.create(revision=revision, reviewer=eli, decision=ReviewDecision.ACCEPT)
    ids.append(deployments.deploy(eli, handover, environment="production", traffic_share=100).pk)
token, secret = deployments.create_token(eli, project, name="bench")
print(json.dumps({{"deployments": ids, "secret": secret}}))
"""

COUNT_SQL = """
select (select count(*) from deployments_metricobservation),
       (select count(*) from deployments_metricbatch where evaluated_at is null),
       (select count(*) from deployments_metricbatch)
"""


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def with_database(url, name):
    parts = urllib.parse.urlsplit(url)
    return urllib.parse.urlunsplit(parts._replace(path=f"/{name}"))


def admin_connection(url):
    connection = psycopg2.connect(with_database(url, "postgres"))
    connection.autocommit = True
    return connection


def observations(deployment_index, count, start):
    """``count`` hourly windows alternating accuracy and p95 latency; the
    breaching pairs of ``BREACHING`` breach in every fifth window."""
    rows = []
    for i in range(count):
        metric = "accuracy" if i % 2 == 0 else "latency_p95_ms"
        breach = (deployment_index, metric) in BREACHING and (i // 2) % 5 == 0
        if metric == "accuracy":
            value = 0.91 if breach else 0.97
        else:
            value = 35.0 if breach else 12.0
        window_start = start + timedelta(minutes=5 * (i // 2))
        rows.append({"metric": metric, "value": value, "window_start": window_start.isoformat(),
                     "window_end": (window_start + timedelta(minutes=5)).isoformat(), "sample_size": 1000})
    return rows


def plan(deployment_ids, total, batch_size, start):
    """The POSTs to send: (deployment id, observations), interleaved across deployments."""
    per_deployment = total // len(deployment_ids)
    batches = []
    for index, pk in enumerate(deployment_ids):
        rows = observations(index, per_deployment + (total % len(deployment_ids) if index == 0 else 0), start)
        batches.append([(pk, rows[i:i + batch_size]) for i in range(0, len(rows), batch_size)])
    interleaved = []
    while any(batches):
        for queue in batches:
            if queue:
                interleaved.append(queue.pop(0))
    return interleaved


def percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def post_all(port, secret, posts, clients):
    latencies, errors, lock = [], [], threading.Lock()
    queue = list(posts)

    def client():
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {secret}"
        while True:
            with lock:
                if not queue:
                    return
                pk, rows = queue.pop(0)
            started = time.perf_counter()
            try:
                response = session.post(f"http://127.0.0.1:{port}/api/v1/deployments/{pk}/metrics/",
                                        json={"observations": rows}, timeout=60)
                ok = response.status_code == 202 and response.json().get("stored") == len(rows)
                detail = f"{response.status_code} {response.text[:200]}"
            except requests.RequestException as error:
                ok, detail = False, repr(error)
            elapsed = time.perf_counter() - started
            with lock:
                latencies.append(elapsed)
                if not ok:
                    errors.append(detail)

    threads = [threading.Thread(target=client) for _ in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - started, latencies, errors


REFERENCE = """
import json, sys, time
import django
django.setup()
from django.db import transaction
from django.utils.dateparse import parse_datetime
from handoff.deployments.models import Deployment, MetricBatch, MetricObservation
posts = json.load(sys.stdin)
deployment = Deployment.objects.first()
started = time.perf_counter()
for pk, rows in posts:
    with transaction.atomic():
        batch = MetricBatch.objects.create(deployment=deployment, count=len(rows),
                                           evaluated_at=deployment.deployed_at)
        MetricObservation.objects.bulk_create(
            MetricObservation(deployment=deployment, batch=batch, metric=row["metric"], value=row["value"],
                              window_start=parse_datetime(row["window_start"]),
                              window_end=parse_datetime(row["window_end"]), sample_size=row["sample_size"])
            for row in rows)
print(time.perf_counter() - started)
"""


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--observations", type=int, default=10_000)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--batch-size", type=int, default=50)
    parser.add_argument("--web-workers", type=int, default=4)
    args = parser.parse_args()

    base_url = os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL
    if not base_url.startswith("postgres"):
        sys.exit("bench-ingest needs PostgreSQL: set DATABASE_URL to a postgres:// URL")
    name = f"handoff_bench_ingest_{os.getpid()}"
    admin = admin_connection(base_url)
    with admin.cursor() as cursor:
        cursor.execute(f'create database "{name}"')
    processes = []
    try:
        with tempfile.TemporaryDirectory(prefix="handoff-bench-") as tmp:
            env = {**os.environ, "DATABASE_URL": with_database(base_url, name),
                   "REDIS_URL": os.environ.get("REDIS_URL") or DEFAULT_REDIS_URL,
                   "MEDIA_ROOT": str(Path(tmp) / "media"), "DJANGO_SETTINGS_MODULE": "handoff.settings",
                   # Production settings, but plain HTTP on loopback (no TLS proxy in front).
                   "DEBUG": "0", "SECRET_KEY": "bench-ingest-" + "x" * 50, "ALLOWED_HOSTS": "127.0.0.1",
                   "SECURE_SSL_REDIRECT": "0",
                   "LOG_LEVEL": "WARNING",
                   # As measured before gunicorn.conf.py: sync workers, never recycled mid-run.
                   "GUNICORN_THREADS": "1", "GUNICORN_MAX_REQUESTS": "0",
                   # The benchmark measures ingestion, not the per-token rate limit: one token posts it all.
                   "HANDOFF_INGEST_RATE": os.environ.get("HANDOFF_INGEST_RATE", "1000000/min")}
            migrate = [PYTHON, "manage.py", "migrate", "--noinput", "-v", "0"]
            subprocess.run(migrate, cwd=ROOT, env=env, check=True)
            made = json.loads(subprocess.run([PYTHON, "-c", SETUP.format(deployments=DEPLOYMENTS)], cwd=ROOT,
                                             env=env, check=True, capture_output=True, text=True).stdout)
            subprocess.run([str(BIN / "celery"), "-A", "handoff", "purge", "-f"], cwd=ROOT, env=env,
                           check=True, capture_output=True)
            port = free_port()
            processes.append(subprocess.Popen(
                [str(BIN / "gunicorn"), "handoff.wsgi", "-w", str(args.web_workers),
                 "-b", f"127.0.0.1:{port}", "--log-level", "warning"], cwd=ROOT, env=env))
            processes.append(subprocess.Popen(
                [str(BIN / "celery"), "-A", "handoff", "worker", "--concurrency", "2",
                 "--loglevel", "WARNING", "--without-gossip", "--without-mingle",
                 "-n", f"bench-{os.getpid()}@%h"], cwd=ROOT, env=env))
            deadline = time.monotonic() + 60
            while True:
                try:
                    if requests.get(f"http://127.0.0.1:{port}/health/", timeout=2).status_code in (200, 503):
                        break
                except requests.RequestException:
                    pass
                if time.monotonic() > deadline:
                    sys.exit("gunicorn did not start")
                time.sleep(0.2)

            start = datetime(2026, 1, 1, tzinfo=UTC)
            posts = plan(made["deployments"], args.observations, args.batch_size, start)
            elapsed, latencies, errors = post_all(port, made["secret"], posts, args.clients)
            posted = time.perf_counter()
            sent = sum(len(rows) for _, rows in posts)

            database = psycopg2.connect(env["DATABASE_URL"])
            database.autocommit = True
            evaluated_deadline = time.monotonic() + 300
            with database.cursor() as cursor:
                while True:
                    cursor.execute(COUNT_SQL)
                    stored, pending, batches = cursor.fetchone()
                    if pending == 0 or time.monotonic() > evaluated_deadline:
                        break
                    time.sleep(0.5)
                lag = time.perf_counter() - posted
                cursor.execute("select deployment_id, metric, count(*) from incidents_incident "
                               "group by deployment_id, metric")
                incidents = {(made["deployments"].index(pk), metric): n
                             for pk, metric, n in cursor.fetchall()}
            database.close()

            reference = subprocess.run([PYTHON, "-c", REFERENCE], cwd=ROOT, env=env, check=True,
                                       input=json.dumps(posts), capture_output=True, text=True)
            reference_seconds = float(reference.stdout.strip().splitlines()[-1])
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
        with admin.cursor() as cursor:
            cursor.execute(f'drop database if exists "{name}" with (force)')
        admin.close()

    expected = {pair: 1 for pair in BREACHING}
    print(f"{'':28}{'value':>14}")
    rows = [
        ("POST requests", len(posts)),
        ("observations sent", sent),
        ("observations stored", stored),
        ("errors", len(errors)),
        ("batches left unevaluated", pending),
        ("clients / web workers", f"{args.clients} / {args.web_workers}"),
        ("elapsed (s)", f"{elapsed:.2f}"),
        ("throughput (obs/s)", f"{sent / elapsed:,.0f}"),
        ("throughput (requests/s)", f"{len(posts) / elapsed:,.1f}"),
        ("POST p50 (ms)", f"{statistics.median(latencies) * 1000:.1f}"),
        ("POST p95 (ms)", f"{percentile(latencies, 0.95) * 1000:.1f}"),
        ("POST max (ms)", f"{max(latencies) * 1000:.1f}"),
        ("evaluated, s after last POST", f"{lag:.1f}"),
        ("reference: ORM insert (s)", f"{reference_seconds:.2f}"),
        ("reference (obs/s)", f"{sent / reference_seconds:,.0f}"),
        ("HTTP ingest / reference", f"{(sent / elapsed) / (sent / reference_seconds):.2f}x"),
        ("incidents (deployment:metric)",
         json.dumps({f"{d}:{m}": n for (d, m), n in sorted(incidents.items())})),
    ]
    for label, value in rows:
        print(f"{label:<32}{value!s:>40}")
    failures = []
    if errors:
        failures.append(f"{len(errors)} errors, first: {errors[0]}")
    if stored != sent:
        failures.append(f"stored {stored} observations of {sent} sent")
    if pending:
        failures.append(f"{pending} batches never evaluated")
    if incidents != expected:
        failures.append(f"incidents {incidents} != expected {expected}")
    if failures:
        print("FAILED: " + "; ".join(failures))
        sys.exit(1)
    print("OK: zero errors, every observation stored, one incident per breaching deployment and metric")


if __name__ == "__main__":
    main()
