import pytest
from django.urls import reverse

from handoff.teams.models import Role
from tests.factories import ProjectFactory, RoleAssignmentFactory, TeamFactory, UserFactory, member

pytestmark = pytest.mark.django_db


@pytest.fixture
def project():
    return ProjectFactory(
        name="Card fraud scoring", team__name="Fraud Analytics", description="Scores cards."
    )


@pytest.fixture
def other_project():
    return ProjectFactory(name="Query ranking", team__name="Search Relevance")


def test_home_lists_my_projects_with_my_role_and_not_others(client, project, other_project):
    scientist = member(project, Role.DATA_SCIENTIST)
    client.force_login(scientist)

    response = client.get(reverse("home"))

    assert response.status_code == 200
    html = response.content.decode()
    assert "Card fraud scoring" in html
    assert "Fraud Analytics" in html
    assert "Modeling" in html
    assert "Data scientist" in html
    assert "Query ranking" not in html
    assert "Search Relevance" not in html


def test_home_shows_team_leader_their_teams_projects(client, project):
    client.force_login(project.team.leader)

    html = client.get(reverse("home")).content.decode()

    assert "Card fraud scoring" in html
    assert "Team leader" in html


def test_home_tells_a_newcomer_to_ask_their_team_leader(client, project):
    client.force_login(UserFactory())

    html = client.get(reverse("home")).content.decode()

    assert "You are not on any project yet" in html
    assert "Ask your team leader to add you" in html
    assert "Card fraud scoring" not in html


def test_home_has_navigation_and_vendored_htmx(client, project, other_project):
    # Both roles, so the navigation offers filing and reviewing (tests/dashboards/test_navigation.py
    # proves each link follows the roles).
    engineer = member(project, Role.ML_ENGINEER)
    RoleAssignmentFactory(user=engineer, project=other_project, role=Role.DATA_SCIENTIST)
    client.force_login(engineer)

    html = client.get(reverse("home")).content.decode()

    for label in ("New handover", "My handovers", "Review queue", "API docs", "API token",
                  "Change password", "Log out", "Skip to content"):
        assert label in html
    assert "/static/vendor/htmx-2.0.11/htmx.min.js" in html
    assert 'hx-headers=\'{"X-CSRFToken": "' in html
    assert "Django admin" not in html  # only for staff
    assert "http://" not in html.replace("http://testserver", "")
    assert "https://" not in html


def test_staff_see_the_admin_link(client):
    client.force_login(UserFactory(is_staff=True))

    assert "Django admin" in client.get(reverse("home")).content.decode()


def test_project_page_shows_team_stage_description_and_members(client, project):
    scientist = member(project, Role.DATA_SCIENTIST, username="priya", first_name="Priya", last_name="Raman")
    member(project, Role.ML_ENGINEER, username="tomas", first_name="Tomás", last_name="Ortega")
    client.force_login(scientist)

    response = client.get(project.get_absolute_url())

    assert response.status_code == 200
    html = response.content.decode()
    assert "Card fraud scoring" in html
    assert "Fraud Analytics" in html
    assert "Modeling" in html
    assert "Scores cards." in html
    assert "Priya Raman" in html and "priya" in html
    assert "Tomás Ortega" in html and "tomas" in html
    assert "ML engineer" in html
    # A plain member sees the members but cannot manage them.
    assert "Add a member" not in html
    assert "Remove" not in html


def test_project_page_offers_member_forms_to_the_team_leader(client, project):
    member(project, Role.DATA_SCIENTIST, username="priya")
    client.force_login(project.team.leader)

    html = client.get(project.get_absolute_url()).content.decode()

    assert "Add a member" in html
    assert reverse("teams:add_member", args=[project.slug]) in html
    assert "Change role" in html
    assert "Remove" in html


def test_team_page_shows_leader_and_only_projects_i_may_see(client, project):
    hidden = ProjectFactory(team=project.team, name="Chargeback forecasting")
    scientist = member(project, Role.DATA_SCIENTIST)
    client.force_login(scientist)

    response = client.get(project.team.get_absolute_url())

    assert response.status_code == 200
    html = response.content.decode()
    assert "Fraud Analytics" in html
    assert project.team.leader.display_name in html
    assert "Card fraud scoring" in html
    assert hidden.name not in html


def test_team_leader_sees_every_project_of_the_team(client, project):
    ProjectFactory(team=project.team, name="Chargeback forecasting")
    client.force_login(project.team.leader)

    html = client.get(project.team.get_absolute_url()).content.decode()

    assert "Card fraud scoring" in html
    assert "Chargeback forecasting" in html


def test_outsider_gets_404_for_project_page(client, project, other_project):
    client.force_login(member(other_project, Role.DATA_SCIENTIST))

    response = client.get(project.get_absolute_url())

    assert response.status_code == 404
    assert "Page not found" in response.content.decode()
    assert "Card fraud scoring" not in response.content.decode()


def test_outsider_gets_404_for_team_page(client, project, other_project):
    client.force_login(member(other_project, Role.DATA_SCIENTIST))

    assert client.get(project.team.get_absolute_url()).status_code == 404


def test_unknown_project_and_team_are_404(client, project):
    client.force_login(project.team.leader)

    assert client.get(reverse("teams:project", args=["no-such-project"])).status_code == 404
    assert client.get(reverse("teams:team", args=["no-such-team"])).status_code == 404


def test_superuser_sees_every_project_and_team(client, project, other_project):
    client.force_login(UserFactory(is_superuser=True, is_staff=True))

    html = client.get(reverse("home")).content.decode()
    assert "Card fraud scoring" in html and "Query ranking" in html
    assert client.get(other_project.get_absolute_url()).status_code == 200
    assert client.get(other_project.team.get_absolute_url()).status_code == 200


@pytest.mark.parametrize("url_name", ["home", "teams:project", "teams:team", "api_token", "password_change"])
def test_anonymous_is_redirected_to_login(client, project, url_name):
    args = {"teams:project": [project.slug], "teams:team": [project.team.slug]}.get(url_name, [])
    url = reverse(url_name, args=args)

    response = client.get(url)

    assert response.status_code == 302
    assert response["Location"] == f"{reverse('login')}?next={url}"


def test_team_without_visible_projects_of_mine_is_404_even_if_it_exists(client):
    team = TeamFactory()
    ProjectFactory(team=team)
    client.force_login(UserFactory())

    assert client.get(team.get_absolute_url()).status_code == 404


def test_server_error_page_is_readable_without_a_database(rf):
    from django.views.defaults import server_error

    response = server_error(rf.get("/projects/x/"))

    assert response.status_code == 500
    html = response.content.decode()
    assert "Something went wrong on our side" in html
    assert "/static/css/app.css" in html


def test_forbidden_page_says_why(client, project):
    client.force_login(member(project, Role.DATA_SCIENTIST))
    url = reverse("teams:add_member", args=[project.slug])

    response = client.post(url, {"username": "x", "role": "manager"})

    assert response.status_code == 403
    html = response.content.decode()
    assert "You cannot do that here" in html
    assert "Your role does not allow you to manage members here." in html


def test_admin_manages_teams_projects_and_roles_with_an_audit_trail(client, project):
    from handoff.audit.models import AuditEvent

    scientist = member(project, Role.DATA_SCIENTIST)
    client.force_login(UserFactory(is_superuser=True, is_staff=True))
    for name in ("team", "project", "roleassignment"):
        assert client.get(reverse(f"admin:teams_{name}_changelist")).status_code == 200
    assert client.get(reverse("admin:teams_project_change", args=[project.pk])).status_code == 200
    assignment = project.role_assignments.get(user=scientist)

    response = client.post(reverse("admin:teams_roleassignment_change", args=[assignment.pk]), {
        "user": scientist.pk, "project": project.pk, "role": Role.ML_ENGINEER,
    })

    assert response.status_code == 302
    assignment.refresh_from_db()
    assert assignment.role == Role.ML_ENGINEER
    event = AuditEvent.objects.get(verb="admin.roleassignment.changed")
    assert event.project == project and event.details == {"fields": ["role"]}


def test_project_page_lists_its_handovers_and_offers_a_data_scientist_to_file_one(client):
    from tests.factories import ready_draft

    project = ProjectFactory()
    scientist = member(project, Role.DATA_SCIENTIST)
    handover, _ = ready_draft(project=project, owner=scientist)
    client.force_login(scientist)

    response = client.get(project.get_absolute_url())

    assert handover.get_absolute_url() in response.content.decode()
    assert f"/handovers/new/?project={project.pk}" in response.content.decode()
    new_form = client.get(f"/handovers/new/?project={project.pk}").content.decode()
    assert f'<option value="{project.pk}" selected>' in new_form


def test_project_page_tells_an_engineer_that_nothing_was_handed_over_yet(client):
    project = ProjectFactory()
    engineer = member(project, Role.ML_ENGINEER)
    client.force_login(engineer)

    page = client.get(project.get_absolute_url()).content.decode()

    assert "No model has been handed over in this project yet." in page
    assert "/handovers/new/" not in page.split('id="handovers-heading"')[1].split('id="members-heading"')[0]
