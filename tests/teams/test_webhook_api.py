"""/api/v1/projects/{slug}/webhooks/: for the project's ML engineers and team
leader; 403 for its other members; 404 for anyone else, for every webhook."""

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
    return ProjectFactory(team=TeamFactory(leader=UserFactory(username="lee")), slug="churn-alpha")


@pytest.fixture
def engineer(project):
    return member(project, Role.ML_ENGINEER, username="eli")


@pytest.fixture
def webhook(project, engineer):
    return webhooks.create_webhook(project, url=PUBLIC, events=["handover.accepted"], created_by=engineer)


def api(user):
    client = Client()
    client.force_login(user)
    return client


def base(project):
    return f"/api/v1/projects/{project.slug}/webhooks/"


def post(client, url, body=None):
    return client.post(url, body or {}, content_type="application/json")


def test_an_engineer_creates_a_webhook_and_sees_its_secret_only_then(project, engineer):
    client = api(engineer)
    response = post(client, base(project), {"url": PUBLIC, "events": ["handover.validation_failed"]})
    assert response.status_code == 201, response.json()
    body = response.json()
    webhook = Webhook.objects.get()
    assert body["secret"] == webhook.secret and body["events"] == ["handover.validation_failed"]
    assert body["created_by"] == "eli" and body["active"] is True
    listed = client.get(base(project)).json()
    assert listed["count"] == 1 and "secret" not in listed["results"][0]
    assert "secret" not in client.get(f"{base(project)}{webhook.pk}/").json()


@pytest.mark.parametrize("body, field, message", [
    ({"url": "ftp://chat.example.com/", "events": ["handover.accepted"]}, "url", "http:// or https://"),
    ({"url": "gopher://x", "events": ["handover.accepted"]}, "url", "http:// or https://"),
    ({"url": PUBLIC, "events": ["handover.exploded"]}, "events", "'handover.exploded' is not an event"),
    ({"url": PUBLIC, "events": []}, "events", "Choose at least one event"),
    ({"url": "http://10.0.0.5/", "events": ["handover.accepted"]}, "url", "must point at a public address"),
    ({"events": ["handover.accepted"]}, "url", "required"),
])
def test_bad_input_is_a_400_naming_the_field_and_nothing_is_stored(project, engineer, body, field, message):
    response = post(api(engineer), base(project), body)
    assert response.status_code == 400
    assert field in response.json() and message in response.json()["detail"]
    assert not Webhook.objects.exists()


@pytest.mark.parametrize("who", ["engineer", "leader"])
def test_the_engineers_and_the_leader_manage_webhooks(project, engineer, webhook, who,
                                                      django_capture_on_commit_callbacks, monkeypatch):
    monkeypatch.setattr(webhooks, "enqueue", lambda pk, **kw: True)
    client = api(engineer if who == "engineer" else project.team.leader)
    url = f"{base(project)}{webhook.pk}/"
    assert client.get(url).json()["url"] == PUBLIC
    paused = client.patch(url, {"active": False}, content_type="application/json")
    assert paused.status_code == 200 and paused.json()["active"] is False
    client.patch(url, {"active": True}, content_type="application/json")
    with django_capture_on_commit_callbacks(execute=True):
        sent = post(client, f"{url}test/")
    assert sent.status_code == 202 and sent.json()["event"] == "webhook.test"
    assert sent.json()["state"] == DeliveryState.PENDING
    log = client.get(f"{url}deliveries/").json()
    assert log["count"] == 1 and log["results"][0]["id"] == sent.json()["id"]
    assert client.delete(url).status_code == 204
    assert not Webhook.objects.exists()


def test_the_delivery_log_shows_each_attempt(project, engineer, webhook):
    WebhookDelivery.objects.create(
        webhook=webhook, event_name="handover.accepted", payload={"text": "t"}, state=DeliveryState.SENT,
        attempts=3, status_code=200, sent_at="2026-11-23T10:03:00Z",
        log=[{"attempt": i, "at": f"2026-11-23T10:0{i}:00+00:00", "status_code": code, "excerpt": "x",
              "error": ""} for i, code in ((1, 500), (2, 500), (3, 200))])
    row = api(engineer).get(f"{base(project)}{webhook.pk}/deliveries/").json()["results"][0]
    assert row["state"] == "sent" and row["attempts"] == 3
    assert [a["status_code"] for a in row["log"]] == [500, 500, 200]


@pytest.mark.parametrize("role", [Role.DATA_SCIENTIST, Role.MANAGER, Role.DATA_ENGINEER])
def test_other_members_of_the_project_get_403(project, webhook, role):
    client = api(member(project, role))
    url = f"{base(project)}{webhook.pk}/"
    assert client.get(base(project)).status_code == 403
    assert post(client, base(project), {"url": PUBLIC, "events": ["handover.accepted"]}).status_code == 403
    assert client.get(url).status_code == 403
    assert client.get(f"{url}deliveries/").status_code == 403
    assert post(client, f"{url}test/").status_code == 403
    assert client.delete(url).status_code == 403
    assert Webhook.objects.count() == 1 and not WebhookDelivery.objects.exists()


def test_an_outsider_gets_404_for_every_one_of_another_projects_webhooks(project, webhook):
    other = ProjectFactory()
    outsider = member(other, Role.ML_ENGINEER)
    client = api(outsider)
    for path in ("", f"{webhook.pk}/", f"{webhook.pk}/deliveries/", f"{webhook.pk}/test/"):
        hidden = client.get(base(project) + path) if not path.endswith("test/") else post(
            client, base(project) + path)
        missing = client.get(f"/api/v1/projects/no-such/webhooks/{path}") if not path.endswith(
            "test/") else post(client, f"/api/v1/projects/no-such/webhooks/{path}")
        assert hidden.status_code == 404 and hidden.json() == missing.json(), path
    assert client.delete(f"{base(project)}{webhook.pk}/").status_code == 404
    # Nor through their own project, where they may manage webhooks.
    assert client.get(f"{base(other)}{webhook.pk}/").status_code == 404
    assert client.delete(f"{base(other)}{webhook.pk}/").status_code == 404
    assert Webhook.objects.filter(pk=webhook.pk).exists() and not WebhookDelivery.objects.exists()


def test_webhooks_are_in_the_openapi_schema(engineer):
    paths = api(engineer).get("/api/schema/?format=json").json()["paths"]
    assert {"/api/v1/projects/{slug}/webhooks/", "/api/v1/projects/{slug}/webhooks/{id}/",
            "/api/v1/projects/{slug}/webhooks/{id}/deliveries/",
            "/api/v1/projects/{slug}/webhooks/{id}/test/"} <= set(paths)
