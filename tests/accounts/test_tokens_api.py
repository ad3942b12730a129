"""/api/v1/auth/tokens/: my tokens listed (never their secrets), one created
(its secret in that answer only), one revoked; anyone else's is a 404. A
token's last use is noted at most once a minute."""

from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import ApiToken
from handoff.core.tokens import digest
from tests.factories import ApiTokenFactory, UserFactory, api_token

pytestmark = pytest.mark.django_db
URL = "/api/v1/auth/tokens/"


@pytest.fixture
def priya():
    return UserFactory(username="priya")


@pytest.fixture
def api(priya):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {api_token(priya, name='Main')}")
    return client


def test_my_tokens_are_listed_without_secrets(api, priya):
    ApiTokenFactory(user=priya, name="Laptop", revoked_at=timezone.now())
    ApiTokenFactory(name="Someone else's")

    body = api.get(URL).json()

    assert [(t["name"], t["active"]) for t in body["results"]] == [("Laptop", False), ("Main", True)]
    assert set(body["results"][0]) == {"id", "name", "prefix", "active", "created_at", "last_used_at",
                                       "revoked_at"}


def test_creating_gives_the_token_once_and_it_works(api, priya):
    response = api.post(URL, {"name": "CI pipeline"}, format="json")

    assert response.status_code == 201
    key = response.json()["token"]
    assert ApiToken.objects.get(name="CI pipeline").digest == digest(key)
    assert APIClient().get("/api/v1/projects/", HTTP_AUTHORIZATION=f"Token {key}").status_code == 200
    assert all("token" not in t for t in api.get(URL).json()["results"])


@pytest.mark.parametrize(("body", "field"), [({}, "name"), ({"name": ""}, "name"), ({"name": 5}, "name"),
                                             ({"name": "x" * 81}, "name"),
                                             # 81 as sent, 80 once stripped: the schema's maxLength
                                             # is of what is sent (found by the long fuzz)
                                             ({"name": "\u0085" + "x" * 80}, "name"),
                                             ({"name": "   "}, "name")])
def test_a_bad_name_is_a_400_naming_it_and_nothing_is_made(api, body, field):
    response = api.post(URL, body, format="json")

    assert response.status_code == 400
    assert field in response.json()
    assert ApiToken.objects.count() == 1


def test_revoking_one_leaves_the_others_working(api, priya):
    key = api_token(priya, name="Laptop")
    laptop = ApiToken.objects.get(name="Laptop")

    response = api.post(f"{URL}{laptop.pk}/revoke/")

    assert response.status_code == 200 and response.json()["active"] is False
    assert APIClient().get("/api/v1/projects/", HTTP_AUTHORIZATION=f"Token {key}").status_code == 401
    assert api.get("/api/v1/projects/").status_code == 200
    again = api.post(f"{URL}{laptop.pk}/revoke/")
    assert again.status_code == 409 and "already revoked" in again.json()["detail"]


def test_someone_elses_token_is_a_404(api):
    other = ApiTokenFactory()

    assert api.get(f"{URL}{other.pk}/").status_code == 404
    assert api.post(f"{URL}{other.pk}/revoke/").status_code == 404
    assert api.post(f"{URL}abc/revoke/").status_code == 404
    other.refresh_from_db()
    assert other.revoked_at is None


def test_the_last_use_is_written_at_most_once_a_minute(priya):
    key = api_token(priya)
    client = APIClient(HTTP_AUTHORIZATION=f"Token {key}")
    start = timezone.now()
    with time_machine.travel(start, tick=False) as traveller:
        client.get("/api/v1/projects/")
        assert ApiToken.objects.get().last_used_at == start

        traveller.shift(timedelta(seconds=30))
        with CaptureQueriesContext(connection) as queries:
            client.get("/api/v1/projects/")
        assert not [q for q in queries if q["sql"].startswith("UPDATE")]
        assert ApiToken.objects.get().last_used_at == start

        traveller.shift(timedelta(seconds=31))
        client.get("/api/v1/projects/")
        assert ApiToken.objects.get().last_used_at == start + timedelta(seconds=61)


def test_the_endpoints_are_documented():
    from drf_spectacular.generators import SchemaGenerator

    paths = SchemaGenerator().get_schema(request=None, public=True)["paths"]
    assert {"get", "post"} <= set(paths[URL])
    assert "404" in paths[URL + "{id}/revoke/"]["post"]["responses"]
    assert "409" in paths[URL + "{id}/revoke/"]["post"]["responses"]
