"""The OpenAPI schema: valid, free of drf-spectacular warnings, and complete."""

import json
import re
import subprocess
import sys

import pytest
from django.conf import settings
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.routers import APIRootView


@pytest.fixture(scope="module")
def schema(tmp_path_factory):
    out = tmp_path_factory.mktemp("schema") / "openapi.json"
    result = subprocess.run(
        [sys.executable, "manage.py", "spectacular", "--validate", "--fail-on-warn",
         "--format", "openapi-json", "--file", str(out)],
        cwd=settings.BASE_DIR, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Warning" not in result.stderr and "Error" not in result.stderr, result.stderr
    return json.loads(out.read_text())


def _route(pattern):
    """A URL pattern as an OpenAPI path template: <slug:slug> and (?P<slug>…) become {slug}."""
    text = str(pattern.pattern)
    text = re.sub(r"\(\?P<(\w+)>[^)]*\)", r"{\1}", text)
    text = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", text)
    text = text.lstrip("^").rstrip("$")
    # drf-spectacular names a primary key {id} (SCHEMA_COERCE_PATH_PK).
    return text.replace("{pk}", "{id}")


def api_v1_paths():
    """Every /api/v1 endpoint Django routes, found by walking the URLconf."""
    found = set()

    def walk(patterns, prefix):
        for pattern in patterns:
            route = prefix + _route(pattern)
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, route)
            elif isinstance(pattern, URLPattern) and route.startswith("api/v1/"):
                view = getattr(pattern.callback, "cls", None)
                if view is not None and issubclass(view, APIRootView):
                    continue  # the browsable index of a router, not an endpoint
                if "{format}" in route:
                    continue  # .json suffix variants of the same endpoint
                found.add("/" + route)

    walk(get_resolver().url_patterns, "")
    return found


def test_schema_is_valid_and_names_the_api(schema):
    assert schema["openapi"].startswith("3.")
    assert schema["info"]["title"] == "Handoff API"
    assert "tokenAuth" in schema["components"]["securitySchemes"]


def test_schema_includes_every_api_v1_path(schema):
    routed = api_v1_paths()
    assert {"/api/v1/auth/token/", "/api/v1/teams/", "/api/v1/teams/{slug}/", "/api/v1/projects/",
            "/api/v1/projects/{slug}/"} <= routed
    missing = routed - set(schema["paths"])
    assert not missing, f"routed but not in the schema: {sorted(missing)}"


def test_project_list_documents_pagination_filters_and_ordering(schema):
    operation = schema["paths"]["/api/v1/projects/"]["get"]
    parameters = {p["name"]: p for p in operation["parameters"]}
    assert {"page", "page_size", "team", "stage", "ordering"} <= set(parameters)
    # "" too: an empty choice is no filter (test_api_fuzz checks it is accepted exactly where listed).
    assert set(parameters["stage"]["schema"]["enum"]) == {
        "", "problem_formulation", "data_engineering", "modeling", "deployment", "monitoring"
    }
    assert parameters["page"]["schema"] == {"type": "integer", "minimum": 1}
    assert parameters["page_size"]["schema"] == {"type": "integer", "minimum": 1, "maximum": 500}
    assert re.fullmatch(parameters["ordering"]["schema"]["pattern"].strip("^$"), "-name,stage")
    assert not re.fullmatch(parameters["ordering"]["schema"]["pattern"].strip("^$"), "description")
    page = operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    assert page == "#/components/schemas/PaginatedProjectList"
    project = schema["components"]["schemas"]["Project"]
    assert {"id", "name", "slug", "team", "stage", "description", "members", "my_role"} <= set(
        project["properties"]
    )


def test_schema_and_docs_pages_are_served(client, django_user_model):
    assert client.get("/api/schema/").status_code == 200
    docs = client.get("/api/docs/")
    assert docs.status_code == 200
    assert b"swagger-ui" in docs.content
    assert b"cdn.jsdelivr.net" not in docs.content


def test_api_root_lists_every_resource(client, django_user_model):
    client.force_login(django_user_model.objects.create_user("root-reader", password="x-unused-1"))

    body = client.get("/api/v1/").json()

    assert {"teams", "projects", "models", "handovers"} <= set(body)


def test_api_routes_have_no_format_suffix_twins():
    """``/submit.json`` reached the action views with a ``format`` argument
    they do not take (a 500); the API speaks JSON only, so no suffix routes."""
    from django.test import Client

    assert Client().post("/api/v1/handovers/1/submit.json").status_code == 404


def test_request_bodies_state_what_the_api_accepts(schema):
    """Bounds and lengths the contract enforces, required text, JSON only for handover bodies."""
    terms = schema["components"]["schemas"]["PatchedTermsInputRequest"]["properties"]
    assert terms["latency_p95_ms"] | {"exclusiveMinimum": True, "minimum": 0} == terms["latency_p95_ms"]
    assert (terms["latency_batch_size"]["minimum"], terms["latency_batch_size"]["maximum"]) == (1, 2**31 - 1)
    assert terms["framework_version"]["maxLength"] == 32
    comment = schema["components"]["schemas"]["CommentInputRequest"]["properties"]["body"]
    assert re.search(comment["pattern"], "Looks good") and not re.search(comment["pattern"], " \n\u3000")
    revision = schema["paths"]["/api/v1/handovers/{id}/revisions/{number}/"]["patch"]
    assert list(revision["requestBody"]["content"]) == ["application/json"]
