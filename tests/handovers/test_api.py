import hashlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from handoff.handovers.models import Handover, HandoverState, Review
from handoff.teams.models import Role
from tests.factories import PASSWORD, ProjectFactory, evidence, member, ready_draft

API = "/api/v1"


def token_client(username, password=PASSWORD):
    client = APIClient()
    response = client.post(f"{API}/auth/token/", {"username": username, "password": password}, format="json")
    assert response.status_code == 200, response.content
    client.credentials(HTTP_AUTHORIZATION=f"Token {response.json()['token']}")
    return client


def upload(client, handover_id, number, kind, content, name=None):
    return client.post(
        f"{API}/handovers/{handover_id}/revisions/{number}/artifacts/",
        {"kind": kind, "file": SimpleUploadedFile(name or f"{kind}.csv", content)},
        format="multipart",
    )


@pytest.fixture
def on_commit(django_capture_on_commit_callbacks):
    """Run on_commit callbacks (the validation task) as the request commits."""
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        yield callbacks


def test_the_whole_journey_through_the_api(project, scientist, engineer, django_capture_on_commit_callbacks):
    ds, eng = token_client(scientist.username), token_client(engineer.username)

    response = ds.post(f"{API}/models/", {"project": project.slug, "name": "churn"}, format="json")
    assert response.status_code == 201, response.json()
    model_id = response.json()["id"]

    response = ds.post(
        f"{API}/handovers/",
        {
            "model": model_id,
            "version_label": "1.4.0",
            "task_type": "binary_classification",
            "framework": "scikit-learn",
            "framework_version": "1.5.2",
            "latency_p95_ms": 25,
            "intended_use": "Churn scoring. <script>alert(1)</script>",
            "claimed_metrics": {"accuracy": {"claimed_value": 0.959, "minimum": 0.9}},
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    handover = response.json()
    hid = handover["id"]
    assert handover["state"] == "draft" and handover["current_revision"] == 1
    assert handover["revisions"][0]["claimed_metrics"] == {
        "accuracy": {"claimed_value": 0.959, "minimum": 0.9, "maximum": None}}

    files = {kind: evidence(kind) for kind in ("model", "predictions", "labels")}  # a real ONNX export …
    for kind, (name, content) in files.items():
        response = upload(ds, hid, 1, kind, content, name=name)
        assert response.status_code == 201, response.json()
        assert response.json()["sha256"] == hashlib.sha256(content).hexdigest()
    files = {kind: content for kind, (_, content) in files.items()}

    with django_capture_on_commit_callbacks(execute=True):
        response = ds.post(f"{API}/handovers/{hid}/submit/")
    assert response.status_code == 200, response.json()
    assert ds.get(f"{API}/handovers/{hid}/").json()["state"] == "awaiting_review"

    response = eng.post(
        f"{API}/handovers/{hid}/request-changes/", {"comment": "Predictions are stale"}, format="json"
    )
    assert response.status_code == 200, response.json()
    assert response.json()["state"] == "changes_requested"
    assert response.json()["revisions"][0]["reviews"][0]["comment"] == "Predictions are stale"

    response = ds.post(f"{API}/handovers/{hid}/revise/")
    assert response.status_code == 200 and response.json()["current_revision"] == 2
    assert response.json()["state"] == "draft"

    header, *rows = files["predictions"].splitlines(keepends=True)
    new_predictions = header + b"".join(sorted(rows))  # the same predictions, in another order
    assert upload(ds, hid, 2, "predictions", new_predictions, name="predictions.csv").status_code == 201
    with django_capture_on_commit_callbacks(execute=True):
        assert ds.post(f"{API}/handovers/{hid}/submit/").status_code == 200

    response = eng.post(f"{API}/handovers/{hid}/accept/", {"comment": "Signed"}, format="json")
    assert response.status_code == 200, response.json()

    detail = ds.get(f"{API}/handovers/{hid}/").json()
    assert detail["state"] == "accepted" and detail["reviewer"] == engineer.username
    r1, r2 = detail["revisions"]
    assert (r1["number"], r2["number"]) == (1, 2)
    assert r1["reviews"][0]["decision"] == "request_changes"
    [review] = r2["reviews"]
    assert review["decision"] == "accept" and review["reviewer"] == engineer.username
    expected = {
        **{k: hashlib.sha256(v).hexdigest() for k, v in files.items()},
        "predictions": hashlib.sha256(new_predictions).hexdigest(),
    }
    assert review["artifact_hashes"] == expected
    assert {a["kind"]: a["sha256"] for a in r2["artifacts"]} == expected
    assert r2["frozen"] and r2["submitted_by"] == scientist.username

    # The artifact streams back to people of the project.
    predictions = next(a for a in r2["artifacts"] if a["kind"] == "predictions")
    response = eng.get(predictions["download_url"])
    assert response.status_code == 200 and b"".join(response.streaming_content) == new_predictions


@pytest.fixture
def submitted_draft(draft, scientist, django_capture_on_commit_callbacks):
    from handoff.handovers import services

    handover, revision = draft
    with django_capture_on_commit_callbacks(execute=True):
        services.submit_revision(scientist, revision)
    return Handover.objects.get(pk=handover.pk), revision


def test_outsider_gets_404_for_every_handover_url_and_action(submitted_draft, outsider):
    handover, revision = submitted_draft
    client = token_client(outsider.username)
    artifact = revision.artifacts.first()
    h = f"{API}/handovers/{handover.pk}"
    for method, url, body in [
        ("get", f"{h}/", None),
        ("get", f"{h}/revisions/1/", None),
        ("patch", f"{h}/revisions/1/", {"latency_p95_ms": -1}),  # invalid body, still 404
        ("post", f"{h}/submit/", None),
        ("post", f"{h}/accept/", {"comment": 5}),
        ("post", f"{h}/request-changes/", {}),  # missing comment, still 404
        ("post", f"{h}/revise/", None),
        ("post", f"{h}/comments/", {}),
        ("post", f"{h}/revisions/1/artifacts/", {}),
        ("get", f"{API}/artifacts/{artifact.pk}/", None),
        ("get", f"{API}/artifacts/{artifact.pk}/download/", None),
        ("delete", f"{API}/artifacts/{artifact.pk}/", None),
        ("get", f"{API}/models/{handover.model_id}/", None),
    ]:
        response = getattr(client, method)(url, body, format="json")
        assert response.status_code == 404, (method, url, response.status_code)
    assert client.get(f"{API}/handovers/").json()["count"] == 0
    assert client.get(f"{API}/models/").json()["count"] == 0
    response = client.post(
        f"{API}/handovers/", {"model": handover.model_id, "version_label": "9"}, format="json"
    )
    assert response.status_code == 404
    assert response.json() == {"detail": f"No model {handover.model_id} that you can see."}
    response = client.post(f"{API}/models/", {"project": handover.project.slug, "name": "x"}, format="json")
    assert response.status_code == 404
    assert response.json() == {"detail": f"No project {handover.project.slug!r} that you can see."}


def test_frozen_revision_cannot_be_edited_through_the_api(submitted_draft, scientist):
    handover, revision = submitted_draft
    client = token_client(scientist.username)
    response = client.patch(
        f"{API}/handovers/{handover.pk}/revisions/1/", {"framework_version": "9"}, format="json"
    )
    assert response.status_code == 409 and "frozen" in response.json()["detail"]
    response = upload(client, handover.pk, 1, "model", b"new")
    assert response.status_code == 409
    response = client.delete(f"{API}/artifacts/{revision.artifacts.first().pk}/")
    assert response.status_code == 409
    revision.refresh_from_db()
    assert revision.framework_version == "1.5.2" and revision.artifacts.count() == 3


def test_patch_terms_of_the_draft(draft, scientist):
    handover, _ = draft
    client = token_client(scientist.username)
    url = f"{API}/handovers/{handover.pk}/revisions/1/"
    response = client.patch(
        url,
        {
            "latency_p95_ms": 18.5,
            "claimed_metrics": {"f1": {"claimed_value": 0.8, "minimum": 0.75}},
        },
        format="json",
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["latency_p95_ms"] == 18.5 and body["peak_memory_mb"] == 256.0
    assert body["claimed_metrics"] == {"f1": {"claimed_value": 0.8, "minimum": 0.75, "maximum": None}}
    assert client.get(f"{API}/handovers/{handover.pk}/revisions/7/").status_code == 404


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        ({"latency_p95_ms": -4}, "latency_p95_ms", "greater than 0"),
        ({"metric_tolerance": -1}, "metric_tolerance", "cannot be negative"),
        (
            {"claimed_metrics": {"accuracy": {"claimed_value": 1.7}}},
            "claimed_metrics",
            "between 0 and 1",
        ),
        ({"latency_p95_ms": "fast"}, "latency_p95_ms", "valid number"),
        ({"task_type": "clustering"}, "task_type", "not a valid choice"),
    ],
)
def test_bad_terms_are_a_400_with_a_message_on_the_field(draft, scientist, body, field, words):
    handover, revision = draft
    response = token_client(scientist.username).patch(
        f"{API}/handovers/{handover.pk}/revisions/1/", body, format="json"
    )
    assert response.status_code == 400
    assert words in " ".join(map(str, response.json()[field]))
    revision.refresh_from_db()
    assert revision.latency_p95_ms == 20.0 and revision.task_type == "binary_classification"


def test_claims_that_do_not_fit_the_task_wait_in_the_draft_and_submit_is_a_409_naming_them(draft, scientist):
    handover, revision = draft
    client = token_client(scientist.username)
    url = f"{API}/handovers/{handover.pk}"
    body = {"task_type": "regression", "claimed_metrics": {"f1": {"claimed_value": 0.8}},
            "fairness_max_gap": 0.1}

    assert client.patch(f"{url}/revisions/1/", body, format="json").status_code == 200
    response = client.post(f"{url}/submit/")

    assert response.status_code == 409
    assert response.json()["detail"] == (
        "F1 does not fit a regression task; claim one of MAE, RMSE, R². Name the slice column of the "
        "labels file that the fairness gap of 0.1 applies to.")
    revision.refresh_from_db()
    assert revision.submitted_at is None


def test_bad_input_on_actions(submitted_draft, scientist, engineer, manager):
    handover, _ = submitted_draft
    eng = token_client(engineer.username)
    h = f"{API}/handovers/{handover.pk}"
    response = eng.post(f"{h}/request-changes/", {"comment": "   "}, format="json")
    assert response.status_code == 400 and response.json()["field"] == "comment"
    assert eng.post(f"{h}/request-changes/", {}, format="json").status_code == 400
    assert token_client(scientist.username).post(f"{h}/accept/").status_code == 403
    assert token_client(manager.username).post(f"{h}/accept/").status_code == 403
    assert eng.post(f"{h}/revise/").status_code == 403
    response = token_client(scientist.username).post(f"{h}/revise/")
    assert response.status_code == 409 and "awaiting review" in response.json()["detail"]
    assert eng.post(f"{h}/comments/", {"body": ""}, format="json").status_code == 400
    response = eng.post(f"{h}/comments/", {"body": "On it"}, format="json")
    assert response.status_code == 201 and response.json()["author"] == engineer.username
    anonymous = APIClient().get(f"{h}/")
    assert anonymous.status_code == 401
    assert anonymous["WWW-Authenticate"] == "Token"


def test_submit_names_what_is_missing_and_bad_uploads(project, scientist):
    client = token_client(scientist.username)
    model = client.post(f"{API}/models/", {"project": str(project.pk), "name": "m"}, format="json").json()
    taken = client.post(f"{API}/models/", {"project": project.slug, "name": "m"}, format="json")
    assert taken.status_code == 409
    assert taken.json()["name"] == ["This project already has a model named 'm'."]
    hid = client.post(
        f"{API}/handovers/", {"model": model["id"], "version_label": "1"}, format="json"
    ).json()["id"]
    response = client.post(f"{API}/handovers/{hid}/submit/")
    assert response.status_code == 409  # the request is sound; the revision is not ready
    assert "the model file" in response.json()["detail"] and "a task type" in response.json()["detail"]
    assert upload(client, hid, 1, "weights", b"x").status_code == 400
    response = client.post(
        f"{API}/handovers/{hid}/revisions/1/artifacts/", {"kind": "model"}, format="multipart"
    )
    assert response.status_code == 400 and "file" in response.json()
    response = client.post(f"{API}/handovers/", {"model": model["id"], "version_label": "1"}, format="json")
    assert response.status_code == 409 and "version_label" in response.json()


def test_filters(project, scientist, engineer, django_capture_on_commit_callbacks):
    from handoff.handovers import services

    other_project = ProjectFactory(slug="other")
    other_scientist = member(other_project, Role.DATA_SCIENTIST, username="olga")
    a, ra = ready_draft(project=project, owner=scientist)
    b, rb = ready_draft(project=project, owner=scientist)
    c, _ = ready_draft(project=other_project, owner=other_scientist)
    with django_capture_on_commit_callbacks(execute=True):
        services.submit_revision(scientist, ra)
    services.accept_revision(engineer, ra)
    client = token_client(scientist.username)

    def ids(query):
        response = client.get(f"{API}/handovers/?{query}")
        assert response.status_code == 200, response.json()
        return {row["id"] for row in response.json()["results"]}

    assert ids("") == {a.pk, b.pk}  # c is in a project dana cannot see
    assert ids(f"project={project.slug}") == {a.pk, b.pk}
    assert ids(f"project={project.pk}") == {a.pk, b.pk}
    assert ids("project=other") == set()
    assert ids("state=accepted") == {a.pk}
    assert ids("state=draft&state=accepted") == {a.pk, b.pk}
    assert ids(f"owner={scientist.username}") == {a.pk, b.pk}
    assert ids(f"reviewer={engineer.username}") == {a.pk}
    assert ids("reviewer=nobody") == set()
    assert client.get(f"{API}/handovers/?state=bogus").status_code == 400
    assert client.get(f"{API}/models/?project={project.slug}").json()["count"] == 2


def test_no_n_plus_one_on_list_and_detail(project, scientist, engineer, django_capture_on_commit_callbacks):
    from handoff.handovers import services

    client = token_client(scientist.username)
    client.get(f"{API}/projects/")  # the token's first use is written once (then at most once a minute)

    def count(url):
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        return len(queries)

    handover, revision = ready_draft(project=project, owner=scientist)
    services.add_comment(scientist, handover, body="one")
    list_small, detail_small = count(f"{API}/handovers/"), count(f"{API}/handovers/{handover.pk}/")
    for _ in range(5):
        ready_draft(project=project, owner=scientist)
    with django_capture_on_commit_callbacks(execute=True):
        services.submit_revision(scientist, revision)
    services.request_changes(engineer, revision, comment="more")
    services.revise_handover(scientist, handover)
    for n in range(4):
        services.add_comment(scientist, handover, body=f"comment {n}")
    assert count(f"{API}/handovers/") == list_small
    assert count(f"{API}/handovers/{handover.pk}/") == detail_small
    assert detail_small <= 12
    assert Review.objects.count() == 1
    assert Handover.objects.get(pk=handover.pk).state == HandoverState.DRAFT


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("post", "request-changes/", {}),
        ("post", "accept/", {"comment": 5}),
        ("patch", "revisions/1/", {"latency_p95_ms": -1}),
        ("post", "revisions/1/artifacts/", {}),
        ("post", "submit/", None),
        ("post", "revise/", None),
    ],
)
def test_a_role_that_may_not_act_gets_403_before_its_body_is_read(draft, manager, method, path, body):
    handover, _ = draft
    client = token_client(manager.username)

    response = getattr(client, method)(f"{API}/handovers/{handover.pk}/{path}", body, format="json")

    assert response.status_code == 403, response.json()
    assert "role does not allow" in response.json()["detail"]


def test_an_empty_filter_value_means_no_filter(draft, scientist):
    response = token_client(scientist.username).get(f"{API}/handovers/?state=&owner=")

    assert response.status_code == 200 and response.json()["count"] == 1
