"""The Webhooks page of a project: who may use it, creating (the secret shown
once, bad input refused with nothing stored), Send test, pause, delete and
the delivery log."""

import pytest
from django.test import Client

from handoff.notifications import webhooks
from handoff.notifications.models import DeliveryState, Webhook, WebhookDelivery
from handoff.teams.models import Role
from tests.factories import ProjectFactory, TeamFactory, UserFactory, member

pytestmark = pytest.mark.django_db

PUBLIC = "https://93.184.215.14/hook"


@pytest.fixture(autouse=True)
def _production(settings):
    settings.HANDOFF_WEBHOOK_ALLOW_PRIVATE = False


@pytest.fixture
def project():
    return ProjectFactory(team=TeamFactory(leader=UserFactory(username="lee")), name="Churn Alpha",
                          slug="churn-alpha")


@pytest.fixture
def engineer(project):
    return member(project, Role.ML_ENGINEER, username="eli")


def client_for(user):
    client = Client()
    client.force_login(user)
    return client


def webhook_of(project, user):
    return webhooks.create_webhook(project, url=PUBLIC, events=["handover.accepted"], created_by=user)


@pytest.mark.parametrize("who, status", [("engineer", 200), ("leader", 200), ("scientist", 403),
                                         ("manager", 403), ("outsider", 404)])
def test_who_may_open_the_webhooks_page(project, engineer, who, status):
    people = {"engineer": engineer, "leader": project.team.leader,
              "scientist": member(project, Role.DATA_SCIENTIST), "manager": member(project, Role.MANAGER),
              "outsider": member(ProjectFactory(), Role.ML_ENGINEER)}
    assert client_for(people[who]).get(f"/projects/{project.slug}/webhooks/").status_code == status


def test_the_project_page_links_to_webhooks_only_for_those_who_may_manage_them(project, engineer):
    assert "/webhooks/" in client_for(engineer).get(f"/projects/{project.slug}/").content.decode()
    scientist = member(project, Role.DATA_SCIENTIST)
    assert "/webhooks/" not in client_for(scientist).get(f"/projects/{project.slug}/").content.decode()


def test_creating_a_webhook_shows_its_secret_once(project, engineer):
    client = client_for(engineer)
    response = client.post(f"/projects/{project.slug}/webhooks/",
                           {"url": PUBLIC, "events": ["handover.accepted", "handover.validation_failed"]})
    assert response.status_code == 201
    webhook = Webhook.objects.get()
    assert webhook.secret in response.content.decode() and "this once" in response.content.decode()
    assert webhook.events == ["handover.validation_failed", "handover.accepted"]
    assert webhook.created_by == engineer
    for page in (f"/projects/{project.slug}/webhooks/", f"/projects/{project.slug}/webhooks/{webhook.pk}/"):
        shown = client.get(page)
        assert shown.status_code == 200 and PUBLIC in shown.content.decode()
        assert webhook.secret not in shown.content.decode()


@pytest.mark.parametrize("body, message", [
    ({"url": "ftp://chat.example.com/hook", "events": ["handover.accepted"]},
     "must start with http:// or https://"),
    ({"url": PUBLIC, "events": ["handover.exploded"]},
     "“handover.exploded” is not an event a webhook can send"),
    ({"url": PUBLIC}, "Choose at least one event"),
    ({"url": "http://127.0.0.1:8000/hook", "events": ["handover.accepted"]},
     "must point at a public address"),
])
def test_bad_input_is_refused_on_the_form_and_nothing_is_stored(project, engineer, body, message):
    response = client_for(engineer).post(f"/projects/{project.slug}/webhooks/", body)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Webhook.objects.exists()


def test_send_test_queues_a_delivery_shown_in_the_log(project, engineer, monkeypatch,
                                                      django_capture_on_commit_callbacks):
    webhook = webhook_of(project, engineer)
    rung = []
    monkeypatch.setattr(webhooks, "enqueue", lambda pk, **kw: rung.append(pk))
    client = client_for(engineer)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/projects/{project.slug}/webhooks/{webhook.pk}/test/")
    assert response.status_code == 302
    delivery = WebhookDelivery.objects.get()
    assert rung == [delivery.pk] and delivery.event_name == "webhook.test"
    assert "Churn Alpha" in delivery.payload["text"] and delivery.payload["actor"]["username"] == "eli"
    page = client.get(response["Location"]).content.decode()
    assert "A test message is on its way" in page and "webhook.test" in page and "Not tried yet" in page


def test_the_log_shows_every_attempt_with_its_status_and_a_failure(project, engineer):
    webhook = webhook_of(project, engineer)
    log = [{"attempt": i, "at": f"2026-11-23T10:0{i}:00+00:00", "status_code": 500, "excerpt": "busy",
            "error": "The receiver answered HTTP 500."} for i in (1, 2, 3)]
    WebhookDelivery.objects.create(webhook=webhook, event_name="handover.accepted", payload={},
                                   state=DeliveryState.FAILED, attempts=3, status_code=500, log=log)
    page = client_for(project.team.leader).get(f"/projects/{project.slug}/webhooks/{webhook.pk}/")
    text = page.content.decode()
    assert "Failed" in text and "3 attempts" in text
    assert all(f"#{i} at 2026-11-23 10:0{i}:00" in text for i in (1, 2, 3))
    assert text.count("The receiver answered HTTP 500.") == 3


def test_pausing_resuming_and_deleting(project, engineer):
    webhook = webhook_of(project, engineer)
    client = client_for(project.team.leader)
    client.post(f"/projects/{project.slug}/webhooks/{webhook.pk}/active/", {"active": "0"})
    webhook.refresh_from_db()
    assert not webhook.active
    client.post(f"/projects/{project.slug}/webhooks/{webhook.pk}/active/", {"active": "1"})
    webhook.refresh_from_db()
    assert webhook.active
    response = client.post(f"/projects/{project.slug}/webhooks/{webhook.pk}/delete/")
    assert response.status_code == 302 and not Webhook.objects.exists()


def test_a_data_scientist_may_not_send_a_test_or_delete(project, engineer):
    webhook = webhook_of(project, engineer)
    client = client_for(member(project, Role.DATA_SCIENTIST))
    assert client.post(f"/projects/{project.slug}/webhooks/{webhook.pk}/test/").status_code == 403
    assert client.post(f"/projects/{project.slug}/webhooks/{webhook.pk}/delete/").status_code == 403
    assert Webhook.objects.exists() and not WebhookDelivery.objects.exists()


def test_another_projects_webhook_is_not_found_through_this_project(project, engineer):
    other = ProjectFactory()
    foreign = webhooks.create_webhook(other, url=PUBLIC, events=["handover.accepted"], created_by=None)
    client = client_for(engineer)
    assert client.get(f"/projects/{project.slug}/webhooks/{foreign.pk}/").status_code == 404
    assert client.post(f"/projects/{project.slug}/webhooks/{foreign.pk}/delete/").status_code == 404
    assert Webhook.objects.filter(pk=foreign.pk).exists()
