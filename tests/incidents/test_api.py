"""The incidents API: scoped lists and filters, opening by hand, the
lifecycle actions (403 for a role that may not, 409 for a skipped state),
comments, the timeline, the postmortem and the fix."""

import pytest
from rest_framework.test import APIClient

from handoff.incidents.models import ActionItem, EventKind, Incident, IncidentStatus, Severity
from handoff.teams.models import Role
from tests.factories import IncidentFactory, ProjectFactory, member

pytestmark = pytest.mark.django_db


def api(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def url(incident, action=""):
    return f"/api/v1/incidents/{incident.pk}/{action + '/' if action else ''}"


def test_list_is_scoped_and_ordered_by_severity_then_age(project, engineer):
    sev3 = IncidentFactory(project=project, severity=Severity.SEV3)
    sev1 = IncidentFactory(project=project, severity=Severity.SEV1)
    IncidentFactory(project=ProjectFactory(), title="elsewhere")
    ids = [row["id"] for row in api(engineer).get("/api/v1/incidents/").json()["results"]]
    assert ids == [sev1.pk, sev3.pk]


def test_list_filters_by_status_severity_assignee_and_project(project, engineer):
    mine = IncidentFactory(project=project, assignee=engineer, severity=Severity.SEV2)
    closed = IncidentFactory(project=project, status=IncidentStatus.CLOSED)
    client = api(engineer)

    def ids(**query):
        return {row["id"] for row in client.get("/api/v1/incidents/", query).json()["results"]}

    assert ids(status="active") == {mine.pk}
    assert ids(status="closed") == {closed.pk}
    assert ids(severity="sev2") == {mine.pk}
    assert ids(assignee="me") == {mine.pk}
    assert ids(assignee="none") == {closed.pk}
    assert ids(project="fraud") == {mine.pk, closed.pk}
    response = client.get("/api/v1/incidents/", {"severity": "sev9"})
    assert response.status_code == 400 and "severity" in response.json()


def test_anyone_on_the_project_opens_an_incident_and_one_they_cannot_see_is_404(project, scientist, signed):
    handover, _ = signed
    client = api(scientist)
    response = client.post("/api/v1/incidents/", {"project": "fraud", "title": "Scores drift",
                                                  "severity": "sev2", "handover": handover.pk}, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["reporter"] == "scientist" and body["owner"] == handover.model.owner.username
    response = client.post("/api/v1/incidents/", {"project": "no-such", "title": "x", "severity": "sev2"},
                           format="json")
    assert response.status_code == 404
    response = client.post("/api/v1/incidents/", {"project": "fraud", "title": "x", "severity": "sev2",
                                                  "deployment": 987654}, format="json")
    assert response.status_code == 404


def test_bad_input_is_a_400_naming_the_field(project, engineer):
    incident = IncidentFactory(project=project)
    response = api(engineer).post(url(incident, "severity"), {"severity": "sev9"}, format="json")
    assert response.status_code == 400 and "severity" in response.json()
    response = api(engineer).post("/api/v1/incidents/", {"project": "fraud", "severity": "sev2"},
                                  format="json")
    assert response.status_code == 400 and "title" in response.json()


def test_the_lifecycle_through_the_api(project, engineer):
    incident = IncidentFactory(project=project)
    client = api(engineer)
    assert client.post(url(incident, "acknowledge")).json()["status"] == "acknowledged"
    assigned = client.post(url(incident, "assign"), {"assignee": "engineer"}, format="json").json()
    assert assigned["assignee"] == "engineer"
    assert client.post(url(incident, "investigate")).json()["available_actions"] == ["mitigate"]
    assert client.post(url(incident, "mitigate"), {"note": "rolled back"}, format="json").status_code == 200
    response = client.post(url(incident, "resolve"), {"root_cause": "data_drift",
                                                      "resolution_summary": "Retrained."}, format="json")
    assert response.json()["status"] == "resolved" and response.json()["root_cause"] == "data_drift"
    assert client.post(url(incident, "close")).json()["status"] == "closed"
    assert client.post(url(incident, "reopen"), {}, format="json").json()["status"] == "open"


def test_skipping_a_state_is_a_409_with_a_message_and_changes_nothing(project, engineer):
    incident = IncidentFactory(project=project)
    response = api(engineer).post(url(incident, "resolve"), {"root_cause": "other",
                                                             "resolution_summary": "done"}, format="json")
    assert response.status_code == 409
    assert "Cannot resolve this incident: it is open now" in response.json()["detail"]
    incident.refresh_from_db()
    assert incident.status == IncidentStatus.OPEN and incident.root_cause == ""


def test_a_data_scientist_may_not_triage_403(project, scientist):
    incident = IncidentFactory(project=project)
    for action in ("acknowledge", "escalate"):
        assert api(scientist).post(url(incident, action)).status_code == 403
    # The role is checked before the body is read: a bad body is still a 403.
    assert api(scientist).post(url(incident, "severity"), {"severity": 1}, format="json").status_code == 403


def test_outsider_gets_404_on_every_incident_url(project):
    incident = IncidentFactory(project=project)
    item = ActionItem.objects.create(incident=incident, text="x")
    outsider = api(member(ProjectFactory(), Role.ML_ENGINEER, username="gus"))
    for action in ("", "timeline", "comments", "postmortem"):
        assert outsider.get(url(incident, action)).status_code == 404, action
    for action in ("acknowledge", "assign", "severity", "escalate", "investigate", "mitigate", "resolve",
                   "close", "reopen", "fix", "comments", "action-items"):
        assert outsider.post(url(incident, action), {"nonsense": 1}, format="json").status_code == 404, action
    assert outsider.patch(url(incident, f"action-items/{item.pk}"), {"done": True},
                          format="json").status_code == 404
    assert outsider.put(url(incident, "postmortem"), {}, format="json").status_code == 404


def test_engineer_of_another_project_gets_404_on_acknowledge(project):
    incident = IncidentFactory(project=project)
    other = member(ProjectFactory(), Role.ML_ENGINEER, username="other-eng")
    assert api(other).post(url(incident, "acknowledge")).status_code == 404
    incident.refresh_from_db()
    assert incident.status == IncidentStatus.OPEN


def test_comments_timeline_and_postmortem(project, engineer):
    incident = IncidentFactory(project=project)
    client = api(engineer)
    response = client.post(url(incident, "comments"), {"body": "Looking at it"}, format="json")
    assert response.status_code == 201 and response.json()["kind"] == EventKind.COMMENT
    assert [c["body"] for c in client.get(url(incident, "comments")).json()["results"]] == ["Looking at it"]
    response = client.put(url(incident, "postmortem"), {"postmortem": "# Cause"}, format="json")
    assert response.status_code == 200
    item = client.post(url(incident, "action-items"), {"text": "Alert on drift"}, format="json").json()
    assert client.patch(url(incident, f"action-items/{item['id']}"), {"done": True},
                        format="json").json()["done"] is True
    body = client.get(url(incident, "postmortem")).json()
    assert body["postmortem"] == "# Cause" and body["action_items"][0]["done"] is True
    kinds = [e["kind"] for e in client.get(url(incident, "timeline")).json()["results"]]
    assert kinds == ["comment", "postmortem", "action_item", "action_item"]


def test_the_owner_files_the_fix(signed, scientist, engineer):
    handover, _ = signed
    incident = IncidentFactory(project=handover.project, handover=handover)
    response = api(engineer).post(url(incident, "fix"), {"version_label": "2.0.0"}, format="json")
    assert response.status_code == 403
    response = api(scientist).post(url(incident, "fix"), {"version_label": "2.0.0"}, format="json")
    assert response.status_code == 201
    incident.refresh_from_db()
    assert incident.fix_handover_id == response.json()["id"]
    assert Incident.objects.get(pk=incident.pk).fix_handover.version_label == "2.0.0"
