"""/api/v1/teams/ and /api/v1/projects/: read-only, scoped, paginated, filtered."""

import pytest
from rest_framework.test import APIClient

from handoff.teams.models import Role, Stage
from tests.factories import ProjectFactory, TeamFactory, UserFactory, member

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def api():
    return APIClient()


@pytest.fixture
def world():
    """Team "vision" with two projects; team "speech" with one; a data scientist on one vision project."""
    vision = TeamFactory(name="Vision", slug="vision")
    speech = TeamFactory(name="Speech", slug="speech")
    detector = ProjectFactory(team=vision, name="Detector", slug="detector", stage=Stage.MODELING)
    segmenter = ProjectFactory(team=vision, name="Segmenter", slug="segmenter", stage=Stage.DEPLOYMENT)
    asr = ProjectFactory(team=speech, name="ASR", slug="asr", stage=Stage.MODELING)
    ds = member(detector, Role.DATA_SCIENTIST, username="dana", first_name="Dana", last_name="Scully")
    mle = member(detector, Role.ML_ENGINEER, username="mel")
    return {"vision": vision, "speech": speech, "detector": detector, "segmenter": segmenter, "asr": asr,
            "ds": ds, "mle": mle}


def slugs(response):
    return [row["slug"] for row in response.json()["results"]]


def test_project_list_is_paginated_and_shows_only_my_projects(api, world):
    api.force_authenticate(world["ds"])
    response = api.get("/api/v1/projects/")
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"count", "next", "previous", "results"}
    assert body["count"] == 1
    assert slugs(response) == ["detector"]


def test_project_detail_has_team_members_and_my_role(api, world):
    api.force_authenticate(world["ds"])
    body = api.get("/api/v1/projects/detector/").json()
    assert body["id"] == world["detector"].pk
    assert body["name"] == "Detector"
    assert body["stage"] == "modeling"
    assert body["description"] == "A project for tests."
    assert body["team"] == {"id": world["vision"].pk, "name": "Vision", "slug": "vision"}
    assert body["my_role"] == "data_scientist"
    members = {m["user"]["username"]: m for m in body["members"]}
    assert set(members) == {"dana", "mel"}
    assert members["dana"]["role"] == "data_scientist"
    assert members["dana"]["user"] == {"id": world["ds"].pk, "username": "dana", "name": "Dana Scully"}
    assert members["mel"]["role"] == "ml_engineer"


def test_leader_without_a_role_sees_all_team_projects_with_no_role(api, world):
    api.force_authenticate(world["vision"].leader)
    response = api.get("/api/v1/projects/")
    assert slugs(response) == ["detector", "segmenter"]
    assert [row["my_role"] for row in response.json()["results"]] == [None, None]


def test_outsider_gets_404_for_project_and_team(api, world):
    outsider = member(world["asr"], Role.ML_ENGINEER)
    api.force_authenticate(outsider)
    for url in ("/api/v1/projects/detector/", "/api/v1/teams/vision/"):
        response = api.get(url)
        assert response.status_code == 404, url
        assert response.json()["detail"]
    assert slugs(api.get("/api/v1/projects/")) == ["asr"]
    assert slugs(api.get("/api/v1/teams/")) == ["speech"]


def test_unknown_project_and_known_one_out_of_reach_answer_alike(api, world):
    api.force_authenticate(world["ds"])
    hidden = api.get("/api/v1/projects/asr/")
    missing = api.get("/api/v1/projects/no-such-project/")
    assert hidden.status_code == missing.status_code == 404
    assert hidden.json() == missing.json()


def test_team_lists_only_the_projects_i_may_see(api, world):
    api.force_authenticate(world["ds"])
    body = api.get("/api/v1/teams/vision/").json()
    assert body["name"] == "Vision"
    assert body["slug"] == "vision"
    assert body["leader"]["username"] == world["vision"].leader.username
    assert [p["slug"] for p in body["projects"]] == ["detector"]
    assert body["projects"][0] == {"id": world["detector"].pk, "name": "Detector", "slug": "detector",
                                   "stage": "modeling"}


def test_superuser_sees_every_team_and_project(api, world):
    api.force_authenticate(UserFactory(is_superuser=True, is_staff=True))
    assert slugs(api.get("/api/v1/teams/")) == ["speech", "vision"]
    assert slugs(api.get("/api/v1/projects/")) == ["asr", "detector", "segmenter"]


def test_filter_projects_by_team_and_stage(api, world):
    api.force_authenticate(UserFactory(is_superuser=True))
    assert slugs(api.get("/api/v1/projects/", {"team": "vision"})) == ["detector", "segmenter"]
    assert slugs(api.get("/api/v1/projects/", {"stage": "modeling"})) == ["asr", "detector"]
    assert slugs(api.get("/api/v1/projects/", {"team": "vision", "stage": "deployment"})) == ["segmenter"]
    assert slugs(api.get("/api/v1/projects/", {"team": "no-such-team"})) == []


def test_filter_by_a_team_out_of_reach_shows_nothing(api, world):
    api.force_authenticate(world["ds"])
    assert slugs(api.get("/api/v1/projects/", {"team": "speech"})) == []


def test_unknown_stage_is_a_400_that_names_the_choices(api, world):
    api.force_authenticate(world["ds"])
    response = api.get("/api/v1/projects/", {"stage": "flying"})
    assert response.status_code == 400
    body = response.json()
    assert "flying" in body["stage"][0]
    assert body["detail"].startswith("stage: ")


def test_ordering(api, world):
    api.force_authenticate(UserFactory(is_superuser=True))
    assert slugs(api.get("/api/v1/projects/", {"ordering": "-name"})) == ["segmenter", "detector", "asr"]
    assert slugs(api.get("/api/v1/projects/", {"ordering": "stage,name"})) == ["segmenter", "asr", "detector"]
    assert slugs(api.get("/api/v1/teams/", {"ordering": "-name"})) == ["vision", "speech"]


def test_teams_filter_by_leader(api, world):
    api.force_authenticate(UserFactory(is_superuser=True))
    leader = world["speech"].leader.username
    assert slugs(api.get("/api/v1/teams/", {"leader": leader})) == ["speech"]


def test_pagination_pages(api, world):
    api.force_authenticate(UserFactory(is_superuser=True))
    first = api.get("/api/v1/projects/", {"page_size": 2}).json()
    assert first["count"] == 3
    assert len(first["results"]) == 2
    assert first["previous"] is None
    second = api.get(first["next"]).json()
    assert [p["slug"] for p in second["results"]] == ["segmenter"]
    assert second["next"] is None
    beyond = api.get("/api/v1/projects/", {"page": 9})
    assert beyond.status_code == 404
    assert beyond.json() == {"detail": "Invalid page."}


def test_api_is_read_only(api, world):
    api.force_authenticate(world["ds"])
    assert api.post("/api/v1/projects/", {"name": "x"}).status_code == 405
    assert api.patch("/api/v1/projects/detector/", {"name": "x"}).status_code == 405
    assert api.delete("/api/v1/teams/vision/").status_code == 405
    world["detector"].refresh_from_db()
    assert world["detector"].name == "Detector"


def test_anonymous_gets_401_json(api, world):
    for url in ("/api/v1/projects/", "/api/v1/projects/detector/", "/api/v1/teams/", "/api/v1/teams/vision/"):
        response = api.get(url)
        assert response.status_code == 401, url
        assert response["WWW-Authenticate"] == "Token"
        assert response.json()["detail"] == "Authentication credentials were not provided."
