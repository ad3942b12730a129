"""The navigation offers each person what their roles allow, from one query
(``access.reach``) that the home page shares, asked only when a page shows it."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from handoff import access
from handoff.access import Action
from handoff.dashboards.home import dashboard_url
from handoff.teams.models import Role
from tests.factories import ProjectFactory, RoleAssignmentFactory, TeamFactory, UserFactory, member

from .pages import HomePage

pytestmark = pytest.mark.django_db

LISTS = ["Home", "Handovers"]
TAIL = ["Contracts", "Incidents"]


@pytest.fixture
def project():
    return ProjectFactory(name="Churn Alpha", team=TeamFactory(name="Retention", slug="retention"))


def nav_of(client, user, url="/handovers/"):
    client.force_login(user)
    response = client.get(url)
    assert response.status_code == 200
    return HomePage(response.content.decode()).nav


def texts(nav):
    return [text for text, _ in nav]


def test_a_data_scientist_may_file_handovers_but_has_no_review_queue_or_dashboards(client, project):
    nav = texts(nav_of(client, member(project, Role.DATA_SCIENTIST)))

    assert nav == [*LISTS, "New handover", "My handovers", *TAIL, "API docs"]


def test_an_engineer_has_the_review_queue_and_files_nothing(client, project):
    nav = texts(nav_of(client, member(project, Role.ML_ENGINEER)))

    assert nav == [*LISTS, "Review queue", *TAIL, "API docs"]


@pytest.mark.parametrize("role", [Role.DATA_ENGINEER, Role.PRODUCT_MANAGER])
def test_a_reader_sees_the_lists_only(client, project, role):
    assert texts(nav_of(client, member(project, role))) == [*LISTS, *TAIL, "API docs"]


def test_a_manager_and_a_leader_are_offered_their_teams_dashboard(client, project):
    manager = member(project, Role.MANAGER)

    assert nav_of(client, manager)[-2] == ("Dashboards", dashboard_url(project.team))
    assert nav_of(client, project.team.leader)[-2] == ("Dashboards", dashboard_url("retention"))


def test_someone_seeing_several_teams_figures_is_sent_to_the_list_on_their_home(client, project):
    manager = member(project, Role.MANAGER)
    other = ProjectFactory(team=TeamFactory(name="Search", slug="search", leader=manager))

    assert dict(nav_of(client, manager))["Dashboards"] == f"{reverse('home')}#team-dashboards"
    home = client.get(reverse("home")).content.decode()
    assert 'id="team-dashboards"' in home and other.team.name in home


def test_someone_on_no_project_is_offered_only_home(client, project):
    assert texts(nav_of(client, UserFactory(), url=reverse("home"))) == ["Home", "API docs"]


def test_the_navigation_costs_one_query_and_the_home_page_shares_it(client, project):
    scientist = member(project, Role.DATA_SCIENTIST)
    client.force_login(scientist)

    with CaptureQueriesContext(connection) as queries:
        client.get(reverse("home"))

    # ``access.reach``'s one query: the roles with their teams' slugs (scopes read only project ids).
    reads_of_roles = [q["sql"] for q in queries if '"project__team__slug"' in q["sql"]]
    assert len(reads_of_roles) == 1


def test_a_page_that_shows_no_navigation_does_not_read_the_roles(client, project):
    # The login page renders base.html for an anonymous visitor: no navigation, no query for it.
    with CaptureQueriesContext(connection) as queries:
        assert client.get(reverse("login")).status_code == 200

    assert not [q for q in queries if "teams_roleassignment" in q["sql"]]


# --- reach answers as projects_allowing does ---------------------------------------------------------


def _people():
    team = TeamFactory(name="Retention", slug="retention")
    alpha = ProjectFactory(team=team)
    ProjectFactory(team=TeamFactory(name="Vision", slug="vision"))
    empty_team_leader = UserFactory()
    TeamFactory(leader=empty_team_leader)  # leads a team without projects: may do nothing yet
    both = member(alpha, Role.DATA_SCIENTIST)
    RoleAssignmentFactory(user=both, project=ProjectFactory(team=team), role=Role.ML_ENGINEER)
    people = {role.value: member(alpha, role) for role in Role}
    people.update(leader=team.leader, superuser=UserFactory(is_superuser=True), nobody=UserFactory(),
                  empty_team_leader=empty_team_leader, both=both)
    return people


def test_reach_allows_exactly_what_projects_allowing_finds_somewhere():
    for who, user in _people().items():
        reach = access.reach(user)
        for action in Action:
            expected = access.projects_allowing(user, action).exists()
            assert reach.allows(action) == expected, (who, action)


def test_reach_names_the_teams_whose_figures_a_person_may_see():
    people = _people()

    assert access.reach(people["manager"]).teams_allowing(Action.VIEW_DASHBOARD) == ["retention"]
    assert access.reach(people["leader"]).teams_allowing(Action.VIEW_DASHBOARD) == ["retention"]
    assert access.reach(people["data_scientist"]).teams_allowing(Action.VIEW_DASHBOARD) == []
    assert access.reach(people["superuser"]).teams_allowing(Action.VIEW_DASHBOARD) is None
