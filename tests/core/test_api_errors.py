"""Every error under /api/ is JSON with a ``detail`` a person can act on."""

import json

import pytest
from django.test import RequestFactory
from rest_framework.test import APIClient

from handoff.core.api import SERVER_ERROR
from handoff.core.errors import Conflict, DomainError, Forbidden, NotFound
from handoff.core.views import server_error
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


@pytest.mark.parametrize("debug", [False, True])
@pytest.mark.parametrize("method", ["get", "post", "delete"])
@pytest.mark.parametrize("url", ["/api/v1/no-such-thing/", "/api/v1/projects/a/b/c/", "/api/v2/",
                                 "/api/v1/handovers/0.5/", "/api/v1/handovers/1/revisions/x/", "/api/"])
def test_unrouted_api_addresses_are_json_404_whatever_debug_is(client, settings, debug, method, url):
    """With DEBUG on, Django's resolver answered its HTML page (and a POST a CSRF page)."""
    settings.DEBUG = debug
    response = getattr(client, method)(url)
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"detail": f"Nothing at {url}. The API's endpoints are listed at /api/docs/."}


@pytest.mark.parametrize("debug", [False, True])
def test_an_api_address_with_a_newline_is_a_json_404_whatever_debug_is(client, settings, debug):
    """The catch-all route's ``.`` did not match a newline: with DEBUG on, Django's HTML page answered."""
    settings.DEBUG = debug
    response = client.post("/api/v1/notifications/+%0Ab/read/")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json()["detail"].startswith("Nothing at /api/v1/notifications/+\nb/read/.")


def test_an_api_address_without_its_slash_is_redirected_for_a_get_and_explained_otherwise(client):
    assert client.get("/api/v1/projects?page=2").headers["Location"] == "/api/v1/projects/?page=2"
    response = client.post("/api/v1/projects")
    assert response.status_code == 404
    assert "API addresses end with a slash (/api/v1/projects/)" in response.json()["detail"]
    assert client.get("/api/v1/nothing").status_code == 404


def test_unrouted_page_addresses_stay_html(client):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


@pytest.mark.parametrize("debug", [False, True])
def test_a_crash_under_the_api_is_a_logged_json_500_whatever_debug_is(api, settings, caplog, debug):
    """With DEBUG on, the crash was Django's HTML debug page."""
    settings.DEBUG = debug
    api.raise_request_exception = False
    response = api.get("/api/test/raise/crash/", HTTP_ACCEPT="text/html")
    assert response.status_code == 500
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"detail": SERVER_ERROR}
    assert json.loads(server_error(RequestFactory().get("/api/x/")).content) == {"detail": SERVER_ERROR}
    [record] = [r for r in caplog.records if r.name == "django.request" and r.levelname == "ERROR"]
    assert record.getMessage() == "Internal Server Error: /api/test/raise/crash/"
    assert "a bug" in str(record.exc_info[1])


def test_a_crash_under_the_api_still_reaches_the_test_client(api):
    """``got_request_exception`` is sent as for any crash: test clients re-raise it, trackers see it."""
    with pytest.raises(RuntimeError, match="a bug"):
        api.get("/api/test/raise/crash/")


@pytest.mark.parametrize(
    ("query", "name"),
    [
        ({"page_size": "abc"}, "page_size"), ({"page_size": "0"}, "page_size"),
        ({"page_size": "501"}, "page_size"), ({"page_size": " 5"}, "page_size"),
        ({"page_size": "9" * 5000}, "page_size"),
        ({"page": "0"}, "page"), ({"page": "1.5"}, "page"), ({"page": "last"}, "page"),
        ({"ordering": "nope"}, "ordering"), ({"ordering": "name,"}, "ordering"),
        ({"ordering": "--name"}, "ordering"),
    ],
)
def test_a_query_parameter_the_api_cannot_read_is_a_400_naming_it(api, query, name):
    """DRF fell back to the default page size, and ignored an unknown ordering, without a word."""
    response = api.get("/api/v1/projects/", query)
    assert response.status_code == 400, response.content
    body = response.json()
    assert set(body) == {"detail", name}
    assert body["detail"] == f"{name}: {body[name][0]}"


@pytest.mark.parametrize(
    "query",
    [{"page_size": "500"}, {"page_size": "1", "page": "1"}, {"ordering": "-name,stage"}, {"ordering": ""}],
)
def test_readable_query_parameters_are_read(api, query):
    assert api.get("/api/v1/projects/", query).status_code == 200


def test_a_page_past_the_end_is_a_404(api):
    assert api.get("/api/v1/projects/", {"page": "2"}).status_code == 404


def test_bad_json_is_a_400_not_a_500(api):
    response = api.post("/api/v1/auth/token/", "{", content_type="application/json")
    assert response.status_code == 400
    assert response.json()["detail"].startswith("JSON parse error")


def test_method_not_allowed_is_json(api):
    response = api.delete("/api/v1/projects/")
    assert response.status_code == 405
    assert response.json() == {"detail": 'Method "DELETE" not allowed.'}
