import pytest
from django.urls import reverse
from rest_framework.authtoken.models import Token

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_api_token_page_offers_to_create_a_token(client):
    client.force_login(UserFactory())

    html = client.get(reverse("api_token")).content.decode()

    assert "You have no API token yet." in html
    assert "Create a token" in html


def test_creating_a_token_shows_it_once(client):
    user = UserFactory()
    client.force_login(user)

    response = client.post(reverse("api_token"))

    token = Token.objects.get(user=user)
    assert token.key in response.content.decode()
    assert "it is shown only once" in response.content.decode()
    html = client.get(reverse("api_token")).content.decode()
    assert token.key not in html
    assert "Replace my token" in html
