"""/accounts/token/: my API tokens listed with their last use, created with a
name (the secret shown once), revoked one by one after a confirmation."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import ApiToken
from handoff.audit.models import AuditEvent
from handoff.core.tokens import digest
from tests.factories import ApiTokenFactory, UserFactory, api_token

pytestmark = pytest.mark.django_db
SHOWN = re.compile(r'value="(hat_[A-Za-z0-9_-]{43})"')


@pytest.fixture
def priya(client):
    user = UserFactory(username="priya")
    client.force_login(user)
    return user


def test_without_tokens_the_page_says_so_and_offers_the_form(client, priya):
    html = client.get(reverse("api_token")).content.decode()

    assert "You have no API tokens yet" in html
    assert '<label for="id_name">Name</label>' in html
    assert ">Create token</button>" in html


def test_creating_a_token_shows_it_once_and_lists_it(client, priya):
    response = client.post(reverse("api_token"), {"name": "CI pipeline"})

    assert response.status_code == 201
    key = SHOWN.search(response.content.decode()).group(1)
    token = ApiToken.objects.get(user=priya)
    assert (token.name, token.digest, token.prefix) == ("CI pipeline", digest(key), key[:8])
    assert "shown <strong>this once</strong>" in response.content.decode()
    html = client.get(reverse("api_token")).content.decode()
    assert key not in html and key[8:20] not in html
    assert "CI pipeline" in html and f"<code>{token.prefix}…</code>" in html
    assert AuditEvent.objects.filter(verb="api_token.created", target_id=str(token.pk)).exists()


@pytest.mark.parametrize(("name", "message"), [
    ("", "This field is required."),
    ("   ", "This field is required."),
    ("x" * 81, "Ensure this value has at most 80 characters (it has 81)."),
])
def test_a_token_needs_a_sensible_name_and_nothing_is_made_without(client, priya, name, message):
    response = client.post(reverse("api_token"), {"name": name})

    assert response.status_code == 400
    assert message in response.content.decode()
    assert not ApiToken.objects.exists()


def test_tokens_are_listed_with_creation_and_last_use(client, priya):
    ApiTokenFactory(user=priya, name="Laptop", last_used_at=timezone.now() - timedelta(days=2),
                    created_at=timezone.now() - timedelta(days=30))
    ApiTokenFactory(user=priya, name="Notebook")
    ApiTokenFactory(name="Someone else's")

    html = client.get(reverse("api_token")).content.decode()

    assert html.index("Notebook") < html.index("Laptop")  # newest first
    assert "Never" in html
    assert "Someone else" not in html


def test_revoking_asks_first_then_refuses_the_token(client, priya):
    key = api_token(priya, name="Old laptop")
    token = ApiToken.objects.get()
    url = reverse("revoke_api_token", args=[token.pk])

    confirm = client.get(url)
    assert confirm.status_code == 200
    assert "Revoke “Old laptop”?" in confirm.content.decode()
    assert ApiToken.objects.get().revoked_at is None

    response = client.post(url, follow=True)

    assert "is revoked: requests with it are refused from now on." in response.content.decode()
    assert ApiToken.objects.get().revoked_at is not None
    assert client.get("/api/v1/projects/", HTTP_AUTHORIZATION=f"Token {key}").status_code == 401
    assert AuditEvent.objects.filter(verb="api_token.revoked", target_id=str(token.pk)).exists()


def test_someone_elses_token_is_a_404_and_stays(client, priya):
    other = ApiTokenFactory()
    url = reverse("revoke_api_token", args=[other.pk])

    assert client.get(url).status_code == 404
    assert client.post(url).status_code == 404
    other.refresh_from_db()
    assert other.revoked_at is None


def test_revoking_twice_says_it_was_already_revoked(client, priya):
    token = ApiTokenFactory(user=priya, name="Laptop", revoked_at=timezone.now())

    response = client.post(reverse("revoke_api_token", args=[token.pk]), follow=True)

    assert "The token Laptop (hat_test…) was already revoked." in response.content.decode()


def test_the_page_needs_a_login(client):
    response = client.get(reverse("api_token"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
