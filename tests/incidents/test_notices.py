"""Who is told what happens to an incident: the owning data scientist, the
assignee, the project's engineers on an urgent opening, the people on it of
a comment, the team leader of an escalation; never the actor of their own act."""

import pytest

from handoff.incidents import services
from handoff.incidents.models import IncidentStatus, RootCause
from handoff.notifications.models import Notification
from handoff.teams.models import Role
from tests.factories import IncidentFactory, ProjectFactory, member


def told(kind=None):
    """{username: [kinds]} of every notification (of ``kind``)."""
    rows = Notification.objects.order_by("id")
    if kind:
        rows = rows.filter(kind=kind)
    result = {}
    for username, k in rows.values_list("recipient__username", "kind"):
        result.setdefault(username, []).append(k)
    return result


@pytest.fixture
def pm(project):
    return member(project, Role.PRODUCT_MANAGER, username="pm")


@pytest.fixture
def colleague(project):
    return member(project, Role.ML_ENGINEER, username="colleague")


@pytest.fixture
def incident(deployment, pm):
    return services.open_incident(pm, deployment.project, title="Scores look off", severity="sev3",
                                  deployment=deployment)


def test_the_owning_scientist_is_told_of_the_opening_once(deployment, pm, scientist):
    services.open_incident(pm, deployment.project, title="Scores look off", severity="sev3",
                           deployment=deployment)
    assert told() == {"scientist": ["incident_opened"]}


@pytest.mark.parametrize("severity", ["sev1", "sev2"])
def test_the_projects_engineers_are_told_of_an_urgent_opening(deployment, pm, colleague, severity):
    services.open_incident(pm, deployment.project, title="Down", severity=severity, deployment=deployment)
    assert told() == {"scientist": ["incident_opened"], "engineer": ["incident_opened"],
                      "colleague": ["incident_opened"]}


@pytest.mark.parametrize("severity", ["sev3", "sev4"])
def test_the_engineers_are_not_told_of_a_minor_opening(deployment, pm, colleague, severity):
    services.open_incident(pm, deployment.project, title="Slow", severity=severity, deployment=deployment)
    assert told() == {"scientist": ["incident_opened"]}


def test_the_actor_is_not_told_of_their_own_opening(deployment, scientist, engineer):
    services.open_incident(scientist, deployment.project, title="My model", severity="sev1",
                           deployment=deployment)
    services.open_incident(engineer, deployment.project, title="Seen it", severity="sev1",
                           deployment=deployment)
    assert told() == {"engineer": ["incident_opened"], "scientist": ["incident_opened"]}


def test_an_engineer_of_another_project_is_not_told_of_an_urgent_opening(deployment, pm):
    member(ProjectFactory(), Role.ML_ENGINEER, username="stranger")
    services.open_incident(pm, deployment.project, title="Down", severity="sev1", deployment=deployment)
    assert "stranger" not in told()


def test_the_owner_is_told_of_a_severity_change_and_the_resolution(incident, engineer):
    Notification.objects.all().delete()
    services.change_severity(engineer, incident, "sev1")
    for move in ("acknowledge", "investigate", "mitigate"):
        incident = getattr(services, move)(engineer, incident)
    services.resolve(engineer, incident, root_cause=RootCause.DATA_DRIFT, summary="Retrained")
    assert told() == {"scientist": ["incident_severity", "incident_resolved"]}
    resolved = Notification.objects.get(kind="incident_resolved")
    assert resolved.body == "Retrained" and resolved.url == f"/incidents/{incident.pk}/"


def test_the_owner_changing_nothing_is_told_nothing(incident, engineer):
    Notification.objects.all().delete()
    services.change_severity(engineer, incident, "sev3")  # it is SEV3 already
    assert told() == {}


def test_the_assignee_is_told_of_the_assignment(incident, engineer, colleague):
    Notification.objects.all().delete()
    services.assign(engineer, incident, colleague)
    assert told() == {"colleague": ["incident_assigned"]}


def test_an_engineer_taking_it_themselves_is_not_told(incident, engineer):
    Notification.objects.all().delete()
    services.assign(engineer, incident, engineer)
    assert told() == {}


def test_a_comment_tells_the_owner_assignee_reporter_and_the_mentioned(incident, engineer, colleague,
                                                                       project):
    member(project, Role.DATA_ENGINEER, username="dora")
    member(ProjectFactory(), Role.DATA_ENGINEER, username="outsider")
    services.assign(engineer, incident, colleague)
    Notification.objects.all().delete()
    event = services.add_comment(engineer, incident, body="@dora @outsider is the feature pipeline late?")
    assert told() == {"dora": ["mentioned"], "scientist": ["incident_commented"],
                      "colleague": ["incident_commented"], "pm": ["incident_commented"]}
    assert [person.username for person in event.not_told] == ["outsider"]


def test_a_mentioned_owner_is_told_once(incident, engineer):
    Notification.objects.all().delete()
    services.add_comment(engineer, incident, body="@scientist did the features change?")
    assert told() == {"scientist": ["mentioned"], "pm": ["incident_commented"]}


def test_the_team_leader_is_told_of_an_escalation(incident, engineer, project):
    Notification.objects.all().delete()
    services.escalate(engineer, incident, reason="Nobody picks it up")
    assert told() == {project.team.leader.username: ["incident_escalated"]}
    assert "was escalated by" in Notification.objects.get().subject


def test_an_incident_opened_by_hand_without_a_model_tells_no_owner(project, pm, engineer):
    services.open_incident(pm, project, title="Dashboard blank", severity="sev2")
    assert told() == {"engineer": ["incident_opened"]}


def test_nothing_is_told_when_a_move_is_refused(project, engineer):
    incident = IncidentFactory(project=project, status=IncidentStatus.OPEN)
    with pytest.raises(Exception):  # noqa: B017 - the refusal's type is test_services' business
        services.resolve(engineer, incident, root_cause=RootCause.OTHER, summary="Done")
    assert told() == {}


def test_the_engineers_are_told_when_an_incident_is_raised_to_sev1_or_sev2(incident, engineer, colleague):
    Notification.objects.all().delete()
    services.change_severity(engineer, incident, "sev2")
    services.change_severity(engineer, incident, "sev1")  # urgent already: no second word to engineers
    assert told() == {"scientist": ["incident_severity", "incident_severity"],
                      "colleague": ["incident_severity"]}


def test_the_engineers_are_not_told_when_an_incident_is_lowered(deployment, pm, engineer, colleague):
    urgent = services.open_incident(pm, deployment.project, title="Down", severity="sev1",
                                    deployment=deployment)
    Notification.objects.all().delete()
    services.change_severity(engineer, urgent, "sev4")
    assert told() == {"scientist": ["incident_severity"]}
