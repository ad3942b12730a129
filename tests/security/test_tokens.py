"""API tokens: shown once and never cached, sent only in the Authorization
header, never written to logs or the audit trail; bad tokens are told why."""

import logging
import re

import pytest
from django.test import Client

from accounts.models import ApiToken
from handoff.audit.models import AuditEvent
from handoff.core.tokens import digest
from tests.factories import PASSWORD, api_token

from .conftest import logged_in

pytestmark = pytest.mark.django_db


def _shown_key(response):
    return re.search(r'value="(hat_[A-Za-z0-9_-]{43})"', response.content.decode()).group(1)


def test_the_page_showing_a_new_token_is_never_cached(world):
    client = logged_in(world.people["data_scientist"])
    response = client.post("/accounts/token/", {"name": "CI"})
    key = _shown_key(response)
    assert ApiToken.objects.filter(user=world.people["data_scientist"], digest=digest(key)).exists()
    assert "no-store" in response["Cache-Control"]
    assert "private" in response["Cache-Control"] or "no-cache" in response["Cache-Control"]


def test_the_token_page_never_shows_an_existing_token(world):
    user = world.people["data_scientist"]
    key = api_token(user)
    html = logged_in(user).get("/accounts/token/").content.decode()
    assert key not in html


def test_a_revoked_token_stops_working_at_once(world):
    user = world.people["data_scientist"]
    old = api_token(user, name="Old laptop")
    token = ApiToken.objects.get(user=user, name="Old laptop")
    logged_in(user).post(f"/accounts/token/{token.pk}/revoke/")
    response = Client(HTTP_AUTHORIZATION=f"Token {old}").get("/api/v1/projects/")
    assert response.status_code == 401
    assert f"This token ({token.prefix}…, “Old laptop”) was revoked on" in response.json()["detail"]


def test_a_token_in_the_url_is_not_a_credential(world):
    key = api_token(world.people["data_scientist"])
    for url in (f"/api/v1/projects/?token={key}", f"/api/v1/projects/?auth_token={key}",
                f"/api/v1/projects/?access_token={key}"):
        assert Client().get(url).status_code == 401


def test_the_token_endpoint_takes_credentials_only_in_a_post_body(world):
    user = world.people["data_scientist"]
    query = f"?username={user.username}&password={PASSWORD}"
    assert Client().get(f"/api/v1/auth/token/{query}").status_code == 405
    response = Client().post("/api/v1/auth/token/", {"username": user.username, "password": PASSWORD})
    assert response.status_code == 200


@pytest.mark.parametrize("header", [
    "Token 0123456789abcdef0123456789abcdef01234567",  # right shape, unknown
    "Token not-a-token",
    "Token",
    "Token a b",
    "Bearer 0123456789abcdef0123456789abcdef01234567",
])
def test_a_bad_token_is_a_401_that_says_what_to_fix(world, header):
    response = Client(HTTP_AUTHORIZATION=header).get("/api/v1/projects/")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"
    assert "Authorization: Token" in response.json()["detail"]


def test_a_deactivated_account_s_token_stops_working(world):
    user = world.people["data_scientist"]
    key = api_token(user)
    user.is_active = False
    user.save()
    response = Client(HTTP_AUTHORIZATION=f"Token {key}").get("/api/v1/projects/")
    assert response.status_code == 401


def test_tokens_and_passwords_never_reach_the_logs_or_the_audit_trail(world, caplog):
    user = world.people["data_scientist"]
    caplog.set_level(logging.DEBUG)
    client = logged_in(user)
    key = _shown_key(client.post("/accounts/token/", {"name": "CI"}))
    api = Client(HTTP_AUTHORIZATION=f"Token {key}")
    api.get("/api/v1/handovers/987654/")  # a 404, logged as a warning
    api.post("/api/v1/handovers/987654/submit/")
    Client(HTTP_AUTHORIZATION=f"Token {key[:-1]}0").get("/api/v1/projects/")  # a 401
    Client().post("/api/v1/auth/token/", {"username": user.username, "password": "wrong-" + PASSWORD})
    text = "\n".join(record.getMessage() for record in caplog.records)
    assert key not in text and key[:-1] not in text
    assert PASSWORD not in text
    for event in AuditEvent.objects.all():
        assert key not in str(event.details) and key not in (event.target_repr or "")
