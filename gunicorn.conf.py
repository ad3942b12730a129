"""gunicorn's configuration for Handoff: `gunicorn handoff.wsgi -c gunicorn.conf.py`.

gunicorn also reads this file by itself when started in this folder. Every
value comes from the environment (README, "Configuration"); options given on
the command line win over it (the benchmarks pass their own).
"""

import multiprocessing
import os


def _int(name, default):
    value = os.environ.get(name, "")
    try:
        return int(value) if value else default
    except ValueError:
        raise SystemExit(f"{name} must be a whole number; got {value!r}") from None


# WEB_CONCURRENCY is the name platforms (Heroku, Render, Dokku …) set for the process count.
bind = os.environ.get("GUNICORN_BIND") or f"0.0.0.0:{os.environ.get('PORT', '8000')}"
workers = _int("GUNICORN_WORKERS", _int("WEB_CONCURRENCY", 2 * multiprocessing.cpu_count() + 1))
# Threads let one process wait on the database or a slow upload while it serves another request.
threads = _int("GUNICORN_THREADS", 2)
# Long enough for a 2 GiB artifact upload on a slow line; a worker silent for longer is restarted.
timeout = _int("GUNICORN_TIMEOUT", 300)
graceful_timeout = _int("GUNICORN_GRACEFUL_TIMEOUT", 30)
keepalive = _int("GUNICORN_KEEPALIVE", 5)
# A worker is replaced after this many requests (jittered, so they do not all restart at
# once): whatever a long-lived process leaks is returned. 0 turns it off.
max_requests = _int("GUNICORN_MAX_REQUESTS", 1000)
max_requests_jitter = _int("GUNICORN_MAX_REQUESTS_JITTER", 100)
# The proxies whose X-Forwarded-* headers are believed (comma-separated, or * behind a
# load balancer that is the only way in).
forwarded_allow_ips = os.environ.get("GUNICORN_FORWARDED_ALLOW_IPS", "127.0.0.1,::1")
# The workers' heartbeat files on a RAM disk: a container's overlay disk can stall them.
# (Only gunicorn's own files, opened unlinked; nothing of the app goes there.)
SHARED_MEMORY = "/dev/shm"  # noqa: S108
if os.path.isdir(SHARED_MEMORY):
    worker_tmp_dir = SHARED_MEMORY

# gunicorn's control socket (gunicornc) is one path per user ($HOME/.gunicorn/gunicorn.ctl): two
# servers of one user would take it from each other, and the image's user has no home to write
# to. Signals do the same work (HUP reloads, TERM stops gracefully, TTIN/TTOU add or remove a
# process); GUNICORN_CONTROL_SOCKET=<path> turns it on.
if os.environ.get("GUNICORN_CONTROL_SOCKET"):
    control_socket = os.environ["GUNICORN_CONTROL_SOCKET"]
else:
    control_socket_disable = True

loglevel = os.environ.get("LOG_LEVEL", "info").lower()
errorlog = "-"
# One access line per request on standard output, carrying the request id the app gave
# the response; GUNICORN_ACCESSLOG=off leaves it out. With LOG_LEVEL WARNING or above
# (the benchmarks) there is none either: access lines are INFO messages.
_access = os.environ.get("GUNICORN_ACCESSLOG", "-")
accesslog = None if _access.lower() in {"", "off", "none"} or loglevel in {"warning", "error", "critical"} \
    else _access
access_log_format = '%(h)s "%(r)s" %(s)s %(B)s %(M)sms request_id=%({x-request-id}o)s'

# LOG_FORMAT as the app reads it (handoff/settings.py): JSON when DEBUG is off.
_debug = os.environ.get("DEBUG", "1").lower() in {"1", "true", "yes", "on"}
if (os.environ.get("LOG_FORMAT") or ("text" if _debug else "json")) == "json":
    _handler = {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stdout"}
    logconfig_dict = {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": "handoff.core.observability.json_formatter"}},
        "handlers": {"json": _handler},
        "root": {"handlers": ["json"], "level": loglevel.upper()},
        "loggers": {
            "gunicorn.error": {"handlers": ["json"], "level": loglevel.upper(), "propagate": False},
            **({"gunicorn.access": {"handlers": ["json"], "level": "INFO", "propagate": False}}
               if accesslog else {}),
        },
    }


def child_exit(server, worker):
    """A worker that ended leaves its live gauges behind in PROMETHEUS_MULTIPROC_DIR; mark them dead."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)


def on_starting(server):
    """The multiprocess folder must start empty: counts of an earlier run would be added in."""
    folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if folder:
        os.makedirs(folder, exist_ok=True)
        for name in os.listdir(folder):
            if name.endswith(".db"):
                os.remove(os.path.join(folder, name))
