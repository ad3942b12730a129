"""The notifications API: the current user's notifications and preferences only."""

import pytest
from rest_framework.test import APIClient

from handoff.notifications.models import Preference
from tests.factories import ready_draft

pytestmark = pytest.mark.django_db

LIST = "/api/v1/notifications/"


def api(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_the_owner_is_told_of_a_failed_validation_naming_the_check(failed_handover, scientist):
    body = api(scientist).get(LIST).json()
    assert body["count"] == 1
    (told,) = body["results"]
    assert told["kind"] == "validation_failed" and told["unread"] is True and told["read_at"] is None
    assert "Failing: metric.accuracy." in told["body"] and told["url"] == failed_handover.get_absolute_url()


def test_unread_come_first_and_the_filter_picks_read_or_unread(project, scientist, tell):
    handover, _ = ready_draft(project=project, owner=scientist)
    older = tell(handover)
    read = tell(handover, "handover.accepted")
    newer = tell(handover, "handover.validation_passed")
    client = api(scientist)
    client.post(f"{LIST}{read.pk}/read/")

    assert [n["id"] for n in client.get(LIST).json()["results"]] == [newer.pk, older.pk, read.pk]
    assert [n["id"] for n in client.get(LIST + "?unread=true").json()["results"]] == [newer.pk, older.pk]
    assert [n["id"] for n in client.get(LIST + "?unread=false").json()["results"]] == [read.pk]


@pytest.mark.parametrize("value", ["yes", "1", "True", "maybe"])
def test_an_unread_filter_it_cannot_read_is_a_400_naming_it(scientist, value):
    response = api(scientist).get(f"{LIST}?unread={value}")
    assert response.status_code == 400 and "unread" in response.json()


def test_marking_one_read(failed_handover, scientist):
    notification = scientist.notifications.get()
    response = api(scientist).post(f"{LIST}{notification.pk}/read/")
    assert response.status_code == 200
    assert response.json()["unread"] is False and response.json()["read_at"]
    notification.refresh_from_db()
    assert notification.read_at is not None


def test_another_persons_notification_is_the_404_of_one_that_does_not_exist(failed_handover, scientist,
                                                                            engineer):
    notification = scientist.notifications.get()
    client = api(engineer)
    theirs = client.post(f"{LIST}{notification.pk}/read/")
    nothing = client.post(f"{LIST}987654/read/")
    assert theirs.status_code == nothing.status_code == 404 and theirs.json() == nothing.json()
    assert client.get(LIST).json()["count"] == 0
    notification.refresh_from_db()
    assert notification.read_at is None


def test_marking_all_read_says_how_many(project, scientist, tell):
    handover, _ = ready_draft(project=project, owner=scientist)
    tell(handover), tell(handover, "handover.accepted")
    client = api(scientist)
    assert client.post(f"{LIST}read-all/").json() == {"marked": 2}
    assert client.get(LIST + "?unread=true").json()["count"] == 0
    assert client.post(f"{LIST}read-all/").json() == {"marked": 0}


def test_preferences_start_from_each_kinds_default_and_are_saved(scientist):
    client = api(scientist)
    before = client.get(f"{LIST}preferences/").json()
    assert before["validation_failed"] is True and set(before) >= {"accepted", "commented"}

    response = client.put(f"{LIST}preferences/", {"validation_failed": False}, format="json")

    assert response.status_code == 200
    assert response.json() == {**before, "validation_failed": False}
    assert list(Preference.objects.filter(user=scientist).values_list("kind", "email")) == [
        ("validation_failed", False)]


def test_an_unknown_kind_is_refused_with_a_clear_message_and_nothing_is_stored(scientist):
    response = api(scientist).put(f"{LIST}preferences/", {"accepted": False, "lottery_won": True},
                                  format="json")
    assert response.status_code == 400
    assert response.json()["detail"].startswith("'lottery_won' is not a kind of notification; choose from")
    assert not Preference.objects.filter(user=scientist).exists()


def test_a_choice_that_is_not_a_boolean_is_refused(scientist):
    response = api(scientist).put(f"{LIST}preferences/", {"accepted": "yes"}, format="json")
    assert response.status_code == 400 and "accepted" in response.json()
    assert not Preference.objects.filter(user=scientist).exists()


@pytest.mark.parametrize("method, path", [("get", ""), ("post", "1/read/"), ("post", "read-all/"),
                                          ("get", "preferences/"), ("put", "preferences/")])
def test_anonymous_callers_are_told_to_authenticate(db, method, path):
    assert getattr(APIClient(), method)(LIST + path).status_code == 401
