"""The team dashboard: the page, its CSV and its API show the same figures, to
the people access lets see them, over the projects they may see and nothing else."""

import csv
import io
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from handoff.handovers import services as handover_services
from handoff.handovers.models import Handover, HandoverState, Revision
from handoff.incidents.models import IncidentStatus, Severity
from handoff.teams.models import Role
from tests.factories import (
    IncidentFactory,
    ProjectFactory,
    RevisionFactory,
    TeamFactory,
    UserFactory,
    accepted_handover,
    member,
)

pytestmark = pytest.mark.django_db


def logged_in(user):
    client = Client()
    client.force_login(user)
    return client


def accepted(project, hours):
    """A handover of ``project`` submitted ``hours`` before it was accepted, now."""
    handover, revision = accepted_handover(project=project)
    Revision.objects.filter(pk=revision.pk).update(submitted_at=timezone.now() - timedelta(hours=hours))
    return handover


@pytest.fixture
def world():
    """Team Fraud (leader lead) with Cards (a manager on it) and Loans; team Search next door."""
    fraud = TeamFactory(name="Fraud", slug="fraud", leader=UserFactory(username="lead"))
    cards = ProjectFactory(team=fraud, name="Cards", slug="cards")
    loans = ProjectFactory(team=fraud, name="Loans", slug="loans")
    search = TeamFactory(name="Search", slug="search", leader=UserFactory(username="searchlead"))
    ranking = ProjectFactory(team=search, name="Ranking", slug="ranking")
    accepted(cards, 2)
    accepted(loans, 10)
    accepted(loans, 20)
    for hours in (1, 1, 1, 1, 1):
        accepted(ranking, hours)
    IncidentFactory(project=ranking, severity=Severity.SEV1)
    IncidentFactory(project=cards, severity=Severity.SEV2)
    return {
        "fraud": fraud, "cards": cards, "loans": loans, "search": search, "ranking": ranking,
        "manager": member(cards, Role.MANAGER, username="cardsmanager"),
        "scientist": member(cards, Role.DATA_SCIENTIST, username="cardsscientist"),
    }


def page(client, team="fraud", **query):
    return client.get(reverse("dashboards:team", args=[team]), query)


def api(client, team="fraud", **query):
    return client.get(f"/api/v1/dashboards/team/{team}/", query)


def csv_figures(client, team="fraud", **query):
    response = client.get(reverse("dashboards:team_csv", args=[team]), query)
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    return {(row[0], row[1]): row[2] for row in rows[1:rows.index([])]}


def test_the_leader_sees_every_project_of_the_team_and_nothing_of_another(world):
    client = logged_in(world["fraud"].leader)
    data = api(client).json()

    # Cards 2 h, Loans 10 h and 20 h: median 10 h, p90 20 h. Search's five 1-hour handovers count for nothing.
    assert data["handovers"]["accepted"] == 3
    assert data["handovers"]["lead_time"] == {"count": 3, "median_hours": 10.0, "p90_hours": 20.0}
    assert data["incidents"]["open"] == {"total": 1, "sev1": 0, "sev2": 1, "sev3": 0, "sev4": 0}
    assert [p["slug"] for p in data["by_project"]] == ["cards", "loans"]
    figures = csv_figures(client)
    assert figures[("handovers", "accepted")] == "3" and figures[("incidents", "open_sev1")] == "0"
    body = page(client).content.decode()
    assert 'data-figure="accepted">3<' in body and "Ranking" not in body


def test_the_project_filter_narrows_every_figure_to_that_project(world):
    client = logged_in(world["fraud"].leader)
    data = api(client, project="loans").json()

    assert data["project"] == "loans"
    assert data["handovers"]["accepted"] == 2
    assert data["incidents"]["open"]["total"] == 0
    assert [p["slug"] for p in data["by_project"]] == ["loans"]
    assert csv_figures(client, project="loans")[("handovers", "accepted")] == "2"
    assert 'data-figure="accepted">2<' in page(client, project="loans").content.decode()


def test_a_manager_sees_only_the_projects_they_manage(world):
    client = logged_in(world["manager"])
    data = api(client).json()

    assert [p["slug"] for p in data["projects"]] == ["cards"]
    assert data["handovers"]["accepted"] == 1 and data["handovers"]["lead_time"]["median_hours"] == 2.0
    assert csv_figures(client)[("handovers", "accepted")] == "1"
    assert "Loans" not in page(client).content.decode()
    # Naming the other project of the team is as if it did not exist.
    assert api(client, project="loans").status_code == 404
    assert page(client, project="loans").status_code == 404


def test_someone_outside_the_team_finds_no_dashboard_in_the_page_the_csv_or_the_api(world):
    outsider = world["search"].leader
    client = logged_in(outsider)

    assert page(client).status_code == 404
    assert client.get(reverse("dashboards:team_csv", args=["fraud"])).status_code == 404
    response = api(client)
    assert response.status_code == 404 and "Cards" not in response.content.decode()
    # Their own team's figures hold only their own team's data.
    assert api(client, team="search").json()["handovers"]["accepted"] == 5


def test_a_member_without_the_manager_role_sees_the_team_but_not_its_figures(world):
    client = logged_in(world["scientist"])

    assert page(client).status_code == 403
    response = api(client)
    assert response.status_code == 403 and "leader" in response.json()["detail"]
    assert client.get(reverse("dashboards:team_csv", args=["fraud"])).status_code == 403


def test_a_period_not_offered_is_a_clear_400_in_the_api_and_a_message_on_the_page(world):
    client = logged_in(world["fraud"].leader)

    response = api(client, period="12")
    assert response.status_code == 400 and "one of 7, 30, 90, 180, 365" in response.content.decode()
    followed = client.get(reverse("dashboards:team", args=["fraud"]), {"period": "abc"}, follow=True)
    assert followed.status_code == 200 and "one of 7, 30, 90, 180, 365" in followed.content.decode()


def test_the_period_decides_which_acceptances_count(world):
    old = accepted(world["cards"], 3)
    old.revisions.get().reviews.update(created_at=timezone.now() - timedelta(days=60))
    client = logged_in(world["fraud"].leader)

    assert api(client, period="30").json()["handovers"]["accepted"] == 3
    assert api(client, period="90").json()["handovers"]["accepted"] == 4


def test_the_index_lists_the_teams_whose_figures_i_may_see(world):
    lead = world["fraud"].leader
    other = TeamFactory(name="Another", slug="another", leader=lead)
    ProjectFactory(team=other)
    body = logged_in(lead).get(reverse("dashboards:index")).content.decode()
    assert "Fraud" in body and "Another" in body and "Search" not in body
    # One team: straight to it.
    assert logged_in(world["manager"]).get(reverse("dashboards:index")).url == "/teams/fraud/dashboard/"
    nothing = logged_in(world["scientist"]).get(reverse("dashboards:index"))
    assert "No dashboard for you yet" in nothing.content.decode()


def test_figures_change_as_soon_as_what_they_count_changes(world):
    """The figures are cached; a handover accepted, an incident resolved, drops the cached copy."""
    client = logged_in(world["fraud"].leader)
    before = api(client).json()
    assert before["handovers"]["accepted"] == 3 and before["incidents"]["open"]["total"] == 1

    engineer = member(world["cards"], Role.ML_ENGINEER)
    model = world["cards"].models.first()
    handover = Handover.objects.create(
        model=model, project=world["cards"], version_label="9.9", owner=model.owner,
        state=HandoverState.AWAITING_REVIEW, awaiting_review_since=timezone.now())
    revision = RevisionFactory(handover=handover, number=1, submitted_at=timezone.now() - timedelta(hours=4))
    assert api(client).json()["handovers"]["accepted"] == 3

    handover_services.accept_revision(engineer, revision)
    assert api(client).json()["handovers"]["accepted"] == 4

    incident = world["cards"].incidents.get()
    incident.status = IncidentStatus.RESOLVED
    incident.save()
    assert api(client).json()["incidents"]["open"]["total"] == 0


def test_a_value_recorded_shows_on_the_dashboard_at_once(world):
    from decimal import Decimal

    from handoff.deployments import services as deployment_services
    from tests.factories import DeploymentFactory

    client = logged_in(world["fraud"].leader)
    deployment = DeploymentFactory(handover=world["cards"].handovers.first())
    assert api(client).json()["production"]["monthly_value"] == "0.00"

    deployment_services.record_value(world["fraud"].leader, deployment, monthly_value=Decimal("2500"),
                                     monthly_cost=Decimal("300"))
    assert api(client).json()["production"]["monthly_net"] == "2200.00"


@pytest.mark.django_db(transaction=True)
def test_the_demo_outsider_sees_no_figure_of_another_team():
    call_command("seed_demo", verbosity=0)
    from django.contrib.auth import get_user_model

    users = get_user_model().objects
    outsider = logged_in(users.get(username="outsider"))
    for url in ("/teams/fraud-analytics/dashboard/", "/teams/fraud-analytics/dashboard.csv",
                "/api/v1/dashboards/team/fraud-analytics/"):
        assert outsider.get(url).status_code == 404, url
    # Their own team's dashboard is for its leader: they see the team, not its figures.
    assert outsider.get("/api/v1/dashboards/team/search-relevance/").status_code == 403
    # Search Relevance's leader sees only Query ranking, whatever Fraud Analytics holds.
    data = logged_in(users.get(username="lead2")).get("/api/v1/dashboards/team/search-relevance/").json()
    assert [p["slug"] for p in data["projects"]] == ["query-ranking"]
    fraud = logged_in(users.get(username="manager")).get("/api/v1/dashboards/team/fraud-analytics/").json()
    assert fraud["handovers"]["first_runs"] > 0 and data["handovers"]["first_runs"] == 0
