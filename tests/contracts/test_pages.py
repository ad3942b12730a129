"""Contract pages: the list, drafting and editing, the files, the contract
page and its actions, the diff, filing a candidate and selecting one."""

import pytest
from django.core.files.base import ContentFile
from django.test import Client

from handoff.contracts import services
from handoff.contracts.models import Candidate, Contract, ContractState
from handoff.handovers.models import Handover, HandoverState
from tests.factories import contract_terms, draft_contract, evidence, filed_candidate, ready_draft

pytestmark = pytest.mark.django_db


def client_of(user):
    client = Client()
    client.force_login(user)
    return client


def form_data(project=None, **overrides):
    """A valid contract form: the factories' terms, accuracy ≥ 0.95."""
    terms = contract_terms()
    data = {
        "title": "Screening second reads",
        "task_type": terms["task_type"], "frameworks": ["scikit-learn"], "model_formats": ["onnx"],
        "latency_p95_ms": "500", "latency_batch_size": "1", "peak_memory_mb": "2048",
        "max_parameter_count": "100", "validation_description": terms["validation_description"],
        "validation_row_count": str(terms["validation_row_count"]), "metric_tolerance": "0.005",
        "intended_use": "Flags **screening images**.",
        "requirements-TOTAL_FORMS": "6", "requirements-INITIAL_FORMS": "0",
        "requirements-MIN_NUM_FORMS": "0", "requirements-MAX_NUM_FORMS": "6",
        "requirements-0-metric": "accuracy", "requirements-0-minimum": "0.95",
    }
    if project is not None:
        data["project"] = str(project.pk)
    data.update(overrides)
    return data


def messages_of(response):
    return [str(m) for m in response.context["messages"]] if response.context else []


# --- the list --------------------------------------------------------------------------------------


def test_contract_list_shows_my_projects_contracts_newest_first(project, scientist, engineer):
    older = draft_contract(project, engineer, title="Older use case")
    newer = draft_contract(project, engineer, title="Newer use case")
    body = client_of(scientist).get("/contracts/").content.decode()
    assert body.index(newer.title) < body.index(older.title)


def test_contract_list_filters_by_state(project, scientist, engineer, contract):
    draft_contract(project, engineer, title="Still a draft")
    body = client_of(scientist).get("/contracts/?state=agreed").content.decode()
    assert contract.title in body and "Still a draft" not in body


def test_empty_contract_list_says_how_to_draft_one(scientist):
    body = client_of(scientist).get("/contracts/").content.decode()
    assert "No contract yet" in body and 'href="/contracts/new/"' in body


def test_outsider_sees_no_contract_in_the_list(contract, outsider):
    body = client_of(outsider).get("/contracts/").content.decode()
    assert contract.title not in body and "No contract yet" in body


# --- drafting and editing --------------------------------------------------------------------------


def test_engineer_drafts_a_contract_with_requirements(project, engineer):
    response = client_of(engineer).post("/contracts/new/", form_data(project, labels_blind="on"))
    contract = Contract.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/contracts/{contract.pk}/"
    assert contract.state == ContractState.DRAFT and contract.labels_blind
    assert contract.frameworks == "scikit-learn" and contract.model_formats == "onnx"
    assert contract.max_parameter_count == 100
    assert [(r.metric, r.minimum) for r in contract.requirements.all()] == [("accuracy", 0.95)]


def test_bad_contract_input_is_refused_on_its_field_and_nothing_is_stored(project, engineer):
    response = client_of(engineer).post("/contracts/new/", form_data(project, latency_p95_ms="-3"))
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert "p95 latency budget (ms) must be greater than 0" in str(errors["latency_p95_ms"])
    assert not Contract.objects.exists()


def test_a_bad_requirement_is_refused_on_its_row(project, engineer):
    response = client_of(engineer).post(
        "/contracts/new/", form_data(project, **{"requirements-0-minimum": "1.7"})
    )
    assert response.status_code == 400
    row = response.context["formset"].forms[0]
    assert row.errors, response.context["form"].errors
    assert not Contract.objects.exists()


def test_manager_cannot_draft_in_a_project(project, manager):
    response = client_of(manager).get("/contracts/new/")
    assert "You cannot draft a contract yet" in response.content.decode()


def test_a_change_to_a_proposed_contract_by_the_form_clears_its_signatures(project, scientist, engineer):
    contract = draft_contract(project, engineer)
    services.propose(engineer, contract)
    services.sign(engineer, contract)
    response = client_of(scientist).post(f"/contracts/{contract.pk}/edit/",
                                         form_data(latency_p95_ms="250"), follow=True)
    assert "signatures gathered so far were cleared" in " ".join(messages_of(response))
    contract.refresh_from_db()
    assert contract.latency_p95_ms == 250 and contract.signatures.count() == 0


def test_an_agreed_contract_cannot_be_edited_by_the_form(contract, engineer):
    before = (contract.title, contract.latency_p95_ms, contract.updated_at)
    client = client_of(engineer)
    page = client.get(f"/contracts/{contract.pk}/edit/", follow=True)
    assert "is agreed and cannot change; start a new version" in " ".join(messages_of(page))
    response = client.post(f"/contracts/{contract.pk}/edit/", form_data(title="Changed", latency_p95_ms="9"),
                           follow=True)
    assert "is agreed and cannot change" in " ".join(messages_of(response))
    contract.refresh_from_db()
    assert (contract.title, contract.latency_p95_ms, contract.updated_at) == before
    assert contract.signatures.count() == 2


def test_an_agreed_contract_page_offers_no_edit_controls(contract, engineer):
    body = client_of(engineer).get(f"/contracts/{contract.pk}/").content.decode()
    assert "Edit terms" not in body and "Upload validation" not in body and "Remove" not in body
    assert "Start version 2" in body


def test_outsider_gets_404_for_every_contract_page(contract, outsider):
    client = client_of(outsider)
    for url in ("", "edit/", "diff/", "comparison/", "candidates/new/"):
        assert client.get(f"/contracts/{contract.pk}/{url}").status_code == 404, url
    for url in ("propose/", "sign/", "close/", "new-version/", "comments/", "files/"):
        assert client.post(f"/contracts/{contract.pk}/{url}", {"body": "x"}).status_code == 404, url
    artifact = contract.artifacts.get()
    assert client.get(f"/contracts/{contract.pk}/files/{artifact.pk}/").status_code == 404


# --- files -----------------------------------------------------------------------------------------


def test_engineer_uploads_and_removes_the_inputs_of_a_draft(project, engineer):
    contract = draft_contract(project, engineer)
    client = client_of(engineer)
    client.post(f"/contracts/{contract.pk}/files/",
                {"kind": "inputs", "file": ContentFile(b"id,x\n1,2\n", name="inputs.csv")})
    inputs = contract.artifacts.get(kind="inputs")
    page = client.get(f"/contracts/{contract.pk}/").content.decode()
    assert f'<code class="sha256">{inputs.sha256}</code>' in page
    client.post(f"/contracts/{contract.pk}/files/{inputs.pk}/remove/")
    assert not contract.artifacts.filter(kind="inputs").exists()


def test_an_upload_without_a_file_is_refused_and_nothing_is_stored(project, engineer):
    contract = draft_contract(project, engineer)
    response = client_of(engineer).post(f"/contracts/{contract.pk}/files/", {"kind": "inputs"})
    assert response.status_code == 400 and "Choose a file to upload" in response.content.decode()
    assert list(contract.artifacts.values_list("kind", flat=True)) == ["labels"]


def test_an_agreed_contract_takes_no_upload(contract, engineer):
    before = list(contract.artifacts.values_list("pk", "sha256"))
    response = client_of(engineer).post(
        f"/contracts/{contract.pk}/files/",
        {"kind": "labels", "file": ContentFile(b"id,label\n1,0\n", name="labels.csv")}, follow=True,
    )
    assert "is agreed and cannot change" in " ".join(messages_of(response))
    assert list(contract.artifacts.values_list("pk", "sha256")) == before
    label = contract.artifacts.get()
    assert client_of(engineer).post(f"/contracts/{contract.pk}/files/{label.pk}/remove/").status_code == 302
    assert contract.artifacts.count() == 1


def test_engineer_downloads_a_blind_contracts_labels(blind_contract, engineer):
    labels = blind_contract.artifacts.get(kind="labels")
    response = client_of(engineer).get(f"/contracts/{blind_contract.pk}/files/{labels.pk}/")
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == evidence("labels")[1]
    assert response["X-Content-SHA256"] == labels.sha256


def test_scientist_gets_404_for_a_blind_contracts_labels(blind_contract, scientist):
    labels = blind_contract.artifacts.get(kind="labels")
    client = client_of(scientist)
    assert client.get(f"/contracts/{blind_contract.pk}/files/{labels.pk}/").status_code == 404
    body = client.get(f"/contracts/{blind_contract.pk}/").content.decode()
    assert labels.sha256 not in body and labels.original_name not in body
    assert "Labels held blind" in body


def test_scientist_downloads_the_labels_of_a_contract_that_is_not_blind(contract, scientist):
    labels = contract.artifacts.get(kind="labels")
    assert client_of(scientist).get(f"/contracts/{contract.pk}/files/{labels.pk}/").status_code == 200


# --- the contract page and its actions -------------------------------------------------------------


def test_contract_page_shows_requirements_files_and_signatures(contract, scientist):
    body = client_of(scientist).get(f"/contracts/{contract.pk}/").content.decode()
    labels = contract.artifacts.get()
    assert "Accuracy" in body and "0.95" in body and labels.sha256 in body
    for signature in contract.signatures.all():
        assert signature.terms_sha256 in body and signature.signer.display_name in body
    assert "File a candidate" in body


def test_engineer_proposes_and_both_sides_sign_through_the_pages(project, scientist, engineer):
    contract = draft_contract(project, engineer)
    assert "Propose" in client_of(engineer).get(f"/contracts/{contract.pk}/").content.decode()
    client_of(engineer).post(f"/contracts/{contract.pk}/propose/")
    client_of(scientist).post(f"/contracts/{contract.pk}/sign/")
    response = client_of(engineer).post(f"/contracts/{contract.pk}/sign/", follow=True)
    assert "is agreed" in " ".join(messages_of(response))
    contract.refresh_from_db()
    assert contract.state == ContractState.AGREED


def test_proposing_without_labels_says_what_is_missing(project, engineer):
    contract = services.create_contract(engineer, project, title="No labels", terms=contract_terms(),
                                        requirements=[{"metric": "accuracy", "minimum": 0.9}])
    page = client_of(engineer).get(f"/contracts/{contract.pk}/").content.decode()
    assert "add the validation labels file" in page
    response = client_of(engineer).post(f"/contracts/{contract.pk}/propose/", follow=True,
                                        HTTP_REFERER=f"/contracts/{contract.pk}/")
    assert "add the validation labels file" in " ".join(messages_of(response))
    contract.refresh_from_db()
    assert contract.state == ContractState.DRAFT


def test_a_comment_is_rendered_as_markdown(contract, scientist):
    client_of(scientist).post(f"/contracts/{contract.pk}/comments/", {"body": "Is **0.95** fair?"})
    body = client_of(scientist).get(f"/contracts/{contract.pk}/").content.decode()
    assert "<strong>0.95</strong>" in body


def test_an_empty_comment_is_refused_on_its_field(contract, scientist):
    response = client_of(scientist).post(f"/contracts/{contract.pk}/comments/", {"body": "  "})
    assert response.status_code == 400 and "Write something to comment." in response.content.decode()
    assert not contract.comments.exists()


def test_new_version_starts_a_draft_and_the_diff_shows_the_change(contract, engineer):
    client = client_of(engineer)
    response = client.post(f"/contracts/{contract.pk}/new-version/")
    successor = Contract.objects.get(series=contract.series, version=2)
    assert response["Location"] == f"/contracts/{successor.pk}/"
    client.post(f"/contracts/{successor.pk}/edit/", form_data(latency_p95_ms="250"))
    body = client.get(f"/contracts/{successor.pk}/diff/").content.decode()
    assert "v1 against v2" in body and "500.0" in body and "250.0" in body
    assert 'p95 latency budget (ms) <span class="badge changed-badge">Changed' in body
    assert 'Title</th>' in body and 'Title <span class="badge changed-badge">' not in body


def test_close_closes_the_contract(contract, engineer):
    client_of(engineer).post(f"/contracts/{contract.pk}/close/", {"reason": "Use case dropped"})
    contract.refresh_from_db()
    assert contract.state == ContractState.CLOSED


# --- candidates and selection ----------------------------------------------------------------------


def test_scientist_files_a_candidate_with_a_new_model(contract, scientist):
    response = client_of(scientist).post(f"/contracts/{contract.pk}/candidates/new/", {
        "new_model_name": "screening-logreg", "version_label": "1.0.0", "framework": "scikit-learn",
        "framework_version": "1.5.2", "parameter_count": "31", "claim_accuracy": "0.959",
    })
    handover = Handover.objects.get(model__name="screening-logreg")
    assert response["Location"] == f"/handovers/{handover.pk}/"
    assert Candidate.objects.get(handover=handover).contract == contract
    claims = {c.metric: c.claimed_value for c in handover.revisions.get().claimed_metrics.all()}
    assert claims == {"accuracy": 0.959, "roc_auc": None}


def test_a_candidate_in_a_framework_the_contract_refuses_changes_nothing(contract, scientist):
    response = client_of(scientist).post(f"/contracts/{contract.pk}/candidates/new/", {
        "new_model_name": "screening-torch", "version_label": "1.0.0", "framework": "pytorch",
    })
    assert response.status_code == 400 and "framework" in response.context["form"].errors
    assert not Handover.objects.exists()


def test_engineer_cannot_file_a_candidate(contract, engineer):
    assert client_of(engineer).get(f"/contracts/{contract.pk}/candidates/new/").status_code == 403


def test_candidates_are_filed_against_an_agreed_contract_only(project, scientist, engineer):
    contract = draft_contract(project, engineer)
    response = client_of(scientist).get(f"/contracts/{contract.pk}/candidates/new/", follow=True)
    assert "filed against an agreed contract" in " ".join(messages_of(response))


def submitted(contract, scientist, name, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        return filed_candidate(contract, scientist, name, submit=True)


def test_engineer_selects_a_candidate_and_the_others_are_not_selected(
        contract, scientist, engineer, django_capture_on_commit_callbacks):
    chosen = submitted(contract, scientist, "logreg", django_capture_on_commit_callbacks)
    other = submitted(contract, scientist, "scaled-logreg", django_capture_on_commit_callbacks)
    chosen.refresh_from_db()
    assert chosen.state == HandoverState.AWAITING_REVIEW
    response = client_of(engineer).post(f"/handovers/{chosen.pk}/select/", {"comment": "Smallest."})
    assert response["Location"] == f"/contracts/{contract.pk}/comparison/"
    chosen.refresh_from_db()
    other.refresh_from_db()
    assert (chosen.state, other.state) == (HandoverState.ACCEPTED, HandoverState.NOT_SELECTED)
    body = client_of(scientist).get(f"/contracts/{contract.pk}/").content.decode()
    assert "Not selected" in body


def test_a_second_select_says_which_was_already_selected(
        contract, scientist, engineer, other_engineer, django_capture_on_commit_callbacks):
    chosen = submitted(contract, scientist, "logreg", django_capture_on_commit_callbacks)
    other = submitted(contract, scientist, "scaled-logreg", django_capture_on_commit_callbacks)
    client_of(engineer).post(f"/handovers/{chosen.pk}/select/")
    response = client_of(other_engineer).post(f"/handovers/{other.pk}/select/", follow=True)
    assert f"{chosen} was already selected" in " ".join(messages_of(response))
    other.refresh_from_db()
    assert other.state == HandoverState.NOT_SELECTED


def test_scientist_cannot_select(contract, scientist, django_capture_on_commit_callbacks):
    chosen = submitted(contract, scientist, "logreg", django_capture_on_commit_callbacks)
    assert client_of(scientist).post(f"/handovers/{chosen.pk}/select/").status_code == 403
    chosen.refresh_from_db()
    assert chosen.state == HandoverState.AWAITING_REVIEW


def test_candidate_page_names_its_contract_and_offers_select_not_accept(
        contract, scientist, engineer, django_capture_on_commit_callbacks):
    chosen = submitted(contract, scientist, "logreg", django_capture_on_commit_callbacks)
    body = client_of(engineer).get(f"/handovers/{chosen.pk}/").content.decode()
    assert f"Candidate of <a href=\"/contracts/{contract.pk}/\">{contract}</a>" in body
    assert "Select this candidate" in body and "Accept and sign" not in body
    scientist_body = client_of(scientist).get(f"/handovers/{chosen.pk}/").content.decode()
    assert "Candidate of" in scientist_body and "Select this candidate" not in scientist_body


def test_a_handover_without_a_contract_has_no_candidate_panel(project, scientist):
    handover, _ = ready_draft(project=project, owner=scientist)
    body = client_of(scientist).get(f"/handovers/{handover.pk}/").content.decode()
    assert "Candidate of" not in body
