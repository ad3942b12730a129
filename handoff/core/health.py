"""Liveness of the parts Handoff depends on, for /health/ and load balancers.

Each check answers quickly (short timeouts), so a probe never hangs on a
broker or worker that is gone; a check that is down says why.
"""

import os

from django.conf import settings
from django.db import connection

# Long enough for an idle worker on the same network, short enough for a probe.
WORKER_PING_TIMEOUT = 0.5
BROKER_TIMEOUT = 1.0
EMBEDDED = "embedded (a local folder; `make run` starts the worker)"


def _reason(exc):
    first_line = (str(exc).strip().splitlines() or [""])[0]
    return f"{type(exc).__name__}: {first_line}"[:200]


def check_database():
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # any driver error means "down"
        return {"ok": False, "error": _reason(exc)}
    return {"ok": True, "vendor": connection.vendor}


def _embedded():
    return settings.CELERY_BROKER_URL.startswith("filesystem://")


def check_broker():
    if _embedded():
        folder = settings.HANDOFF_BROKER_DIR
        if not (folder / "messages").is_dir() or not os.access(folder / "messages", os.W_OK):
            return {"ok": False, "error": f"the broker folder {folder} is missing or not writable"}
        return {"ok": True, "mode": EMBEDDED}
    import redis

    try:
        redis.Redis.from_url(
            settings.CELERY_BROKER_URL, socket_timeout=BROKER_TIMEOUT, socket_connect_timeout=BROKER_TIMEOUT
        ).ping()
    except Exception as exc:
        return {"ok": False, "error": _reason(exc)}
    return {"ok": True, "mode": "redis"}


def check_worker(timeout=WORKER_PING_TIMEOUT):
    from celery import Celery

    # A throwaway client with a fresh connection: reusing the web process's
    # pooled connection leaves a blocking read behind after a short ping, and
    # every other ping then misses the replies.
    probe = Celery("handoff-health", broker=settings.CELERY_BROKER_URL, set_as_current=False)
    probe.conf.broker_transport_options = settings.CELERY_BROKER_TRANSPORT_OPTIONS
    if _embedded():
        timeout = max(timeout, 2.0)  # the worker polls its folder once a second
    try:
        with probe.connection_for_write() as connection:
            replies = probe.control.ping(timeout=timeout, connection=connection) or []
    except Exception as exc:
        return {"ok": False, "error": _reason(exc), "workers": []}
    finally:
        probe.close()
    workers = sorted(name for reply in replies for name in reply)
    if not workers:
        return {"ok": False, "error": f"no Celery worker answered a ping within {timeout} s", "workers": []}
    return {"ok": True, "workers": workers}


def report():
    """{"ok", "down": [names], "database", "broker", "worker"}; ok only when all are."""
    checks = {"database": check_database(), "broker": check_broker()}
    if checks["broker"]["ok"]:
        checks["worker"] = check_worker()
    else:
        # Pinging workers through a dead broker would only wait for its retries.
        checks["worker"] = {"ok": False, "error": "cannot reach workers: the broker is down", "workers": []}
    down = [name for name, check in checks.items() if not check["ok"]]
    return {"ok": not down, "down": down, **checks}
