"""The notifications page, opening and marking read, preferences, and the bell."""

import re

import pytest
from django.test import Client
from django.urls import reverse

from handoff.notifications.models import Notification, Preference
from handoff.notifications.views import PER_PAGE
from tests.factories import ready_draft

pytestmark = pytest.mark.django_db


def logged_in(user):
    client = Client()
    client.force_login(user)
    return client


SUBJECT = re.compile(r'class="link notification-open">(?:<span[^>]*></span><span[^>]*>Unread: </span>)?'
                     r"([^<]+)<")


def subjects_in_order(response):
    return SUBJECT.findall(response.content.decode())


def test_failed_validation_is_on_the_owners_page_naming_the_failed_check(failed_handover, scientist):
    response = logged_in(scientist).get(reverse("notifications:list"))
    page = response.content.decode()
    assert response.status_code == 200
    assert f"{failed_handover} (revision 1): validation failed" in page
    assert "Failing: metric.accuracy." in page
    assert "Unread: " in page and "Mark all 1 read" in page


def test_unread_notifications_come_first_then_the_newest(project, scientist, tell):
    handover, _ = ready_draft(project=project, owner=scientist)
    oldest_unread = tell(handover)
    read = tell(handover, "handover.accepted")
    read.read_at = read.created_at
    read.save()
    newest_unread = tell(handover, "handover.validation_passed")

    shown = subjects_in_order(logged_in(scientist).get(reverse("notifications:list")))

    assert shown == [newest_unread.subject, oldest_unread.subject, read.subject]


def test_opening_a_notification_marks_it_read_and_lands_on_its_handover(failed_handover, scientist):
    notification = scientist.notifications.get()
    response = logged_in(scientist).post(reverse("notifications:open", args=[notification.pk]))
    assert response.status_code == 302 and response["Location"] == failed_handover.get_absolute_url()
    notification.refresh_from_db()
    assert notification.read_at is not None


def test_opening_another_persons_notification_is_a_404_and_leaves_it_unread(failed_handover, scientist,
                                                                            engineer):
    notification = scientist.notifications.get()
    client = logged_in(engineer)
    response = client.post(reverse("notifications:open", args=[notification.pk]))
    assert response.status_code == 404
    assert client.post(reverse("notifications:open", args=[987654])).status_code == 404
    notification.refresh_from_db()
    assert notification.read_at is None


def test_mark_all_read_reads_only_mine_and_says_how_many(project, scientist, engineer, tell):
    handover, _ = ready_draft(project=project, owner=scientist)
    tell(handover), tell(handover, "handover.accepted")
    theirs = Notification.objects.create(recipient=engineer, kind="commented", url="/", subject="Theirs")
    response = logged_in(scientist).post(reverse("notifications:read_all"), follow=True)
    assert "2 notifications marked read." in response.content.decode()
    assert not Notification.objects.filter(recipient=scientist, read_at__isnull=True).exists()
    theirs.refresh_from_db()
    assert theirs.read_at is None
    assert "Mark all" not in response.content.decode() and "Everything is read." in response.content.decode()


def test_a_page_of_notifications_then_the_next(project, scientist, tell):
    handover, _ = ready_draft(project=project, owner=scientist)
    for _ in range(PER_PAGE + 1):
        tell(handover)
    client = logged_in(scientist)
    first = client.get(reverse("notifications:list")).content.decode()
    second = client.get(reverse("notifications:list") + "?page=2").content.decode()
    assert len(subjects_in_order(client.get(reverse("notifications:list")))) == PER_PAGE
    assert "Page 1 of 2" in first and 'rel="next"' in first
    assert "Page 2 of 2" in second and len(re.findall("notification-open", second)) == 1


def test_nothing_yet_says_what_will_come(scientist):
    page = logged_in(scientist).get(reverse("notifications:list")).content.decode()
    assert "No notifications yet" in page and "Mark all" not in page


# --- the bell


def test_pages_carry_the_bell_without_its_count_so_they_cost_no_query_for_it(failed_handover, scientist):
    page = logged_in(scientist).get(reverse("handovers:list")).content.decode()
    bell = re.search(r'<a class="bell" id="notification-bell"[^>]*>.*?</a>', page, re.S)[0]
    assert f'hx-get="{reverse("notifications:bell")}"' in bell and 'hx-trigger="load, every 15s"' in bell
    assert "bell-count" not in bell


def test_the_bell_names_the_unread_count(failed_handover, scientist):
    response = logged_in(scientist).get(reverse("notifications:bell"))
    bell = response.content.decode()
    assert response.status_code == 200
    assert 'data-unread="1"' in bell and 'aria-label="Notifications, 1 unread"' in bell
    assert '<span class="bell-count" aria-hidden="true">1</span>' in bell
    assert """hx-vals='{"seen": "1"}'""" in bell


def test_the_bell_is_not_swapped_while_the_count_stays(failed_handover, scientist):
    response = logged_in(scientist).get(reverse("notifications:bell") + "?seen=1")
    assert response.status_code == 204 and response.content == b""


def test_a_rising_count_is_announced_once(project, scientist, tell, failed_handover):
    client = logged_in(scientist)
    tell(failed_handover)
    rose = client.get(reverse("notifications:bell") + "?seen=1").content.decode()
    assert '<span id="bell-status" hx-swap-oob="innerHTML">2 unread notifications</span>' in rose
    first_load = client.get(reverse("notifications:bell")).content.decode()
    assert "bell-status" not in first_load and 'data-unread="2"' in first_load


def test_the_bell_shows_no_count_when_all_is_read(scientist):
    bell = logged_in(scientist).get(reverse("notifications:bell") + "?seen=abc").content.decode()
    assert 'data-unread="0"' in bell and 'aria-label="Notifications"' in bell and "bell-count" not in bell


# --- preferences


def test_preferences_are_saved_per_kind(scientist):
    client = logged_in(scientist)
    response = client.post(reverse("notifications:preferences"),
                           {"kind:validation_failed": "email", "kind:commented": "app"}, follow=True)
    assert "Notification preferences saved." in response.content.decode()
    assert dict(Preference.objects.filter(user=scientist).values_list("kind", "email")) == {
        "validation_failed": True, "commented": False}
    page = client.get(reverse("notifications:preferences")).content.decode()
    assert re.search(r'id="app-commented" name="kind:commented" value="app" checked', page)
    assert re.search(r'id="email-validation_failed" name="kind:validation_failed" value="email" checked',
                     page)


def test_an_unknown_kind_is_refused_with_a_message_and_nothing_is_stored(scientist):
    client = logged_in(scientist)
    response = client.post(reverse("notifications:preferences"),
                           {"kind:validation_failed": "email", "kind:lottery_won": "email"},
                           HTTP_REFERER="http://testserver" + reverse("notifications:preferences"),
                           follow=True)
    page = response.content.decode()
    assert "&#x27;lottery_won&#x27; is not a kind of notification" in page
    assert "saved" not in page
    assert not Preference.objects.filter(user=scientist).exists()


def test_a_channel_the_form_does_not_offer_is_refused(scientist):
    response = logged_in(scientist).post(reverse("notifications:preferences"),
                                         {"kind:validation_failed": "pigeon"}, follow=True)
    assert "not &#x27;pigeon&#x27;" in response.content.decode()
    assert not Preference.objects.filter(user=scientist).exists()
