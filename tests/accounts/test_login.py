import pytest
from django.urls import reverse

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_login_page_has_the_fields_people_expect(client):
    html = client.get(reverse("login")).content.decode()

    assert '<label for="id_username">Username</label>' in html
    assert '<label for="id_password">Password</label>' in html
    assert ">Log in</button>" in html


def test_right_password_logs_in_and_lands_on_home(client):
    UserFactory(username="priya")

    response = client.post(reverse("login"), {"username": "priya", "password": "handoff-demo"})

    assert response.status_code == 302
    assert response["Location"] == reverse("home")


def test_wrong_password_shows_a_clear_message_and_does_not_log_in(client):
    UserFactory(username="priya")

    response = client.post(reverse("login"), {"username": "priya", "password": "wrong-password"})

    assert response.status_code == 200
    html = response.content.decode()
    assert "Please enter a correct username and password." in html
    assert 'role="alert"' in html
    assert 'value="priya"' in html
    assert "_auth_user_id" not in client.session
    assert client.get(reverse("home")).status_code == 302


def test_empty_form_asks_for_both_fields(client):
    response = client.post(reverse("login"), {"username": "", "password": ""})

    assert "Please enter both your username and your password." in response.content.decode()


def test_login_returns_to_the_page_asked_for(client):
    UserFactory(username="priya")
    url = reverse("api_token")

    response = client.post(f"{reverse('login')}?next={url}", {"username": "priya", "password": "handoff-demo",
                                                            "next": url})

    assert response["Location"] == url


def test_log_out_is_a_post(client):
    client.force_login(UserFactory())

    response = client.post(reverse("logout"))

    assert response.status_code == 302
    assert client.get(reverse("home")).status_code == 302


def test_password_change_page_changes_the_password(client):
    user = UserFactory()
    client.force_login(user)
    assert "Change your password" in client.get(reverse("password_change")).content.decode()

    response = client.post(reverse("password_change"), {
        "old_password": "handoff-demo",
        "new_password1": "a-much-longer-passphrase-42",
        "new_password2": "a-much-longer-passphrase-42",
    }, follow=True)

    assert "Password changed" in response.content.decode()
    user.refresh_from_db()
    assert user.check_password("a-much-longer-passphrase-42")


def test_password_change_with_wrong_old_password_says_so(client):
    user = UserFactory()
    client.force_login(user)

    response = client.post(reverse("password_change"), {
        "old_password": "not-it",
        "new_password1": "a-much-longer-passphrase-42",
        "new_password2": "a-much-longer-passphrase-42",
    })

    assert "Your old password was entered incorrectly" in response.content.decode()
    user.refresh_from_db()
    assert user.check_password("handoff-demo")
