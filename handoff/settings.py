"""Settings for Handoff, read from the environment.

With nothing set, Handoff runs embedded: a SQLite file, and a Celery worker
and beat on a broker that needs no server (kombu's filesystem transport in a
local folder), so background work behaves as in production. With
DATABASE_URL and REDIS_URL it runs on PostgreSQL and Redis. See README.md,
"Configuration".
"""

import os
import re
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name, default):
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    if value.lower() in {"1", "true", "yes", "on"}:
        return True
    if value.lower() in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be 1/0, true/false, yes/no or on/off; got {value!r}")


def env_list(name, default=""):
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def env_int(name, default):
    value = os.environ.get(name)
    if not value:
        return default
    try:
        return int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number; got {value!r}") from None


DEBUG = env_bool("DEBUG", True)

SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
    SECRET_KEY = "django-insecure-development-only-key-never-use-in-production"

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1],testserver" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_filters",
    "django_htmx",
    "axes",
    "accounts",
    "handoff.core",
    "handoff.audit",
    "handoff.notifications",
    "handoff.teams",
    "handoff.handovers",
    "handoff.validation",
    "handoff.contracts",
    "handoff.deployments",
    "handoff.incidents",
    "handoff.dashboards",
]

MIDDLEWARE = [
    "handoff.core.observability.RequestIdMiddleware",
    "handoff.core.metrics.RequestMetricsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "handoff.core.middleware.DomainErrorMiddleware",
    "handoff.core.outages.OutageMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "handoff.urls"
WSGI_APPLICATION = "handoff.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "handoff.dashboards.context_processors.navigation",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------
DATABASE_URL = os.environ.get("DATABASE_URL", "")
DATABASES = {
    "default": dj_database_url.parse(
        DATABASE_URL or f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=env_int("CONN_MAX_AGE", 60 if DATABASE_URL else 0),
        conn_health_checks=bool(DATABASE_URL),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The web process and the worker share the file. A write transaction takes
    # the write lock when it begins (not at its first write, when SQLite can
    # only give up: "database is locked"), and waits up to 20 s for it, so two
    # accepts at once give one 200 and one 409 here as on PostgreSQL. WAL lets
    # readers go on while one writes.
    DATABASES["default"].setdefault("OPTIONS", {}).update({
        "transaction_mode": "IMMEDIATE",
        "timeout": env_int("SQLITE_BUSY_TIMEOUT", 20),
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    })
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis, Celery, cache -----------------------------------------------
REDIS_URL = os.environ.get("REDIS_URL", "")
CELERY_BROKER_URL = REDIS_URL or "filesystem://"
# Embedded mode: messages are files in a local folder that the web process,
# the worker and beat share (`make run` starts all three).
HANDOFF_BROKER_DIR = Path(os.environ.get("HANDOFF_BROKER_DIR", BASE_DIR / ".broker"))
# Tasks run in workers, never in the request; only unit tests run them eagerly.
CELERY_TASK_ALWAYS_EAGER = False
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_DEFAULT_QUEUE = os.environ.get("CELERY_TASK_DEFAULT_QUEUE", "handoff")
# A task is acknowledged only when it finished, so a worker killed half-way
# has its task redelivered; the task's database row makes the rerun safe.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT", 3600)}
if not REDIS_URL:
    CELERY_BROKER_TRANSPORT_OPTIONS.update({
        "data_folder_in": str(HANDOFF_BROKER_DIR / "messages"),
        "data_folder_out": str(HANDOFF_BROKER_DIR / "messages"),
        "control_folder": str(HANDOFF_BROKER_DIR / "control"),
        "store_processed": False,
    })
    for _folder in ("messages", "control"):
        (HANDOFF_BROKER_DIR / _folder).mkdir(parents=True, exist_ok=True)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
# Validation can have a queue of its own, so that long runs never hold up
# other work: set HANDOFF_VALIDATION_QUEUE and start workers for it with
# `celery -A handoff worker -Q <that queue>` (README, "Scaling").
HANDOFF_VALIDATION_QUEUE = os.environ.get("HANDOFF_VALIDATION_QUEUE", "") or CELERY_TASK_DEFAULT_QUEUE
CELERY_TASK_ROUTES = {"handoff.validation.tasks.run_validation": {"queue": HANDOFF_VALIDATION_QUEUE}}
CELERY_BEAT_SCHEDULE = {
    "validation-sweep": {
        "task": "handoff.validation.tasks.sweep_validation_runs",
        "schedule": float(env_int("HANDOFF_VALIDATION_SWEEP_SECONDS", 30)),
    },
    "notifications-sweep": {
        "task": "handoff.notifications.tasks.sweep_deliveries",
        "schedule": float(env_int("HANDOFF_NOTIFY_SWEEP_SECONDS", 30)),
    },
    "metric-batches-sweep": {
        "task": "handoff.incidents.tasks.sweep_metric_batches",
        "schedule": float(env_int("HANDOFF_METRICS_SWEEP_SECONDS", 30)),
    },
    "incident-sla": {
        "task": "handoff.incidents.tasks.escalate_overdue_incidents",
        "schedule": float(env_int("HANDOFF_INCIDENT_SLA_CHECK_SECONDS", 60)),
    },
}

# --- Outages ---------------------------------------------------------------------
# A request that enqueues work while the broker is away gives up at the first refused
# connection (the work's row is committed, and beat's sweeps enqueue it later) instead of
# retrying for seconds per task while its user waits. Workers reconnect on their own
# schedule (Celery's broker_connection_max_retries), untouched by this.
CELERY_BROKER_TRANSPORT_OPTIONS["max_retries"] = env_int("HANDOFF_BROKER_CONNECT_RETRIES", 0)

# --- Incidents ---------------------------------------------------------------
# How long an incident may stay unacknowledged before its team leader is told
# (once), per severity, in minutes: HANDOFF_SLA_SEV1_MINUTES and so on.
HANDOFF_INCIDENT_SLA_SECONDS = {
    severity: 60 * env_int(f"HANDOFF_SLA_{severity.upper()}_MINUTES", minutes)
    for severity, minutes in (("sev1", 15), ("sev2", 60), ("sev3", 8 * 60), ("sev4", 3 * 24 * 60))
}
# A metric batch no worker evaluated within this is enqueued again by the sweep.
HANDOFF_METRICS_GRACE_SECONDS = env_int("HANDOFF_METRICS_GRACE_SECONDS", 30)

# --- Dashboards -----------------------------------------------------------------
# The currency deployments' monthly value and cost are recorded in (one per installation).
HANDOFF_CURRENCY = os.environ.get("HANDOFF_CURRENCY", "EUR")
# How long a team's dashboard figures are kept in the cache before they are
# computed again (any event that changes them drops them sooner).
HANDOFF_DASHBOARD_CACHE_SECONDS = env_int("HANDOFF_DASHBOARD_CACHE_SECONDS", 300)

# --- Notifications -----------------------------------------------------------
# Links in emails and chat messages start with this address.
HANDOFF_BASE_URL = os.environ.get("HANDOFF_BASE_URL", "http://127.0.0.1:8000")
# An email is tried this many times, waiting 10 s, 20 s, 40 s … between tries.
HANDOFF_NOTIFY_MAX_ATTEMPTS = env_int("HANDOFF_NOTIFY_MAX_ATTEMPTS", 5)
HANDOFF_NOTIFY_BACKOFF_SECONDS = env_int("HANDOFF_NOTIFY_BACKOFF_SECONDS", 10)
# A worker holds an email this long while it sends; one that died is retried after.
HANDOFF_NOTIFY_LEASE_SECONDS = env_int("HANDOFF_NOTIFY_LEASE_SECONDS", 300)
# A delivery no worker took within this is enqueued again by the sweep.
HANDOFF_NOTIFY_GRACE_SECONDS = env_int("HANDOFF_NOTIFY_GRACE_SECONDS", 30)

# Webhooks: tried this many times, waiting 10 s, 20 s, 40 s … between tries;
# each request may take TIMEOUT seconds. A webhook may not point at loopback,
# private or link-local addresses unless ALLOW_PRIVATE (on by default with DEBUG,
# so a receiver on 127.0.0.1 works in development).
HANDOFF_WEBHOOK_MAX_ATTEMPTS = env_int("HANDOFF_WEBHOOK_MAX_ATTEMPTS", 5)
HANDOFF_WEBHOOK_BACKOFF_SECONDS = env_int("HANDOFF_WEBHOOK_BACKOFF_SECONDS", 10)
HANDOFF_WEBHOOK_TIMEOUT_SECONDS = env_int("HANDOFF_WEBHOOK_TIMEOUT_SECONDS", 10)
HANDOFF_WEBHOOK_ALLOW_PRIVATE = env_bool("HANDOFF_WEBHOOK_ALLOW_PRIVATE", DEBUG)

# --- Validation --------------------------------------------------------------
# A worker writes its run's heartbeat at most this often while it works; a
# running run whose heartbeat is older than the stale limit lost its worker
# and is enqueued again (at most MAX_ATTEMPTS times). A queued run no worker
# took within the grace period (the broker was down) is enqueued again.
HANDOFF_VALIDATION_HEARTBEAT_SECONDS = env_int("HANDOFF_VALIDATION_HEARTBEAT_SECONDS", 2)
HANDOFF_VALIDATION_STALE_SECONDS = env_int("HANDOFF_VALIDATION_STALE_SECONDS", 60)
HANDOFF_VALIDATION_QUEUE_GRACE_SECONDS = env_int("HANDOFF_VALIDATION_QUEUE_GRACE_SECONDS", 30)
HANDOFF_VALIDATION_TIME_LIMIT_SECONDS = env_int("HANDOFF_VALIDATION_TIME_LIMIT_SECONDS", 1800)
HANDOFF_VALIDATION_MAX_ATTEMPTS = env_int("HANDOFF_VALIDATION_MAX_ATTEMPTS", 3)
# Threads onnxruntime may use when timing a model (fixed, so figures compare).
HANDOFF_VALIDATION_THREADS = env_int("HANDOFF_VALIDATION_THREADS", 1)

if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    # Embedded: a folder every process on this machine shares (the web server drops a
    # dashboard's figures when the worker finishes a validation run), never one process's memory.
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
                          "LOCATION": os.environ.get("HANDOFF_CACHE_DIR", str(BASE_DIR / ".cache"))}}

# --- Accounts --------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- Accounts: lockout and tokens ---
# django-axes counts failed log-ins (login page and POST /api/v1/auth/token/) per
# account, from whatever address: LIMIT failures within COOLOFF minutes lock that
# account for COOLOFF minutes from the last of them. Only the username is counted,
# never the address alone, so one office behind a NAT is not locked out by one
# person's typos, and an attacker spreading guesses over many addresses is still
# stopped. The price: anyone can lock a known account for the cool-off
# (`manage.py axes_reset_username <name>` unlocks it at once). A refused attempt
# during the lockout does not extend it, so the time the message names holds; a
# right password resets the count. Attempts are kept in the database, which
# every web process shares on SQLite and PostgreSQL alike and which a Redis
# restart does not empty.
AXES_FAILURE_LIMIT = env_int("HANDOFF_LOGIN_FAILURE_LIMIT", 10)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("HANDOFF_LOGIN_COOLOFF_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = ["username"]
AXES_RESET_ON_SUCCESS = True
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_HANDLER = "axes.handlers.database.AxesDatabaseHandler"
AXES_HTTP_RESPONSE_CODE = 429
AXES_LOCKOUT_CALLABLE = "accounts.lockout.lockout_response"
# The address recorded with each attempt: behind the TLS proxy, the one it appended to X-Forwarded-For.
BEHIND_TLS_PROXY = env_bool("BEHIND_TLS_PROXY", False)
AXES_CLIENT_IP_CALLABLE = "accounts.lockout.client_ip"
# axes warns when the address is not counted, against lockouts by user agent or cookie
# alone, which a client can rotate; a username it cannot.
SILENCED_SYSTEM_CHECKS = [*globals().get("SILENCED_SYSTEM_CHECKS", ()), "axes.W006"]
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # first: refuses a locked-out account before a password is checked
    "django.contrib.auth.backends.ModelBackend",
]

# Metrics posts per ingestion token (POST /api/v1/deployments/{id}/metrics/): N per
# second, minute, hour or day ("600/min"), counted in the shared cache; over it is a 429.
HANDOFF_INGEST_RATE = os.environ.get("HANDOFF_INGEST_RATE", "600/min")
if not re.fullmatch(r"[1-9][0-9]*/(s|sec|second|m|min|minute|h|hour|d|day)", HANDOFF_INGEST_RATE):
    raise ImproperlyConfigured(f"HANDOFF_INGEST_RATE must be a number of posts per s, min, hour or day, "
                               f"such as 600/min; got {HANDOFF_INGEST_RATE!r}")

# --- Internationalisation -------------------------------------------------
LANGUAGE_CODE = "en-gb"
TIME_ZONE = os.environ.get("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

# --- Static files and uploads ---------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", BASE_DIR / "staticfiles"))
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "media/"
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", BASE_DIR / "media"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
# Largest artifact accepted, per file (default 2 GiB).
HANDOFF_MAX_UPLOAD_BYTES = env_int("HANDOFF_MAX_UPLOAD_BYTES", 2 * 1024**3)
FILE_UPLOAD_TEMP_DIR = os.environ.get("FILE_UPLOAD_TEMP_DIR") or None
# Uploads stream to a temporary file while their sha256 and size are
# computed; a file over the limit is dropped as it arrives.
FILE_UPLOAD_HANDLERS = ["handoff.handovers.uploads.HashingUploadHandler"]

# --- Artifact storage --------------------------------------------------------
# With AWS_STORAGE_BUCKET_NAME set, artifacts and contract files live in that
# bucket of an S3-compatible object store (AWS S3, MinIO, ...: AWS_S3_ENDPOINT_URL
# for anything but AWS) under the key prefix AWS_LOCATION; otherwise in MEDIA_ROOT.
# The names are django-storages' own. Downloads stream through Handoff after its
# access check, so the bucket stays private and no signed URL is handed out
# (handoff/core/storage.py says why).
AWS_STORAGE_BUCKET_NAME = os.environ.get("AWS_STORAGE_BUCKET_NAME", "")
if AWS_STORAGE_BUCKET_NAME:
    from boto3.s3.transfer import TransferConfig

    AWS_S3_ENDPOINT_URL = os.environ.get("AWS_S3_ENDPOINT_URL") or None
    AWS_S3_REGION_NAME = os.environ.get("AWS_S3_REGION_NAME") or None
    # Unset: boto3's own chain (an instance or pod role, ~/.aws).
    AWS_ACCESS_KEY_ID = os.environ.get("AWS_ACCESS_KEY_ID") or None
    AWS_SECRET_ACCESS_KEY = os.environ.get("AWS_SECRET_ACCESS_KEY") or None
    AWS_LOCATION = os.environ.get("AWS_LOCATION", "").strip("/")
    # "path" for a MinIO without a domain of its own; unset lets botocore choose.
    AWS_S3_ADDRESSING_STYLE = os.environ.get("AWS_S3_ADDRESSING_STYLE") or None
    AWS_DEFAULT_ACL = None  # no per-object ACL: the bucket's policy (private) decides
    AWS_S3_FILE_OVERWRITE = False  # a stored file is immutable: a clashing name gets a new one
    # storage.url() is never shown to a browser; were it called, the URL would be
    # signed and short-lived rather than public.
    AWS_QUERYSTRING_AUTH = True
    AWS_QUERYSTRING_EXPIRE = 60
    # A read through django-storages' own S3File spools to disk past 8 MiB
    # (its default, 0, keeps a whole object in memory).
    AWS_S3_MAX_MEMORY_SIZE = 8 * 1024**2
    # Uploads are multipart, read part by part from the upload's temporary file:
    # at most 4 parts of 8 MiB in memory per upload (s3transfer's default is 10), 4 sent at once.
    AWS_S3_TRANSFER_CONFIG = TransferConfig(
        multipart_threshold=8 * 1024**2, multipart_chunksize=8 * 1024**2, max_concurrency=4,
    )
    AWS_S3_TRANSFER_CONFIG.max_in_memory_upload_chunks = 4  # s3transfer's knob; boto3 takes no argument
    STORAGES["default"] = {"BACKEND": "handoff.core.storage.ObjectStorage"}

# --- Email -----------------------------------------------------------------
EMAIL_HOST = os.environ.get("EMAIL_HOST", "")
EMAIL_BACKEND = (
    "django.core.mail.backends.smtp.EmailBackend"
    if EMAIL_HOST
    else "django.core.mail.backends.console.EmailBackend"
)
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 10)
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "Handoff <handoff@localhost>")

# --- REST API --------------------------------------------------------------
REST_FRAMEWORK = {
    # Token first: DRF answers 401 (not 403) only when the first class names a scheme.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.api.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "handoff.core.api.Pagination",
    "PAGE_SIZE": 50,
    # Every list: django-filter's FilterSet, then ``?ordering=``, refused with
    # a 400 naming it when the API cannot read it (handoff.core.api.Ordering).
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "handoff.core.api.Ordering",
    ],
    "DEFAULT_SCHEMA_CLASS": "handoff.core.schema.AutoSchema",
    "EXCEPTION_HANDLER": "handoff.core.api.exception_handler",
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Handoff API",
    "DESCRIPTION": (
        "Hand models over from data scientists to ML engineers. Authenticate with "
        "`Authorization: Token <token>` (from `POST /api/v1/auth/token/`) or a session."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # One schema name per choice set, whatever the field is called (role, my_role …).
    "ENUM_NAME_OVERRIDES": {
        "RoleEnum": "handoff.teams.models.Role",
        "StageEnum": "handoff.teams.models.Stage",
        "HandoverStateEnum": "handoff.handovers.models.HandoverState",
        "RunStateEnum": "handoff.validation.models.RunState",
        "CheckStatusEnum": "handoff.validation.models.CheckStatus",
        "MetricEnum": "handoff.handovers.models.Metric",
        "ProductionMetricEnum": "handoff.deployments.models.ProductionMetric",
        "IncidentStatusEnum": "handoff.incidents.models.IncidentStatus",
        "SeverityEnum": "handoff.incidents.models.Severity",
        "KindEnum": "handoff.handovers.models.ArtifactKind",
        "ContractStateEnum": "handoff.contracts.models.ContractState",
        "ContractArtifactKindEnum": "handoff.contracts.models.ContractArtifactKind",
        "FrameworkEnum": "handoff.handovers.models.Framework",
    },
}
# --- API schema links -------------------------------------------------------
# The enum hook is drf-spectacular's default (kept); ours adds the OpenAPI links between operations.
SPECTACULAR_SETTINGS["POSTPROCESSING_HOOKS"] = [
    "drf_spectacular.hooks.postprocess_schema_enums",
    "handoff.core.schema.add_links",
]

# --- Security (production) -------------------------------------------------
if not DEBUG:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)
    # Load balancers probe /health/ over plain HTTP inside the network.
    SECURE_REDIRECT_EXEMPT = [r"^health/$"]
    if env_bool("BEHIND_TLS_PROXY", False):
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"

# --- Content-Security-Policy ---------------------------------------------------
# Enforced on every page, with DEBUG on or off: scripts, styles, fonts and
# requests come from this origin only, and no inline script, inline style,
# style="" attribute, on*= handler or eval runs (htmx's own indicator <style>
# and its eval are switched off in base.html's htmx-config). Images from this
# origin; the API docs alone add data: images for Swagger UI's icons
# (handoff/core/api_docs.py). Nothing may frame a page, change its base URL or
# post a form elsewhere. With DEBUG on, django-csp sends no policy with 404s
# and 500s, for Django's debug pages. README, "Browser security", says how to
# add an asset.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'"],
        "connect-src": ["'self'"],
        "font-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    },
}
# Cookies: the session and the CSRF token are out of reach of scripts (htmx
# and the upload widget take the token from the page, never from the cookie)
# and are not sent on cross-site subrequests; in production they are also
# HTTPS-only (the "Security (production)" block).
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"

# --- Operations: logs, metrics, the operator token ---------------------------------
# One JSON object per log line in production (LOG_FORMAT=json, the default when
# DEBUG is off), plain text in development. Every record of a request or task
# carries its request_id (README, "Logs and metrics").
LOG_FORMAT = os.environ.get("LOG_FORMAT", "") or ("text" if DEBUG else "json")
if LOG_FORMAT not in {"json", "text"}:
    raise ImproperlyConfigured(f"LOG_FORMAT must be json or text; got {LOG_FORMAT!r}")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"context": {"()": "handoff.core.observability.ContextFilter"}},
    "formatters": {
        "json": {"()": "handoff.core.observability.json_formatter"},
        "text": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT, "filters": ["context"]},
    },
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
}
# With JSON logs the worker and beat keep this configuration instead of Celery's
# own text handlers, so their lines are JSON too.
CELERY_WORKER_HIJACK_ROOT_LOGGER = LOG_FORMAT == "text"
# Presented as `Authorization: Bearer <token>`, it opens /metrics and the details
# of /health/; unset, /metrics does not exist and /health/ says only ok or not.
HANDOFF_OPERATOR_TOKEN = os.environ.get("HANDOFF_OPERATOR_TOKEN", "")
