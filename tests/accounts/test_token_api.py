"""POST /api/v1/auth/token/ and ``Authorization: Token <key>``."""

import pytest
from rest_framework.test import APIClient

from accounts.models import ApiToken
from accounts.services import revoke_api_token
from handoff.core.tokens import digest
from handoff.teams.models import Role
from tests.factories import PASSWORD, ProjectFactory, UserFactory, api_token, member

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
TOKEN_URL = "/api/v1/auth/token/"


@pytest.fixture
def api():
    return APIClient()


@pytest.fixture
def dana():
    return member(ProjectFactory(slug="detector"), Role.DATA_SCIENTIST, username="dana")


def test_correct_credentials_give_a_token_that_works(api, dana):
    response = api.post(TOKEN_URL, {"username": "dana", "password": PASSWORD})
    assert response.status_code == 200
    token = response.json()["token"]
    stored = ApiToken.objects.get(user=dana)
    assert stored.digest == digest(token) and token.startswith(stored.prefix)
    assert stored.name.startswith("API login ")

    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    projects = api.get("/api/v1/projects/")
    assert projects.status_code == 200
    assert [p["slug"] for p in projects.json()["results"]] == ["detector"]


def test_asking_again_gives_a_new_token_and_the_first_still_works(api, dana):
    first = api.post(TOKEN_URL, {"username": "dana", "password": PASSWORD}).json()["token"]
    second = api.post(TOKEN_URL, {"username": "dana", "password": PASSWORD}).json()["token"]
    assert first != second
    assert ApiToken.objects.filter(user=dana).count() == 2
    for token in (first, second):
        api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
        assert api.get("/api/v1/projects/").status_code == 200


def test_form_encoded_credentials_work_too(api, dana):
    response = api.post(TOKEN_URL, {"username": "dana", "password": PASSWORD}, format="multipart")
    assert response.status_code == 200
    assert response.json()["token"]


def test_wrong_password_is_a_401_with_a_clear_message_and_no_token(api, dana):
    response = api.post(TOKEN_URL, {"username": "dana", "password": "wrong"})
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Token realm="api"'
    assert response.json() == {"detail": "Unable to log in with provided credentials."}
    assert not ApiToken.objects.exists()


def test_unknown_user_gets_the_same_answer_as_a_wrong_password(api, dana):
    wrong_password = api.post(TOKEN_URL, {"username": "dana", "password": "wrong"})
    unknown_user = api.post(TOKEN_URL, {"username": "nobody", "password": "wrong"})
    assert unknown_user.status_code == 401
    assert unknown_user.json() == wrong_password.json()


def test_inactive_user_gets_no_token(api, dana):
    dana.is_active = False
    dana.save()
    response = api.post(TOKEN_URL, {"username": "dana", "password": PASSWORD})
    assert response.status_code == 401
    assert response.json() == {"detail": "Unable to log in with provided credentials."}
    assert not ApiToken.objects.exists()


def test_missing_fields_are_named(api, dana):
    response = api.post(TOKEN_URL, {"username": "dana"})
    assert response.status_code == 400
    body = response.json()
    assert body["password"] == ["This field is required."]
    assert body["detail"] == "password: This field is required."


def test_malformed_json_is_a_400(api, dana):
    response = api.post(TOKEN_URL, "{not json", content_type="application/json")
    assert response.status_code == 400
    assert "JSON parse error" in response.json()["detail"]


def test_a_stale_token_header_does_not_stop_getting_a_new_token(api, dana):
    api.credentials(HTTP_AUTHORIZATION="Token " + "0" * 40)
    response = api.post(TOKEN_URL, {"username": "dana", "password": PASSWORD})
    assert response.status_code == 200


@pytest.mark.parametrize(
    ("header", "message"),
    [
        ("Token abc", "Invalid token."),
        ("Token " + "0" * 40, "Invalid token: nobody was given this token, or it was mistyped."),
        ("Token hat_" + "A" * 43, "Invalid token: nobody was given this token, or it was mistyped."),
        ("Token", "Invalid token header. No credentials provided."),
        ("Token a b", "Invalid token header. Token string should not contain spaces."),
        ("Bearer x", "The 'Bearer' authorization scheme is not accepted."),
        ("Token abc\x00def", "Invalid token."),
    ],
)
def test_malformed_or_unknown_token_is_a_401_with_a_clear_message(api, dana, header, message):
    key = api_token(dana)
    before = list(ApiToken.objects.values("digest", "revoked_at"))
    api.credentials(HTTP_AUTHORIZATION=header)
    response = api.get("/api/v1/projects/")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"
    detail = response.json()["detail"]
    assert detail.startswith(message)
    assert "Authorization: Token <your token>" in detail
    # Nothing changed: the real token still exists and still works.
    assert list(ApiToken.objects.values("digest", "revoked_at")) == before
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert api.get("/api/v1/projects/").status_code == 200


def test_a_revoked_token_stops_working_and_says_so_and_the_others_go_on(api, dana):
    old = api_token(dana, name="Old laptop")
    other = api_token(dana, name="CI")
    revoked = revoke_api_token(dana, ApiToken.objects.get(name="Old laptop"))
    api.credentials(HTTP_AUTHORIZATION=f"Token {old}")
    response = api.get("/api/v1/projects/")
    assert response.status_code == 401
    assert response.json()["detail"].startswith(
        f"This token ({revoked.prefix}…, “Old laptop”) was revoked on "
        f"{revoked.revoked_at:%Y-%m-%d %H:%M} UTC; create a new one.")
    api.credentials(HTTP_AUTHORIZATION=f"Token {other}")
    assert api.get("/api/v1/projects/").status_code == 200


def test_token_of_a_deactivated_user_is_refused(api, dana):
    key = api_token(dana)
    dana.is_active = False
    dana.save()
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    response = api.get("/api/v1/projects/")
    assert response.status_code == 401
    assert response.json()["detail"].startswith("This account is inactive.")


@pytest.mark.parametrize("url", ["/api/v1/projects/", "/api/v1/teams/", "/api/v1/projects/detector/"])
def test_anonymous_gets_401_json_never_500(api, dana, url):
    response = api.get(url)
    assert response.status_code == 401
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"detail": "Authentication credentials were not provided."}


def test_session_still_works_for_the_browser(client, dana):
    client.force_login(dana)
    assert client.get("/api/v1/projects/").status_code == 200


def test_session_works_behind_a_proxy_that_sends_basic_auth(client, dana):
    client.force_login(dana)
    assert client.get("/api/v1/projects/", HTTP_AUTHORIZATION="Basic c3RhZ2luZzpzdGFnaW5n").status_code == 200


def test_schema_documents_token_auth():
    UserFactory()
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    assert "tokenAuth" in schema["components"]["securitySchemes"]
    assert schema["paths"][TOKEN_URL]["post"].get("security", []) in ([], [{}])
    assert {"tokenAuth": []} in schema["paths"]["/api/v1/projects/"]["get"]["security"]
