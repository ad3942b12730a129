"""The contracts API: each endpoint, bad input, reach and roles, the frozen
rule and blind labels."""

import hashlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from handoff.contracts import services
from handoff.contracts.models import Contract, ContractState
from handoff.handovers.models import Handover, HandoverState
from handoff.notifications.models import Notification
from handoff.teams.models import Role
from tests.factories import (
    ProjectFactory,
    contract_requirements,
    contract_terms,
    draft_contract,
    measured_candidate,
    member,
    ready_draft,
)

pytestmark = pytest.mark.django_db
API = "/api/v1"


def client_of(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def new_contract_body(project, **overrides):
    terms = contract_terms()
    terms["frameworks"] = ["scikit-learn"]
    terms["model_formats"] = ["onnx"]
    body = {
        "project": project.slug,
        "title": "Screening second reads",
        "labels_blind": True,
        **terms,
        "requirements": {"accuracy": {"minimum": 0.95}, "roc_auc": {"minimum": 0.95}},
    }
    body.update(overrides)
    return body


def upload_labels(client, contract_id, content=b"id,label\n1,0\n2,1\n", kind="labels"):
    return client.post(
        f"{API}/contracts/{contract_id}/artifacts/",
        {"kind": kind, "file": SimpleUploadedFile(f"{kind}.csv", content)},
        format="multipart",
    )


def snapshot(contract):
    contract = Contract.objects.get(pk=contract.pk)
    return (
        contract.state,
        contract.title,
        services.terms_digest(contract),
        sorted(contract.artifacts.values_list("kind", "sha256")),
        sorted(contract.signatures.values_list("signer__username", flat=True)),
    )


# --- drafting -----------------------------------------------------------------------------------


def test_engineer_drafts_a_contract_with_terms_and_requirements(project, engineer):
    response = client_of(engineer).post(f"{API}/contracts/", new_contract_body(project), format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["state"], body["version"], body["labels_blind"], body["project"]) == (
        "draft",
        1,
        True,
        project.slug,
    )
    assert body["requirements"] == {
        "accuracy": {"minimum": 0.95, "maximum": None},
        "roc_auc": {"minimum": 0.95, "maximum": None},
    }
    assert body["frameworks"] == ["scikit-learn"] and body["max_parameter_count"] == 100
    assert body["artifacts"] == [] and body["signatures"] == []
    assert "propose" in body["available_actions"]
    contract = Contract.objects.get(pk=body["id"])
    assert contract.created_by == engineer and contract.requirements.count() == 2


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"title": "   "}, "title"),
        ({"latency_p95_ms": -5}, "latency_p95_ms"),
        ({"frameworks": ["cobol"]}, "frameworks"),
        ({"requirements": {"accuracy": {"minimum": 1.5}}}, "minimum"),
        ({"requirements": {"accuracy": {}}}, "minimum"),
        ({"max_parameter_count": "100"}, "max_parameter_count"),
    ],
)
def test_bad_contract_input_is_a_400_naming_the_field_and_changes_nothing(project, engineer, change, field):
    client = client_of(engineer)
    response = client.post(f"{API}/contracts/", new_contract_body(project, **change), format="json")
    assert response.status_code == 400, response.json()
    assert field in str(response.json()), response.json()
    assert not Contract.objects.exists()

    contract = draft_contract(project, engineer)
    before = snapshot(contract)
    response = client.patch(f"{API}/contracts/{contract.pk}/", change, format="json")
    assert response.status_code == 400, response.json()
    assert field in str(response.json())
    assert snapshot(contract) == before


def test_a_contract_in_a_project_you_cannot_see_is_a_404(project, outsider):
    response = client_of(outsider).post(f"{API}/contracts/", new_contract_body(project), format="json")
    assert response.status_code == 404
    assert not Contract.objects.exists()


def test_a_manager_may_not_draft_change_or_propose(project, engineer, manager):
    client = client_of(manager)
    assert client.post(f"{API}/contracts/", new_contract_body(project), format="json").status_code == 403
    contract = draft_contract(project, engineer)
    before = snapshot(contract)
    assert (
        client.patch(f"{API}/contracts/{contract.pk}/", {"title": "Mine"}, format="json").status_code == 403
    )
    assert client.post(f"{API}/contracts/{contract.pk}/propose/").status_code == 403
    assert upload_labels(client, contract.pk).status_code == 403
    assert client.get(f"{API}/contracts/{contract.pk}/").status_code == 200  # reading is fine
    assert snapshot(contract) == before


def test_outsider_gets_404_at_every_contract_url(contract, outsider, engineer):
    client = client_of(outsider)
    artifact = contract.artifacts.get()
    base = f"{API}/contracts/{contract.pk}"
    for url in (
        f"{base}/",
        f"{base}/versions/",
        f"{base}/diff/?against={contract.pk}",
        f"{base}/comments/",
        f"{base}/artifacts/",
        f"{base}/artifacts/{artifact.pk}/download/",
        f"{base}/candidates/",
        f"{base}/comparison/",
    ):
        assert client.get(url).status_code == 404, url
    for url in (
        f"{base}/propose/",
        f"{base}/sign/",
        f"{base}/new-version/",
        f"{base}/close/",
        f"{base}/comments/",
        f"{base}/candidates/",
    ):
        assert client.post(url, {}, format="json").status_code == 404, url
    assert client.patch(f"{base}/", {"title": "x"}, format="json").status_code == 404
    assert client.delete(f"{base}/artifacts/{artifact.pk}/").status_code == 404
    assert client.get(f"{API}/contracts/").json()["results"] == []
    assert Contract.objects.get(pk=contract.pk).state == ContractState.AGREED


def test_list_filters_by_project_and_state_and_orders(project, engineer, contract):
    draft = draft_contract(project, engineer, title="A second use case")
    other_project = ProjectFactory()
    stranger = member(other_project, Role.ML_ENGINEER)
    draft_contract(other_project, stranger, title="Not ours")
    client = client_of(engineer)
    every = client.get(f"{API}/contracts/?project={project.slug}&ordering=title").json()["results"]
    assert [c["id"] for c in every] == [draft.pk, contract.pk]
    agreed = client.get(f"{API}/contracts/?state=agreed").json()["results"]
    assert [c["id"] for c in agreed] == [contract.pk]
    bad = client.get(f"{API}/contracts/?state=signed")
    assert bad.status_code == 400 and "state" in bad.json()


# --- the lifecycle and the frozen rule ----------------------------------------------------------


def test_propose_sign_and_sign_agree_the_contract(project, scientist, engineer):
    contract = draft_contract(project, engineer)
    eng, ds = client_of(engineer), client_of(scientist)
    response = eng.post(f"{API}/contracts/{contract.pk}/propose/")
    assert response.status_code == 200 and response.json()["state"] == "proposed"
    assert ds.post(f"{API}/contracts/{contract.pk}/sign/").json()["state"] == "proposed"
    again = ds.post(f"{API}/contracts/{contract.pk}/sign/")
    assert again.status_code == 409 and "already signed" in again.json()["detail"]
    body = eng.post(f"{API}/contracts/{contract.pk}/sign/").json()
    assert body["state"] == "agreed" and body["agreed_at"]
    assert {s["signer"]: s["role"] for s in body["signatures"]} == {
        "dana": "data_scientist",
        "eli": "ml_engineer",
    }
    assert all(s["terms_sha256"] == body["terms_sha256"] for s in body["signatures"])
    assert set(body["signatures"][0]["artifact_hashes"]) == {"labels"}


def test_proposing_without_labels_is_a_409_naming_them(project, engineer):
    contract = services.create_contract(
        engineer, project, title="No labels yet", terms=contract_terms(), requirements=contract_requirements()
    )
    response = client_of(engineer).post(f"{API}/contracts/{contract.pk}/propose/")
    assert response.status_code == 409 and "labels" in response.json()["detail"]
    assert Contract.objects.get(pk=contract.pk).state == ContractState.DRAFT


def test_agreed_contract_cannot_be_changed_by_patch_or_files(contract, engineer):
    client = client_of(engineer)
    before = snapshot(contract)
    response = client.patch(
        f"{API}/contracts/{contract.pk}/", {"latency_p95_ms": 1, "title": "Cheaper"}, format="json"
    )
    assert response.status_code == 409
    assert "agreed" in response.json()["detail"] and "version n+1" in response.json()["detail"]
    assert upload_labels(client, contract.pk).status_code == 409
    assert upload_labels(client, contract.pk, kind="inputs").status_code == 409
    artifact = contract.artifacts.get()
    assert client.delete(f"{API}/contracts/{contract.pk}/artifacts/{artifact.pk}/").status_code == 409
    assert snapshot(contract) == before


def test_a_change_to_a_proposed_contract_clears_its_signatures(project, scientist, engineer):
    contract = draft_contract(project, engineer)
    services.propose(engineer, contract)
    services.sign(scientist, contract)
    client = client_of(engineer)
    body = client.patch(f"{API}/contracts/{contract.pk}/", {"latency_p95_ms": 250}, format="json").json()
    assert body["signatures"] == [] and body["latency_p95_ms"] == 250 and body["state"] == "proposed"
    assert Notification.objects.filter(recipient=scientist, kind="contract_unsigned").count() == 1

    services.sign(scientist, contract)
    assert upload_labels(client, contract.pk, kind="inputs").status_code == 201
    assert client.get(f"{API}/contracts/{contract.pk}/").json()["signatures"] == []

    services.sign(scientist, contract)
    inputs = contract.artifacts.get(kind="inputs")
    assert client.delete(f"{API}/contracts/{contract.pk}/artifacts/{inputs.pk}/").status_code == 204
    assert contract.signatures.count() == 0 and contract.artifacts.count() == 1


def test_new_version_returns_a_draft_copy_listed_with_its_versions_and_diffed(contract, engineer):
    client = client_of(engineer)
    response = client.post(f"{API}/contracts/{contract.pk}/new-version/")
    assert response.status_code == 201
    successor = response.json()
    assert (successor["version"], successor["state"], successor["series"]) == (
        2,
        "draft",
        str(contract.series),
    )
    changed = client.patch(
        f"{API}/contracts/{successor['id']}/",
        {"latency_p95_ms": 250, "requirements": {"accuracy": {"minimum": 0.96}}},
        format="json",
    )
    assert changed.status_code == 200
    versions = client.get(f"{API}/contracts/{contract.pk}/versions/").json()["results"]
    assert [(v["version"], v["state"]) for v in versions] == [(1, "agreed"), (2, "draft")]

    diff = client.get(f"{API}/contracts/{successor['id']}/diff/?against={contract.pk}").json()
    assert diff["terms"] == [{"name": "latency_p95_ms", "old": 500.0, "new": 250.0}]
    assert diff["requirements"] == [
        {
            "metric": "accuracy",
            "old": {"minimum": 0.95, "maximum": None},
            "new": {"minimum": 0.96, "maximum": None},
        },
        {"metric": "roc_auc", "old": {"minimum": 0.95, "maximum": None}, "new": None},
    ]
    assert diff["files"] == []  # the same stored labels, by sha256
    for against in ("", "abc", "-1"):
        bad = client.get(f"{API}/contracts/{contract.pk}/diff/?against={against}")
        assert bad.status_code == 400 and "against" in bad.json()
    elsewhere = draft_contract(contract.project, engineer, title="Another use case")
    for against in ("987654", str(elsewhere.pk)):
        assert client.get(f"{API}/contracts/{contract.pk}/diff/?against={against}").status_code == 404


def test_close_ends_the_contract(contract, engineer, scientist):
    response = client_of(scientist).post(
        f"{API}/contracts/{contract.pk}/close/", {"reason": "Dropped"}, format="json"
    )
    assert response.status_code == 200 and response.json()["state"] == "closed"
    again = client_of(engineer).post(f"{API}/contracts/{contract.pk}/close/")
    assert again.status_code == 409


def test_comments_are_listed_and_posted(contract, scientist, engineer, outsider):
    client = client_of(scientist)
    response = client.post(
        f"{API}/contracts/{contract.pk}/comments/", {"body": "@eli is 0.95 enough?"}, format="json"
    )
    assert response.status_code == 201
    assert response.json()["mentioned"] == ["eli"]
    empty = client.post(f"{API}/contracts/{contract.pk}/comments/", {"body": "  "}, format="json")
    assert empty.status_code == 400 and "body" in empty.json()
    listed = client_of(engineer).get(f"{API}/contracts/{contract.pk}/comments/").json()
    assert [c["body"] for c in listed["results"]] == ["@eli is 0.95 enough?"]


# --- blind labels -------------------------------------------------------------------------------


def test_scientist_is_never_shown_or_served_a_blind_contracts_labels(
    blind_contract, scientist, engineer, project
):
    labels = blind_contract.artifacts.get(kind="labels")
    base = f"{API}/contracts/{blind_contract.pk}"
    ds = client_of(scientist)
    assert ds.get(f"{base}/artifacts/").json() == []
    detail = ds.get(f"{base}/").json()
    assert detail["labels_blind"] is True and detail["artifacts"] == []
    assert "labels.csv" not in str(detail) and f"/artifacts/{labels.pk}/" not in str(detail)
    hidden = ds.get(f"{base}/artifacts/{labels.pk}/download/")
    nothing = ds.get(f"{base}/artifacts/987654/download/")
    assert (
        (hidden.status_code, hidden.json())
        == (nothing.status_code, nothing.json())
        == (404, {"detail": "Not found."})
    )
    for version in ds.get(f"{base}/versions/").json()["results"]:
        assert "artifacts" not in version

    content = labels.file.open("rb").read()
    for reader in (engineer, project.team.leader):
        client = client_of(reader)
        listed = client.get(f"{base}/artifacts/").json()
        assert [a["kind"] for a in listed] == ["labels"]
        assert [a["kind"] for a in client.get(f"{base}/").json()["artifacts"]] == ["labels"]
        response = client.get(listed[0]["download_url"])
        assert response.status_code == 200
        served = b"".join(response.streaming_content)
        assert hashlib.sha256(served).hexdigest() == labels.sha256 == hashlib.sha256(content).hexdigest()
        assert response["X-Content-SHA256"] == labels.sha256


def test_scientist_diffs_a_blind_contract_without_its_labels(blind_contract, scientist, engineer):
    successor = services.new_version(engineer, blind_contract)
    services.attach_contract_artifact(
        engineer, successor, kind="labels", uploaded_file=SimpleUploadedFile("labels.csv", b"id,label\n1,1\n")
    )
    url = f"{API}/contracts/{successor.pk}/diff/?against={blind_contract.pk}"
    assert client_of(scientist).get(url).json()["files"] == []
    assert [f["kind"] for f in client_of(engineer).get(url).json()["files"]] == ["labels"]


def test_an_open_contracts_labels_are_served_to_the_scientist(contract, scientist):
    listed = client_of(scientist).get(f"{API}/contracts/{contract.pk}/artifacts/").json()
    assert [a["kind"] for a in listed] == ["labels"]
    assert client_of(scientist).get(listed[0]["download_url"]).status_code == 200


# --- candidates, comparison and selection -------------------------------------------------------


def test_scientist_files_a_candidate_and_it_is_listed(contract, scientist, engineer):
    client = client_of(scientist)
    model = client.post(
        f"{API}/models/", {"project": contract.project.slug, "name": "logreg"}, format="json"
    ).json()
    response = client.post(
        f"{API}/contracts/{contract.pk}/candidates/",
        {
            "model": model["id"],
            "version_label": "1.0.0",
            "framework": "scikit-learn",
            "parameter_count": 31,
            "claims": {"accuracy": 0.959},
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    filed = response.json()
    assert filed["state"] == "draft" and filed["url"].endswith(f"/api/v1/handovers/{filed['id']}/")
    handover = Handover.objects.get(pk=filed["id"])
    assert handover.is_candidate and handover.candidacy.contract == contract
    listed = client_of(engineer).get(f"{API}/contracts/{contract.pk}/candidates/").json()["results"]
    assert [(c["handover"], c["model"]["name"], c["owner"], c["state"], c["validation"]) for c in listed] == [
        (handover.pk, "logreg", "dana", "draft", None)
    ]


def test_bad_candidates_are_refused_and_nothing_is_filed(contract, project, scientist, engineer, outsider):
    client = client_of(scientist)
    model = client.post(f"{API}/models/", {"project": project.slug, "name": "logreg"}, format="json").json()
    url = f"{API}/contracts/{contract.pk}/candidates/"
    good = {"model": model["id"], "version_label": "1.0.0", "framework": "scikit-learn"}
    unknown = client.post(url, {**good, "model": 987654}, format="json")
    assert unknown.status_code == 404
    bad = client.post(url, {**good, "claims": {"f1": 0.9}}, format="json")
    assert bad.status_code == 400 and "claims" in bad.json()
    short = client.post(url, {**good, "claims": {"accuracy": 0.9}}, format="json")
    assert short.status_code == 400 and "below its own minimum" in short.json()["claims"][0]
    framework = client.post(url, {**good, "framework": "pytorch"}, format="json")
    assert framework.status_code == 400 and "framework" in framework.json()
    assert client_of(engineer).post(url, good, format="json").status_code == 403
    draft = draft_contract(project, engineer)
    not_agreed = client.post(f"{API}/contracts/{draft.pk}/candidates/", good, format="json")
    assert not_agreed.status_code == 409 and "agreed" in not_agreed.json()["detail"]
    assert not Handover.objects.filter(is_candidate=True).exists()


def test_comparison_shows_each_candidates_measured_figures_and_the_best(contract, scientist, engineer):
    logreg = measured_candidate(contract, scientist, accuracy=0.959, parameters=31, latency_ms=1.5, name="lr")
    scaled = measured_candidate(contract, scientist, accuracy=0.971, parameters=91, latency_ms=2.5, name="sl")
    mlp = measured_candidate(contract, scientist, accuracy=0.971, parameters=573, latency_ms=3.0, name="mlp")
    body = client_of(scientist).get(f"{API}/contracts/{contract.pk}/comparison/").json()
    assert [c["handover"] for c in body["candidates"]] == [logreg.pk, scaled.pk, mlp.pk]
    assert body["candidates"][2]["checks"]["model.parameters"]["status"] == "fail"
    assert body["candidates"][2]["run"]["state"] == "failed"
    rows = {row["key"]: row for row in body["rows"]}
    assert list(rows) == [
        "metric.accuracy",
        "metric.roc_auc",
        "runtime.latency_p95_ms",
        "runtime.peak_memory_mb",
        "model.parameters",
    ]
    assert rows["metric.accuracy"]["best"] == [scaled.pk, mlp.pk]  # a tie: both marked
    assert rows["metric.accuracy"]["better"] == "higher" and rows["metric.accuracy"]["minimum"] == 0.95
    assert rows["model.parameters"]["best"] == [logreg.pk] and rows["model.parameters"]["maximum"] == 100
    assert [cell["status"] for cell in rows["model.parameters"]["cells"]] == ["pass", "pass", "fail"]
    assert rows["runtime.latency_p95_ms"]["best"] == [logreg.pk]


def test_engineer_selects_a_candidate_and_the_others_are_not_selected(contract, scientist, engineer):
    chosen, other = measured_candidate(contract, scientist), measured_candidate(contract, scientist)
    response = client_of(engineer).post(
        f"{API}/handovers/{chosen.pk}/select/", {"comment": "Smallest"}, format="json"
    )
    assert response.status_code == 200, response.json()
    assert response.json()["state"] == "accepted"
    assert Handover.objects.get(pk=other.pk).state == HandoverState.NOT_SELECTED
    again = client_of(engineer).post(f"{API}/handovers/{other.pk}/select/", {}, format="json")
    assert again.status_code == 409 and "already selected" in again.json()["detail"]
    assert Notification.objects.filter(recipient=scientist, kind="not_selected").exists()


def test_select_refuses_scientists_outsiders_and_handovers_without_a_contract(
    contract, project, scientist, engineer, outsider
):
    candidate = measured_candidate(contract, scientist)
    url = f"{API}/handovers/{candidate.pk}/select/"
    assert client_of(scientist).post(url, {}, format="json").status_code == 403
    assert client_of(outsider).post(url, {}, format="json").status_code == 404
    assert client_of(engineer).post(f"{API}/handovers/987654/select/", {}, format="json").status_code == 404
    plain, _ = ready_draft(project=project, owner=scientist)
    Handover.objects.filter(pk=plain.pk).update(state=HandoverState.AWAITING_REVIEW)
    refused = client_of(engineer).post(f"{API}/handovers/{plain.pk}/select/", {}, format="json")
    assert refused.status_code == 409 and "not filed against a contract" in refused.json()["detail"]
    bad = client_of(engineer).post(url, {"comment": 5}, format="json")
    assert bad.status_code == 400 and "comment" in bad.json()
    assert Handover.objects.get(pk=candidate.pk).state == HandoverState.AWAITING_REVIEW
