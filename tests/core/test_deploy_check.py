"""Production settings pass ``check --deploy``; a production start without a secret key is refused."""

import os
import secrets
import string
import subprocess
import sys

from django.conf import settings

from tests.timing import scaled

PRODUCTION = {"DEBUG": "0", "ALLOWED_HOSTS": "example.org"}


def manage(*args, **env):
    # A clean environment, as on a server: nothing leaks in from the test run
    # (the browser plugin, for one, sets DJANGO_ALLOW_ASYNC_UNSAFE).
    environment = {k: os.environ[k] for k in ("PATH", "HOME", "LANG") if k in os.environ}
    environment.update(env)
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=settings.BASE_DIR, env=environment,
        capture_output=True, text=True, timeout=scaled(120),
    )


def random_secret_key():
    alphabet = string.ascii_letters + string.digits + "!@#%^&*(-_=+)"
    return "".join(secrets.choice(alphabet) for _ in range(50))


def test_production_settings_pass_the_deploy_check_without_warnings():
    result = manage(
        "check", "--deploy", "--fail-level", "WARNING", SECRET_KEY=random_secret_key(), **PRODUCTION
    )
    assert result.returncode == 0, result.stdout + result.stderr
    # One silenced on purpose: axes.W006, as the lockout counts usernames, never addresses (settings).
    assert "System check identified no issues (1 silenced)." in result.stdout
    assert "WARNING" not in result.stdout + result.stderr


def test_only_the_lockout_address_check_is_silenced():
    assert settings.SILENCED_SYSTEM_CHECKS == ["axes.W006"]


def test_production_without_a_secret_key_refuses_to_start():
    result = manage("check", **PRODUCTION)
    assert result.returncode != 0
    assert "SECRET_KEY must be set when DEBUG is off" in result.stderr


def test_an_empty_secret_key_counts_as_missing():
    result = manage("check", SECRET_KEY="", **PRODUCTION)
    assert result.returncode != 0
    assert "SECRET_KEY must be set when DEBUG is off" in result.stderr


def test_a_debug_value_that_is_not_a_boolean_is_refused():
    result = manage("check", DEBUG="maybe", SECRET_KEY=random_secret_key())
    assert result.returncode != 0
    assert "DEBUG must be 1/0, true/false, yes/no or on/off; got 'maybe'" in result.stderr


PROBE = """
import django
django.setup()
from django.test import Client
client = Client(HTTP_HOST="example.org")
health = client.get("/health/")
api = client.get("/api/v1/projects/")
print(health.status_code, api.status_code, api.get("Location", ""))
"""


def test_production_redirects_to_https_except_the_health_probe(tmp_path):
    # Load balancers probe /health/ over plain HTTP; everything else moves to HTTPS.
    result = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=settings.BASE_DIR, capture_output=True, text=True,
        timeout=scaled(120),
        env={
            **{k: os.environ[k] for k in ("PATH", "HOME", "LANG") if k in os.environ},
            "DJANGO_SETTINGS_MODULE": "handoff.settings", "SECRET_KEY": random_secret_key(),
            "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}", "LOG_LEVEL": "ERROR",
            "HANDOFF_BROKER_DIR": str(tmp_path / "broker"), **PRODUCTION,
        },
    )
    assert result.returncode == 0, result.stderr
    # /health/ answers over HTTP (503 here: no worker runs on the broker folder).
    assert result.stdout.split() == ["503", "301", "https://example.org/api/v1/projects/"]
