"""Security headers and cookies: framing refused, no sniffing, HSTS and
secure cookies in production (DEBUG=0), a strict referrer policy, and the
Content-Security-Policy on every kind of response, with DEBUG on and off."""

import json
import os
import subprocess
import sys

import pytest
from django.conf import settings
from django.test import Client

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
policies = {url: client.get(url, secure=True).get("Content-Security-Policy")
            for url in ("/", "/no-such-page/", "/api/v1/projects/", "/api/docs/")}
print(json.dumps({"headers": dict(page.headers), "login": login.status_code, "cookies": cookies,
                  "policies": policies}))
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
    # Pages hand htmx and the upload widget the token; no script needs the cookie.
    assert csrf["secure"] and csrf["httponly"] and csrf["samesite"] == "Lax"


def test_production_enforces_the_content_security_policy(production):
    assert parsed(production["headers"]["Content-Security-Policy"]) == STRICT
    assert "Content-Security-Policy-Report-Only" not in production["headers"]
    for url, header in production["policies"].items():
        assert header is not None, url
        expected = DOCS if url == "/api/docs/" else STRICT
        assert parsed(header) == expected, url


def test_every_page_refuses_to_be_framed_and_to_be_sniffed(world):
    client = logged_in(world.people["data_scientist"])
    for url in ("/", f"/handovers/{world.handover.pk}/", "/accounts/token/", "/api/v1/projects/",
                "/api/docs/", "/accounts/login/"):
        response = client.get(url)
        assert response["X-Frame-Options"] == "DENY", url
        assert response["X-Content-Type-Options"] == "nosniff", url
        assert response["Referrer-Policy"] == "same-origin", url


# The policy every response carries: everything from this origin, nothing inline, no eval.
STRICT = {
    "default-src": ["'self'"], "script-src": ["'self'"], "style-src": ["'self'"], "img-src": ["'self'"],
    "connect-src": ["'self'"], "font-src": ["'self'"], "object-src": ["'none'"], "base-uri": ["'self'"],
    "form-action": ["'self'"], "frame-ancestors": ["'none'"],
}
# Swagger UI's stylesheet draws its icons as data: images; only its page allows them.
DOCS = {**STRICT, "img-src": ["'self'", "data:"]}


def parsed(header):
    """A Content-Security-Policy header as {directive: [sources]}."""
    directives = [part.split() for part in header.split(";") if part.strip()]
    return {name: sources for name, *sources in directives}


def no_inline(policy):
    return all("'unsafe-inline'" not in policy.get(name, []) and "'unsafe-eval'" not in policy.get(name, [])
               for name in ("default-src", "script-src", "style-src"))


@pytest.mark.parametrize("debug", [False, True])
def test_pages_api_and_error_pages_carry_the_policy_with_debug_on_or_off(world, settings, debug):
    settings.DEBUG = debug
    client = logged_in(world.people["data_scientist"])
    responses = {
        "page": client.get(f"/handovers/{world.handover.pk}/"),
        "home": client.get("/"),
        "JSON": client.get("/api/v1/projects/"),
        "login page": Client().get("/accounts/login/"),
        "refused form (CSRF)": Client(enforce_csrf_checks=True).post("/accounts/login/", {}),
    }
    if not debug:
        # With DEBUG on, django-csp leaves every 404 and 500 alone, for Django's own debug pages.
        responses["page not found"] = client.get("/no-such-page/")
        responses["JSON not found"] = client.get("/api/v1/no-such-endpoint/")
        assert responses["page not found"].status_code == responses["JSON not found"].status_code == 404
    assert responses["refused form (CSRF)"].status_code == 403
    for kind, response in responses.items():
        assert "Content-Security-Policy" in response, kind
        policy = parsed(response["Content-Security-Policy"])
        assert policy == STRICT and no_inline(policy), kind


def test_the_api_docs_allow_data_images_and_still_nothing_inline(world):
    client = logged_in(world.people["data_scientist"])
    docs = client.get("/api/docs/")
    assert docs.status_code == 200
    policy = parsed(docs["Content-Security-Policy"])
    assert policy == DOCS and no_inline(policy)
    html = docs.content.decode()
    assert "<style" not in html and "<script>" not in html and "style=" not in html
    # The start script comes from a URL of its own.
    script = client.get("/api/docs/?script=")
    assert script.status_code == 200 and script["Content-Type"].startswith("application/javascript")
    assert "SwaggerUIBundle(" in script.content.decode()


@pytest.mark.urls("tests.core.urls")
def test_a_server_error_carries_the_policy(client):
    client.raise_request_exception = False
    crash = client.get("/api/test/raise/crash/")
    assert crash.status_code == 500
    assert parsed(crash["Content-Security-Policy"]) == STRICT
