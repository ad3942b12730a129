"""Liveness of the parts Handoff depends on."""

from django.conf import settings
from django.db import connection


def check_database():
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # any driver error means "down"
        return {"ok": False, "error": str(exc)}
    return {"ok": True, "vendor": connection.vendor}


def check_broker():
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return {"ok": True, "mode": "embedded (tasks run in the web process)"}
    import redis

    try:
        redis.Redis.from_url(settings.REDIS_URL, socket_timeout=2, socket_connect_timeout=2).ping()
    except Exception as exc:
        return {"ok": False, "error": str(exc)}
    return {"ok": True, "mode": "redis"}


def check_worker(timeout=1.0):
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return {"ok": True, "mode": "embedded (tasks run in the web process)", "workers": []}
    from handoff.celery import app

    try:
        replies = app.control.ping(timeout=timeout) or []
    except Exception as exc:
        return {"ok": False, "error": str(exc), "workers": []}
    workers = sorted(name for reply in replies for name in reply)
    if not workers:
        return {"ok": False, "error": "no Celery worker answered a ping", "workers": []}
    return {"ok": True, "workers": workers}


def report():
    checks = {"database": check_database(), "broker": check_broker()}
    checks["worker"] = check_worker() if checks["broker"]["ok"] else {
        "ok": False, "error": "broker is down", "workers": []
    }
    return {"ok": all(c["ok"] for c in checks.values()), **checks}
