"""Security headers and cookies: framing refused, no sniffing, HSTS and
secure cookies in production (DEBUG=0), a strict referrer policy."""

import json
import os
import subprocess
import sys

import pytest
from django.conf import settings

from tests.core.test_deploy_check import random_secret_key
from tests.timing import scaled

from .conftest import logged_in

pytestmark = pytest.mark.django_db

PROBE = """
import json
import django
django.setup()
from django.core.management import call_command
call_command("migrate", verbosity=0)
from django.contrib.auth import get_user_model
from django.conf import settings
from django.test import Client
from django.test.utils import override_settings
# Pages need the static files' manifest in production; collectstatic is not the point here.
override_settings(STORAGES={**settings.STORAGES, "staticfiles": {
    "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}).enable()
get_user_model().objects.create_user("probe", password="probe-password-123")
client = Client(HTTP_HOST="handoff.example.org")
page = client.get("/accounts/login/", secure=True)
login = client.post("/accounts/login/", {"username": "probe", "password": "probe-password-123"}, secure=True,
                    HTTP_REFERER="https://handoff.example.org/accounts/login/")
cookies = {name: dict(morsel) for name, morsel in client.cookies.items()}
print(json.dumps({"headers": dict(page.headers), "login": login.status_code, "cookies": cookies}))
"""


@pytest.fixture(scope="module")
def production(tmp_path_factory):
    db = tmp_path_factory.mktemp("prod") / "db.sqlite3"
    result = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=settings.BASE_DIR, capture_output=True, text=True,
        timeout=scaled(180),
        env={
            **{k: os.environ[k] for k in ("PATH", "HOME", "LANG") if k in os.environ},
            "DJANGO_SETTINGS_MODULE": "handoff.settings", "SECRET_KEY": random_secret_key(), "DEBUG": "0",
            "ALLOWED_HOSTS": "handoff.example.org", "CSRF_TRUSTED_ORIGINS": "https://handoff.example.org",
            "DATABASE_URL": f"sqlite:///{db}", "LOG_LEVEL": "ERROR",
        },
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_production_pages_send_the_security_headers(production):
    headers = production["headers"]
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "same-origin"
    assert headers["Cross-Origin-Opener-Policy"] == "same-origin"
    hsts = headers["Strict-Transport-Security"]
    assert "max-age=31536000" in hsts and "includeSubDomains" in hsts


def test_production_cookies_are_secure_and_the_session_is_out_of_reach_of_scripts(production):
    assert production["login"] == 302
    session, csrf = production["cookies"]["sessionid"], production["cookies"]["csrftoken"]
    assert session["secure"] and session["httponly"] and session["samesite"] == "Lax"
    assert csrf["secure"] and csrf["samesite"] == "Lax"


def test_every_page_refuses_to_be_framed_and_to_be_sniffed(world):
    client = logged_in(world.people["data_scientist"])
    for url in ("/", f"/handovers/{world.handover.pk}/", "/accounts/token/", "/api/v1/projects/",
                "/api/docs/", "/accounts/login/"):
        response = client.get(url)
        assert response["X-Frame-Options"] == "DENY", url
        assert response["X-Content-Type-Options"] == "nosniff", url
        assert response["Referrer-Policy"] == "same-origin", url
