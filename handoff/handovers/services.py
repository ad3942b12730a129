"""Every change to models, handovers, revisions, artifacts and reviews.

Each function: permission check (handoff.access), state check against the
lifecycle table, row lock, audit event, one transaction. Views, the API and
tasks call these and nothing else writes.

Errors a person can act on are raised as ``handoff.core.errors.DomainError``
(``NotFound``/``Forbidden``/``Conflict``) or, for contract terms, as
``django.core.exceptions.ValidationError({field: message})`` from
``contract.py``.
"""

import logging
from typing import NamedTuple

from django.contrib.auth import get_user_model
from django.core.exceptions import ImproperlyConfigured
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.utils import timezone

from handoff.access import Action, can, require
from handoff.audit.services import record
from handoff.core.errors import Conflict, DomainError, NotFound
from handoff.core.locking import lock_row

from . import contract, notices
from .lifecycle import HANDOVER
from .markdown import mentioned_usernames
from .models import (
    REQUIRED_ARTIFACTS,
    Artifact,
    ArtifactKind,
    ClaimedMetric,
    Comment,
    Follow,
    Handover,
    HandoverState,
    Model,
    Review,
    ReviewDecision,
    Revision,
)
from .signals import validation_requested
from .uploads import measure_upload, sanitize_file_name

log = logging.getLogger(__name__)

# Contract terms, claimed metrics and artifacts change only on a draft.
EDITABLE_STATES = {HandoverState.DRAFT}


def allowed_transitions(handover):
    """Names of the transitions the lifecycle allows from the handover's state."""
    return HANDOVER.allowed(handover)


def _check_transition(handover, name):
    return HANDOVER.check(handover, name)


def _lock(handover):
    """Lock the handover row for this transaction and read its current state."""
    try:
        return lock_row(Handover.objects.select_related("project", "model"), pk=handover.pk)
    except Handover.DoesNotExist:
        raise NotFound("Not found.") from None


def current_revision(handover):
    """The latest revision of a handover (the draft while it is one)."""
    return handover.revisions.order_by("-number").first()


def _check_current(handover, revision):
    latest = current_revision(handover)
    if latest is None or latest.pk != revision.pk:
        raise Conflict(
            f"Revision {revision.number} is not the current revision of this handover "
            f"(revision {latest.number if latest else '?'} is)."
        )
    return latest


def _check_editable(handover, revision):
    """The frozen rule: only the current, unsubmitted revision of a draft changes."""
    if revision.submitted_at is not None:
        raise Conflict(
            f"Revision {revision.number} was submitted and is frozen; "
            "open a new revision to change the contract."
        )
    _check_current(handover, revision)
    if handover.state not in EDITABLE_STATES:
        raise Conflict(
            f"The handover is {handover.get_state_display().lower()}; only a draft can be edited."
        )


def _terms_of(revision):
    return {name: getattr(revision, name) for name in contract.TERM_FIELDS}


def _metrics_of(revision):
    return [
        {f: getattr(claim, f) for f in contract.METRIC_FIELDS}
        for claim in revision.claimed_metrics.all()
    ]


def _required_text(value, *, field, empty, limit, what):
    """``value`` stripped, or DomainError on ``field`` when empty or longer than ``limit``."""
    value = (value or "").strip()
    if not value:
        raise DomainError(empty, field=field)
    if len(value) > limit:
        raise DomainError(f"The {what} is too long (at most {limit} characters).", field=field)
    return value


class Mentions(NamedTuple):
    """Who an ``@mention`` reached: members of the project are told, others are not."""

    members: list
    outsiders: list


def mentions_in(obj, text, *, field):
    """The people ``@mentioned`` in ``text``, split by whether they may see
    ``obj`` (a handover, an incident: ``access`` decides). A username that is no one's is refused:
    DomainError on ``field``, so nothing is stored. -> Mentions"""
    names = mentioned_usernames(text)
    if not names:
        return Mentions([], [])
    found = {user.username: user for user in get_user_model().objects.filter(username__in=names)}
    unknown = [f"@{name}" for name in names if name not in found]
    if unknown:
        raise DomainError(
            f"No one here is called {_join(unknown)}; check the spelling. Nothing was posted.", field=field)
    people = [found[name] for name in names]
    members = [person for person in people if can(person, Action.VIEW, obj)]
    return Mentions(members, [person for person in people if person not in members])


def _mention_details(mentions):
    """What the audit event keeps of the mentions: whom ``notices`` tells, and who was not told."""
    if not (mentions.members or mentions.outsiders):
        return {}
    return {"mentioned": [person.pk for person in mentions.members],
            "not_told": [person.username for person in mentions.outsiders]}


def _follow_by_default(user, handover):
    """The owner, the reviewer and commenters follow a handover, unless they
    chose to unfollow it (their row says ``following=False`` and stays)."""
    Follow.objects.get_or_create(user=user, handover=handover)


def _audit(actor, verb, target, handover, **details):
    event = record(actor, verb, target, project=handover.project, handover=handover.pk, **details)
    notices.announce(event, handover)  # in the same transaction: told if and only if it happened
    return event


# --- models and handovers ------------------------------------------------------------------------


def create_model(actor, project, *, name, description=""):
    """A data scientist of ``project`` registers a model they own. -> Model"""
    require(actor, Action.CREATE_HANDOVER, project)
    name = _required_text(name, field="name", empty="Give the model a name.", what="name",
                          limit=Model._meta.get_field("name").max_length)
    with transaction.atomic():
        if Model.objects.filter(project=project, name__iexact=name).exists():
            raise Conflict(f"This project already has a model named {name!r}.", field="name")
        try:
            with transaction.atomic():
                model = Model.objects.create(
                    project=project, name=name, description=(description or "").strip(), owner=actor
                )
        except IntegrityError:
            raise Conflict(f"This project already has a model named {name!r}.", field="name") from None
        record(actor, "model.created", model, project=project)
    return model


def create_handover(actor, model, *, version_label, terms=None, metrics=None):
    """Open a handover for a model version with revision 1 as a draft. -> Handover

    A data scientist of the model's project may call it; terms and metrics
    are validated by ``contract`` (ValidationError on the field)."""
    require(actor, Action.CREATE_HANDOVER, model.project)
    version_label = _required_text(version_label, field="version_label", what="version label",
                                   empty="Give the model version label, such as 1.4.0.",
                                   limit=Handover._meta.get_field("version_label").max_length)
    cleaned = contract.clean_terms(terms or {})
    claims = contract.clean_claims(metrics) if metrics else []
    taken = Conflict(f"{model.name} {version_label} has already been handed over; "
                        "open a new revision of it instead.", field="version_label")
    with transaction.atomic():
        if Handover.objects.filter(model=model, version_label=version_label).exists():
            raise taken
        try:
            with transaction.atomic():
                handover = Handover.objects.create(
                    model=model, project=model.project, version_label=version_label, owner=actor
                )
        except IntegrityError:
            raise taken from None
        revision = Revision.objects.create(handover=handover, number=1, created_by=actor, **cleaned)
        ClaimedMetric.objects.bulk_create(ClaimedMetric(revision=revision, **claim) for claim in claims)
        _follow_by_default(actor, handover)
        _audit(actor, "handover.created", handover, handover, revision=1)
    return handover


class Evidence(NamedTuple):
    """A stored file another app hands over with a new handover (a contract's
    labels): the same stored file, never copied (stored files are immutable)."""

    kind: str
    name: str  # the stored file's name in ``default_storage``
    original_name: str
    size: int
    sha256: str
    uploaded_by_id: int


def open_candidate(actor, model, *, version_label, terms, requirements, evidence, labels_blind):
    """Open a candidate handover of an agreed contract: revision 1 as a draft
    holding the contract's ``terms`` and metric ``requirements`` (claims whose
    claimed value may be None) and its ``evidence`` (the labels). -> Handover

    For ``contracts.services.file_candidate``, which checks the contract and
    calls this in its transaction. A data scientist of the model's project may
    call it; the requirements then stay fixed on the candidate (``update_terms``)."""
    require(actor, Action.CREATE_HANDOVER, model.project)
    cleaned = contract.clean_terms(terms)
    claims = contract.clean_metrics(cleaned.get("task_type"), list(requirements), requirement=True)
    with transaction.atomic():
        handover = create_handover(actor, model, version_label=version_label)
        Handover.objects.filter(pk=handover.pk).update(is_candidate=True, labels_blind=labels_blind)
        handover.is_candidate, handover.labels_blind = True, labels_blind
        revision = handover.revisions.get()
        for name, value in cleaned.items():
            setattr(revision, name, value)
        revision.save()
        ClaimedMetric.objects.bulk_create(ClaimedMetric(revision=revision, **claim) for claim in claims)
        Artifact.objects.bulk_create(
            Artifact(revision=revision, kind=e.kind, file=e.name, original_name=e.original_name, size=e.size,
                     sha256=e.sha256, uploaded_by_id=e.uploaded_by_id)
            for e in evidence
        )
    return handover


def update_terms(actor, revision, *, terms, metrics=None):
    """Replace a draft revision's contract terms (dict of Revision fields) and,
    when ``metrics`` is given, its claimed metrics (list of dicts with metric,
    claimed_value, minimum, maximum). Refused on a frozen revision. -> Revision

    Keys absent from ``terms`` keep their value, so the API's PATCH and a full
    form both fit; the merged contract is validated as a whole."""
    handover = revision.handover
    require(actor, Action.EDIT_REVISION, handover)
    with transaction.atomic():
        handover = _lock(handover)
        revision = Revision.objects.get(pk=revision.pk)
        _check_editable(handover, revision)
        contract.clean_terms(terms or {})  # unknown keys and the given values, reported on their field
        merged = contract.clean_terms({**_terms_of(revision), **(terms or {})})
        claims = _clean_draft_claims(handover, metrics)
        changed = [name for name in contract.TERM_FIELDS if getattr(revision, name) != merged[name]]
        if handover.is_candidate:
            _check_candidate_terms(revision, changed, claims)
        for name, value in merged.items():
            setattr(revision, name, value)
        revision.save()
        if metrics is not None:
            revision.claimed_metrics.all().delete()
            ClaimedMetric.objects.bulk_create(ClaimedMetric(revision=revision, **claim) for claim in claims)
            changed.append("claimed_metrics")
        Handover.objects.filter(pk=handover.pk).update(updated_at=timezone.now())
        _audit(actor, "revision.terms_updated", revision, handover, revision=revision.number, fields=changed)
    return revision


def _clean_draft_claims(handover, metrics):
    if metrics is None:
        return None
    if handover.is_candidate:  # the contract's requirements: claimed values are optional
        return contract._clean_metrics(None, list(metrics), relations=False, requirement=True)
    return contract.clean_claims(list(metrics))


def _check_candidate_terms(revision, changed, claims):
    """A candidate states only its framework version, parameter count and
    claimed values; its contract's requirements stay as filed
    (DomainError on the first field that would change)."""
    fixed = [name for name in changed if name not in contract.CANDIDATE_FREE_TERMS]
    if fixed:
        raise DomainError(f"{contract.TERM_LABELS[fixed[0]]} is set by the agreed contract this candidate "
                          "was filed against, and cannot change here.", field=fixed[0])
    if claims is None:
        return
    bounds = {c.metric: (c.minimum, c.maximum) for c in revision.claimed_metrics.all()}
    given = {c["metric"]: (c["minimum"], c["maximum"]) for c in claims}
    if given != bounds:
        raise DomainError("The metrics and their minimum or maximum are the agreed contract's requirements "
                          "and cannot change on a candidate; state only claimed values.", field="metrics")


# --- artifacts -----------------------------------------------------------------------------------


def _delete_file_unless_shared(name, exclude_pk=None):
    """Delete a stored file after commit unless another artifact (a frozen
    revision's copy) still points at it."""
    others = Artifact.objects.filter(file=name)
    if exclude_pk is not None:
        others = others.exclude(pk=exclude_pk)
    if not others.exists():
        transaction.on_commit(lambda: default_storage.delete(name))


def attach_artifact(actor, revision, *, kind, uploaded_file):
    """Store an uploaded file on a draft revision; replaces the same kind. -> Artifact

    A data scientist of the project may call it. The sha256 and size come from
    ``uploads.HashingUploadHandler`` when the file streamed through it, and
    are computed by streaming the file otherwise. Empty files and files over
    ``settings.HANDOFF_MAX_UPLOAD_BYTES`` are refused; nothing is stored."""
    handover = revision.handover
    require(actor, Action.EDIT_REVISION, handover)
    if kind not in ArtifactKind.values:
        raise DomainError(
            f"{kind!r} is not an artifact kind; choose one of {', '.join(ArtifactKind.values)}.", field="kind"
        )
    if uploaded_file is None:
        raise DomainError("Choose a file to upload.", field="file")
    _check_own_evidence(handover, kind)
    # Refuse early (without the lock) so a big file is not stored for nothing;
    # the same checks are repeated under the lock below.
    _check_editable(handover, revision)
    sha256, size = measure_upload(uploaded_file)
    original_name = sanitize_file_name(uploaded_file.name)

    artifact = Artifact(
        revision=revision, kind=kind, original_name=original_name, size=size, sha256=sha256,
        uploaded_by=actor,
    )
    # Store first (moving a large temporary file can take a while), then take
    # the lock only for the rows; a refusal under the lock deletes the file.
    artifact.file.save(original_name, uploaded_file, save=False)
    stored_name = artifact.file.name
    try:
        with transaction.atomic():
            handover = _lock(handover)
            revision = Revision.objects.get(pk=revision.pk)
            _check_editable(handover, revision)
            artifact.revision = revision
            replaced = None
            if kind != ArtifactKind.OTHER:
                replaced = Artifact.objects.filter(revision=revision, kind=kind).first()
                if replaced is not None:
                    _delete_file_unless_shared(replaced.file.name, exclude_pk=replaced.pk)
                    replaced.delete()
            artifact.save()
            Handover.objects.filter(pk=handover.pk).update(updated_at=timezone.now())
            _audit(actor, "artifact.replaced" if replaced else "artifact.attached", artifact, handover,
                   revision=revision.number, kind=kind, sha256=sha256, size=size, name=original_name)
    except BaseException:
        default_storage.delete(stored_name)
        raise
    return artifact


def _check_own_evidence(handover, kind):
    """A candidate's labels are its contract's: they are neither replaced nor removed."""
    if handover.is_candidate and kind == ArtifactKind.LABELS:
        raise DomainError("The labels of a candidate are the agreed contract's validation labels; "
                          "they cannot be replaced or removed here.", field="kind")


def remove_artifact(actor, artifact):
    """Delete an artifact from a draft revision (a data scientist of the project).

    The stored file is deleted after commit unless a frozen revision still
    points at it."""
    revision = artifact.revision
    handover = revision.handover
    require(actor, Action.EDIT_REVISION, handover)
    with transaction.atomic():
        handover = _lock(handover)
        revision = Revision.objects.get(pk=revision.pk)
        _check_editable(handover, revision)
        try:
            artifact = Artifact.objects.get(pk=artifact.pk, revision=revision)
        except Artifact.DoesNotExist:
            raise NotFound("Not found.") from None
        _check_own_evidence(handover, artifact.kind)
        _delete_file_unless_shared(artifact.file.name, exclude_pk=artifact.pk)
        _audit(actor, "artifact.removed", artifact, handover, revision=revision.number, kind=artifact.kind,
               sha256=artifact.sha256, name=artifact.original_name)
        artifact.delete()


# --- the lifecycle -------------------------------------------------------------------------------


def missing_for_submission(revision):
    """What a revision still needs before it can be submitted, as phrases."""
    missing = []
    kinds = {a.kind for a in revision.artifacts.all()}
    names = {ArtifactKind.MODEL: "the model file", ArtifactKind.PREDICTIONS: "the predictions file",
             ArtifactKind.LABELS: "the labels file"}
    missing += [names[kind] for kind in REQUIRED_ARTIFACTS if kind not in kinds]
    if not revision.task_type:
        missing.append("a task type")
    if not revision.framework:
        missing.append("a framework")
    if not revision.claimed_metrics.exists():
        missing.append("at least one claimed metric")
    return missing


def submission_problems(revision):
    """Why ``revision`` cannot be submitted yet, as sentences (none: it can)."""
    missing = missing_for_submission(revision)
    problems = ["Before submitting, add " + _join(missing) + "."] if missing else []
    return problems + contract.submission_problems(_terms_of(revision), _metrics_of(revision))


def _request_validation(actor, revision):
    """Ask the validation app (``signals.validation_requested``) to measure
    ``revision``, inside the caller's transaction."""
    if not validation_requested.send(sender=Revision, revision=revision, actor=actor):
        raise ImproperlyConfigured("No app validates revisions: is handoff.validation installed?")


def submit_revision(actor, revision):
    """draft -> validating; freezes the revision and requests its validation. -> Revision

    A data scientist of the project may call it. The revision needs the model,
    predictions and labels artifacts, a task type, a framework and at least one
    claimed metric. The validation app creates its run in this transaction
    and starts it after commit (``signals.validation_requested``)."""
    handover = revision.handover
    require(actor, Action.SUBMIT_REVISION, handover)
    with transaction.atomic():
        handover = _lock(handover)
        revision = Revision.objects.get(pk=revision.pk)
        if revision.submitted_at is not None:
            raise Conflict(f"Revision {revision.number} has already been submitted.")
        _check_current(handover, revision)
        target = _check_transition(handover, "submit")
        problems = submission_problems(revision)
        if problems:
            raise Conflict(" ".join(problems))
        # Terms were validated on the way in; check again so a contract can
        # never be frozen in an invalid state.
        contract.clean_terms(_terms_of(revision))
        contract.clean_metrics(revision.task_type, _metrics_of(revision), requirement=handover.is_candidate)
        revision.submitted_at = timezone.now()
        revision.submitted_by = actor
        revision.save(update_fields=["submitted_at", "submitted_by"])
        handover.state = target
        handover.awaiting_review_since = None
        handover.save(update_fields=["state", "awaiting_review_since", "updated_at"])
        _audit(actor, "handover.submitted", handover, handover, revision=revision.number)
        _request_validation(actor, revision)
    return revision


def revalidate(actor, handover):
    """validating | awaiting_review | validation_failed -> validating: measure
    the current revision again. -> Revision

    The handover's owner or an ML engineer of the project may call it (a
    worker upgrade, a run that failed for a reason outside the model). The new
    run decides; an older one that is still going no longer does."""
    require(actor, Action.REVALIDATE, handover)
    with transaction.atomic():
        handover = _lock(handover)
        target = _check_transition(handover, "revalidate")
        revision = current_revision(handover)
        handover.state = target
        handover.awaiting_review_since = None
        handover.save(update_fields=["state", "awaiting_review_since", "updated_at"])
        _audit(actor, "handover.revalidation_requested", handover, handover, revision=revision.number)
        _request_validation(actor, revision)
    return revision


def record_validation_outcome(revision, *, passed, worker=None, decides=None, **details):
    """validating -> awaiting_review | validation_failed. Called by the
    validation app when a run finishes; returns True when the outcome moved
    the handover.

    ``worker`` (``{"hostname", "pid"}`` of the process that validated, see
    ``handoff.core.tasks.worker_identity``) and ``details`` (the run, its
    failing checks) are kept in the audit event. ``decides``, called once the
    handover is locked, says whether this outcome still counts (a newer run
    was requested meanwhile: it does not). Idempotent: when the handover has
    already left ``validating`` for this revision (a redelivered task),
    nothing changes."""
    with transaction.atomic():
        handover = _lock(revision.handover)
        latest = current_revision(handover)
        if handover.state != HandoverState.VALIDATING or latest is None or latest.pk != revision.pk or (
                decides is not None and not decides()):
            log.info("validation outcome for %s ignored: handover is %s", revision, handover.state)
            return False
        target = _check_transition(handover, "pass_validation" if passed else "fail_validation")
        handover.state = target
        handover.awaiting_review_since = timezone.now() if passed else None
        handover.save(update_fields=["state", "awaiting_review_since", "updated_at"])
        ran_by = {"worker": worker} if worker is not None else {}
        _audit(None, "handover.validation_passed" if passed else "handover.validation_failed", handover,
               handover, revision=revision.number, **ran_by, **details)
    return True


def _decide(actor, revision, transition, decision, comment, *, selecting=False):
    handover = revision.handover
    require(actor, Action.REVIEW_REVISION, handover)
    if selecting:
        require(actor, Action.SELECT_CANDIDATE, handover)
    mentions = mentions_in(handover, comment, field="comment")
    with transaction.atomic():
        handover = _lock(handover)
        revision = Revision.objects.get(pk=revision.pk)
        target = _check_transition(handover, transition)
        if decision == ReviewDecision.ACCEPT and handover.is_candidate != selecting:
            raise Conflict("A candidate is accepted by selecting it from its contract's comparison, "
                           "which closes the other candidates." if handover.is_candidate
                           else "Only a candidate of an agreed contract is selected.")
        _check_current(handover, revision)
        if Review.objects.filter(revision=revision).exists():
            raise Conflict(f"Revision {revision.number} has already been reviewed.")
        hashes = {}
        if decision == ReviewDecision.ACCEPT:
            for artifact in revision.artifacts.order_by("kind", "original_name"):
                hashes[contract.artifact_key(artifact)] = artifact.sha256
        try:
            with transaction.atomic():
                review = Review.objects.create(revision=revision, reviewer=actor, decision=decision,
                                               comment=comment, artifact_hashes=hashes)
        except IntegrityError:
            raise Conflict(f"Revision {revision.number} has already been reviewed.") from None
        handover.state = target
        handover.reviewer = actor
        handover.save(update_fields=["state", "reviewer", "updated_at"])
        _follow_by_default(actor, handover)
        verb = "handover.accepted" if decision == ReviewDecision.ACCEPT else "handover.changes_requested"
        _audit(actor, verb, handover, handover, revision=revision.number, review=review.pk,
               artifact_hashes=hashes, **_mention_details(mentions))
    review.mentions = mentions
    return review


def accept_revision(actor, revision, *, comment=""):
    """awaiting_review -> accepted; stores the signed record. -> Review

    An ML engineer of the project may call it; they follow the handover from
    then on. ``@mentions`` in the comment are told as in ``add_comment`` (and
    ``review.mentions`` says who was not). The Review holds the reviewer,
    the time and every artifact's sha256 (``artifact_hashes``). Of two
    engineers deciding at once, one wins and the other gets ``Conflict``."""
    return _decide(actor, revision, "accept", ReviewDecision.ACCEPT, (comment or "").strip())


def accept_candidate(actor, revision, *, comment=""):
    """awaiting_review -> accepted for a candidate of an agreed contract, with
    the signed record as in ``accept_revision``. -> Review

    For ``contracts.services.select``, which holds the contract's lock and
    closes the other candidates in the same transaction; an ML engineer of the
    project may call it."""
    return _decide(actor, revision, "accept", ReviewDecision.ACCEPT, (comment or "").strip(), selecting=True)


def request_changes(actor, revision, *, comment):
    """awaiting_review -> changes_requested; comment required. -> Review

    An ML engineer of the project may call it; mentions and following as in
    ``accept_revision``."""
    comment = (comment or "").strip()
    if not comment:
        raise DomainError("Say what should change: a comment is required.", field="comment")
    return _decide(actor, revision, "request_changes", ReviewDecision.REQUEST_CHANGES, comment)


def signed_revision(handover):
    """The revision an engineer accepted (the signed contract), or None."""
    return (Revision.objects.filter(handover=handover, reviews__decision=ReviewDecision.ACCEPT)
            .order_by("-number").first())


# The transitions apps above handovers drive, and the audit verb of each.
_MOVED_BY_OTHERS = {"deploy": "handover.deployed", "retire": "handover.retired",
                    "not_select": "handover.not_selected"}


def move_handover(actor, handover, transition, *, reason="", **details):
    """Take a handover along ``transition`` for the app above that owns the
    reason: "deploy" or "retire" (the deployments app, which checks that no
    deployment of it is still active) or "not_select" (the contracts app, when
    another candidate was selected), inside the caller's transaction. A
    ``reason`` is posted as the actor's comment on the handover and told to its
    owner with the move. Locks the handover; returns it in its new state.
    Whoever the lifecycle names for the transition (an ML engineer of the
    project) may call it."""
    if transition not in _MOVED_BY_OTHERS:
        raise ValueError(f"{transition!r} is not a transition another app drives")
    require(actor, HANDOVER[transition].action, handover)
    with transaction.atomic():
        handover = _lock(handover)
        target = _check_transition(handover, transition)
        if handover.state != target:
            handover.state = target
            handover.save(update_fields=["state", "updated_at"])
            if reason:
                comment = Comment.objects.create(handover=handover, revision=current_revision(handover),
                                                 author=actor, body=reason)
                details.update(reason=reason, comment=comment.pk)
            _audit(actor, _MOVED_BY_OTHERS[transition], handover, handover, **details)
    return handover


def revise_handover(actor, handover):
    """validation_failed | changes_requested -> draft with revision n+1 copied from n. -> Revision

    A data scientist of the project may call it. Terms, claimed metrics and
    artifacts are copied; the artifact rows point at the same stored files
    (files are immutable), and replacing one on the new draft never deletes a
    file a frozen revision still holds."""
    require(actor, Action.REVISE_HANDOVER, handover)
    with transaction.atomic():
        handover = _lock(handover)
        target = _check_transition(handover, "revise")
        last = current_revision(handover)
        revision = Revision.objects.create(
            handover=handover, number=last.number + 1, created_by=actor, **_terms_of(last)
        )
        ClaimedMetric.objects.bulk_create(
            ClaimedMetric(revision=revision, **claim) for claim in _metrics_of(last)
        )
        Artifact.objects.bulk_create(
            Artifact(revision=revision, kind=a.kind, file=a.file.name, original_name=a.original_name,
                     size=a.size, sha256=a.sha256, uploaded_by_id=a.uploaded_by_id)
            for a in last.artifacts.all()
        )
        handover.state = target
        handover.awaiting_review_since = None
        handover.save(update_fields=["state", "awaiting_review_since", "updated_at"])
        _audit(actor, "handover.revised", handover, handover, revision=revision.number)
    return revision


def add_comment(actor, handover, *, body):
    """Anyone who may comment on the project adds a comment. -> Comment

    The comment is attached to the handover's current revision, and its author
    follows the handover (unless they unfollowed it). Each ``@username`` who
    may see the handover is told once (``notices``); one who may not is not
    told, and ``comment.mentions.outsiders`` names them for the page to say
    so. A username that is no one's refuses the comment (DomainError on
    ``body``)."""
    require(actor, Action.COMMENT, handover)
    body = _required_text(body, field="body", empty="Write something to comment.", what="comment",
                          limit=20000)
    mentions = mentions_in(handover, body, field="body")
    with transaction.atomic():
        comment = Comment.objects.create(
            handover=handover, revision=current_revision(handover), author=actor, body=body
        )
        _follow_by_default(actor, handover)
        _audit(actor, "handover.commented", comment, handover, comment=comment.pk,
               **_mention_details(mentions))
    comment.mentions = mentions
    return comment


# --- following -----------------------------------------------------------------------------------


def follow(actor, handover):
    """Hear of the handover's comments and decisions from now on. -> Follow

    Anyone who may see the handover may call it; calling it again changes
    nothing (and records nothing)."""
    return _set_following(actor, handover, True)


def unfollow(actor, handover):
    """Stop hearing of the handover's comments and decisions. -> Follow

    Anyone who may see the handover may call it; idempotent. The choice
    sticks: commenting or reviewing later does not follow them again
    (an ``@mention`` still reaches them)."""
    return _set_following(actor, handover, False)


def _set_following(actor, handover, following):
    require(actor, Action.VIEW, handover)
    with transaction.atomic():
        row, created = Follow.objects.select_for_update().get_or_create(
            user=actor, handover=handover, defaults={"following": following})
        if not created and row.following == following:
            return row
        if not created:
            row.following = following
            row.save(update_fields=["following"])
        # A person's own choice, not a change to the handover: kept out of its activity list.
        record(actor, "handover.followed" if following else "handover.unfollowed", handover,
               project=handover.project)
    return row


def _join(items):
    items = list(items)
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]
