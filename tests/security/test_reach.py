"""Reach: every page and API route that names an object of Churn Alpha is a
404 for anyone outside it, whatever the method and whatever the body, exactly
as for an object that does not exist; nothing changes; lists never show it.

The routes come from Django's URL resolver, so a route added later is walked
too (and a route with a parameter this file does not know fails the test).
"""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from handoff.teams.models import RoleAssignment

from .conftest import OUTSIDERS, logged_in, snapshot

pytestmark = pytest.mark.django_db

MISSING_ID = 987654


def _routes(patterns=None, namespace=""):
    """(view name, parameter names, HTTP methods or None for a page view) of every route but the admin's."""
    for entry in patterns if patterns is not None else get_resolver().url_patterns:
        if isinstance(entry, URLResolver):
            if entry.app_name == "admin":
                continue
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from _routes(entry.url_patterns, inner)
        elif isinstance(entry, URLPattern) and entry.name:
            params = tuple(sorted(entry.pattern.regex.groupindex))
            actions = getattr(entry.callback, "actions", None)
            methods = tuple(m.upper() for m in actions) if actions else None
            yield f"{namespace}{entry.name}", params, methods


def object_routes():
    seen = set()
    for name, params, methods in _routes():
        if params and (name, params) not in seen:
            seen.add((name, params))
            yield name, params, methods


def _kwargs(world, name, params, missing=False):
    """URL arguments naming an object of Churn Alpha (or one that does not exist)."""
    values = {}
    for param in params:
        if param == "slug":
            is_team = name.endswith("team") or name.startswith("team-")
            real = world.team.slug if is_team else world.project.slug
            values[param] = "no-such-thing" if missing else real
        elif param == "pk":
            if name.startswith("api-model"):
                real = world.model.pk
            elif name.startswith("api-artifact"):
                real = world.artifact.pk
            else:
                real = world.handover.pk
            values[param] = MISSING_ID if missing else real
        elif param == "artifact_pk":
            values[param] = world.artifact.pk  # the handover is what is missing
        elif param == "assignment_id":
            values[param] = world.assignment.pk  # the project is what is missing
        elif param == "number":
            values[param] = world.draft.number
        else:
            raise AssertionError(f"{name}: teach test_reach what an object for <{param}> is")
    return values


def _bodies():
    """Bodies that would be valid for someone allowed, and one that is not."""
    return [
        {
            "body": "a comment", "comment": "please change", "role": "product_manager",
            "username": "lee", "kind": "model", "file": SimpleUploadedFile("m.onnx", b"onnx bytes"),
            "framework_version": "2.0",
        },
        {"role": "wizard", "kind": "nonsense"},
    ]


def _send(client, method, url, body, api):
    if method == "GET":
        return client.get(url)
    if api and method in ("PATCH", "PUT", "DELETE"):
        return client.generic(method, url, data=b'{"framework_version": "2.0", "comment": "x"}',
                              content_type="application/json")
    return client.generic(method, url) if method != "POST" else client.post(url, body)


def _comparable(response):
    if response["Content-Type"].startswith("application/json"):
        return response.status_code, response.content
    return response.status_code, None


ROUTES = list(object_routes())
ROUTE_IDS = [name for name, _, _ in ROUTES]


def test_the_walk_covers_every_handover_team_and_api_route():
    names = {name for name, _, _ in ROUTES}
    assert {"teams:project", "teams:remove_member", "handovers:download_artifact", "handovers:diff",
            "handovers:state", "api-handover-revision-artifacts", "api-artifact-download",
            "project-detail", "team-detail"} <= names


# A member of any of a team's projects sees the team itself
# (tests/teams/test_access_matrix.py), so that pair is not an outsider case.
OUTSIDER_CASES = [
    pytest.param(who, name, params, methods, id=f"{name}-{who}")
    for name, params, methods in ROUTES
    for who in OUTSIDERS
    if not (who == "member_of_other_project_in_team" and name in ("teams:team", "team-detail"))
]


@pytest.mark.parametrize(("who", "name", "params", "methods"), OUTSIDER_CASES)
def test_outsiders_get_the_same_404_as_for_nothing(world, who, name, params, methods):
    client = logged_in(world.people[who])
    api = methods is not None
    url = reverse(name, kwargs=_kwargs(world, name, params))
    missing_url = reverse(name, kwargs=_kwargs(world, name, params, missing=True))
    before = snapshot(world)
    for method in methods or ("GET", "POST"):
        for body in _bodies():
            response = _send(client, method, url, body, api)
            missing = _send(client, method, missing_url, body, api)
            assert _comparable(response) == _comparable(missing), (method, url)
            if missing.status_code != 405:  # a page view that takes no GET, say, whatever the id
                assert response.status_code == 404, (method, url, response.status_code)
    # Methods a route does not take tell nothing either.
    for method in ("PUT", "DELETE"):
        if methods is None or method not in methods:
            assert (_send(client, method, url, {}, api).status_code
                    == _send(client, method, missing_url, {}, api).status_code), (method, url)
    assert snapshot(world) == before


@pytest.mark.parametrize(("name", "params", "methods"), ROUTES, ids=ROUTE_IDS)
def test_anonymous_is_sent_to_log_in_or_told_401(world, name, params, methods):
    client = logged_in(None)
    url = reverse(name, kwargs=_kwargs(world, name, params))
    before = snapshot(world)
    for method in methods or ("GET", "POST"):
        response = _send(client, method, url, _bodies()[0], methods is not None)
        if methods is None:
            assert response.status_code == 302, (method, url)
            assert response["Location"].startswith("/accounts/login/?next="), (method, url)
        else:
            assert response.status_code == 401, (method, url)
    assert snapshot(world) == before


def _lists(world):
    return [
        "/", "/handovers/", "/handovers/mine/", "/handovers/review-queue/", "/handovers/new/",
        f"/teams/{world.team.slug}/",
        f"/handovers/?project={world.project.slug}", f"/handovers/?project={world.project.pk}",
        "/api/v1/teams/", "/api/v1/projects/", "/api/v1/models/", "/api/v1/handovers/",
        f"/api/v1/handovers/?project={world.project.slug}", f"/api/v1/models/?project={world.project.pk}",
        f"/api/v1/projects/?team={world.team.slug}",
    ]


SECRETS = ("Churn Alpha", "churn-alpha", "secret-churn-model", "9.9.9-secret", "secret comment")


@pytest.mark.parametrize("who", OUTSIDERS)
def test_lists_never_show_what_is_out_of_reach(world, who):
    client = logged_in(world.people[who])
    for url in _lists(world):
        response = client.get(url)
        assert response.status_code in (200, 404), url
        text = response.content.decode()
        for secret in SECRETS:
            if secret == "churn-alpha" and "project=churn-alpha" in url:
                text = text.replace(url.split("?", 1)[1], "").replace("churn-alpha\"", "")
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


def test_filing_into_a_hidden_project_or_model_is_refused_like_an_unknown_one(world):
    client = logged_in(world.people["member_of_other_project_in_team"])
    def register(project):
        body = {"project": project, "name": "x"}
        return client.post("/api/v1/models/", body, content_type="application/json")

    hidden, unknown = register(world.project.slug), register("no-such-project")
    assert hidden.status_code == unknown.status_code == 400
    assert hidden.json()["detail"].replace(world.project.slug, "?") == unknown.json()["detail"].replace(
        "no-such-project", "?")
    body = {"model": world.model.pk, "version_label": "1.0.0", "task_type": "regression",
            "framework": "other", "framework_version": "1"}
    hidden = client.post("/api/v1/handovers/", body, content_type="application/json")
    unknown = client.post("/api/v1/handovers/", {**body, "model": 987654}, content_type="application/json")
    assert hidden.status_code == unknown.status_code == 400
    assert hidden.json()["detail"].replace(str(world.model.pk), "?") == unknown.json()["detail"].replace(
        "987654", "?")


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
