"""The home page starts with what needs each person, in the sections their
roles allow, each listing exactly its items; then their projects.

The first tests read the demo (``seed_demo``) as each of its accounts; the
others build each rule's data by hand, with rows the rule must leave out."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from handoff.contracts.models import ContractState
from handoff.dashboards.home import CAP, dashboard_url
from handoff.handovers.models import HandoverState
from handoff.incidents.models import Incident, IncidentStatus, Severity
from handoff.teams.models import Role
from tests.factories import (
    ContractFactory,
    ContractSignatureFactory,
    HandoverFactory,
    IncidentFactory,
    ModelFactory,
    ProjectFactory,
    RoleAssignmentFactory,
    TeamFactory,
    UserFactory,
    member,
)

from .pages import HomePage

BREACH = "Accuracy breaches the contract of screening-logreg 1.0.0 in production"
FRAUD_PROJECTS = ["Card fraud scoring", "Chargeback forecasting"]
EVERYONE_NAV = ["Home", "Handovers"]
LISTS_NAV = ["Contracts", "Incidents"]


def home_of(client, user):
    client.force_login(user)
    response = client.get(reverse("home"))
    assert response.status_code == 200
    return HomePage(response.content.decode())


def incident(title):
    """An incident as its row names it: "#<id> <title>"."""
    return f"#{Incident.objects.get(title=title).pk} {title}"


# --- each demo account ----------------------------------------------------------------------------


@pytest.fixture
def demo(transactional_db, django_user_model):
    # Transactional: seed_demo validates on commit, as it does outside tests.
    call_command("seed_demo")
    return {user.username: user for user in django_user_model.objects.all()}


def test_demo_scientist_sees_their_failed_handovers_the_incident_on_their_model_and_their_draft(client, demo):
    page = home_of(client, demo["scientist"])

    assert page.items == {
        # 1.2.0 overstates its accuracy; the MLP candidate breaks the contract's parameter budget.
        "waiting-on-you": ["screening-logreg 1.2.0", "second-read-mlp 1.0.0"],
        "contracts": [],  # the demo contract is agreed: both sides signed
        "my-incidents": [incident(BREACH)],  # the resolved one is not listed
        "drafts": ["screening-logreg 1.3.0"],
        "projects": FRAUD_PROJECTS,
    }
    assert page.sections == ["waiting-on-you", "contracts", "my-incidents", "drafts", "projects"]
    assert page.nav_texts() == [*EVERYONE_NAV, "New handover", "My handovers", *LISTS_NAV, "API docs"]


def test_demo_engineer_sees_the_review_queue_oldest_first_and_the_open_incident_to_triage(client, demo):
    page = home_of(client, demo["engineer"])

    assert page.items == {
        "review": ["screening-logreg 1.1.0", "second-read-logreg 1.0.0", "second-read-scaled-logreg 1.0.0"],
        "contracts": [],
        "triage": [incident(BREACH)],
        "projects": FRAUD_PROJECTS,
    }
    assert page.sections == ["review", "contracts", "triage", "projects"]
    assert page.nav_texts() == [*EVERYONE_NAV, "Review queue", *LISTS_NAV, "API docs"]


def test_demo_manager_sees_their_teams_dashboard_and_nothing_escalated(client, demo):
    page = home_of(client, demo["manager"])

    assert page.items == {"escalated": [], "team-dashboards": ["Fraud Analytics"], "projects": FRAUD_PROJECTS}
    assert page.hrefs["Fraud Analytics"] == dashboard_url("fraud-analytics")
    assert page.nav == [("Home", "/"), ("Handovers", "/handovers/"), ("Contracts", "/contracts/"),
                        ("Incidents", "/incidents/"), ("Dashboards", dashboard_url("fraud-analytics")),
                        ("API docs", reverse("api-docs"))]


def test_demo_outsider_sees_only_query_ranking_and_is_told_to_file_a_handover(client, demo):
    page = home_of(client, demo["outsider"])

    assert page.items == {"waiting-on-you": [], "contracts": [], "my-incidents": [], "drafts": [],
                          "projects": ["Query ranking"]}
    html = client.get(reverse("home")).content.decode()
    assert "You have not handed over a model yet" in html
    assert f'href="{reverse("handovers:new")}">File a new handover</a>' in html
    for other_team in ("Card fraud scoring", "Fraud Analytics", "screening-logreg", "second-read", BREACH):
        assert other_team not in html


def test_demo_lead2_sees_search_relevances_dashboard_only(client, demo):
    page = home_of(client, demo["lead2"])

    assert page.items == {"escalated": [], "team-dashboards": ["Search Relevance"],
                          "projects": ["Query ranking"]}
    assert dict(page.nav)["Dashboards"] == dashboard_url("search-relevance")


def test_demo_engineer2_has_nothing_to_review_or_triage_in_query_ranking(client, demo):
    page = home_of(client, demo["engineer2"])

    assert page.items == {"review": [], "contracts": [], "triage": [], "projects": ["Query ranking"]}


def test_demo_admin_sees_every_teams_dashboard_but_no_queue_without_a_role(client, demo):
    page = home_of(client, demo["admin"])

    assert page.items == {"escalated": [], "team-dashboards": ["Fraud Analytics", "Search Relevance"],
                          "projects": [*FRAUD_PROJECTS, "Query ranking"]}
    # Several teams: the navigation's Dashboards leads to the list of them on the home page.
    assert dict(page.nav)["Dashboards"] == f"{reverse('home')}#team-dashboards"


def test_demo_newcomer_without_a_project_is_told_to_ask_a_team_leader(client, demo):
    page = home_of(client, UserFactory(username="newcomer"))

    assert page.items == {"first-step": []}
    assert page.nav_texts() == ["Home", "API docs"]
    html = client.get(reverse("home")).content.decode()
    assert "You are not on any project yet" in html and "Ask your team leader to add you" in html


# --- each section on hand-built data ---------------------------------------------------------------


@pytest.fixture
def world(db):
    """Team Retention (leader lee): Churn Alpha (Priya data scientist, Tomás ML engineer) and Churn
    Beta (Priya ML engineer, Tomás data scientist); team Search (leader mia): Query ranking, where
    Olga files handovers and Egon reviews."""
    retention = TeamFactory(name="Retention", slug="retention", leader=UserFactory(username="lee"))
    alpha = ProjectFactory(team=retention, name="Churn Alpha", slug="churn-alpha")
    beta = ProjectFactory(team=retention, name="Churn Beta", slug="churn-beta")
    search = TeamFactory(name="Search", slug="search", leader=UserFactory(username="mia"))
    ranking = ProjectFactory(team=search, name="Query ranking", slug="query-ranking")
    priya = member(alpha, Role.DATA_SCIENTIST, username="priya")
    tomas = member(alpha, Role.ML_ENGINEER, username="tomas")
    RoleAssignmentFactory(user=priya, project=beta, role=Role.ML_ENGINEER)
    RoleAssignmentFactory(user=tomas, project=beta, role=Role.DATA_SCIENTIST)
    olga = member(ranking, Role.DATA_SCIENTIST, username="olga")
    egon = member(ranking, Role.ML_ENGINEER, username="egon")

    class World:
        pass

    w = World()
    w.__dict__.update(retention=retention, alpha=alpha, beta=beta, search=search, ranking=ranking,
                      lee=retention.leader, mia=search.leader, priya=priya, tomas=tomas, olga=olga, egon=egon)
    return w


def handover(project, owner, version, state, *, name="churn-gbm", **fields):
    model = ModelFactory(project=project, owner=owner, name=name) if isinstance(name, str) else name
    return HandoverFactory(model=model, version_label=version, state=state, **fields)


def aged(obj, days):
    """Make ``obj`` last changed ``days`` ago (orders the lists: the longest waiting first)."""
    type(obj).objects.filter(pk=obj.pk).update(updated_at=timezone.now() - timedelta(days=days))


def test_my_handovers_waiting_on_me_are_mine_with_changes_requested_or_failed_validation(client, world):
    mine = ModelFactory(project=world.alpha, owner=world.priya, name="churn-gbm")
    failed = handover(world.alpha, world.priya, "1.1.0", HandoverState.VALIDATION_FAILED, name=mine)
    changes = handover(world.alpha, world.priya, "1.0.0", HandoverState.CHANGES_REQUESTED, name=mine)
    aged(changes, 3)
    aged(failed, 1)
    not_waiting = (HandoverState.AWAITING_REVIEW, HandoverState.ACCEPTED, HandoverState.VALIDATING)
    for n, state in enumerate(not_waiting):
        handover(world.alpha, world.priya, f"2.0.{n}", state, name=mine)
    # Another owner's handover with changes requested, in my own project and in another team's.
    handover(world.alpha, world.tomas, "9.0.0", HandoverState.CHANGES_REQUESTED, name="tomas-model")
    handover(world.ranking, world.olga, "9.0.0", HandoverState.CHANGES_REQUESTED, name="olga-model")

    page = home_of(client, world.priya)

    assert page.items["waiting-on-you"] == ["churn-gbm 1.0.0", "churn-gbm 1.1.0"]  # the longest waiting first
    assert page.totals["waiting-on-you"] == 2


def test_a_handover_i_own_in_a_project_i_left_is_not_listed(client, world):
    handover(world.ranking, world.priya, "1.0.0", HandoverState.CHANGES_REQUESTED, name="left-behind")
    handover(world.ranking, world.priya, "1.1.0", HandoverState.DRAFT, name="left-draft")
    handover(world.alpha, world.priya, "1.0.0", HandoverState.DRAFT)  # she has handed over something

    page = home_of(client, world.priya)

    assert page.items["waiting-on-you"] == [] and page.items["drafts"] == ["churn-gbm 1.0.0"]
    assert "left-behind" not in client.get(reverse("home")).content.decode()


def test_drafts_are_my_unsubmitted_handovers_the_longest_untouched_first(client, world):
    mine = ModelFactory(project=world.alpha, owner=world.priya, name="churn-gbm")
    recent = handover(world.alpha, world.priya, "1.1.0", HandoverState.DRAFT, name=mine)
    old = handover(world.alpha, world.priya, "1.0.0", HandoverState.DRAFT, name=mine)
    aged(old, 10)
    aged(recent, 1)
    handover(world.alpha, world.priya, "0.9.0", HandoverState.VALIDATING, name=mine)
    handover(world.alpha, world.tomas, "1.0.0", HandoverState.DRAFT, name="tomas-model")

    page = home_of(client, world.priya)

    assert page.items["drafts"] == ["churn-gbm 1.0.0", "churn-gbm 1.1.0"]


def test_a_scientist_with_nothing_filed_is_told_how_to_file_a_handover(client, world):
    handover(world.alpha, world.tomas, "1.0.0", HandoverState.DRAFT, name="tomas-model")

    client.force_login(world.priya)
    html = client.get(reverse("home")).content.decode()

    assert "You have not handed over a model yet" in html and "File a new handover" in html
    # Once she has filed one (even accepted long ago), she is not told to start.
    handover(world.alpha, world.priya, "1.0.0", HandoverState.ACCEPTED)
    html = client.get(reverse("home")).content.decode()
    assert "You have not handed over a model yet" not in html
    assert "None of your handovers waits on you" in html


def test_contracts_to_sign_are_proposed_in_my_projects_where_my_side_has_not_signed(client, world):
    waiting = ContractFactory(project=world.alpha, title="Churn terms", created_by=world.tomas)
    # Tomás (the engineer) signed: it still waits on the data scientist's side.
    ContractSignatureFactory(contract=waiting, signer=world.tomas, role=Role.ML_ENGINEER)
    older = ContractFactory(project=world.beta, title="Beta terms", created_by=world.tomas)
    aged(older, 5)
    signed_by_me = ContractFactory(project=world.alpha, title="Signed by me", created_by=world.tomas)
    ContractSignatureFactory(contract=signed_by_me, signer=world.priya, role=Role.DATA_SCIENTIST)
    my_side_signed = ContractFactory(project=world.alpha, title="My side signed", created_by=world.tomas)
    ContractSignatureFactory(contract=my_side_signed, signer=member(world.alpha, Role.DATA_SCIENTIST),
                             role=Role.DATA_SCIENTIST)
    ContractFactory(project=world.alpha, title="Still a draft", state=ContractState.DRAFT,
                    created_by=world.tomas)
    ContractFactory(project=world.alpha, title="Agreed already", state=ContractState.AGREED,
                    created_by=world.tomas)
    ContractFactory(project=world.ranking, title="Another team's", created_by=world.egon)
    # A project where she reads but may not sign.
    reading = ProjectFactory(team=world.retention, name="Churn Gamma")
    RoleAssignmentFactory(user=world.priya, project=reading, role=Role.DATA_ENGINEER)
    ContractFactory(project=reading, title="Not hers to sign", created_by=world.tomas)

    page = home_of(client, world.priya)

    # In Beta she is the engineer: nobody signed, so it waits on her side too.
    assert page.items["contracts"] == ["Beta terms v1", "Churn terms v1"]
    assert page.hrefs["Churn terms v1"] == waiting.get_absolute_url()
    # Tomás signed Churn terms as the engineer: on his home it no longer waits. In Alpha he is the
    # engineer, so the two the data scientists signed still wait on his side; in Beta he is a data
    # scientist and nobody signed.
    assert home_of(client, world.tomas).items["contracts"] == [
        "Beta terms v1", "Signed by me v1", "My side signed v1"]


def test_incidents_on_my_models_are_those_being_worked_on_models_i_own(client, world):
    mine = handover(world.alpha, world.priya, "1.0.0", HandoverState.DEPLOYED)
    theirs = handover(world.alpha, world.tomas, "1.0.0", HandoverState.DEPLOYED, name="tomas-model")
    sev3 = IncidentFactory(project=world.alpha, handover=mine, title="Latency creeps", severity=Severity.SEV3)
    sev1 = IncidentFactory(project=world.alpha, handover=mine, title="Accuracy fell", severity=Severity.SEV1,
                           status=IncidentStatus.MITIGATED)
    IncidentFactory(project=world.alpha, handover=mine, title="Fixed already", status=IncidentStatus.RESOLVED)
    IncidentFactory(project=world.alpha, handover=theirs, title="Not my model")
    left = handover(world.ranking, world.priya, "1.0.0", HandoverState.DEPLOYED, name="left-behind")
    IncidentFactory(project=world.ranking, handover=left, title="Out of my reach")

    page = home_of(client, world.priya)

    assert page.items["my-incidents"] == [f"#{sev1.pk} Accuracy fell", f"#{sev3.pk} Latency creeps"]


def test_the_review_queue_lists_handovers_awaiting_review_where_i_review(client, world):
    now = timezone.now()
    older = handover(world.beta, world.tomas, "1.0.0", HandoverState.AWAITING_REVIEW, name="beta-old",
                     awaiting_review_since=now - timedelta(days=2))
    newer = handover(world.beta, world.tomas, "1.1.0", HandoverState.AWAITING_REVIEW, name="beta-new",
                     awaiting_review_since=now - timedelta(hours=1))
    # In Alpha she is the data scientist: she does not review there.
    handover(world.alpha, world.tomas, "1.0.0", HandoverState.AWAITING_REVIEW, name="alpha-model",
             awaiting_review_since=now - timedelta(days=5))
    handover(world.beta, world.tomas, "2.0.0", HandoverState.CHANGES_REQUESTED, name="beta-changes")
    handover(world.ranking, world.olga, "1.0.0", HandoverState.AWAITING_REVIEW, name="other-team",
             awaiting_review_since=now - timedelta(days=9))

    page = home_of(client, world.priya)

    assert page.items["review"] == [f"beta-old {older.version_label}", f"beta-new {newer.version_label}"]


def test_the_triage_queue_lists_incidents_being_worked_where_i_triage(client, world):
    old = IncidentFactory(project=world.beta, title="Beta drift",
                          opened_at=timezone.now() - timedelta(days=1))
    severe = IncidentFactory(project=world.beta, title="Beta down", severity=Severity.SEV1,
                             status=IncidentStatus.ACKNOWLEDGED)
    IncidentFactory(project=world.beta, title="Beta closed", status=IncidentStatus.CLOSED)
    IncidentFactory(project=world.alpha, title="Alpha, where she is the data scientist")
    IncidentFactory(project=world.ranking, title="Another team's incident")

    page = home_of(client, world.priya)

    assert page.items["triage"] == [f"#{severe.pk} Beta down", f"#{old.pk} Beta drift"]


def test_a_leader_sees_their_teams_escalations_and_dashboard_only(client, world):
    escalated = IncidentFactory(project=world.beta, title="Nobody answered", escalated_at=timezone.now())
    IncidentFactory(project=world.alpha, title="Answered in time")
    IncidentFactory(project=world.alpha, title="Escalated then resolved", escalated_at=timezone.now(),
                    status=IncidentStatus.RESOLVED)
    IncidentFactory(project=world.ranking, title="Escalated in Search", escalated_at=timezone.now())
    handover(world.alpha, world.priya, "1.0.0", HandoverState.AWAITING_REVIEW,
             awaiting_review_since=timezone.now())

    page = home_of(client, world.lee)

    assert page.items == {"escalated": [f"#{escalated.pk} Nobody answered"], "team-dashboards": ["Retention"],
                          "projects": ["Churn Alpha", "Churn Beta"]}
    assert page.hrefs["Retention"] == dashboard_url(world.retention)
    html = client.get(reverse("home")).content.decode()
    # Counted over the team: Alpha's handover and both incidents being worked (not the resolved one).
    assert "1 awaiting review · 2 incidents being worked" in html
    assert home_of(client, world.mia).items["escalated"] == [
        f"#{Incident.objects.get(title='Escalated in Search').pk} Escalated in Search"]


def test_a_manager_on_one_project_sees_that_projects_team_and_its_escalations(client, world):
    manager = member(world.alpha, Role.MANAGER, username="max")
    alpha = IncidentFactory(project=world.alpha, title="Alpha escalated", escalated_at=timezone.now())
    IncidentFactory(project=world.beta, title="Beta escalated", escalated_at=timezone.now())

    page = home_of(client, manager)

    assert page.items == {"escalated": [f"#{alpha.pk} Alpha escalated"], "team-dashboards": ["Retention"],
                          "projects": ["Churn Alpha"]}
    # On Beta he files handovers: he sees its incidents, but not its figures nor its escalations.
    RoleAssignmentFactory(user=manager, project=world.beta, role=Role.DATA_SCIENTIST)
    page = home_of(client, manager)
    assert page.items["escalated"] == [f"#{alpha.pk} Alpha escalated"]
    assert page.items["projects"] == ["Churn Alpha", "Churn Beta"]


def test_sections_follow_the_roles(client, world):
    scientist_only = member(world.ranking, Role.DATA_SCIENTIST)
    engineer_only = member(world.ranking, Role.ML_ENGINEER)
    data_engineer = member(world.ranking, Role.DATA_ENGINEER)
    product_manager = member(world.ranking, Role.PRODUCT_MANAGER)

    assert home_of(client, scientist_only).sections == [
        "waiting-on-you", "contracts", "my-incidents", "drafts", "projects"]
    assert home_of(client, engineer_only).sections == ["review", "contracts", "triage", "projects"]
    assert home_of(client, data_engineer).sections == ["first-step", "projects"]
    assert home_of(client, product_manager).sections == ["first-step", "projects"]
    # Both roles (Priya): both kinds of work, each section once.
    assert home_of(client, world.priya).sections == [
        "waiting-on-you", "review", "contracts", "my-incidents", "triage", "drafts", "projects"]


def test_each_list_shows_the_first_ten_with_the_count_and_a_link_to_all(client, world):
    model = ModelFactory(project=world.alpha, owner=world.priya, name="churn-gbm")
    for n in range(CAP + 2):
        failed = handover(world.alpha, world.priya, f"1.{n}.0", HandoverState.VALIDATION_FAILED, name=model)
        aged(failed, 20 - n)

    page = home_of(client, world.priya)

    assert page.items["waiting-on-you"] == [f"churn-gbm 1.{n}.0" for n in range(CAP)]
    assert page.totals["waiting-on-you"] == CAP + 2
    html = client.get(reverse("home")).content.decode()
    assert "(the first 10 of 12)" in html and "12 in all" in html
    see_all = (f"{reverse('handovers:list')}?owner=priya"
               "&amp;state=changes_requested&amp;state=validation_failed")
    assert f'href="{see_all}">See all' in html
    listed = client.get(see_all.replace("&amp;", "&")).content.decode()
    assert all(f"1.{n}.0" in listed for n in range(CAP + 2))


def test_an_empty_section_says_what_to_do(client, world):
    client.force_login(world.tomas)
    html = client.get(reverse("home")).content.decode()

    assert "Nothing to review. Handovers appear here once they pass validation" in html
    assert "No contract waits for your signature" in html
    assert "No incident is being worked in the projects you triage" in html


def test_a_leaders_team_row_sums_up_its_dashboard_over_the_last_90_days(client, world):
    from decimal import Decimal

    from handoff.handovers.models import Revision
    from tests.factories import DeploymentFactory, accepted_handover

    def accepted(project, hours):
        handover, revision = accepted_handover(project=project)
        Revision.objects.filter(pk=revision.pk).update(submitted_at=timezone.now() - timedelta(hours=hours))
        return handover

    accepted(world.alpha, 2)
    live = accepted(world.beta, 4)
    accepted(world.ranking, 1)  # Search's: not Retention's figure
    struck = DeploymentFactory(handover=live, monthly_value=Decimal("4000"))
    IncidentFactory(project=world.beta, deployment=struck)

    client.force_login(world.lee)
    html = client.get(reverse("home")).content.decode()
    # Two accepted: 2 h and 4 h, nearest-rank median 2 h; Beta's 4 000 a month is at risk.
    assert "2 accepted in 90 days · median lead time 2.0 h · 0 awaiting review · 1 incident being worked" \
        " · 4,000 EUR a month at risk" in html
