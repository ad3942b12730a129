"""Blind labels at every route that serves an artifact or a check's findings.

A contract that holds its labels blind: its data scientist never lists,
downloads or diffs the labels file of a candidate, and reads only aggregate
figures of its validation (no ``details``; a row-level check says how many
rows matched); its ML engineer and the team leader see everything. A
candidate of a contract that does not hold its labels blind shows its data
scientist everything, as any handover does.

The candidate's predictions miss two ids of the labels, so ``data.ids``
fails with a row-level finding ("2 ids of … are missing … (e.g. …)").
"""

import hashlib

import pytest
from django.core.files.base import ContentFile
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from handoff.contracts import services
from handoff.handovers import services as handover_services
from handoff.handovers.models import Artifact, ArtifactKind, Review, ReviewDecision
from handoff.validation.models import ValidationRun
from tests.factories import (
    CANDIDATE_EVIDENCE,
    ArtifactFactory,
    HandoverFactory,
    ModelFactory,
    RevisionFactory,
    contract_requirements,
    contract_terms,
    filed_candidate,
)

pytestmark = pytest.mark.django_db

LABELS_NAME = "held-truth-labels.csv"
ROW_FINDING = "are missing from"  # data.ids' row-level sentence: which ids of the labels are missing


def _contract(project, scientist, engineer, *, blind):
    """An agreed contract whose labels file has a name to look for on every page."""
    contract = services.create_contract(engineer, project, title="Blind screening" if blind else "Screening",
                                        terms=contract_terms(), requirements=contract_requirements(),
                                        labels_blind=blind)
    labels = (CANDIDATE_EVIDENCE / "labels.csv").read_bytes()
    services.attach_contract_artifact(engineer, contract, kind="labels",
                                      uploaded_file=ContentFile(labels, name=LABELS_NAME))
    services.propose(engineer, contract)
    services.sign(scientist, contract)
    services.sign(engineer, contract)
    contract.refresh_from_db()
    return contract


def _candidate_missing_two_ids(contract, scientist, django_capture_on_commit_callbacks):
    """A logreg candidate whose predictions lack two rows, submitted and validated."""
    model = handover_services.create_model(scientist, contract.project, name="logreg-short")
    handover = services.file_candidate(scientist, contract, model=model, version_label="1.0.0",
                                       framework="scikit-learn")
    revision = handover.revisions.get()
    lines = (CANDIDATE_EVIDENCE / "logreg" / "predictions.csv").read_bytes().splitlines(keepends=True)
    files = {ArtifactKind.MODEL: ("model.onnx", (CANDIDATE_EVIDENCE / "logreg" / "model.onnx").read_bytes()),
             ArtifactKind.PREDICTIONS: ("predictions.csv", b"".join(lines[:1] + lines[3:]))}
    for kind, (name, content) in files.items():
        handover_services.attach_artifact(scientist, revision, kind=kind,
                                          uploaded_file=ContentFile(content, name=name))
    with django_capture_on_commit_callbacks(execute=True):
        handover_services.submit_revision(scientist, revision)
    handover.refresh_from_db()
    return handover


@pytest.fixture
def blind(project, scientist, engineer, django_capture_on_commit_callbacks):
    contract = _contract(project, scientist, engineer, blind=True)
    return _candidate_missing_two_ids(contract, scientist, django_capture_on_commit_callbacks)


@pytest.fixture
def open_labels(project, scientist, engineer, django_capture_on_commit_callbacks):
    contract = _contract(project, scientist, engineer, blind=False)
    return _candidate_missing_two_ids(contract, scientist, django_capture_on_commit_callbacks)


@pytest.fixture
def leader(project):
    return project.team.leader


def _labels(handover):
    return Artifact.objects.get(revision__handover=handover, kind=ArtifactKind.LABELS)


def _run(handover):
    return ValidationRun.objects.get(revision__handover=handover)


# --- every route that serves or lists an artifact or a check's findings ------------------------------

def _pages(handover):
    """(what, URL) of every page and API read that lists artifacts or check findings of ``handover``."""
    labels, run = _labels(handover), _run(handover)
    return [
        ("handover page", reverse("handovers:detail", args=[handover.pk])),
        ("handover page, revision 1", reverse("handovers:detail", args=[handover.pk]) + "?revision=1"),
        ("revision diff page", reverse("handovers:diff", args=[handover.pk]) + "?from=1&to=1"),
        ("handover JSON", f"/api/v1/handovers/{handover.pk}/"),
        ("revision JSON", f"/api/v1/handovers/{handover.pk}/revisions/1/"),
        ("validation run JSON", f"/api/v1/validation-runs/{run.pk}/"),
        ("validation runs JSON", f"/api/v1/validation-runs/?handover={handover.pk}"),
        ("artifact JSON", f"/api/v1/artifacts/{labels.pk}/"),
    ]


def _downloads(handover):
    labels = _labels(handover)
    return [reverse("handovers:download_artifact", args=[handover.pk, labels.pk]),
            f"/api/v1/artifacts/{labels.pk}/download/"]


def _checks(client, handover):
    """{check key: check} of the handover's run, as the API gives them to ``client``."""
    run = client.get(f"/api/v1/validation-runs/{_run(handover).pk}/").json()
    return {check["check"]: check for check in run["checks"]}


def _download_sha256(response):
    return hashlib.sha256(b"".join(response.streaming_content)).hexdigest()


def test_scientist_never_lists_downloads_or_reads_row_findings_of_blind_labels(client, blind, scientist):
    client.force_login(scientist)
    for what, url in _pages(blind):
        response = client.get(url)
        if what == "artifact JSON":
            assert response.status_code == 404, what
            continue
        assert response.status_code == 200, what
        body = response.content.decode()
        assert LABELS_NAME not in body, f"{what} names the blind labels file"
        assert ROW_FINDING not in body, f"{what} shows a row-level finding"
        assert _labels(blind).sha256 not in body, f"{what} gives the blind labels' sha256"
    for url in _downloads(blind):
        assert client.get(url).status_code == 404, url


def test_scientist_reads_aggregate_figures_only_in_the_report_and_the_api(client, blind, scientist):
    client.force_login(scientist)
    checks = _checks(client, blind)
    assert all(check["details"] == {} for check in checks.values())
    assert checks["data.ids"]["status"] == "fail"
    assert checks["data.ids"]["measured"] == 169
    assert checks["data.ids"]["message"] == "169 rows matched; row-level findings are held blind."
    assert checks["data.rows"]["message"] == "169 rows matched; row-level findings are held blind."
    # Aggregate figures stay: the metrics measured on the matched rows.
    assert checks["metric.accuracy"]["measured"] is not None
    page = client.get(reverse("handovers:detail", args=[blind.pk])).content.decode()
    assert "169 rows matched; row-level findings are held blind." in page
    assert 'id="held-blind"' in page


def test_scientist_cannot_remove_or_delete_blind_labels(client, blind, scientist):
    client.force_login(scientist)
    labels = _labels(blind)
    response = client.post(reverse("handovers:remove_artifact", args=[blind.pk, labels.pk]))
    assert response.status_code == 404
    assert client.delete(f"/api/v1/artifacts/{labels.pk}/").status_code == 404
    assert Artifact.objects.filter(pk=labels.pk).exists()


@pytest.mark.parametrize("who", ["engineer", "leader"])
def test_engineer_and_team_leader_see_download_and_read_everything(client, blind, who, request):
    client.force_login(request.getfixturevalue(who))
    labels = _labels(blind)
    page = client.get(reverse("handovers:detail", args=[blind.pk])).content.decode()
    assert LABELS_NAME in page and ROW_FINDING in page
    assert 'id="held-blind"' not in page
    revision = client.get(f"/api/v1/handovers/{blind.pk}/revisions/1/").json()
    assert LABELS_NAME in [a["original_name"] for a in revision["artifacts"]]
    handover = client.get(f"/api/v1/handovers/{blind.pk}/").json()
    assert LABELS_NAME in [a["original_name"] for r in handover["revisions"] for a in r["artifacts"]]
    assert client.get(f"/api/v1/artifacts/{labels.pk}/").json()["sha256"] == labels.sha256
    for url in _downloads(blind):
        response = client.get(url)
        assert response.status_code == 200, url
        assert _download_sha256(response) == labels.sha256
    checks = _checks(client, blind)
    assert checks["data.ids"]["details"]["matched_rows"] == 169
    assert ROW_FINDING in checks["data.ids"]["message"]


def test_scientist_of_a_contract_without_blind_labels_sees_everything(client, open_labels, scientist):
    client.force_login(scientist)
    labels = _labels(open_labels)
    page = client.get(reverse("handovers:detail", args=[open_labels.pk])).content.decode()
    assert LABELS_NAME in page and ROW_FINDING in page
    for url in _downloads(open_labels):
        response = client.get(url)
        assert response.status_code == 200
        assert _download_sha256(response) == labels.sha256
    checks = _checks(client, open_labels)
    assert checks["data.ids"]["details"]["matched_rows"] == 169
    assert ROW_FINDING in checks["data.ids"]["message"]


def _blind_handover_with_labels_changed(project, scientist):
    """A blind candidate whose revision 2 has labels revision 1 had not: the diff shows them."""
    handover = HandoverFactory(model=ModelFactory(project=project, owner=scientist), is_candidate=True,
                               labels_blind=True)
    first = RevisionFactory(handover=handover, number=1, created_by=scientist)
    second = RevisionFactory(handover=handover, number=2, created_by=scientist)
    ArtifactFactory(revision=first, kind=ArtifactKind.MODEL)
    ArtifactFactory(revision=second, kind=ArtifactKind.MODEL)
    ArtifactFactory(revision=second, kind=ArtifactKind.LABELS, original_name=LABELS_NAME)
    return handover


def test_the_revision_diff_leaves_blind_labels_out_for_the_scientist_only(client, project, scientist,
                                                                        engineer):
    handover = _blind_handover_with_labels_changed(project, scientist)
    url = reverse("handovers:diff", args=[handover.pk]) + "?from=1&to=2"
    client.force_login(engineer)
    assert LABELS_NAME in client.get(url).content.decode()
    client.force_login(scientist)
    body = client.get(url).content.decode()
    assert LABELS_NAME not in body and "Labels file" not in body


def test_activity_does_not_name_the_blind_labels_file(client, project, scientist, engineer):
    from tests.factories import AuditEventFactory

    handover = _blind_handover_with_labels_changed(project, scientist)
    AuditEventFactory(project=project, actor=scientist, verb="artifact.attached",
                      details={"handover": handover.pk, "kind": "labels", "name": LABELS_NAME, "revision": 2})
    client.force_login(scientist)
    body = client.get(reverse("handovers:detail", args=[handover.pk])).content.decode()
    assert "attached the labels file (held blind) to revision 2" in body
    assert LABELS_NAME not in body
    client.force_login(engineer)
    assert f"attached the labels file {LABELS_NAME}" in client.get(
        reverse("handovers:detail", args=[handover.pk])).content.decode()


def test_the_model_card_of_a_selected_blind_candidate_gives_the_labels_hash_only(
        client, project, scientist, engineer, django_capture_on_commit_callbacks):
    contract = _contract(project, scientist, engineer, blind=True)
    with django_capture_on_commit_callbacks(execute=True):
        handover = filed_candidate(contract, scientist, "logreg", submit=True)
    services.select(engineer, handover)
    labels = _labels(handover)
    client.force_login(scientist)
    for url in (reverse("contracts:model_card_markdown", args=[handover.pk]),
                reverse("contracts:model_card", args=[handover.pk]),
                f"/api/v1/handovers/{handover.pk}/model-card/"):
        response = client.get(url)
        assert response.status_code == 200, url
        body = response.content.decode()
        assert labels.sha256 in body
        assert LABELS_NAME not in body and "held-truth" not in body
        assert ROW_FINDING not in body
    assert Review.objects.get(revision__handover=handover).decision == ReviewDecision.ACCEPT


# --- the walk above covers every such route --------------------------------------------------------

# Routes that serve or list an artifact or a check's findings, and the test above that walks each.
WALK = "test_scientist_never_lists_downloads_or_reads_row_findings_of_blind_labels"
def test_scientist_neither_diffs_nor_removes_a_blind_contracts_labels(client, project, scientist, engineer):
    from tests.factories import agreed_contract

    agreed = agreed_contract(project, scientist, engineer, labels_blind=True)
    successor = services.new_version(engineer, agreed)
    labels = successor.artifacts.get(kind="labels")
    client.force_login(scientist)
    diff = client.get(reverse("contracts:diff", args=[successor.pk]), {"against": agreed.pk})
    assert diff.status_code == 200
    assert labels.sha256 not in diff.content.decode() and labels.original_name not in diff.content.decode()
    removed = client.post(reverse("contracts:remove_file", args=[successor.pk, labels.pk]))
    assert removed.status_code == 404
    assert successor.artifacts.filter(pk=labels.pk).exists()
    client.force_login(engineer)
    assert labels.sha256 in client.get(reverse("contracts:diff", args=[successor.pk]),
                                       {"against": agreed.pk}).content.decode()


WALKED = {
    "handovers:detail": WALK,
    "handovers:diff": "test_the_revision_diff_leaves_blind_labels_out_for_the_scientist_only",
    "handovers:download_artifact": WALK,
    "handovers:remove_artifact": "test_scientist_cannot_remove_or_delete_blind_labels",
    "api-handover-detail": WALK,
    "api-handover-revision": WALK,
    "api-artifact-detail": WALK,
    "api-artifact-download": WALK,
    "api-validation-run-detail": "test_scientist_reads_aggregate_figures_only_in_the_report_and_the_api",
    "api-validation-run-list": WALK,
    "contracts:model_card": "test_the_model_card_of_a_selected_blind_candidate_gives_the_labels_hash_only",
    "contracts:model_card_markdown":
        "test_the_model_card_of_a_selected_blind_candidate_gives_the_labels_hash_only",
    "api-handover-model-card": "test_the_model_card_of_a_selected_blind_candidate_gives_the_labels_hash_only",
    # The contract's own routes (the contract pages and API) are walked blind in their own tests:
    "contracts:diff": "test_scientist_neither_diffs_nor_removes_a_blind_contracts_labels",
    "contracts:remove_file": "test_scientist_neither_diffs_nor_removes_a_blind_contracts_labels",
    "contracts:download_file": "tests/contracts/test_pages.py::"
                               "test_scientist_gets_404_for_a_blind_contracts_labels",
    "api-contract-artifacts": "tests/contracts/test_api.py::"
                              "test_scientist_is_never_shown_or_served_a_blind_contracts_labels",
    "api-contract-artifact-download": "tests/contracts/test_api.py::"
                                      "test_scientist_is_never_shown_or_served_a_blind_contracts_labels",
    "api-contract-artifact": "tests/contracts/test_api.py::"
                             "test_scientist_is_never_shown_or_served_a_blind_contracts_labels",
    "api-contract-diff": "tests/contracts/test_api.py::"
                         "test_scientist_diffs_a_blind_contract_without_its_labels",
}
# Words in a route's path or name that say it serves a file or a check's findings.
SERVING = ("files", "artifact", "download", "label", "validation-run", "model-card", "diff")


def _named_routes(patterns=None, prefix="", namespace=""):
    for entry in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(entry, URLResolver):
            if entry.app_name == "admin":
                continue
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from _named_routes(entry.url_patterns, prefix + str(entry.pattern), inner)
        elif isinstance(entry, URLPattern) and entry.name:
            yield f"{namespace}{entry.name}", prefix + str(entry.pattern)


def test_every_route_that_serves_a_file_or_findings_is_walked_for_blind_labels():
    # They take a file and serve none.
    uploads = ("handovers:upload", "api-handover-revision-artifacts", "contracts:upload")
    serving = sorted(
        name for name, path in _named_routes()
        if any(word in f"{name} {path}".lower() for word in SERVING) and name not in uploads
    )
    unwalked = [name for name in serving if name not in WALKED]
    assert not unwalked, (
        "These routes serve or list a file or a check's findings but the blind-labels walk does not "
        f"call them: add each to a test in tests/contracts/test_blind.py and to WALKED: {unwalked}"
    )
