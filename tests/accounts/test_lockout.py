"""Ten wrong passwords lock an account, on the login page and on the token
endpoint alike; the right password is refused until the cool-off ends, with
the time to try again; other accounts are not affected."""

import re
from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from handoff.audit.models import AuditEvent
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

TOKEN_URL = "/api/v1/auth/token/"
RETRY = re.compile(r"Try again after (\d\d:\d\d) UTC \(in (\d+) minutes?\)")


@pytest.fixture(autouse=True)
def _rules(settings):
    settings.AXES_FAILURE_LIMIT = 10
    settings.AXES_COOLOFF_TIME = timedelta(minutes=15)


@pytest.fixture
def traveller():
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        yield traveller


def log_in(client, username, password):
    return client.post(reverse("login"), {"username": username, "password": password})


def get_token(username, password):
    return APIClient().post(TOKEN_URL, {"username": username, "password": password})


def test_ten_wrong_passwords_lock_the_login_page_and_say_when_to_retry(client, traveller):
    UserFactory(username="priya")
    for _ in range(9):
        assert log_in(client, "priya", "wrong").status_code == 200

    tenth = log_in(client, "priya", "wrong")
    eleventh = log_in(client, "priya", PASSWORD)

    assert tenth.status_code == 429
    assert eleventh.status_code == 429
    html = eleventh.content.decode()
    retry_at, minutes = RETRY.search(html).groups()
    assert retry_at == f"{timezone.now() + timedelta(minutes=15):%H:%M}"
    assert minutes == "15"
    assert eleventh["Retry-After"] == str(15 * 60)
    assert 'role="alert"' in html and '<form method="post"' in html
    assert "Please enter a correct username and password." not in html
    assert "_auth_user_id" not in client.session


def test_after_the_cool_off_the_right_password_logs_in(client, traveller):
    UserFactory(username="priya")
    for _ in range(10):
        log_in(client, "priya", "wrong")
    traveller.shift(timedelta(minutes=14))
    assert log_in(client, "priya", PASSWORD).status_code == 429

    traveller.shift(timedelta(minutes=1, seconds=1))
    response = log_in(client, "priya", PASSWORD)

    assert response.status_code == 302
    assert client.get(reverse("home")).status_code == 200


def test_attempts_during_the_lockout_do_not_push_the_retry_time_back(client, traveller):
    UserFactory(username="priya")
    for _ in range(10):
        log_in(client, "priya", "wrong")
    traveller.shift(timedelta(minutes=10))
    for _ in range(5):
        refused = log_in(client, "priya", "wrong")

    assert RETRY.search(refused.content.decode()).group(2) == "5"
    traveller.shift(timedelta(minutes=5, seconds=1))
    assert log_in(client, "priya", PASSWORD).status_code == 302


def test_a_right_password_resets_the_count(client):
    UserFactory(username="priya")
    for _ in range(9):
        log_in(client, "priya", "wrong")
    assert log_in(client, "priya", PASSWORD).status_code == 302
    client.post(reverse("logout"))

    for _ in range(9):
        assert log_in(client, "priya", "wrong").status_code == 200
    assert log_in(client, "priya", PASSWORD).status_code == 302


def test_a_right_password_on_the_token_endpoint_resets_the_count_too():
    UserFactory(username="priya")
    for _ in range(9):
        get_token("priya", "wrong")
    assert get_token("priya", PASSWORD).status_code == 200

    for _ in range(9):
        assert get_token("priya", "wrong").status_code == 401
    assert get_token("priya", PASSWORD).status_code == 200


def test_a_locked_account_does_not_lock_another_from_the_same_address(client):
    UserFactory(username="priya")
    UserFactory(username="omar")
    for _ in range(10):
        log_in(client, "priya", "wrong")

    assert log_in(client, "priya", PASSWORD).status_code == 429
    assert log_in(client, "omar", PASSWORD).status_code == 302
    assert get_token("omar", PASSWORD).status_code == 200


def test_failures_from_many_addresses_add_up_for_one_account(client):
    UserFactory(username="priya")
    for n in range(10):
        client.post(reverse("login"), {"username": "priya", "password": "wrong"}, REMOTE_ADDR=f"10.0.0.{n}")

    assert log_in(client, "priya", PASSWORD).status_code == 429


def test_ten_wrong_passwords_lock_the_token_endpoint_and_say_when_to_retry(traveller):
    UserFactory(username="priya")
    for _ in range(9):
        assert get_token("priya", "wrong").status_code == 401

    assert get_token("priya", "wrong").status_code == 429
    response = get_token("priya", PASSWORD)

    assert response.status_code == 429
    assert response["Content-Type"] == "application/json"
    assert response["Retry-After"] == str(15 * 60)
    detail = response.json()["detail"]
    assert detail.endswith("or ask an administrator to unlock it.")
    assert RETRY.search(detail).groups() == (f"{timezone.now() + timedelta(minutes=15):%H:%M}", "15")
    assert "token" not in response.json()

    traveller.shift(timedelta(minutes=15, seconds=1))
    assert get_token("priya", PASSWORD).status_code == 200


def test_failures_on_the_page_and_the_api_count_together(client):
    UserFactory(username="priya")
    for _ in range(5):
        log_in(client, "priya", "wrong")
        get_token("priya", "wrong")

    assert get_token("priya", PASSWORD).status_code == 429
    assert log_in(client, "priya", PASSWORD).status_code == 429


def test_the_admin_login_is_locked_too(client):
    UserFactory(username="priya", is_staff=True)
    for _ in range(10):
        log_in(client, "priya", "wrong")

    response = client.post("/admin/login/", {"username": "priya", "password": PASSWORD})

    assert response.status_code == 429
    assert RETRY.search(response.content.decode())
    assert "_auth_user_id" not in client.session


def test_a_lockout_is_audited_once(client):
    priya = UserFactory(username="priya")
    for _ in range(12):
        log_in(client, "priya", "wrong")

    events = AuditEvent.objects.filter(verb="account.locked_out")
    assert [(e.target_id, e.details["failures"]) for e in events] == [(str(priya.pk), 10)]


def test_the_limit_and_the_cool_off_come_from_the_settings(client, settings, traveller):
    settings.AXES_FAILURE_LIMIT = 3
    settings.AXES_COOLOFF_TIME = timedelta(minutes=2)
    UserFactory(username="priya")
    for _ in range(3):
        log_in(client, "priya", "wrong")

    response = log_in(client, "priya", PASSWORD)

    assert response.status_code == 429
    assert RETRY.search(response.content.decode()).group(2) == "2"


def test_the_token_endpoint_documents_the_lockout():
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    answers = schema["paths"][TOKEN_URL]["post"]["responses"]
    assert "429" in answers
    assert "Retry-After" in answers["429"]["description"]
