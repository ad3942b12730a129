"""The handover pages in the browser (Django test client): who sees what, who may do what."""

import hashlib
from datetime import timedelta

import pytest
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from handoff.handovers.models import (
    Artifact,
    ArtifactKind,
    Comment,
    Handover,
    HandoverState,
    Metric,
    Review,
    ReviewDecision,
    Revision,
)
from handoff.teams.models import Role
from tests.factories import (
    ArtifactFactory,
    HandoverFactory,
    ModelFactory,
    ProjectFactory,
    RevisionFactory,
    ready_draft,
)

S = HandoverState


def url(name, handover, *args):
    return reverse(f"handovers:{name}", args=[handover.pk, *args])


def referer(handover):
    return f"http://testserver{handover.get_absolute_url()}"


def messages_of(response):
    return [str(m) for m in get_messages(response.wsgi_request)]


def put_in_state(handover, revision, state, *, since=None):
    """Move a handover to ``state`` as the services would have (revision frozen once submitted)."""
    if state != S.DRAFT:
        revision.submitted_at = timezone.now()
        revision.submitted_by = handover.owner
        revision.save()
    handover.state = state
    handover.awaiting_review_since = since or (timezone.now() if state == S.AWAITING_REVIEW else None)
    handover.save()
    return handover


@pytest.fixture
def as_user(client):
    def log_in(user):
        client.force_login(user)
        return client

    return log_in


def new_handover_data(project, **overrides):
    data = {
        "project": project.pk,
        "model": "",
        "new_model_name": "churn-classifier",
        "version_label": "1.4.0",
        "task_type": "binary_classification",
        "framework": "scikit-learn",
        "framework_version": "1.5.2",
        "latency_p95_ms": "25",
        "latency_batch_size": "1",
        "peak_memory_mb": "300",
        "parameter_count": "31",
        "validation_description": "Hold-out set, March.",
        "validation_row_count": "1000",
        "fairness_slice_column": "",
        "fairness_max_gap": "",
        "intended_use": "Scoring **churn** risk.",
        "limitations": "Not for minors.",
        "metric_tolerance": "0.005",
        "metrics-TOTAL_FORMS": "6",
        "metrics-INITIAL_FORMS": "0",
        "metrics-MIN_NUM_FORMS": "0",
        "metrics-MAX_NUM_FORMS": "6",
    }
    for i in range(6):
        data.update({f"metrics-{i}-metric": "", f"metrics-{i}-claimed_value": "",
                     f"metrics-{i}-minimum": "", f"metrics-{i}-maximum": ""})
    data.update({"metrics-0-metric": "accuracy", "metrics-0-claimed_value": "0.91",
                 "metrics-0-minimum": "0.88", "metrics-2-metric": "f1", "metrics-2-claimed_value": "0.8"})
    data.update(overrides)
    return data


# --- new handover -----------------------------------------------------------------


def test_new_form_offers_only_projects_where_i_may_file(as_user, project, scientist):
    reviewing = ProjectFactory(name="Reviewed elsewhere")
    member_on_other = reviewing.role_assignments.create(user=scientist, role=Role.ML_ENGINEER)
    assert member_on_other.pk
    response = as_user(scientist).get(reverse("handovers:new"))
    assert response.status_code == 200
    choices = [label for _, label in response.context["form"].fields["project"].choices]
    assert str(project) in choices
    assert str(reviewing) not in choices
    assert b"Save as draft" in response.content


def test_new_form_tells_an_engineer_they_cannot_file(as_user, engineer):
    response = as_user(engineer).get(reverse("handovers:new"))
    assert response.status_code == 200
    assert b"You cannot file a handover yet" in response.content
    assert b"Save as draft" not in response.content


def test_filing_a_handover_saves_a_draft_and_ignores_blank_metric_rows(as_user, project, scientist):
    response = as_user(scientist).post(reverse("handovers:new"), new_handover_data(project))
    handover = Handover.objects.get()
    assert response.status_code == 302
    assert response["Location"] == handover.get_absolute_url()
    assert handover.state == S.DRAFT and handover.owner == scientist
    assert handover.model.name == "churn-classifier" and handover.version_label == "1.4.0"
    revision = handover.revisions.get()
    assert revision.latency_p95_ms == 25 and revision.metric_tolerance == 0.005
    claims = {c.metric: (c.claimed_value, c.minimum) for c in revision.claimed_metrics.all()}
    assert claims == {Metric.ACCURACY: (0.91, 0.88), Metric.F1: (0.8, None)}


def test_filing_for_an_existing_model(as_user, project, scientist):
    model = ModelFactory(project=project, owner=scientist, name="fraud-gbm")
    data = new_handover_data(project, model=model.pk, new_model_name="")
    response = as_user(scientist).post(reverse("handovers:new"), data)
    assert response.status_code == 302
    assert Handover.objects.get().model == model


def test_contract_error_appears_on_its_field_and_nothing_is_saved(as_user, project, scientist):
    data = new_handover_data(project, latency_p95_ms="-5")
    response = as_user(scientist).post(reverse("handovers:new"), data)
    assert response.status_code == 200
    assert "latency_p95_ms" in response.context["form"].errors
    assert b"must be greater than 0" in response.content
    assert not Handover.objects.exists()
    assert not project.models.exists()  # the new model is rolled back with the handover


def test_term_and_metric_errors_show_together(as_user, project, scientist):
    data = new_handover_data(project, peak_memory_mb="0", **{"metrics-0-minimum": "0.95"})
    response = as_user(scientist).post(reverse("handovers:new"), data)
    assert "peak_memory_mb" in response.context["form"].errors
    assert "below its own minimum" in str(response.context["formset"].forms[0].errors["minimum"])
    assert not Handover.objects.exists()


def test_form_with_errors_lists_them_at_the_top_linking_to_each_field(as_user, project, scientist):
    data = new_handover_data(project, version_label="", **{"metrics-0-claimed_value": "lots"})
    response = as_user(scientist).post(reverse("handovers:new"), data)
    assert response.status_code == 200 and not Handover.objects.exists()
    body = response.content.decode()
    summary = body.split('data-error-summary')[1].split("</div>")[0]
    assert 'href="#id_version_label"' in summary and "Version label: This field is required." in summary
    assert 'href="#id_metrics-0-claimed_value"' in summary
    assert 'aria-describedby="id_version_label_helptext id_version_label_error"' in body


def test_metric_error_appears_on_its_row(as_user, project, scientist):
    data = new_handover_data(project, **{"metrics-2-claimed_value": "1.5"})
    response = as_user(scientist).post(reverse("handovers:new"), data)
    assert response.status_code == 200
    formset = response.context["formset"]
    assert formset.forms[2].errors and not formset.forms[0].errors
    assert "impossible" in str(formset.forms[2].errors)
    assert not Handover.objects.exists()


def test_taken_version_label_is_an_error_on_the_field(as_user, project, scientist):
    model = ModelFactory(project=project, owner=scientist)
    HandoverFactory(model=model, version_label="2.0.0")
    data = new_handover_data(project, model=model.pk, new_model_name="", version_label="2.0.0")
    response = as_user(scientist).post(reverse("handovers:new"), data)
    assert response.status_code == 200
    assert "already been handed over" in str(response.context["form"].errors["version_label"])


# --- the handover page ------------------------------------------------------------


def test_owner_sees_draft_with_edit_upload_and_submit(as_user, draft, scientist, settings):
    settings.HANDOFF_MAX_UPLOAD_BYTES = 5 * 1024 * 1024
    handover, revision = draft
    response = as_user(scientist).get(handover.get_absolute_url())
    body = response.content.decode()
    assert response.status_code == 200
    assert 'class="badge state-draft"' in body
    assert "Submit revision 1" in body
    assert url("edit", handover) in body
    assert url("upload", handover) in body and 'enctype="multipart/form-data"' in body
    assert "up to 5.0\xa0MB" in body
    for artifact in revision.artifacts.all():
        assert artifact.sha256 in body
    assert "Accept and sign" not in body and "Start revision" not in body


def test_engineer_sees_a_draft_without_any_action(as_user, draft, engineer):
    handover, _ = draft
    body = as_user(engineer).get(handover.get_absolute_url()).content.decode()
    assert "Submit revision" not in body and url("edit", handover) not in body
    assert url("upload", handover) not in body
    assert "Accept and sign" not in body
    assert "Add comment" in body


def test_awaiting_review_offers_review_to_engineer_only(as_user, draft, scientist, engineer, manager):
    handover, revision = draft
    put_in_state(handover, revision, S.AWAITING_REVIEW)
    body = as_user(engineer).get(handover.get_absolute_url()).content.decode()
    assert "Accept and sign" in body and "Request changes" in body
    for user in (scientist, manager):
        body = as_user(user).get(handover.get_absolute_url()).content.decode()
        assert "Accept and sign" not in body and "Submit revision" not in body
        assert url("upload", handover) not in body


def test_changes_requested_offers_a_new_revision_to_the_scientist(as_user, draft, scientist, engineer):
    handover, revision = draft
    put_in_state(handover, revision, S.CHANGES_REQUESTED)
    body = as_user(scientist).get(handover.get_absolute_url()).content.decode()
    assert "Start revision 2" in body
    assert "Submit revision" not in body and url("edit", handover) not in body
    body = as_user(engineer).get(handover.get_absolute_url()).content.decode()
    assert "Start revision 2" not in body


def test_markdown_is_rendered_and_sanitised(as_user, draft, scientist):
    handover, revision = draft
    revision.intended_use = "Scoring **churn**.<script>alert(1)</script>"
    revision.save()
    body = as_user(scientist).get(handover.get_absolute_url()).content.decode()
    assert "<strong>churn</strong>" in body
    assert "<script>alert(1)" not in body


def test_validating_page_polls_the_state(as_user, draft, scientist):
    handover, revision = draft
    put_in_state(handover, revision, S.VALIDATING)
    body = as_user(scientist).get(handover.get_absolute_url()).content.decode()
    assert "Validation is running" in body
    assert f'hx-get="{url("state", handover)}?was=validating"' in body
    assert 'hx-trigger="every 2s"' in body


def test_state_partial_reloads_the_page_once_the_state_changed(as_user, draft, scientist):
    handover, revision = draft
    put_in_state(handover, revision, S.VALIDATING)
    client = as_user(scientist)
    still = client.get(url("state", handover) + "?was=validating", HTTP_HX_REQUEST="true")
    assert "HX-Refresh" not in still and b"Validation is running" in still.content
    put_in_state(handover, revision, S.AWAITING_REVIEW)
    done = client.get(url("state", handover) + "?was=validating", HTTP_HX_REQUEST="true")
    assert done["HX-Refresh"] == "true"
    assert b"state-awaiting_review" in done.content and b"hx-trigger" not in done.content


# --- outsiders --------------------------------------------------------------------


def test_outsider_gets_404_on_every_handover_url(as_user, draft, outsider):
    handover, revision = draft
    artifact = revision.artifacts.first()
    client = as_user(outsider)
    for name in ("detail", "state", "edit", "diff"):
        assert client.get(url(name, handover)).status_code == 404, name
    posts = {
        "edit": {}, "upload": {"kind": "model", "file": SimpleUploadedFile("m.onnx", b"x")},
        "submit": {}, "accept": {}, "request_changes": {"comment": "no"}, "revise": {},
        "comment": {"body": "hello"},
    }
    for name, data in posts.items():
        assert client.post(url(name, handover), data).status_code == 404, name
    assert client.post(url("remove_artifact", handover, artifact.pk)).status_code == 404
    assert client.get(reverse("handovers:detail", args=[999999])).status_code == 404
    handover.refresh_from_db()
    assert handover.state == S.DRAFT and revision.artifacts.count() == 3
    assert not Comment.objects.exists()


def test_outsider_sees_nothing_in_the_lists(as_user, draft, outsider):
    handover, revision = draft
    put_in_state(handover, revision, S.AWAITING_REVIEW)
    client = as_user(outsider)
    assert str(handover.model.name).encode() not in client.get(reverse("handovers:review_queue")).content
    assert str(handover.model.name).encode() not in client.get(reverse("handovers:mine")).content


# --- editing terms ------------------------------------------------------------------


def test_edit_terms_form_saves_a_draft(as_user, draft, scientist):
    handover, revision = draft
    client = as_user(scientist)
    form = client.get(url("edit", handover))
    assert form.status_code == 200
    assert form.context["form"].initial["latency_p95_ms"] == revision.latency_p95_ms
    data = new_handover_data(handover.project, latency_p95_ms="40", **{"metrics-INITIAL_FORMS": "1"})
    response = client.post(url("edit", handover), data)
    assert response.status_code == 302
    revision.refresh_from_db()
    assert revision.latency_p95_ms == 40
    assert set(revision.claimed_metrics.values_list("metric", flat=True)) == {"accuracy", "f1"}


def test_edit_terms_error_stays_on_the_field(as_user, draft, scientist):
    handover, revision = draft
    data = new_handover_data(handover.project, metric_tolerance="2")
    response = as_user(scientist).post(url("edit", handover), data)
    assert response.status_code == 200
    assert "metric_tolerance" in response.context["form"].errors
    revision.refresh_from_db()
    assert revision.metric_tolerance == 0.005


def test_frozen_revision_cannot_be_edited_or_uploaded_to(as_user, draft, scientist):
    handover, revision = draft
    put_in_state(handover, revision, S.AWAITING_REVIEW)
    before = list(revision.artifacts.values_list("sha256", flat=True).order_by("kind"))
    client = as_user(scientist)

    response = client.post(url("edit", handover), new_handover_data(handover.project, latency_p95_ms="99"))
    assert response.status_code == 302 and response["Location"] == handover.get_absolute_url()
    assert any("can no longer be changed" in m for m in messages_of(response))
    revision.refresh_from_db()
    assert revision.latency_p95_ms == 20.0

    upload = {"kind": "predictions", "file": SimpleUploadedFile("p.csv", b"id,prediction\n1,0\n")}
    response = client.post(url("upload", handover), upload)
    assert response.status_code == 302
    assert any("frozen" in m for m in messages_of(response))
    assert list(revision.artifacts.values_list("sha256", flat=True).order_by("kind")) == before


def test_engineer_may_not_edit_terms_or_upload(as_user, draft, engineer):
    handover, revision = draft
    client = as_user(engineer)
    assert client.get(url("edit", handover)).status_code == 403
    upload = {"kind": "other", "file": SimpleUploadedFile("notes.txt", b"notes")}
    assert client.post(url("upload", handover), upload).status_code == 403
    assert client.post(url("remove_artifact", handover, revision.artifacts.first().pk)).status_code == 403
    assert revision.artifacts.count() == 3


# --- uploads ------------------------------------------------------------------------


def test_plain_form_upload_stores_the_file_and_shows_its_hash(as_user, project, scientist):
    handover = HandoverFactory(model=ModelFactory(project=project, owner=scientist))
    RevisionFactory(handover=handover, number=1)
    content = b"id,label\n1,0\n2,1\n"
    client = as_user(scientist)
    upload = {"kind": "labels", "file": SimpleUploadedFile("labels.csv", content)}
    response = client.post(url("upload", handover), upload)
    assert response.status_code == 302 and response["Location"] == handover.get_absolute_url()
    artifact = Artifact.objects.get()
    digest = hashlib.sha256(content).hexdigest()
    assert (artifact.kind, artifact.original_name, artifact.size, artifact.sha256) == (
        "labels", "labels.csv", len(content), digest)
    page = client.get(handover.get_absolute_url()).content.decode()
    assert digest in page and "labels.csv" in page


def test_xhr_upload_answers_with_the_artifact_row(as_user, draft, scientist):
    handover, revision = draft
    content = b"id,prediction\n1,1\n2,0\n"
    response = as_user(scientist).post(
        url("upload", handover), {"kind": "predictions", "file": SimpleUploadedFile("preds.csv", content)},
        HTTP_X_REQUESTED_WITH="XMLHttpRequest",
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert body.strip().startswith("<tr") and hashlib.sha256(content).hexdigest() in body
    assert revision.artifacts.get(kind=ArtifactKind.PREDICTIONS).original_name == "preds.csv"


def test_upload_over_the_limit_is_refused(as_user, draft, scientist, settings):
    settings.HANDOFF_MAX_UPLOAD_BYTES = 10
    handover, revision = draft
    response = as_user(scientist).post(
        url("upload", handover), {"kind": "other", "file": SimpleUploadedFile("big.bin", b"x" * 100)},
        HTTP_X_REQUESTED_WITH="XMLHttpRequest",
    )
    assert response.status_code == 413
    assert "over the limit" in response.content.decode()
    assert not revision.artifacts.filter(kind="other").exists()


def test_empty_upload_is_refused_with_a_message_that_says_so(as_user, draft, scientist):
    handover, revision = draft
    response = as_user(scientist).post(
        url("upload", handover), {"kind": "other", "file": SimpleUploadedFile("empty.txt", b"")},
        HTTP_X_REQUESTED_WITH="XMLHttpRequest",
    )
    assert response.status_code == 400
    assert "empty" in response.content.decode()
    assert not revision.artifacts.filter(kind="other").exists()


def test_removing_an_artifact_from_a_draft(as_user, draft, scientist):
    handover, revision = draft
    artifact = revision.artifacts.get(kind="labels")
    response = as_user(scientist).post(url("remove_artifact", handover, artifact.pk))
    assert response.status_code == 302
    assert not revision.artifacts.filter(kind="labels").exists()


# --- actions ------------------------------------------------------------------------


def test_submit_runs_validation_and_waits_for_review(
    as_user, draft, scientist, django_capture_on_commit_callbacks
):
    handover, revision = draft
    with django_capture_on_commit_callbacks(execute=True):
        response = as_user(scientist).post(url("submit", handover))
    assert response.status_code == 302
    handover.refresh_from_db()
    assert handover.state == S.AWAITING_REVIEW
    assert Revision.objects.get(pk=revision.pk).is_frozen


def test_submit_with_missing_artifacts_shows_what_is_missing(as_user, project, scientist):
    handover = HandoverFactory(model=ModelFactory(project=project, owner=scientist))
    RevisionFactory(handover=handover, number=1)
    client = as_user(scientist)
    response = client.post(url("submit", handover), HTTP_REFERER=referer(handover))
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    assert "Before submitting, add the model file" in page
    handover.refresh_from_db()
    assert handover.state == S.DRAFT


def test_engineer_may_not_submit(as_user, draft, engineer):
    handover, _ = draft
    assert as_user(engineer).post(url("submit", handover)).status_code == 403


def test_request_changes_without_a_comment_is_refused(as_user, draft, engineer):
    handover, revision = draft
    put_in_state(handover, revision, S.AWAITING_REVIEW)
    response = as_user(engineer).post(url("request_changes", handover), {"comment": "  "})
    # The handover page again, with the error on the comment field itself.
    assert response.status_code == 400
    body = response.content.decode()
    assert 'aria-invalid="true"' in body and 'aria-describedby="id_comment_helptext id_comment_error"' in body
    assert '<ul class="errorlist" id="id_comment_error">' in body and "comment is required" in body
    handover.refresh_from_db()
    assert handover.state == S.AWAITING_REVIEW and not Review.objects.exists()


def test_empty_comment_is_refused_on_its_field(as_user, draft, manager):
    handover, _ = draft
    response = as_user(manager).post(url("comment", handover), {"body": "   "})
    assert response.status_code == 400
    body = response.content.decode()
    assert 'aria-describedby="id_body_helptext id_body_error"' in body
    assert "Write something to comment." in body
    assert not Comment.objects.exists()


def test_request_changes_then_revise(as_user, draft, scientist, engineer):
    handover, revision = draft
    put_in_state(handover, revision, S.AWAITING_REVIEW)
    comment = {"comment": "Add the fairness slice."}
    response = as_user(engineer).post(url("request_changes", handover), comment)
    assert response.status_code == 302
    handover.refresh_from_db()
    assert handover.state == S.CHANGES_REQUESTED and handover.reviewer == engineer
    page = as_user(scientist).get(handover.get_absolute_url()).content.decode()
    assert "Add the fairness slice." in page and "Changes requested by" in page
    response = as_user(scientist).post(url("revise", handover))
    assert response.status_code == 302
    handover.refresh_from_db()
    assert handover.state == S.DRAFT and handover.revisions.count() == 2
    assert "Submit revision 2" in as_user(scientist).get(handover.get_absolute_url()).content.decode()


def test_accept_signs_the_contract(as_user, draft, engineer):
    handover, revision = draft
    put_in_state(handover, revision, S.AWAITING_REVIEW)
    client = as_user(engineer)
    response = client.post(url("accept", handover), {"comment": "Ship it."})
    assert response.status_code == 302
    handover.refresh_from_db()
    review = Review.objects.get()
    assert handover.state == S.ACCEPTED and review.decision == ReviewDecision.ACCEPT
    page = client.get(handover.get_absolute_url()).content.decode()
    assert "state-accepted" in page and "Accept and sign" not in page
    for sha in review.artifact_hashes.values():
        assert sha in page


def test_second_accept_gets_a_clear_conflict_message(as_user, draft, engineer, other_engineer):
    handover, revision = draft
    put_in_state(handover, revision, S.AWAITING_REVIEW)
    as_user(engineer).post(url("accept", handover))
    client = as_user(other_engineer)
    response = client.post(url("accept", handover), HTTP_REFERER=referer(handover))
    assert response.status_code == 302
    assert "Cannot accept this handover" in client.get(response["Location"]).content.decode()
    assert Review.objects.count() == 1


def test_scientist_may_not_accept(as_user, draft, scientist):
    handover, revision = draft
    put_in_state(handover, revision, S.AWAITING_REVIEW)
    assert as_user(scientist).post(url("accept", handover)).status_code == 403


def test_comment_is_added_and_rendered(as_user, draft, manager):
    handover, _ = draft
    client = as_user(manager)
    response = client.post(url("comment", handover), {"body": "Looks **fine**."})
    assert response.status_code == 302
    assert Comment.objects.get().author == manager
    assert "<strong>fine</strong>" in client.get(handover.get_absolute_url()).content.decode()


# --- revision history and diff --------------------------------------------------------


def test_diff_shows_the_changed_predictions_hash(as_user, draft, scientist):
    handover, first = draft
    put_in_state(handover, first, S.CHANGES_REQUESTED)
    second = RevisionFactory(handover=handover, number=2, latency_p95_ms=30)
    for artifact in first.artifacts.exclude(kind="predictions"):
        ArtifactFactory(revision=second, kind=artifact.kind)
    new_predictions = ArtifactFactory(revision=second, kind="predictions", content=b"id,prediction\n1,1\n")
    old_predictions = first.artifacts.get(kind="predictions")
    client = as_user(scientist)
    page = client.get(handover.get_absolute_url()).content.decode()
    assert "Revision 1" in page and "Revision 2" in page and url("diff", handover) in page
    response = client.get(url("diff", handover) + "?from=1&to=2")
    body = response.content.decode()
    assert response.status_code == 200
    assert old_predictions.sha256 in body and new_predictions.sha256 in body
    assert "p95 latency budget" in body


def test_an_older_revision_can_be_shown_read_only(as_user, draft, scientist):
    handover, first = draft
    put_in_state(handover, first, S.CHANGES_REQUESTED)
    RevisionFactory(handover=handover, number=2, latency_p95_ms=30)
    put_in_state(handover, first, S.DRAFT)
    body = as_user(scientist).get(handover.get_absolute_url() + "?revision=1").content.decode()
    assert "Contract of revision 1" in body
    assert url("upload", handover) not in body and "Submit revision" not in body


# --- lists ----------------------------------------------------------------------------


def test_review_queue_lists_awaiting_handovers_oldest_first(as_user, project, engineer, scientist):
    now = timezone.now()
    newer = ready_draft(project=project, owner=scientist)
    older = ready_draft(project=project, owner=scientist)
    put_in_state(*newer, S.AWAITING_REVIEW, since=now - timedelta(hours=1))
    put_in_state(*older, S.AWAITING_REVIEW, since=now - timedelta(days=2))
    ready_draft(project=project, owner=scientist)  # a draft is not in the queue
    response = as_user(engineer).get(reverse("handovers:review_queue"))
    assert response.status_code == 200
    assert [h.pk for h in response.context["page_obj"]] == [older[0].pk, newer[0].pk]


def test_review_queue_is_empty_for_a_scientist(as_user, draft, scientist):
    handover, revision = draft
    put_in_state(handover, revision, S.AWAITING_REVIEW)
    response = as_user(scientist).get(reverse("handovers:review_queue"))
    assert list(response.context["page_obj"]) == []
    assert b"Nothing to review" in response.content


def test_review_queue_is_paginated(as_user, project, engineer, scientist):
    for _ in range(27):
        put_in_state(*ready_draft(project=project, owner=scientist), S.AWAITING_REVIEW)
    client = as_user(engineer)
    first = client.get(reverse("handovers:review_queue"))
    assert len(first.context["page_obj"]) == 25 and b"Page 1 of 2" in first.content
    assert len(client.get(reverse("handovers:review_queue") + "?page=2").context["page_obj"]) == 2


def test_my_handovers_newest_first_with_state_badges(as_user, project, scientist):
    old, _ = ready_draft(project=project, owner=scientist)
    new, revision = ready_draft(project=project, owner=scientist)
    put_in_state(new, revision, S.VALIDATING)
    someone_elses, _ = ready_draft(project=project)
    response = as_user(scientist).get(reverse("handovers:mine"))
    assert [h.pk for h in response.context["page_obj"]] == [new.pk, old.pk]
    assert b'class="badge state-validating"' in response.content
    assert someone_elses.model.name.encode() not in response.content


def test_my_handovers_empty_state_links_to_a_new_one(as_user, scientist):
    response = as_user(scientist).get(reverse("handovers:mine"))
    assert b"You have not handed over a model yet" in response.content
    assert reverse("handovers:new").encode() in response.content


def test_pages_need_login(client, draft):
    handover, _ = draft
    for path in (reverse("handovers:new"), reverse("handovers:mine"), reverse("handovers:review_queue"),
                 handover.get_absolute_url()):
        response = client.get(path)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]


# --- activity and discussion ----------------------------------------------------------


def test_handover_page_shows_its_activity_and_one_conversation_in_time_order(
    as_user, draft, scientist, engineer, django_capture_on_commit_callbacks
):
    from handoff.handovers import services

    handover, revision = draft
    with django_capture_on_commit_callbacks(execute=True):
        services.submit_revision(scientist, revision)
    services.add_comment(engineer, handover, body="Looking at the labels now.")
    services.request_changes(engineer, revision, comment="The labels file has duplicate ids.")
    services.add_comment(scientist, handover, body="Fixed in revision 2.")

    page = as_user(scientist).get(url("detail", handover)).content.decode()

    for sentence in ("submitted revision 1", "validation passed for revision 1",
                     "requested changes on revision 1", "commented"):
        assert sentence in page
    discussion = page[page.index('id="reviews-heading"'):]  # the owner also reads the review at the top
    first, review, last = (discussion.index(text) for text in (
        "Looking at the labels now.", "The labels file has duplicate ids.", "Fixed in revision 2."))
    assert first < review < last


def test_artifacts_download_from_the_page_for_the_project_and_404_for_outsiders(
    as_user, draft, engineer, outsider
):
    handover, revision = draft
    artifact = revision.artifacts.get(kind=ArtifactKind.PREDICTIONS)
    download = url("download_artifact", handover, artifact.pk)

    page = as_user(engineer).get(url("detail", handover)).content.decode()
    response = as_user(engineer).get(download)

    assert download in page
    body = b"".join(response.streaming_content)
    assert hashlib.sha256(body).hexdigest() == artifact.sha256 == response["X-Content-SHA256"]
    assert artifact.original_name in response["Content-Disposition"]
    assert as_user(outsider).get(download).status_code == 404


# --- the list of all handovers --------------------------------------------------------


def test_handover_list_filters_like_the_api_and_keeps_filters_across_pages(as_user, project, scientist,
                                                                         manager, monkeypatch):
    from handoff.handovers import views
    from tests.factories import HandoverFactory

    elsewhere = HandoverFactory()  # another team's project
    drafts = [HandoverFactory(model__project=project, model__owner=scientist) for _ in range(3)]
    accepted = HandoverFactory(model__project=project, model__owner=scientist, state=HandoverState.ACCEPTED)
    client = as_user(manager)

    everything = client.get(reverse("handovers:list")).content.decode()
    only_accepted = client.get(reverse("handovers:list"), {"state": "accepted"}).content.decode()

    assert all(h.get_absolute_url() in everything for h in [*drafts, accepted])
    assert elsewhere.get_absolute_url() not in everything
    assert accepted.get_absolute_url() in only_accepted
    assert not any(h.get_absolute_url() in only_accepted for h in drafts)

    monkeypatch.setattr(views, "PAGE_SIZE", 2)
    first = client.get(reverse("handovers:list"), {"state": "draft", "project": project.slug})
    assert f"?state=draft&amp;project={project.slug}&amp;page=2" in first.content.decode()


def test_handover_list_says_when_nothing_matches(as_user, scientist):
    page = as_user(scientist).get(reverse("handovers:list"), {"owner": "nobody"}).content.decode()

    assert "No handover matches these filters." in page


def test_handover_list_treats_an_empty_choice_as_no_filter_and_reports_a_bad_one(as_user, draft, scientist):
    handover, _ = draft
    client = as_user(scientist)

    any_state = client.get(reverse("handovers:list"), {"state": "", "project": "", "owner": ""})
    bad_state = client.get(reverse("handovers:list"), {"state": "lost"}).content.decode()

    assert handover.get_absolute_url() in any_state.content.decode()
    assert "Select a valid choice" in bad_state and "lost" in bad_state


def test_new_form_reports_field_and_contract_errors_in_one_round(as_user, project, scientist):
    data = new_handover_data(project, version_label="", **{"metrics-0-claimed_value": "1.7"})

    response = as_user(scientist).post(reverse("handovers:new"), data)

    assert response.status_code == 200
    errors = response.context["form"].errors
    assert "version_label" in errors
    assert "Accuracy lies between 0 and 1" in response.content.decode()
    assert not Handover.objects.exists()
