"""Bad input is a 4xx, never a 500: schemathesis fuzzes every operation of
the API's own OpenAPI schema (/api/schema/) in-process, through the WSGI app.

Each operation is called as schemathesis generates it (random ids and slugs,
odd query strings, bodies that do and do not fit the schema) and again on
real objects (a draft handover, its revision and artifact, a handover under
review for the reviewer's actions), so that generated bodies reach the
serializers, the contract rules and the services. A person from another
project then sends the same request on the same objects and must get a 404.

Small and derandomized so that it runs in ``make test`` in well under a minute
and fails the same way every time.
"""

import re
from types import SimpleNamespace

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from rest_framework.authtoken.models import Token
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from handoff.handovers.models import HandoverState
from handoff.teams.models import Role
from handoff.wsgi import application
from tests.factories import ProjectFactory, ReviewFactory, member, ready_draft

# The WSGI transport does not close responses, so Django never closes (and
# deletes) an uploaded file's temporary copy; the copy was moved into storage.
pytestmark = pytest.mark.filterwarnings(
    "ignore:Exception ignored in.*_TemporaryFileCloser:pytest.PytestUnraisableExceptionWarning"
)
CONFIG = {
    "generation": {"max-examples": 12, "deterministic": True, "database": "none"},
    "suppress-health-check": ["all"],
    # The contract terms have some fifteen fields: their boundary and type
    # probes alone are hundreds of requests. Keep the ones the serializers
    # let through to the contract rules, where the bugs were.
    "operations": [{
        "include-path-regex": r"^/api/v1/handovers/(\{id\}/revisions/\{number\}/)?$",
        "include-method": ["POST", "PATCH"],
        "phases": {"coverage": {"generation": {"mode": "positive"}}},
    }],
}
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
REVIEWER_ACTIONS = re.compile(r"/(accept|request-changes)/$")


# Loaded at collection: serving the schema needs no database. (A lazy
# ``schemathesis.pytest.from_fixture`` schema does not run on pytest 9.)
schema = schemathesis.openapi.from_wsgi(
    "/api/schema/", application, config=schemathesis.Config.from_dict(CONFIG)
)


@pytest.fixture(autouse=True)
def _keep_the_test_connection():
    """Around every request the WSGI app closes a connection left inside a
    transaction (``close_old_connections``), as it should in production; in a
    test that transaction is the test's own. Django's test client skips it too."""
    for signal in (request_started, request_finished):
        signal.disconnect(close_old_connections)
    yield
    for signal in (request_started, request_finished):
        signal.connect(close_old_connections)


def _token(user):
    return {"Authorization": f"Token {Token.objects.create(user=user).key}"}


@pytest.fixture
def world(db):
    """A project like the demo's: a data scientist with a draft handover
    ready to submit, an ML engineer with a handover awaiting review, one whose
    changes were requested, and a data scientist of another project."""
    project = ProjectFactory(slug="card-fraud-scoring")
    scientist = member(project, Role.DATA_SCIENTIST, username="fuzz-scientist")
    engineer = member(project, Role.ML_ENGINEER, username="fuzz-engineer")
    draft, revision = ready_draft(project=project, owner=scientist)
    under_review, _ = ready_draft(project=project, owner=scientist)
    under_review.state = HandoverState.AWAITING_REVIEW
    under_review.save()
    revised, revised_revision = ready_draft(project=project, owner=scientist)
    revised.state = HandoverState.CHANGES_REQUESTED
    revised.save()
    ReviewFactory(revision=revised_revision, reviewer=engineer)
    outsider = member(ProjectFactory(), Role.DATA_SCIENTIST, username="fuzz-outsider")
    return SimpleNamespace(
        project=project, draft=draft, under_review=under_review, revised=revised,
        artifact=revision.artifacts.first(), scientist=_token(scientist), engineer=_token(engineer),
        outsider=_token(outsider),
    )


def _on_real_objects(case, world):
    """The path parameters of ``case`` pointed at the world's objects, and the
    person who may act there -> (path parameters, headers)."""
    path = case.operation.path
    headers = world.scientist
    if path.startswith("/api/v1/handovers/"):
        handover = world.draft
        if REVIEWER_ACTIONS.search(path):
            handover, headers = world.under_review, world.engineer
        elif path.endswith("/revise/"):
            handover = world.revised
        values = {"id": handover.pk, "number": 1}
    elif path.startswith("/api/v1/artifacts/"):
        values = {"id": world.artifact.pk}
    elif path.startswith("/api/v1/models/"):
        values = {"id": world.draft.model_id}
    elif path.startswith("/api/v1/projects/"):
        values = {"slug": world.project.slug}
    elif path.startswith("/api/v1/teams/"):
        values = {"slug": world.project.team.slug}
    else:
        raise AssertionError(f"no real object for {path}: add it to _on_real_objects")
    return {**case.path_parameters, **values}, headers


@schema.parametrize()
def test_bad_input_is_never_a_server_error(case, world):
    case.call_and_validate(headers=world.scientist, checks=CHECKS)
    if not case.path_parameters:
        return
    generated = case.path_parameters
    case.path_parameters, headers = _on_real_objects(case, world)
    case.call_and_validate(headers=headers, checks=CHECKS)
    if case.method.upper() == case.operation.method.upper():  # not a probe with another method (405)
        # Out of reach is a 404 before anything else is looked at, body included.
        response = case.call(headers=world.outsider)
        assert response.status_code == 404, (case.operation.label, response.status_code, response.text)
    case.path_parameters = generated
