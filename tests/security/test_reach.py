"""Reach: every route the resolver knows and every operation of the OpenAPI
schema is walked (``walker.py``, with ``routes.py`` saying what each names):
the insider reaches the real object, anyone outside Churn Alpha gets exactly
the answer given for an object that does not exist, whatever the method and
the body, anonymous callers are sent to log in (pages) or told 401 (API),
and nothing changes. Every page and API list without parameters is read by
every outsider, with filters naming the hidden project, and never shows it.
"""

import pytest
from django.urls import URLPattern, get_resolver

from handoff.teams.models import RoleAssignment

from .conftest import OUTSIDERS, logged_in, snapshot
from .routes import SPECS
from .walker import SECRETS, check_route, route_for_operation, routes, unspecified

pytestmark = pytest.mark.django_db

ROUTES = routes()


def test_every_route_has_a_spec():
    assert unspecified(ROUTES, SPECS) == []
    assert not set(SPECS) - {route.key for route in ROUTES}, "specs for routes that no longer exist"


def test_the_walk_reaches_every_pattern_of_the_resolver():
    """Named or not, with parameters or without: nothing but the admin is left out."""
    def count(patterns):
        total = 0
        for entry in patterns:
            if isinstance(entry, URLPattern):
                total += 1
            elif entry.app_name != "admin":
                total += count(entry.url_patterns)
        return total

    assert len(ROUTES) == count(get_resolver().url_patterns)


def test_every_operation_of_the_openapi_schema_is_walked(world):
    schema = logged_in(world.people["data_scientist"]).get("/api/schema/?format=json").json()
    for path, operations in schema["paths"].items():
        route = route_for_operation(ROUTES, path)
        assert route is not None, f"{path} is in the schema but no route serves it"
        for method in operations:
            if method in ("get", "post", "put", "patch", "delete"):
                assert method.upper() in route.methods, (path, method, route.key)
                assert route.key in SPECS and not SPECS[route.key].skip, (path, route.key)


@pytest.mark.parametrize("route", ROUTES, ids=[route.key for route in ROUTES])
def test_each_route_keeps_its_promises_to_insiders_outsiders_and_anonymous_callers(world, route):
    spec = SPECS.get(route.key)
    assert spec is not None, unspecified([route], SPECS)
    assert check_route(world, route, spec, snapshot=snapshot) == []


# Filters that name the hidden project, or its objects, by slug or by id.
def _hidden_filters(world):
    return ["", f"?project={world.project.slug}", f"?project={world.project.pk}",
            f"?team={world.team.slug}", f"?model={world.model.pk}", f"?handover={world.handover.pk}",
            f"?search={world.project.slug}", f"?q={world.model.name}"]


# Every route without parameters that serves a page or a list to a signed-in person.
LISTS = [route for route in ROUTES if not route.params and route.key in SPECS
         and SPECS[route.key].expect.get("GET") == 200]


@pytest.mark.parametrize("who", OUTSIDERS)
def test_no_page_or_list_shows_what_is_out_of_reach(world, who):
    client = logged_in(world.people[who])
    for route in LISTS:
        for query in _hidden_filters(world):
            url = route.url({}) + query
            response = client.get(url)
            assert response.status_code == 200 or (query and response.status_code in (400, 404)), url
            text = response.content.decode()
            if query:
                text = text.replace(query.split("=", 1)[1], "")  # a form repeats what was asked for
            for secret in SECRETS:
                assert secret not in text, (url, secret)


def test_a_project_filter_on_a_hidden_project_looks_like_an_unknown_one(world):
    client = logged_in(world.people["member_of_other_team"])
    for base in ("/api/v1/handovers/?project=", "/api/v1/models/?project="):
        hidden = client.get(base + world.project.slug).json()
        unknown = client.get(base + "no-such-project").json()
        assert hidden == unknown
        assert hidden["count"] == 0


def test_the_new_handover_form_offers_no_hidden_project_even_when_asked_for_it(world):
    client = logged_in(world.people["member_of_other_project_in_team"])
    response = client.get(f"/handovers/new/?project={world.project.pk}")
    assert response.status_code == 200
    assert "Churn Alpha" not in response.content.decode()
    assert "secret-churn-model" not in response.content.decode()


def test_filing_into_a_hidden_project_or_model_is_a_404_like_an_unknown_one(world):
    client = logged_in(world.people["member_of_other_project_in_team"])
    def register(project):
        body = {"project": project, "name": "x"}
        return client.post("/api/v1/models/", body, content_type="application/json")

    hidden, unknown = register(world.project.slug), register("no-such-project")
    assert hidden.status_code == unknown.status_code == 404
    assert hidden.json()["detail"].replace(world.project.slug, "?") == unknown.json()["detail"].replace(
        "no-such-project", "?")
    body = {"model": world.model.pk, "version_label": "1.0.0", "task_type": "regression",
            "framework": "other", "framework_version": "1"}
    hidden = client.post("/api/v1/handovers/", body, content_type="application/json")
    unknown = client.post("/api/v1/handovers/", {**body, "model": 987654}, content_type="application/json")
    assert hidden.status_code == unknown.status_code == 404
    assert hidden.json()["detail"].replace(str(world.model.pk), "?") == unknown.json()["detail"].replace(
        "987654", "?")
    assert not world.project.models.filter(name="x").exists()
    assert not world.model.handovers.filter(version_label="1.0.0").exists()


def test_revision_and_diff_parameters_stay_inside_the_handover(world):
    """?revision= and ?from/&to pick revisions of this handover only; other numbers fall back."""
    client = logged_in(world.people["member_of_other_team"])
    mine = world.gamma_handover
    for query in ("?revision=2", "?revision=-1", "?revision=abc", "?revision=1%00"):
        response = client.get(f"/handovers/{mine.pk}/{query}")
        assert response.status_code == 200, query
        assert "secret" not in response.content.decode()
    for query in ("?from=1&to=2", "?from=x&to=y", "?from=&to=99"):
        response = client.get(f"/handovers/{mine.pk}/diff/{query}")
        assert response.status_code == 200, query
        assert "secret" not in response.content.decode()
    assert client.get(f"/handovers/{world.handover.pk}/?revision=1").status_code == 404
    assert client.get(f"/handovers/{world.handover.pk}/diff/?from=1&to=2").status_code == 404
    assert client.get(f"/handovers/{world.handover.pk}/state/?was=draft").status_code == 404


def test_members_with_the_wrong_role_are_told_403_and_nothing_changes(world):
    """Someone who sees the project but may not act gets a 403 (not a 404), and the body is not read first."""
    before = snapshot(world)
    engineer = logged_in(world.people["ml_engineer"])
    handover = world.handover
    assert engineer.post(f"/handovers/{handover.pk}/edit/", {"framework_version": "2"}).status_code == 403
    assert engineer.post(f"/handovers/{handover.pk}/submit/").status_code == 403
    assert engineer.post(f"/handovers/{handover.pk}/revise/").status_code == 403
    remove = f"/handovers/{handover.pk}/artifacts/{world.artifact.pk}/remove/"
    assert engineer.post(remove).status_code == 403
    api = f"/api/v1/handovers/{handover.pk}"
    assert engineer.patch(f"{api}/revisions/2/", {"latency_p95_ms": "nonsense"},
                          content_type="application/json").status_code == 403
    assert engineer.post(f"{api}/revisions/2/artifacts/", {"kind": "nonsense"}).status_code == 403
    assert engineer.delete(f"/api/v1/artifacts/{world.artifact.pk}/").status_code == 403
    scientist = logged_in(world.people["data_scientist"])
    accept = scientist.post(f"{api}/accept/", {"comment": 5}, content_type="application/json")
    assert accept.status_code == 403
    manager = logged_in(world.people["manager"])
    remove = f"/projects/{world.project.slug}/members/{world.assignment.pk}/remove/"
    assert manager.post(remove).status_code == 403
    assert snapshot(world) == before


def test_a_membership_of_another_project_cannot_be_managed_through_mine(world):
    """A leader managing their own project cannot reach a membership of a project they do not lead."""
    gamma_assignment = RoleAssignment.objects.get(user=world.people["member_of_other_team"])
    leader = logged_in(world.people["team_leader"])
    base = f"/projects/{world.project.slug}/members/{gamma_assignment.pk}"
    assert leader.post(f"{base}/", {"role": "manager"}).status_code == 404
    assert leader.post(f"{base}/remove/").status_code == 404
    gamma_assignment.refresh_from_db()
    assert gamma_assignment.role == "ml_engineer"


def test_an_artifact_of_another_handover_cannot_be_reached_through_a_visible_one(world):
    """The page routes name both the handover and the artifact: the pair must match."""
    gus = logged_in(world.people["member_of_other_team"])
    mine = world.gamma_handover.pk
    assert gus.get(f"/handovers/{mine}/files/{world.artifact.pk}/").status_code == 404
    assert gus.post(f"/handovers/{mine}/artifacts/{world.artifact.pk}/remove/").status_code == 404
    dana = logged_in(world.people["data_scientist"])
    other_revision_artifact = world.handover.revisions.get(number=1).artifacts.first()
    # An artifact of a submitted revision of the same handover is not removable through the draft.
    assert dana.post(f"/handovers/{world.handover.pk}/artifacts/{other_revision_artifact.pk}/remove/"
                     ).status_code == 404


@pytest.mark.parametrize("who", OUTSIDERS)
def test_the_browsable_api_shows_an_outsider_nothing_either(world, who):
    client = logged_in(world.people[who])
    objects = (f"/api/v1/handovers/{world.handover.pk}/", f"/api/v1/artifacts/{world.artifact.pk}/",
               f"/api/v1/models/{world.model.pk}/", f"/api/v1/projects/{world.project.slug}/")
    lists = ("/api/v1/handovers/", "/api/v1/models/", "/api/v1/projects/", "/api/v1/teams/")
    for url in objects + lists:
        response = client.get(url, HTTP_ACCEPT="text/html")
        assert response.status_code == (404 if url in objects else 200), url
        text = response.content.decode().replace(url, "")  # the page repeats the address asked for
        for secret in SECRETS:
            assert secret not in text, (url, secret)
