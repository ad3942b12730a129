"""Who sees and does what, for every kind of person, through every door.

One world: team "Retention" (leader Lee) with projects "Churn Alpha" (the
project under test) and "Upsell Beta"; team "Vision" (leader Vic) with
"Detector Gamma". Each row is a person; each column a page, an API call or
``handoff.access.can``. A cell is the outcome that person must get:

* pages and API retrieve: 200, or 404 for anything out of reach (never 403);
* lists: "present" or "absent";
* member management: 302 (done), 400 (bad input, seen only by who may manage),
  403 (sees the project, may not manage), 404 (out of reach, even with bad input).
"""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.test import Client

from handoff import access
from handoff.access import Action
from handoff.core.errors import Forbidden, NotFound
from handoff.teams.models import Role, RoleAssignment
from tests.factories import ProjectFactory, TeamFactory, UserFactory, member

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    # Each world makes a dozen users; the production hasher would spend seconds on them.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

DS, MLE, DE, PM, MGR = (
    Role.DATA_SCIENTIST, Role.ML_ENGINEER, Role.DATA_ENGINEER, Role.PRODUCT_MANAGER, Role.MANAGER
)
ROWS = [
    "data_scientist", "ml_engineer", "data_engineer", "product_manager", "manager",
    "team_leader", "superuser", "member_of_other_project_in_team", "member_of_other_team",
    "leader_of_other_team", "staff_without_role",
]

# --- Seeing -----------------------------------------------------------------
VISIBILITY_COLUMNS = (
    "project page", "team page", "team page lists project", "home lists project",
    "API project", "API team", "API project list", "API team list", "API team lists project",
)
SEES_ALL = (200, 200, "present", "present", 200, 200, "present", "present", "present")
SEES_TEAM_ONLY = (404, 200, "absent", "absent", 404, 200, "absent", "present", "absent")
SEES_NOTHING = (404, 404, "-", "absent", 404, 404, "absent", "absent", "-")
VISIBILITY = {
    "data_scientist": SEES_ALL,
    "ml_engineer": SEES_ALL,
    "data_engineer": SEES_ALL,
    "product_manager": SEES_ALL,
    "manager": SEES_ALL,
    "team_leader": SEES_ALL,
    "superuser": SEES_ALL,
    "member_of_other_project_in_team": SEES_TEAM_ONLY,
    "member_of_other_team": SEES_NOTHING,
    "leader_of_other_team": SEES_NOTHING,
    "staff_without_role": SEES_NOTHING,
}

# --- access.can(user, action, project) ---------------------------------------
A = Action
LEADS = {A.VIEW, A.MANAGE_MEMBERS, A.COMMENT, A.VIEW_DASHBOARD, A.MANAGE_WEBHOOKS, A.REPORT_INCIDENT,
         A.READ_BLIND_LABELS, A.RECORD_VALUE}
CAN_ON_PROJECT = {
    # Anyone on a project may report an incident; engineers triage it and, with the
    # owning data scientist (tests/incidents), write its postmortem.
    # Both sides draft and sign contracts; engineers select candidates and, with the
    # team leader, read a blind contract's labels, which data scientists never see.
    "data_scientist": {A.VIEW, A.CREATE_HANDOVER, A.EDIT_REVISION, A.SUBMIT_REVISION, A.REVISE_HANDOVER,
                       A.COMMENT, A.REPORT_INCIDENT, A.DRAFT_CONTRACT, A.SIGN_CONTRACT},
    "ml_engineer": {A.VIEW, A.REVIEW_REVISION, A.REVALIDATE, A.COMMENT, A.DEPLOY, A.TRIAGE_INCIDENT,
                    A.MANAGE_WEBHOOKS, A.MANAGE_INGESTION_TOKENS, A.REPORT_INCIDENT, A.EDIT_POSTMORTEM,
                    A.DRAFT_CONTRACT, A.SIGN_CONTRACT, A.SELECT_CANDIDATE, A.READ_BLIND_LABELS},
    "data_engineer": {A.VIEW, A.COMMENT, A.REPORT_INCIDENT},
    # What a deployment is worth is recorded by the product manager or the team leader.
    "product_manager": {A.VIEW, A.COMMENT, A.REPORT_INCIDENT, A.RECORD_VALUE},
    "manager": {A.VIEW, A.COMMENT, A.VIEW_DASHBOARD, A.REPORT_INCIDENT},
    # A leader or superuser runs membership and webhooks but signs nothing without a role.
    "team_leader": LEADS,
    "superuser": LEADS,
    "member_of_other_project_in_team": set(),
    "member_of_other_team": set(),
    "leader_of_other_team": set(),
    "staff_without_role": set(),
}
# --- access.can(user, action, team) ------------------------------------------
CAN_ON_TEAM = {
    "data_scientist": {A.VIEW},
    "ml_engineer": {A.VIEW},
    "data_engineer": {A.VIEW},
    "product_manager": {A.VIEW},
    "manager": {A.VIEW},
    "team_leader": LEADS,
    "superuser": LEADS,
    "member_of_other_project_in_team": {A.VIEW},
    "member_of_other_team": set(),
    "leader_of_other_team": set(),
    "staff_without_role": set(),
}

# --- Member management pages (POST) -------------------------------------------
MEMBER_COLUMNS = ("add member", "add member, bad input", "change role", "remove member")
MANAGES = (302, 400, 302, 302)
SEES_BUT_MAY_NOT = (403, 403, 403, 403)
OUT_OF_REACH = (404, 404, 404, 404)
MEMBER_MANAGEMENT = {
    "data_scientist": SEES_BUT_MAY_NOT,
    "ml_engineer": SEES_BUT_MAY_NOT,
    "data_engineer": SEES_BUT_MAY_NOT,
    "product_manager": SEES_BUT_MAY_NOT,
    "manager": SEES_BUT_MAY_NOT,
    "team_leader": MANAGES,
    "superuser": MANAGES,
    "member_of_other_project_in_team": OUT_OF_REACH,
    "member_of_other_team": OUT_OF_REACH,
    "leader_of_other_team": OUT_OF_REACH,
    "staff_without_role": OUT_OF_REACH,
}


def test_the_tables_cover_every_row_and_action():
    for table in (VISIBILITY, CAN_ON_PROJECT, CAN_ON_TEAM, MEMBER_MANAGEMENT):
        assert list(table) == ROWS
    assert all(len(cells) == len(VISIBILITY_COLUMNS) for cells in VISIBILITY.values())
    assert all(len(cells) == len(MEMBER_COLUMNS) for cells in MEMBER_MANAGEMENT.values())


@pytest.fixture
def world():
    retention = TeamFactory(name="Retention", slug="retention", leader=UserFactory(username="lee"))
    vision = TeamFactory(name="Vision", slug="vision", leader=UserFactory(username="vic"))
    alpha = ProjectFactory(team=retention, name="Churn Alpha", slug="churn-alpha")
    beta = ProjectFactory(team=retention, name="Upsell Beta", slug="upsell-beta")
    gamma = ProjectFactory(team=vision, name="Detector Gamma", slug="detector-gamma")
    people = {
        "data_scientist": member(alpha, DS),
        "ml_engineer": member(alpha, MLE),
        "data_engineer": member(alpha, DE),
        "product_manager": member(alpha, PM),
        "manager": member(alpha, MGR),
        "team_leader": retention.leader,
        "superuser": UserFactory(is_superuser=True, is_staff=True),
        "member_of_other_project_in_team": member(beta, DS),
        "member_of_other_team": member(gamma, MLE),
        "leader_of_other_team": vision.leader,
        # Django admin access is not project access.
        "staff_without_role": UserFactory(is_staff=True),
    }
    bystander = member(alpha, DE, username="bystander")
    return {"team": retention, "project": alpha, "people": people, "bystander": bystander}


def _as(user):
    client = Client()
    client.force_login(user)
    return client


def _listed(response, name):
    if response.status_code != 200:
        return "-"
    return "present" if name in response.content.decode() else "absent"


def _in_results(response, slug):
    return "present" if slug in [row["slug"] for row in response.json()["results"]] else "absent"


@pytest.mark.parametrize("row", ROWS)
def test_who_sees_what(world, row):
    client = _as(world["people"][row])
    project, team = world["project"], world["team"]
    project_page = client.get(f"/projects/{project.slug}/")
    team_page = client.get(f"/teams/{team.slug}/")
    api_team = client.get(f"/api/v1/teams/{team.slug}/")
    actual = (
        project_page.status_code,
        team_page.status_code,
        _listed(team_page, project.name),
        _listed(client.get("/"), project.name),
        client.get(f"/api/v1/projects/{project.slug}/").status_code,
        api_team.status_code,
        _in_results(client.get("/api/v1/projects/"), project.slug),
        _in_results(client.get("/api/v1/teams/"), team.slug),
        ("present" if project.slug in [p["slug"] for p in api_team.json()["projects"]] else "absent")
        if api_team.status_code == 200 else "-",
    )
    assert dict(zip(VISIBILITY_COLUMNS, actual, strict=True)) == dict(
        zip(VISIBILITY_COLUMNS, VISIBILITY[row], strict=True)
    )


@pytest.mark.parametrize("row", ROWS)
def test_what_each_person_may_do_on_the_project(world, row):
    user = world["people"][row]
    actual = {action.value: access.can(user, action, world["project"]) for action in Action}
    expected = {action.value: action in CAN_ON_PROJECT[row] for action in Action}
    assert actual == expected


@pytest.mark.parametrize("row", ROWS)
def test_what_each_person_may_do_on_the_team(world, row):
    user = world["people"][row]
    actual = {action.value: access.can(user, action, world["team"]) for action in Action}
    expected = {action.value: action in CAN_ON_TEAM[row] for action in Action}
    assert actual == expected


@pytest.mark.parametrize("row", ROWS)
def test_require_agrees_with_can_and_hides_what_is_out_of_reach(world, row):
    user = world["people"][row]
    for action in Action:
        if action in CAN_ON_PROJECT[row]:
            access.require(user, action, world["project"])
        else:
            expected = Forbidden if A.VIEW in CAN_ON_PROJECT[row] else NotFound
            with pytest.raises(expected):
                access.require(user, action, world["project"])


def _memberships(project):
    return sorted(RoleAssignment.objects.filter(project=project).values_list("user__username", "role"))


@pytest.mark.parametrize("row", ROWS)
def test_who_may_manage_members(world, row):
    client = _as(world["people"][row])
    project, bystander = world["project"], world["bystander"]
    newcomer = UserFactory(username="newcomer")
    before = _memberships(project)
    assignment = RoleAssignment.objects.get(project=project, user=bystander)
    base = f"/projects/{project.slug}/members/"
    actual = (
        client.post(base, {"username": newcomer.username, "role": DE}).status_code,
        client.post(base, {"username": "", "role": "wizard"}).status_code,
        client.post(f"{base}{assignment.pk}/", {"role": PM}).status_code,
        client.post(f"{base}{assignment.pk}/remove/").status_code,
    )
    assert dict(zip(MEMBER_COLUMNS, actual, strict=True)) == dict(
        zip(MEMBER_COLUMNS, MEMBER_MANAGEMENT[row], strict=True)
    )
    after = _memberships(project)
    if MEMBER_MANAGEMENT[row] == MANAGES:
        assert ("newcomer", DE) in after
        assert "bystander" not in [username for username, _ in after]
    else:
        assert after == before, "a refused request changed the membership"


def test_anonymous_is_sent_to_log_in_or_told_401(world):
    client = Client()
    project, team = world["project"], world["team"]
    for url in (f"/projects/{project.slug}/", f"/teams/{team.slug}/", "/"):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith("/accounts/login/")
    for url in (f"/api/v1/projects/{project.slug}/", f"/api/v1/teams/{team.slug}/", "/api/v1/projects/"):
        assert client.get(url).status_code == 401, url
    assert not any(access.can(AnonymousUser(), action, project) for action in Action)
    assert not any(access.can(AnonymousUser(), action, team) for action in Action)
    before = _memberships(project)
    response = client.post(f"/projects/{project.slug}/members/", {"username": "x", "role": DE})
    assert response.status_code == 302
    assert _memberships(project) == before


def test_an_unknown_project_looks_exactly_like_one_out_of_reach(world):
    client = _as(world["people"]["member_of_other_team"])
    hidden, missing = client.get("/projects/churn-alpha/"), client.get("/projects/no-such-project/")
    assert hidden.status_code == missing.status_code == 404
    api_hidden = client.get("/api/v1/projects/churn-alpha/")
    api_missing = client.get("/api/v1/projects/no-such-project/")
    assert api_hidden.json() == api_missing.json()
