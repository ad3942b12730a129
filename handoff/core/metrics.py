"""Prometheus metrics at /metrics, for the operator (README, "Logs and metrics").

Where each figure lives, so that many processes on many machines add up:

- Request latency: a histogram in each web process. With
  PROMETHEUS_MULTIPROC_DIR set (gunicorn with several workers), prometheus_client
  keeps it in files there and a scrape sums every process of the machine.
- Task outcomes: counted by the worker processes into one Redis hash (REDIS_URL),
  or a locked file in the cache folder on the embedded default, so every worker
  on every machine adds to the same counts and any web process reads them.
- Queue lengths and validation runs by state: read at scrape time from the
  broker and the database, which every process shares already.

Apps above core add scrape-time figures with ``register_collector`` (core knows
no domain app).
"""

import fcntl
import json
import logging
import os
import time
from pathlib import Path

from django.conf import settings
from django.http import Http404, HttpResponse
from django.views.decorators.cache import never_cache
from prometheus_client import CollectorRegistry, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

from .observability import presents_operator_token

log = logging.getLogger(__name__)
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
REQUEST_LATENCY = Histogram(
    "handoff_http_request_duration_seconds", "Time from request to response, by route (the view's name)",
    ["method", "route", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
OUTCOMES = ("succeeded", "failed", "retried")
TASK_COUNTS_KEY = "handoff:metrics:task-outcomes"
TASK_COUNTS_FILE = "handoff-task-outcomes.json"

_collectors = []


def register_collector(collect):
    """``collect()`` yields prometheus_client metric families at each scrape."""
    if collect not in _collectors:
        _collectors.append(collect)


class RequestMetricsMiddleware:
    """Times every request; the route is the view's name, never the raw path (ids would
    make a series per object)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        response = self.get_response(request)
        match = getattr(request, "resolver_match", None)
        route = (match.view_name or match.route or "unnamed") if match else "unmatched"
        method = request.method if request.method in METHODS else "other"
        elapsed = time.perf_counter() - started
        REQUEST_LATENCY.labels(method, route, str(response.status_code)).observe(elapsed)
        return response


# --- Task outcomes, shared by every worker ------------------------------------------


def _redis():
    import redis

    client = getattr(_redis, "client", None)
    if client is None or getattr(_redis, "url", None) != settings.REDIS_URL:
        client = redis.Redis.from_url(settings.REDIS_URL, socket_timeout=2, socket_connect_timeout=2)
        _redis.client, _redis.url = client, settings.REDIS_URL
    return client


def _counts_file():
    return Path(settings.CACHES["default"].get("LOCATION") or settings.BASE_DIR / ".cache") / TASK_COUNTS_FILE


def count_task(task_name, outcome):
    """Add one to ``task_name``'s ``outcome`` wherever every process reads it."""
    field = f"{task_name}|{outcome}"
    if settings.REDIS_URL:
        _redis().hincrby(TASK_COUNTS_KEY, field, 1)
        return
    path = _counts_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        f.seek(0)
        counts = json.loads(f.read() or "{}")
        counts[field] = counts.get(field, 0) + 1
        f.seek(0)
        f.truncate()
        f.write(json.dumps(counts))


def task_counts():
    """{(task name, outcome): count} as every worker counted them."""
    if settings.REDIS_URL:
        raw = {key.decode(): int(value) for key, value in _redis().hgetall(TASK_COUNTS_KEY).items()}
    else:
        try:
            with open(_counts_file()) as f:
                fcntl.flock(f, fcntl.LOCK_SH)
                raw = json.loads(f.read() or "{}")
        except FileNotFoundError:
            raw = {}
    return {tuple(key.rsplit("|", 1)): value for key, value in raw.items()}


def _counted(outcome):
    def receiver(sender=None, **kwargs):
        try:
            count_task(getattr(sender, "name", None) or str(sender), outcome)
        except Exception:  # a metric must never fail the task it counts
            log.warning("could not count a task outcome", exc_info=True)

    return receiver


_receivers = {outcome: _counted(outcome) for outcome in OUTCOMES}


def connect_celery_signals():
    from celery.signals import task_failure, task_retry, task_success

    task_success.connect(_receivers["succeeded"], dispatch_uid="handoff.metrics.succeeded", weak=False)
    task_failure.connect(_receivers["failed"], dispatch_uid="handoff.metrics.failed", weak=False)
    task_retry.connect(_receivers["retried"], dispatch_uid="handoff.metrics.retried", weak=False)


# --- Queue lengths, read from the broker at scrape time -------------------------------

# kombu's Redis transport keeps a queue's messages of priority 0 under its name and the
# others under name + separator + priority.
PRIORITY_SEPARATOR = "\x06\x16"
PRIORITY_STEPS = (3, 6, 9)


def queue_names():
    return sorted({settings.CELERY_TASK_DEFAULT_QUEUE, settings.HANDOFF_VALIDATION_QUEUE})


def queue_lengths():
    """{queue: messages waiting}."""
    names = queue_names()
    if settings.CELERY_BROKER_URL.startswith("filesystem://"):
        folder = Path(settings.CELERY_BROKER_TRANSPORT_OPTIONS.get("data_folder_in")
                      or settings.HANDOFF_BROKER_DIR / "messages")
        files = os.listdir(folder) if folder.is_dir() else []
        # kombu names each message <time>_<uuid>.<queue>.msg
        return {name: sum(1 for f in files if f.partition(".")[2] == f"{name}.msg") for name in names}
    import redis

    client = redis.Redis.from_url(settings.CELERY_BROKER_URL, socket_timeout=2, socket_connect_timeout=2)
    try:
        pipe = client.pipeline()
        for name in names:
            for key in (name, *(f"{name}{PRIORITY_SEPARATOR}{step}" for step in PRIORITY_STEPS)):
                pipe.llen(key)
        lengths = pipe.execute()
    finally:
        client.close()
    steps = 1 + len(PRIORITY_STEPS)
    return {name: sum(lengths[i * steps:(i + 1) * steps]) for i, name in enumerate(names)}


class ScrapeCollector:
    """Figures read when Prometheus asks: shared state, never one process's memory."""

    def collect(self):
        tasks = CounterMetricFamily("handoff_celery_tasks", "Celery tasks finished, by task name and outcome",
                                    labels=["task", "outcome"])
        for (task, outcome), value in sorted(task_counts().items()):
            tasks.add_metric([task, outcome], value)
        yield tasks
        queues = GaugeMetricFamily("handoff_celery_queue_length", "Messages waiting in each Celery queue",
                                   labels=["queue"])
        for name, length in queue_lengths().items():
            queues.add_metric([name], length)
        yield queues
        for collect in _collectors:
            yield from collect()


def _web_registry():
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return registry
    from prometheus_client import REGISTRY

    return REGISTRY


@never_cache
def metrics(request):
    """Prometheus' text format; only for ``Authorization: Bearer <HANDOFF_OPERATOR_TOKEN>``.
    Without a configured token the address does not exist (404); a wrong or missing one gets
    a bare 401."""
    if not settings.HANDOFF_OPERATOR_TOKEN:
        raise Http404("Not found.")
    if not presents_operator_token(request):
        response = HttpResponse("Unauthorized\n", status=401, content_type="text/plain")
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    scrape = CollectorRegistry()
    scrape.register(ScrapeCollector())
    body = generate_latest(_web_registry()) + generate_latest(scrape)
    return HttpResponse(body, content_type="text/plain; version=0.0.4; charset=utf-8")
