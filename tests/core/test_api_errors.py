"""Every error under /api/ is JSON with a ``detail`` a person can act on."""

import pytest
from rest_framework.test import APIClient

from handoff.core.errors import Conflict, DomainError, Forbidden, NotFound
from tests.factories import UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.core.urls")]


@pytest.fixture
def api():
    client = APIClient()
    client.force_authenticate(UserFactory())
    return client


def test_every_domain_error_is_json_with_its_own_status(api):
    from tests.core.urls import every_domain_error

    classes = every_domain_error()
    assert {DomainError, Forbidden, NotFound, Conflict} <= set(classes.values())
    for path, cls in classes.items():
        response = api.get("/api/test/raise/domain-class/", {"cls": path})
        assert response.status_code == cls.status_code, path
        assert response.json() == {"detail": f"A {cls.__name__} happened."}, path


@pytest.mark.parametrize(
    ("kind", "status", "body"),
    [
        ("domain", 400, {"detail": "The tolerance must be between 0 and 1."}),
        ("domain-field", 400, {"detail": "Give a version such as 1.4.0.", "field": "version",
                               "version": ["Give a version such as 1.4.0."]}),
        ("forbidden", Forbidden.status_code,
         {"detail": "Your role does not allow you to review revision here."}),
        ("not-found", NotFound.status_code, {"detail": "Not found."}),
        ("conflict", Conflict.status_code, {"detail": "Cannot accept: it is accepted now."}),
        ("django-validation", 400, {"detail": "The file is empty.", "errors": ["The file is empty."]}),
        ("django-validation-dict", 400, {
            "name": ["This name is taken."],
            "non_field_errors": ["Nothing else can change now."],
            "detail": "name: This name is taken. Nothing else can change now.",
        }),
        ("django-permission", 403, {"detail": "No."}),
        ("http404", 404, {"detail": "gone"}),
    ],
)
def test_errors_become_json_with_the_right_status(api, kind, status, body):
    response = api.get(f"/api/test/raise/{kind}/")
    assert response.status_code == status
    assert response["Content-Type"] == "application/json"
    assert response.json() == body


@pytest.mark.parametrize("kind", ["forbidden", "django-permission"])
def test_anonymous_is_told_to_log_in_rather_than_forbidden(kind):
    response = APIClient().get(f"/api/test/raise/{kind}/")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"
    assert response.json() == {"detail": "Authentication credentials were not provided."}


def test_anonymous_still_gets_404_for_what_is_not_found():
    response = APIClient().get("/api/test/raise/not-found/")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}


@pytest.mark.parametrize("url", ["/api/v1/no-such-thing/", "/api/v1/projects/a/b/c/", "/api/v2/"])
def test_unrouted_api_addresses_are_json_404(client, url):
    response = client.get(url)
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"detail": f"Nothing at {url}. The API's endpoints are listed at /api/docs/."}


def test_unrouted_page_addresses_stay_html(client):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


def test_a_crash_under_the_api_is_a_json_500(api):
    api.raise_request_exception = False
    response = api.get("/api/test/raise/crash/")
    assert response.status_code == 500
    assert response["Content-Type"] == "application/json"
    assert "logged" in response.json()["detail"]


def test_bad_json_is_a_400_not_a_500(api):
    response = api.post("/api/v1/auth/token/", "{", content_type="application/json")
    assert response.status_code == 400
    assert response.json()["detail"].startswith("JSON parse error")


def test_method_not_allowed_is_json(api):
    response = api.delete("/api/v1/projects/")
    assert response.status_code == 405
    assert response.json() == {"detail": 'Method "DELETE" not allowed.'}
