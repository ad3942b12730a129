"""Every change made from a browser is a POST that carries the CSRF token;
a GET never changes anything; htmx requests send the token."""

import json
import re

import pytest
from django.middleware.csrf import _unmask_cipher_token
from django.test import Client

from .conftest import snapshot
from .routes import SPECS
from .walker import routes, values_for

pytestmark = pytest.mark.django_db

# Every page route that names an object (the walk's own list, so a new one is checked too).
PAGE_ROUTES = [route for route in routes() if route.params and not route.api]


def _url(world, route):
    return route.url(values_for(world, route, SPECS[route.key]))


def _actor(world, route):
    return world.people[SPECS[route.key].insider]


def _strict(user):
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    return client


BODY = {"body": "hello", "comment": "change it", "role": "product_manager", "username": "otto",
        "kind": "other", "framework_version": "2.0"}


@pytest.mark.parametrize("route", PAGE_ROUTES, ids=[route.key for route in PAGE_ROUTES])
def test_a_post_without_the_csrf_token_is_refused_and_changes_nothing(world, route):
    url = _url(world, route)
    client = _strict(_actor(world, route))
    before = snapshot(world)
    response = client.post(url, BODY)
    assert response.status_code in (403, 405), url
    if response.status_code == 403:
        assert b"CSRF" in response.content, url
    assert snapshot(world) == before


@pytest.mark.parametrize("url", ["/accounts/token/", "/accounts/logout/", "/accounts/password/",
                                 "/handovers/new/"])
def test_account_and_filing_posts_need_the_token_too(world, url):
    client = _strict(world.people["data_scientist"])
    assert client.post(url, {"title": "x"}).status_code == 403


@pytest.mark.parametrize("route", PAGE_ROUTES, ids=[route.key for route in PAGE_ROUTES])
def test_a_get_never_changes_anything(world, route):
    url = _url(world, route)
    client = _strict(_actor(world, route))
    before = snapshot(world)
    response = client.get(url, BODY)
    assert response.status_code in (200, 405), (url, response.status_code)
    assert snapshot(world) == before


def test_getting_the_token_page_or_logging_out_by_get_changes_nothing(world):
    from accounts.models import ApiToken
    from tests.factories import api_token

    user = world.people["data_scientist"]
    api_token(user)
    tokens = list(ApiToken.objects.filter(user=user).values())
    client = _strict(user)
    assert client.get("/accounts/token/").status_code == 200
    assert client.get("/accounts/logout/").status_code == 405
    assert list(ApiToken.objects.filter(user=user).values()) == tokens
    assert client.get("/").status_code == 200  # still logged in


def test_session_api_writes_need_the_csrf_token(world):
    client = _strict(world.people["data_scientist"])
    before = snapshot(world)
    response = client.post(f"/api/v1/handovers/{world.handover.pk}/comments/", {"body": "hi"},
                           content_type="application/json")
    assert response.status_code == 403
    assert "CSRF" in response.json()["detail"]
    assert snapshot(world) == before


def test_token_api_writes_need_no_csrf_token(world):
    from tests.factories import api_token

    key = api_token(world.people["data_scientist"])
    client = Client(enforce_csrf_checks=True, HTTP_AUTHORIZATION=f"Token {key}")
    response = client.post(f"/api/v1/handovers/{world.handover.pk}/comments/", {"body": "hi"},
                           content_type="application/json")
    assert response.status_code == 201


def test_htmx_requests_carry_the_csrf_token(world):
    client = _strict(world.people["data_scientist"])
    html = client.get(f"/handovers/{world.handover.pk}/").content.decode()
    headers = re.search(r"hx-headers='([^']+)'", html)
    assert headers, "the page gives htmx the CSRF header"
    token = json.loads(headers.group(1))["X-CSRFToken"]
    cookie = client.cookies["csrftoken"].value
    # The page's token is the cookie's secret, masked: the two belong together.
    assert _unmask_cipher_token(token) == cookie
    # And the middleware takes it: an htmx POST with that header and cookie goes through.
    response = client.post(f"/handovers/{world.handover.pk}/comments/", {"body": "via htmx"},
                           HTTP_X_CSRFTOKEN=token, HTTP_HX_REQUEST="true")
    assert response.status_code != 403
    assert world.handover.comments.filter(body="via htmx").exists()
