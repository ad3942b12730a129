import pytest
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile

from handoff.audit.models import AuditEvent
from handoff.core.errors import Conflict, DomainError, Forbidden, NotFound
from handoff.handovers import selectors, services
from handoff.handovers.lifecycle import HANDOVER
from handoff.handovers.models import (
    Artifact,
    ArtifactKind,
    ClaimedMetric,
    Handover,
    HandoverState,
    Review,
    ReviewDecision,
    Revision,
)
from tests.callbacks import doorbells
from tests.factories import (
    ArtifactFactory,
    ClaimedMetricFactory,
    HandoverFactory,
    ModelFactory,
    RevisionFactory,
)

S = HandoverState


def _reload(handover):
    return Handover.objects.get(pk=handover.pk)


def submitted(draft, scientist, django_capture_on_commit_callbacks):
    handover, revision = draft
    with django_capture_on_commit_callbacks(execute=True):
        services.submit_revision(scientist, revision)
    return _reload(handover), Revision.objects.get(pk=revision.pk)


def verbs(handover):
    return list(
        AuditEvent.objects.filter(details__handover=handover.pk).order_by("id").values_list("verb", flat=True)
    )


# --- the lifecycle table ---------------------------------------------------------------------------------


def test_lifecycle_table_is_the_design():
    moves = {(source, HANDOVER[name].target) for name in HANDOVER for source in HANDOVER[name].sources}
    assert moves == {
        (S.DRAFT, S.VALIDATING),
        (S.VALIDATING, S.VALIDATING),
        (S.AWAITING_REVIEW, S.VALIDATING),
        (S.VALIDATION_FAILED, S.VALIDATING),
        (S.VALIDATING, S.AWAITING_REVIEW),
        (S.VALIDATING, S.VALIDATION_FAILED),
        (S.AWAITING_REVIEW, S.ACCEPTED),
        (S.AWAITING_REVIEW, S.CHANGES_REQUESTED),
        (S.VALIDATION_FAILED, S.DRAFT),
        (S.CHANGES_REQUESTED, S.DRAFT),
        (S.ACCEPTED, S.DEPLOYED),
        (S.DEPLOYED, S.DEPLOYED),
        (S.DEPLOYED, S.RETIRED),
        # A candidate of an agreed contract closes when another one is selected
        # (issue 15: from awaiting review or failed validation; also from the other
        # open states, so that no candidate is left open after a selection).
        (S.DRAFT, S.NOT_SELECTED),
        (S.VALIDATING, S.NOT_SELECTED),
        (S.VALIDATION_FAILED, S.NOT_SELECTED),
        (S.AWAITING_REVIEW, S.NOT_SELECTED),
        (S.CHANGES_REQUESTED, S.NOT_SELECTED),
    }


@pytest.mark.parametrize("state", [s for s in S if s != S.AWAITING_REVIEW])
def test_accept_is_refused_outside_awaiting_review(draft, engineer, state):
    handover, revision = draft
    Revision.objects.filter(pk=revision.pk).update(submitted_at="2025-01-01T00:00:00Z")
    Handover.objects.filter(pk=handover.pk).update(state=state)
    with pytest.raises(Conflict, match="Cannot accept"):
        services.accept_revision(engineer, revision)
    assert not Review.objects.exists()


@pytest.mark.parametrize("state", [s for s in S if s not in {S.VALIDATION_FAILED, S.CHANGES_REQUESTED}])
def test_revise_is_refused_from_other_states(draft, scientist, state):
    handover, _ = draft
    Handover.objects.filter(pk=handover.pk).update(state=state)
    with pytest.raises(Conflict):
        services.revise_handover(scientist, handover)
    assert handover.revisions.count() == 1


# --- models and handovers -------------------------------------------------------------------------------


def test_scientist_registers_a_model_and_opens_a_handover(project, scientist):
    model = services.create_model(scientist, project, name="churn", description="Churn model")
    handover = services.create_handover(
        scientist,
        model,
        version_label="1.4.0",
        terms={"task_type": "binary_classification", "framework": "scikit-learn", "latency_p95_ms": "12.5"},
        metrics=[{"metric": "accuracy", "claimed_value": 0.91, "minimum": 0.9}],
    )
    assert handover.state == S.DRAFT and handover.owner == scientist and handover.project == project
    revision = handover.revisions.get()
    assert revision.number == 1 and revision.latency_p95_ms == 12.5 and revision.metric_tolerance == 0.005
    assert list(revision.claimed_metrics.values_list("metric", "claimed_value")) == [("accuracy", 0.91)]
    assert verbs(handover) == ["handover.created"]
    assert AuditEvent.objects.filter(verb="model.created", project=project).count() == 1


def test_duplicate_model_name_and_version_are_refused_on_the_field(project, scientist):
    model = services.create_model(scientist, project, name="churn")
    with pytest.raises(DomainError) as exc:
        services.create_model(scientist, project, name="Churn")
    assert exc.value.field == "name"
    services.create_handover(scientist, model, version_label="1.0")
    with pytest.raises(DomainError) as exc:
        services.create_handover(scientist, model, version_label="1.0")
    assert exc.value.field == "version_label"


def test_invalid_terms_on_create_store_nothing(project, scientist):
    model = services.create_model(scientist, project, name="churn")
    with pytest.raises(ValidationError) as exc:
        services.create_handover(scientist, model, version_label="1.0", terms={"latency_p95_ms": -3})
    assert "latency_p95_ms" in exc.value.message_dict
    assert not Handover.objects.exists()


@pytest.mark.parametrize("role_user", ["engineer", "manager"])
def test_only_a_data_scientist_creates(project, role_user, request):
    user = request.getfixturevalue(role_user)
    with pytest.raises(Forbidden):
        services.create_model(user, project, name="x")
    model = ModelFactory(project=project)
    with pytest.raises(Forbidden):
        services.create_handover(user, model, version_label="1")


def test_outsider_gets_not_found(draft, outsider):
    handover, revision = draft
    with pytest.raises(NotFound):
        services.update_terms(outsider, revision, terms={"framework_version": "2"})
    with pytest.raises(NotFound):
        services.submit_revision(outsider, revision)
    with pytest.raises(NotFound):
        services.add_comment(outsider, handover, body="hello")
    with pytest.raises(NotFound):
        selectors.handover_detail(outsider, handover.pk)


# --- editing a draft ---------------------------------------------------------------------------------------


def test_update_terms_merges_and_replaces_metrics(draft, scientist):
    handover, revision = draft
    services.update_terms(
        scientist,
        revision,
        terms={"peak_memory_mb": 512, "intended_use": "Scoring *churn*"},
        metrics=[{"metric": "f1", "claimed_value": 0.8}, {"metric": "roc_auc", "claimed_value": 0.88}],
    )
    revision.refresh_from_db()
    assert revision.peak_memory_mb == 512 and revision.latency_p95_ms == 20.0  # kept
    assert sorted(revision.claimed_metrics.values_list("metric", flat=True)) == ["f1", "roc_auc"]
    assert "revision.terms_updated" in verbs(handover)


def test_changing_task_type_under_existing_claims_is_kept_and_refused_at_submit(draft, scientist):
    _, revision = draft
    services.update_terms(scientist, revision, terms={"task_type": "regression"})
    revision.refresh_from_db()
    assert revision.task_type == "regression"
    with pytest.raises(Conflict) as exc:
        services.submit_revision(scientist, revision)
    assert exc.value.message.startswith("Accuracy does not fit a regression task")


def test_engineer_cannot_edit_a_contract(draft, engineer):
    _, revision = draft
    with pytest.raises(Forbidden):
        services.update_terms(engineer, revision, terms={"framework_version": "9"})
    with pytest.raises(Forbidden):
        services.attach_artifact(
            engineer, revision, kind="model", uploaded_file=SimpleUploadedFile("m.onnx", b"x")
        )


def test_frozen_revision_cannot_be_edited_through_services(
    draft, scientist, django_capture_on_commit_callbacks
):
    handover, revision = submitted(draft, scientist, django_capture_on_commit_callbacks)
    before = (revision.framework_version, list(revision.claimed_metrics.values_list("metric", flat=True)))
    with pytest.raises(Conflict, match="frozen"):
        services.update_terms(scientist, revision, terms={"framework_version": "9"})
    with pytest.raises(Conflict, match="frozen"):
        services.update_terms(scientist, revision, terms={}, metrics=[])
    with pytest.raises(Conflict, match="frozen"):
        services.attach_artifact(
            scientist, revision, kind="model", uploaded_file=SimpleUploadedFile("m.onnx", b"new")
        )
    with pytest.raises(Conflict, match="frozen"):
        services.remove_artifact(scientist, revision.artifacts.first())
    revision.refresh_from_db()
    assert (
        revision.framework_version,
        list(revision.claimed_metrics.values_list("metric", flat=True)),
    ) == before
    assert revision.artifacts.count() == 3


def test_remove_artifact_from_draft(draft, scientist):
    handover, revision = draft
    artifact = revision.artifacts.get(kind="labels")
    name = artifact.file.name
    services.remove_artifact(scientist, artifact)
    assert not revision.artifacts.filter(kind="labels").exists()
    assert "artifact.removed" in verbs(handover)
    assert default_storage.exists(name)  # deleted only after commit (not run in this test)


# --- submit and validation ------------------------------------------------------------------------------


def test_submit_freezes_and_validation_moves_to_awaiting_review(
    draft, scientist, django_capture_on_commit_callbacks
):
    handover, revision = submitted(draft, scientist, django_capture_on_commit_callbacks)
    assert revision.submitted_at is not None and revision.submitted_by == scientist
    assert handover.state == S.AWAITING_REVIEW and handover.awaiting_review_since is not None
    assert verbs(handover) == ["handover.submitted", "handover.validation_passed"]


def test_submit_enqueues_only_after_commit(draft, scientist, django_capture_on_commit_callbacks):
    handover, revision = draft
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.submit_revision(scientist, revision)
    assert _reload(handover).state == S.VALIDATING
    assert len(doorbells(callbacks)) == 1


def test_submit_names_what_is_missing(project, scientist):
    handover = HandoverFactory(model=ModelFactory(project=project, owner=scientist), owner=scientist)
    revision = RevisionFactory(handover=handover, number=1, framework="")
    ArtifactFactory(revision=revision, kind=ArtifactKind.MODEL)
    with pytest.raises(DomainError) as exc:
        services.submit_revision(scientist, revision)
    message = exc.value.message
    for phrase in ("the predictions file", "the labels file", "a framework", "at least one claimed metric"):
        assert phrase in message
    assert "the model file" not in message
    assert _reload(handover).state == S.DRAFT
    revision.refresh_from_db()
    assert revision.submitted_at is None


def test_a_draft_holds_half_written_fairness_terms_and_submitting_names_what_disagrees(draft, scientist):
    handover, revision = draft
    services.update_terms(scientist, revision, terms={"fairness_max_gap": 0.05})  # the column comes later
    revision.refresh_from_db()
    assert (revision.fairness_slice_column, revision.fairness_max_gap) == ("", 0.05)

    with pytest.raises(Conflict) as exc:
        services.submit_revision(scientist, revision)

    assert exc.value.message == ("Name the slice column of the labels file that the fairness gap of 0.05 "
                                 "applies to.")
    assert _reload(handover).state == S.DRAFT
    revision.refresh_from_db()
    assert revision.submitted_at is None
    services.update_terms(scientist, revision, terms={"fairness_slice_column": "size"})
    services.submit_revision(scientist, revision)
    assert _reload(handover).state == S.VALIDATING


def test_submitting_twice_is_a_conflict(draft, scientist, django_capture_on_commit_callbacks):
    _, revision = submitted(draft, scientist, django_capture_on_commit_callbacks)
    with pytest.raises(Conflict):
        services.submit_revision(scientist, revision)


def test_engineer_and_manager_cannot_submit(draft, engineer, manager):
    _, revision = draft
    for user in (engineer, manager):
        with pytest.raises(Forbidden):
            services.submit_revision(user, revision)


def test_failed_validation_then_revise(draft, scientist, django_capture_on_commit_callbacks):
    handover, revision = draft
    with django_capture_on_commit_callbacks(execute=False):
        services.submit_revision(scientist, revision)
    services.record_validation_outcome(revision, passed=False)
    assert _reload(handover).state == S.VALIDATION_FAILED
    new = services.revise_handover(scientist, handover)
    assert new.number == 2 and _reload(handover).state == S.DRAFT


# --- review ----------------------------------------------------------------------------------------------


def test_accept_stores_the_signed_record(draft, scientist, engineer, django_capture_on_commit_callbacks):
    handover, revision = submitted(draft, scientist, django_capture_on_commit_callbacks)
    review = services.accept_revision(engineer, revision, comment="Ship it")
    assert review.decision == ReviewDecision.ACCEPT and review.reviewer == engineer
    assert review.created_at is not None
    assert review.artifact_hashes == {a.kind: a.sha256 for a in revision.artifacts.all()}
    assert set(review.artifact_hashes) == {"model", "predictions", "labels"}
    handover = _reload(handover)
    assert handover.state == S.ACCEPTED and handover.reviewer == engineer
    event = AuditEvent.objects.get(verb="handover.accepted")
    assert event.actor == engineer and event.details["artifact_hashes"] == review.artifact_hashes


def test_second_decision_is_a_conflict(
    draft, scientist, engineer, other_engineer, django_capture_on_commit_callbacks
):
    _, revision = submitted(draft, scientist, django_capture_on_commit_callbacks)
    services.accept_revision(engineer, revision)
    with pytest.raises(Conflict, match="accepted"):
        services.request_changes(other_engineer, revision, comment="wait")
    assert Review.objects.count() == 1


@pytest.mark.parametrize("role_user", ["manager", "scientist"])
def test_only_an_engineer_accepts(draft, role_user, request, scientist, django_capture_on_commit_callbacks):
    _, revision = submitted(draft, scientist, django_capture_on_commit_callbacks)
    with pytest.raises(Forbidden):
        services.accept_revision(request.getfixturevalue(role_user), revision)
    assert not Review.objects.exists()


def test_request_changes_needs_a_comment(draft, scientist, engineer, django_capture_on_commit_callbacks):
    handover, revision = submitted(draft, scientist, django_capture_on_commit_callbacks)
    with pytest.raises(DomainError) as exc:
        services.request_changes(engineer, revision, comment="  ")
    assert exc.value.field == "comment"
    review = services.request_changes(engineer, revision, comment="Add a fairness slice")
    assert review.decision == ReviewDecision.REQUEST_CHANGES and review.artifact_hashes == {}
    assert _reload(handover).state == S.CHANGES_REQUESTED


# --- revise ----------------------------------------------------------------------------------------------


def test_revise_copies_terms_metrics_and_artifacts(
    draft, scientist, engineer, django_capture_on_commit_callbacks
):
    handover, revision = submitted(draft, scientist, django_capture_on_commit_callbacks)
    ClaimedMetric.objects.filter(revision=revision).update(maximum=0.99)
    services.request_changes(engineer, revision, comment="Tighten latency")
    new = services.revise_handover(scientist, handover)
    assert new.number == 2 and new.submitted_at is None and new.created_by == scientist
    assert _reload(handover).state == S.DRAFT
    for name in ("task_type", "framework", "latency_p95_ms", "parameter_count", "metric_tolerance"):
        assert getattr(new, name) == getattr(revision, name)
    assert list(new.claimed_metrics.values_list("metric", "claimed_value", "minimum", "maximum")) == list(
        revision.claimed_metrics.values_list("metric", "claimed_value", "minimum", "maximum")
    )
    old_files = sorted(revision.artifacts.values_list("kind", "file", "sha256"))
    assert sorted(new.artifacts.values_list("kind", "file", "sha256")) == old_files
    assert "handover.revised" in verbs(handover)
    # The old revision's decision stays with it.
    assert revision.reviews.count() == 1 and new.reviews.count() == 0


def test_replacing_a_carried_over_artifact_keeps_the_frozen_file(
    draft, scientist, engineer, django_capture_on_commit_callbacks
):
    handover, revision = submitted(draft, scientist, django_capture_on_commit_callbacks)
    services.request_changes(engineer, revision, comment="New predictions please")
    new = services.revise_handover(scientist, handover)
    old = revision.artifacts.get(kind="predictions")
    with django_capture_on_commit_callbacks(execute=True):
        replacement = services.attach_artifact(
            scientist,
            new,
            kind="predictions",
            uploaded_file=SimpleUploadedFile("p2.csv", b"id,prediction\n1,0\n"),
        )
    assert new.artifacts.get(kind="predictions") == replacement
    assert Artifact.objects.get(pk=old.pk).file.name == old.file.name
    assert default_storage.exists(old.file.name)
    assert default_storage.exists(replacement.file.name)


def test_old_revision_cannot_be_accepted_after_revise(
    draft, scientist, engineer, django_capture_on_commit_callbacks
):
    handover, revision = submitted(draft, scientist, django_capture_on_commit_callbacks)
    services.request_changes(engineer, revision, comment="again")
    new = services.revise_handover(scientist, handover)
    with django_capture_on_commit_callbacks(execute=True):
        services.submit_revision(scientist, new)
    with pytest.raises(Conflict):
        services.accept_revision(engineer, revision)


# --- comments and selectors --------------------------------------------------------------------------------


def test_comment_by_anyone_on_the_project(draft, manager, engineer):
    handover, revision = draft
    comment = services.add_comment(manager, handover, body="How is it going?")
    assert comment.revision == revision and comment.author == manager
    with pytest.raises(DomainError):
        services.add_comment(engineer, handover, body=" ")


def test_review_queue_oldest_first_for_engineers_only(
    project, scientist, engineer, manager, django_capture_on_commit_callbacks
):
    from tests.factories import ready_draft

    first = submitted(
        ready_draft(project=project, owner=scientist), scientist, django_capture_on_commit_callbacks
    )
    second = submitted(
        ready_draft(project=project, owner=scientist), scientist, django_capture_on_commit_callbacks
    )
    ready_draft(project=project, owner=scientist)  # a draft is not in the queue
    assert [h.pk for h in selectors.review_queue(engineer)] == [first[0].pk, second[0].pk]
    assert list(selectors.review_queue(manager)) == []
    assert {h.pk for h in selectors.my_handovers(scientist)} >= {first[0].pk, second[0].pk}
    assert list(selectors.my_handovers(engineer)) == []


def test_revision_diff_covers_terms_metrics_and_hashes(
    draft, scientist, engineer, django_capture_on_commit_callbacks
):
    handover, revision = submitted(draft, scientist, django_capture_on_commit_callbacks)
    services.request_changes(engineer, revision, comment="more")
    new = services.revise_handover(scientist, handover)
    services.update_terms(
        scientist,
        new,
        terms={"latency_p95_ms": 15, "task_type": "binary_classification"},
        metrics=[
            {"metric": "accuracy", "claimed_value": 0.93, "minimum": 0.85},
            {"metric": "f1", "claimed_value": 0.7},
        ],
    )
    services.attach_artifact(
        scientist, new, kind="labels", uploaded_file=SimpleUploadedFile("l.csv", b"id,l\n")
    )
    rows = selectors.revision_diff(revision, Revision.objects.get(pk=new.pk))
    by_field = {row.field: row for row in rows}
    assert by_field["latency_p95_ms"][1:] == ("p95 latency budget (ms)", "20", "15")
    assert by_field["metric:accuracy:claimed_value"].old == "0.959"
    assert by_field["metric:accuracy:claimed_value"].new == "0.93"
    assert by_field["metric:f1:claimed_value"] == ("metric:f1:claimed_value", "F1 claimed", "", "0.7")
    assert "artifact:labels" in by_field and "artifact:model" not in by_field
    assert "task_type" not in by_field
    assert selectors.revision_diff(revision, revision) == []


def test_claimed_metric_factory_makes_a_valid_claim(draft):
    _, revision = draft
    claim = ClaimedMetricFactory(revision=revision, metric="f1", claimed_value=0.7, minimum=None)
    assert str(claim) == "F1 = 0.7"
