import pytest
from django.urls import reverse

from handoff.audit.models import AuditEvent
from handoff.core.errors import DomainError, Forbidden, NotFound
from handoff.teams import services
from handoff.teams.models import Project, Role, RoleAssignment, Stage, Team
from tests.factories import ProjectFactory, RoleAssignmentFactory, TeamFactory, UserFactory, member

pytestmark = pytest.mark.django_db


@pytest.fixture
def project():
    return ProjectFactory(name="Card fraud scoring")


@pytest.fixture
def leader(project):
    return project.team.leader


@pytest.fixture
def scientist(project):
    return member(project, Role.DATA_SCIENTIST, username="priya")


def add_url(project):
    return reverse("teams:add_member", args=[project.slug])


def change_url(assignment):
    return reverse("teams:change_role", args=[assignment.project.slug, assignment.pk])


def remove_url(assignment):
    return reverse("teams:remove_member", args=[assignment.project.slug, assignment.pk])


def memberships(project):
    return sorted(project.role_assignments.values_list("user__username", "role"))


# --- the team leader manages members -------------------------------------


def test_leader_adds_a_member(client, project, leader):
    newcomer = UserFactory(username="tomas", first_name="Tomás", last_name="Ortega")
    client.force_login(leader)

    response = client.post(add_url(project), {"username": "tomas", "role": Role.ML_ENGINEER}, follow=True)

    assert response.redirect_chain[-1][0] == project.get_absolute_url()
    assert RoleAssignment.objects.get(project=project, user=newcomer).role == Role.ML_ENGINEER
    assert "Tomás Ortega (tomas) is now ML engineer on Card fraud scoring." in response.content.decode()
    event = AuditEvent.objects.get(verb="member.added")
    assert event.actor == leader
    assert event.project == project
    assert event.details == {"user": "tomas", "role": "ml_engineer"}


def test_leader_changes_a_members_role(client, project, leader, scientist):
    assignment = RoleAssignment.objects.get(user=scientist, project=project)
    client.force_login(leader)

    response = client.post(change_url(assignment), {"role": Role.DATA_ENGINEER}, follow=True)

    assignment.refresh_from_db()
    assert assignment.role == Role.DATA_ENGINEER
    assert "is now Data engineer on Card fraud scoring" in response.content.decode()
    event = AuditEvent.objects.get(verb="member.role_changed")
    assert event.actor == leader
    assert event.details == {"user": "priya", "previous_role": "data_scientist", "role": "data_engineer"}


def test_leader_removes_a_member(client, project, leader, scientist):
    assignment = RoleAssignment.objects.get(user=scientist, project=project)
    client.force_login(leader)

    response = client.post(remove_url(assignment), follow=True)

    assert not RoleAssignment.objects.filter(pk=assignment.pk).exists()
    assert "was removed from Card fraud scoring" in response.content.decode()
    event = AuditEvent.objects.get(verb="member.removed")
    assert event.actor == leader
    assert event.project == project
    assert event.details == {"user": "priya", "role": "data_scientist"}
    # The removed member no longer sees the project.
    client.force_login(scientist)
    assert client.get(project.get_absolute_url()).status_code == 404


def test_superuser_manages_members_of_any_project(client, project):
    client.force_login(UserFactory(is_superuser=True))
    UserFactory(username="tomas")

    client.post(add_url(project), {"username": "tomas", "role": Role.ML_ENGINEER})

    assert memberships(project) == [("tomas", "ml_engineer")]


def test_username_is_matched_ignoring_case_and_spaces(client, project, leader):
    UserFactory(username="tomas")
    client.force_login(leader)

    client.post(add_url(project), {"username": "  Tomas ", "role": Role.ML_ENGINEER})

    assert memberships(project) == [("tomas", "ml_engineer")]


# --- people who may not manage members -------------------------------------


def test_member_who_is_not_leader_gets_403_and_nothing_changes(client, project, scientist):
    other = RoleAssignmentFactory(project=project, role=Role.ML_ENGINEER)
    UserFactory(username="tomas")
    before = memberships(project)
    client.force_login(scientist)

    assert client.post(add_url(project), {"username": "tomas", "role": Role.ML_ENGINEER}).status_code == 403
    assert client.post(change_url(other), {"role": Role.MANAGER}).status_code == 403
    assert client.post(remove_url(other)).status_code == 403

    assert memberships(project) == before
    assert not AuditEvent.objects.exists()


def test_project_role_manager_is_not_a_team_leader(client, project):
    manager = member(project, Role.MANAGER)
    client.force_login(manager)

    response = client.post(add_url(project), {"username": manager.username, "role": Role.MANAGER})

    assert response.status_code == 403
    assert "does not allow you to manage members" in response.content.decode()


def test_outsider_gets_404_and_nothing_changes(client, project, scientist):
    outsider = member(ProjectFactory(), Role.DATA_SCIENTIST)
    assignment = RoleAssignment.objects.get(user=scientist, project=project)
    client.force_login(outsider)

    assert client.post(add_url(project), {"username": outsider.username, "role": "x"}).status_code == 404
    assert client.post(change_url(assignment), {"role": Role.MANAGER}).status_code == 404
    assert client.post(remove_url(assignment)).status_code == 404

    assert memberships(project) == [("priya", "data_scientist")]
    assert not AuditEvent.objects.exists()


def test_leader_of_another_team_gets_404(client, project, scientist):
    assignment = RoleAssignment.objects.get(user=scientist, project=project)
    client.force_login(TeamFactory().leader)

    assert client.post(remove_url(assignment)).status_code == 404
    assert RoleAssignment.objects.filter(pk=assignment.pk).exists()


def test_assignment_of_another_project_is_404(client, project, leader):
    elsewhere = RoleAssignmentFactory()
    client.force_login(leader)

    url = reverse("teams:remove_member", args=[project.slug, elsewhere.pk])

    assert client.post(url).status_code == 404
    assert RoleAssignment.objects.filter(pk=elsewhere.pk).exists()


def test_member_endpoints_take_only_post(client, project, leader, scientist):
    assignment = RoleAssignment.objects.get(user=scientist, project=project)
    client.force_login(leader)

    assert client.get(add_url(project)).status_code == 405
    assert client.get(change_url(assignment)).status_code == 405
    assert client.get(remove_url(assignment)).status_code == 405


# --- bad input: a clear message, nothing changed -------------------------------


def test_unknown_role_is_refused_with_a_clear_message(client, project, leader):
    UserFactory(username="tomas")
    client.force_login(leader)

    response = client.post(add_url(project), {"username": "tomas", "role": "wizard"})

    assert response.status_code == 400
    assert "“wizard” is not a role. Choose one from the list." in response.content.decode()
    assert memberships(project) == []
    assert not AuditEvent.objects.exists()


def test_unknown_user_is_refused_with_a_clear_message(client, project, leader):
    client.force_login(leader)

    response = client.post(add_url(project), {"username": "nobody", "role": Role.ML_ENGINEER})

    assert response.status_code == 400
    html = response.content.decode()
    assert "There is no user called “nobody”." in html
    assert 'value="nobody"' in html  # what was typed is kept
    assert memberships(project) == []
    assert not AuditEvent.objects.exists()


def test_missing_username_is_refused_with_a_clear_message(client, project, leader):
    client.force_login(leader)

    response = client.post(add_url(project), {"username": "", "role": Role.ML_ENGINEER})

    assert response.status_code == 400
    assert "Enter the username of the person to add." in response.content.decode()


def test_duplicate_membership_is_refused_with_a_clear_message(client, project, leader, scientist):
    client.force_login(leader)

    response = client.post(add_url(project), {"username": "priya", "role": Role.ML_ENGINEER})

    assert response.status_code == 400
    assert "priya already holds a role on this project (Data scientist)." in response.content.decode()
    assert memberships(project) == [("priya", "data_scientist")]
    assert not AuditEvent.objects.exists()


def test_deactivated_account_cannot_be_added(client, project, leader):
    UserFactory(username="gone", is_active=False)
    client.force_login(leader)

    response = client.post(add_url(project), {"username": "gone", "role": Role.ML_ENGINEER})

    assert "gone&#x27;s account is deactivated." in response.content.decode()
    assert memberships(project) == []


def test_changing_to_an_unknown_role_is_refused(client, project, leader, scientist):
    assignment = RoleAssignment.objects.get(user=scientist, project=project)
    client.force_login(leader)

    response = client.post(change_url(assignment), {"role": "wizard"}, follow=True)

    assert "“wizard” is not a role. Choose one from the list." in response.content.decode()
    assert memberships(project) == [("priya", "data_scientist")]
    assert not AuditEvent.objects.exists()


def test_changing_to_the_same_role_says_so(client, project, leader, scientist):
    assignment = RoleAssignment.objects.get(user=scientist, project=project)
    client.force_login(leader)

    response = client.post(change_url(assignment), {"role": Role.DATA_SCIENTIST}, follow=True)

    assert "priya already has the role Data scientist on this project." in response.content.decode()
    assert not AuditEvent.objects.exists()


# --- the services, as the API and admin call them ---------------------------


def test_add_member_service_rejects_unknown_role_with_field(project, leader):
    UserFactory(username="tomas")

    with pytest.raises(DomainError) as error:
        services.add_member(leader, project, username_or_user="tomas", role="wizard")

    assert error.value.field == "role"
    assert "Data scientist" in error.value.message  # lists the roles to choose from
    assert memberships(project) == []


def test_add_member_service_accepts_a_user_object(project, leader):
    user = UserFactory()

    assignment = services.add_member(leader, project, username_or_user=user, role=Role.DATA_ENGINEER)

    assert assignment.user == user and assignment.role == Role.DATA_ENGINEER


def test_services_refuse_outsiders_with_not_found(project, scientist):
    outsider = UserFactory()
    assignment = RoleAssignment.objects.get(user=scientist)

    with pytest.raises(NotFound):
        services.add_member(outsider, project, username_or_user=outsider, role=Role.MANAGER)
    with pytest.raises(NotFound):
        services.change_role(outsider, assignment, role=Role.MANAGER)
    with pytest.raises(NotFound):
        services.remove_member(outsider, assignment)
    with pytest.raises(Forbidden):
        services.remove_member(scientist, assignment)
    assert memberships(project) == [("priya", "data_scientist")]


def test_superuser_creates_a_team_and_its_leader_creates_a_project():
    admin = UserFactory(is_superuser=True)
    leader = UserFactory(username="grace")

    team = services.create_team(admin, name="Fraud Analytics", slug="", leader="grace")
    project = services.create_project(
        leader, team, name="Card fraud scoring", slug="card-fraud-scoring", stage=Stage.MODELING
    )

    assert (team.slug, team.leader) == ("fraud-analytics", leader)
    assert (project.team, project.stage) == (team, Stage.MODELING)
    assert list(AuditEvent.objects.order_by("id").values_list("verb", flat=True)) == [
        "team.created", "project.created",
    ]


def test_only_superusers_create_teams():
    with pytest.raises(Forbidden):
        services.create_team(UserFactory(), name="Fraud Analytics", slug="fraud", leader="x")
    assert not Team.objects.exists()


def test_create_project_refuses_members_and_outsiders(project, scientist):
    with pytest.raises(Forbidden):
        services.create_project(scientist, project.team, name="Another", slug="another")
    with pytest.raises(NotFound):
        services.create_project(UserFactory(), project.team, name="Another", slug="another")
    assert not Project.objects.filter(slug="another").exists()


@pytest.mark.parametrize(
    ("kwargs", "field", "message"),
    [
        ({"name": "  "}, "name", "Give the project a name."),
        ({"name": "Card fraud scoring"}, "name", "already has a project called"),
        ({"slug": "not a slug!"}, "slug", "cannot be used in a web address"),
        ({"slug": "card-fraud-scoring-dup"}, "slug", "already uses the web address"),
        ({"stage": "launched"}, "stage", "“launched” is not a stage."),
    ],
)
def test_create_project_bad_input_is_a_clear_message(project, leader, kwargs, field, message):
    ProjectFactory(slug="card-fraud-scoring-dup")
    before = Project.objects.count()
    arguments = {"name": "New project", "slug": "new-project", **kwargs}

    with pytest.raises(DomainError) as error:
        services.create_project(leader, project.team, **arguments)

    assert error.value.field == field
    assert message in error.value.message
    assert Project.objects.count() == before
    assert not AuditEvent.objects.exists()


@pytest.mark.parametrize(
    ("kwargs", "field", "message"),
    [
        ({"leader": "nobody"}, "leader", "There is no user called “nobody”."),
        ({"name": "Existing"}, "name", "There is already a team called “Existing”."),
        ({"slug": "existing"}, "slug", "already uses the web address"),
    ],
)
def test_create_team_bad_input_is_a_clear_message(kwargs, field, message):
    TeamFactory(name="Existing", slug="existing")
    UserFactory(username="grace")
    admin = UserFactory(is_superuser=True)

    with pytest.raises(DomainError) as error:
        services.create_team(admin, **{"name": "New team", "slug": "new-team", "leader": "grace", **kwargs})

    assert error.value.field == field
    assert message in error.value.message
    assert Team.objects.count() == 1
