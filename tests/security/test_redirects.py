"""Redirects stay on this site: the way back after a refused action, and the
login's ``next``."""

import pytest
from django.contrib.messages import get_messages

from tests.factories import PASSWORD

from .conftest import logged_in

pytestmark = pytest.mark.django_db

OFF_SITE = [
    "https://evil.example/phish",
    "//evil.example/phish",
    "/\\evil.example/phish",
    "\\\\evil.example/phish",
    "https:evil.example",
    "http://testserver@evil.example/",
    "http://evil.example\\@testserver/",
    "javascript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "ftp://testserver/handovers/",
]


def _refused_action(client, world, referer):
    """Revising a draft is refused with a message (a DomainError, not a 403/404)."""
    headers = {"HTTP_REFERER": referer} if referer is not None else {}
    return client.post(f"/handovers/{world.handover.pk}/revise/", **headers)


def _on_site(location):
    return location.startswith("/") and not location.startswith(("//", "/\\"))


@pytest.mark.parametrize("referer", OFF_SITE)
def test_a_refused_action_never_sends_the_user_off_site(world, referer):
    client = logged_in(world.people["data_scientist"])
    response = _refused_action(client, world, referer)
    assert response.status_code == 302
    assert _on_site(response["Location"]), response["Location"]
    assert [m.level_tag for m in get_messages(response.wsgi_request)] == ["error"]


@pytest.mark.parametrize("referer", OFF_SITE)
def test_an_htmx_refusal_never_sends_the_user_off_site(world, referer):
    client = logged_in(world.people["data_scientist"])
    response = client.post(f"/handovers/{world.handover.pk}/revise/", HTTP_REFERER=referer,
                           HTTP_HX_REQUEST="true")
    assert _on_site(response["Location"]) and _on_site(response["HX-Redirect"])


def test_a_refused_action_goes_back_to_the_page_it_came_from(world):
    client = logged_in(world.people["data_scientist"])
    page = f"http://testserver/handovers/{world.handover.pk}/?revision=1"
    assert _refused_action(client, world, page)["Location"] == page


@pytest.mark.parametrize("referer", [None, "https://evil.example/"])
def test_without_a_usable_referer_the_way_back_is_a_page_not_the_action(world, referer):
    """The action's own URL takes only POST: sending the browser there shows a 405."""
    client = logged_in(world.people["data_scientist"])
    response = _refused_action(client, world, referer)
    follow = client.get(response["Location"])
    assert follow.status_code == 200, response["Location"]
    assert "revise" not in response["Location"]


@pytest.mark.parametrize("target", OFF_SITE)
def test_login_never_redirects_off_site(world, target):
    user = world.people["data_scientist"]
    response = logged_in(None).post(
        f"/accounts/login/?next={target}", {"username": user.username, "password": PASSWORD, "next": target}
    )
    assert response.status_code == 302
    assert _on_site(response["Location"]), response["Location"]


def test_login_follows_a_next_on_this_site(world):
    user = world.people["data_scientist"]
    next_url = f"/handovers/{world.handover.pk}/"
    response = logged_in(None).post("/accounts/login/", {"username": user.username, "password": PASSWORD,
                                                          "next": next_url})
    assert response["Location"] == next_url


@pytest.mark.parametrize("target", OFF_SITE[:3])
def test_logout_never_redirects_off_site(world, target):
    client = logged_in(world.people["data_scientist"])
    response = client.post(f"/accounts/logout/?next={target}", {"next": target})
    assert response.status_code == 302
    assert _on_site(response["Location"]), response["Location"]


def test_the_login_page_sends_an_authenticated_user_home_not_to_an_off_site_next(world):
    client = logged_in(world.people["data_scientist"])
    response = client.get("/accounts/login/?next=https://evil.example/")
    assert response.status_code == 302
    assert _on_site(response["Location"])
