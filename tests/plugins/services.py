"""Which real services this run has, and what to do when one is missing.

With CI=true a test that needs PostgreSQL, Redis, a worker or Chromium fails
when the service is missing; it is never skipped. Locally it is skipped with
the reason, so `make test` without DATABASE_URL/REDIS_URL still runs the rest.
"""

import os
import shutil

import pytest

from tests.timing import scaled

CI = os.environ.get("CI", "").lower() == "true"
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")


def need(condition, reason):
    if condition:
        return
    if CI:
        pytest.fail(f"CI needs this and it is missing: {reason}", pytrace=False)
    pytest.skip(reason)


def on_postgres():
    from django.db import connection

    return connection.vendor == "postgresql"


def redis_url():
    return os.environ.get("REDIS_URL", "")


def chromium_path():
    return shutil.which(CHROMIUM) or (CHROMIUM if os.path.exists(CHROMIUM) else None)


@pytest.fixture
def postgres(db):
    need(on_postgres(), "PostgreSQL is needed (set DATABASE_URL=postgres://...)")


@pytest.fixture
def redis_available():
    need(bool(redis_url()), "Redis is needed (set REDIS_URL=redis://...)")
    import redis

    try:
        redis.Redis.from_url(redis_url(), socket_connect_timeout=scaled(2)).ping()
    except redis.RedisError as exc:
        need(False, f"Redis at {redis_url()} does not answer: {exc}")
