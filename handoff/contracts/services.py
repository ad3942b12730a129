"""Every change to contracts, their signatures and candidates, and selection.

Each function: permission check (``handoff.access``), state check against the
lifecycle table (``lifecycle.CONTRACT``), the contract row's lock, an audit
event, one transaction. Views, the API and the demo call these and nothing
else writes. Requirement terms are cleaned by ``handovers.contract``, the same
rules as a revision's terms.

The frozen rule: terms and artifacts change only while a contract is draft or
proposed, and every change clears the signatures gathered so far; an agreed
contract never changes, it is succeeded by version n+1.
"""

import hashlib
import json

from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone

from handoff.access import Action, require, role_of
from handoff.audit.services import record
from handoff.core.errors import Conflict, DomainError, NotFound
from handoff.core.locking import lock_row
from handoff.handovers import contract as terms_rules
from handoff.handovers import services as handover_services
from handoff.handovers.lifecycle import OPEN_CANDIDATE_STATES
from handoff.handovers.models import Artifact, ArtifactKind, Framework, HandoverState
from handoff.handovers.uploads import measure_upload, sanitize_file_name
from handoff.teams.models import Role

from . import notices
from .lifecycle import CONTRACT, EDITABLE_STATES, SELECTABLE_STATES
from .models import (
    CONTRACT_TERMS,
    Candidate,
    Contract,
    ContractArtifact,
    ContractArtifactKind,
    ContractComment,
    ContractSignature,
    ContractState,
    Requirement,
)

# The two sides that must both sign.
SIGNING_ROLES = {Role.DATA_SCIENTIST: "data scientist", Role.ML_ENGINEER: "ML engineer"}
# A candidate's handover in one of these states was selected.
SELECTED_STATES = (HandoverState.ACCEPTED, HandoverState.DEPLOYED, HandoverState.RETIRED)
TITLE_LIMIT = Contract._meta.get_field("title").max_length


def _lock(contract):
    try:
        return lock_row(Contract.objects.select_related("project"), pk=contract.pk)
    except Contract.DoesNotExist:
        raise NotFound("Not found.") from None


def _audit(actor, verb, target, contract, **details):
    event = record(
        actor,
        verb,
        target,
        project=contract.project,
        contract=contract.pk,
        version=contract.version,
        **details,
    )
    notices.announce(event, contract)  # in the same transaction: told if and only if it happened
    return event


# --- terms -----------------------------------------------------------------------------------------


def clean_frameworks(value):
    """Accepted frameworks, as a list or comma-separated text -> "scikit-learn,pytorch"
    (known ones, each once, in a fixed order; "" accepts any). Raises ValidationError."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return ""
    names = value.split(",") if isinstance(value, str) else value
    if not isinstance(names, list | tuple) or not all(isinstance(n, str) for n in names):
        raise ValidationError(
            {"frameworks": 'Accepted frameworks must be a list of names, such as ["scikit-learn"].'}
        )
    names = [name.strip() for name in names if name.strip()]
    unknown = [name for name in names if name not in Framework.values]
    if unknown:
        options = ", ".join(Framework.values)
        raise ValidationError(
            {"frameworks": f"{unknown[0]!r} is not a framework Handoff knows; choose from {options}."}
        )
    return ",".join(name for name in Framework.values if name in names)


def clean_contract_terms(terms):
    """A contract's requirement terms (any subset of ``CONTRACT_TERMS``) ->
    dict of Contract field values. The revision terms among them are cleaned
    by ``handovers.contract.clean_terms``. Raises ValidationError({field: message})."""
    terms = dict(terms or {})
    errors = {
        name: f"{name!r} is not a term of an agreed contract." for name in terms if name not in CONTRACT_TERMS
    }
    cleaned = {}
    if "frameworks" in terms:
        try:
            cleaned["frameworks"] = clean_frameworks(terms.pop("frameworks"))
        except ValidationError as exc:
            errors.update(exc.message_dict)
    try:
        cleaned.update(terms_rules.clean_terms({k: v for k, v in terms.items() if k in CONTRACT_TERMS}))
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)
    return cleaned


def terms_of(contract):
    return {name: getattr(contract, name) for name in CONTRACT_TERMS}


def requirements_of(contract):
    return [
        {"metric": r.metric, "claimed_value": None, "minimum": r.minimum, "maximum": r.maximum}
        for r in contract.requirements.all()
    ]


def terms_digest(contract):
    """sha256 of the title, blind flag, terms and requirements, as a signer agrees to them."""
    signed = {
        "title": contract.title,
        "labels_blind": contract.labels_blind,
        "terms": terms_of(contract),
        "requirements": sorted(requirements_of(contract), key=lambda r: r["metric"]),
    }
    return hashlib.sha256(json.dumps(signed, sort_keys=True, default=str).encode()).hexdigest()


def artifact_hashes(contract):
    return {artifact.kind: artifact.sha256 for artifact in contract.artifacts.all()}


def _title(title):
    title = (title or "").strip()
    if not title:
        raise DomainError("Give the contract a title, such as the use case it serves.", field="title")
    if len(title) > TITLE_LIMIT:
        raise DomainError(f"The title is too long (at most {TITLE_LIMIT} characters).", field="title")
    return title


def _check_editable(contract):
    if contract.state not in EDITABLE_STATES:
        raise Conflict(
            f"{contract} is {contract.get_state_display().lower()} and cannot change; "
            + (
                "start version n+1 to change its terms."
                if contract.state == ContractState.AGREED
                else "it is no longer in force."
            )
        )


def _clear_signatures(actor, contract):
    """Any change unsigns the contract: whoever signed agreed to other terms."""
    signers = list(contract.signatures.values_list("signer__username", flat=True))
    if signers:
        contract.signatures.all().delete()
        _audit(actor, "contract.signatures_cleared", contract, contract, signers=signers)
    return signers


def create_contract(actor, project, *, title, terms=None, requirements=None, labels_blind=False):
    """Draft a contract (version 1) for ``project``. -> Contract

    A data scientist or an ML engineer of the project may call it. Terms are
    cleaned as a revision's; requirements are metrics with a minimum and/or a
    maximum (``handovers.contract.clean_requirements``)."""
    require(actor, Action.DRAFT_CONTRACT, project)
    title = _title(title)
    cleaned = clean_contract_terms(terms)
    rows = terms_rules.clean_requirements(None, requirements) if requirements else []
    with transaction.atomic():
        contract = Contract.objects.create(
            project=project, title=title, labels_blind=bool(labels_blind), created_by=actor, **cleaned
        )
        Requirement.objects.bulk_create(
            Requirement(contract=contract, metric=r["metric"], minimum=r["minimum"], maximum=r["maximum"])
            for r in rows
        )
        _audit(actor, "contract.created", contract, contract)
    return contract


def update_contract(actor, contract, *, title=None, terms=None, requirements=None, labels_blind=None):
    """Change a draft or proposed contract: title, terms (keys absent keep
    their value), requirements (replaced when given) and the blind flag.
    Clears the signatures gathered so far when anything changed. -> Contract

    A data scientist or an ML engineer of the project may call it; an agreed,
    superseded or closed contract refuses (Conflict)."""
    require(actor, Action.DRAFT_CONTRACT, contract)
    title = _title(title) if title is not None else None
    cleaned = clean_contract_terms(terms)
    rows = terms_rules.clean_requirements(None, requirements) if requirements is not None else None
    with transaction.atomic():
        contract = _lock(contract)
        _check_editable(contract)
        before = terms_digest(contract)
        changed = [name for name, value in cleaned.items() if getattr(contract, name) != value]
        for name, value in cleaned.items():
            setattr(contract, name, value)
        if title is not None and title != contract.title:
            contract.title = title
            changed.append("title")
        if labels_blind is not None and bool(labels_blind) != contract.labels_blind:
            contract.labels_blind = bool(labels_blind)
            changed.append("labels_blind")
        contract.save()
        if rows is not None:
            contract.requirements.all().delete()
            Requirement.objects.bulk_create(
                Requirement(contract=contract, metric=r["metric"], minimum=r["minimum"], maximum=r["maximum"])
                for r in rows
            )
        if terms_digest(contract) != before:
            if rows is not None:
                changed.append("requirements")
            _audit(actor, "contract.updated", contract, contract, fields=changed)
            _clear_signatures(actor, contract)
    return contract


# --- the validation set ----------------------------------------------------------------------------


def _delete_file_unless_shared(name, exclude_pk):
    """Delete a stored file after commit unless an earlier version of the
    contract or a candidate still points at it (stored files are immutable)."""
    if ContractArtifact.objects.filter(file=name).exclude(pk=exclude_pk).exists():
        return
    if Artifact.objects.filter(file=name).exists():
        return
    transaction.on_commit(lambda: default_storage.delete(name))


def attach_contract_artifact(actor, contract, *, kind, uploaded_file):
    """Store the validation set's labels or inputs on a draft or proposed
    contract (replacing the same kind); clears the signatures. -> ContractArtifact

    A data scientist or an ML engineer of the project may call it. Empty
    files and files over the upload limit are refused; nothing is stored."""
    require(actor, Action.DRAFT_CONTRACT, contract)
    if kind not in ContractArtifactKind.values:
        raise DomainError(
            f"{kind!r} is not a file a contract holds; choose one of "
            f"{', '.join(ContractArtifactKind.values)}.",
            field="kind",
        )
    _check_editable(contract)
    sha256, size = measure_upload(uploaded_file)
    original_name = sanitize_file_name(uploaded_file.name)
    artifact = ContractArtifact(
        contract=contract, kind=kind, original_name=original_name, size=size, sha256=sha256, uploaded_by=actor
    )
    artifact.file.save(original_name, uploaded_file, save=False)
    stored_name = artifact.file.name
    try:
        with transaction.atomic():
            contract = _lock(contract)
            _check_editable(contract)
            artifact.contract = contract
            replaced = ContractArtifact.objects.filter(contract=contract, kind=kind).first()
            if replaced is not None:
                _delete_file_unless_shared(replaced.file.name, replaced.pk)
                replaced.delete()
            artifact.save()
            contract.save(update_fields=["updated_at"])
            _audit(
                actor,
                "contract.artifact_replaced" if replaced else "contract.artifact_attached",
                artifact,
                contract,
                kind=kind,
                sha256=sha256,
                size=size,
                name=original_name,
            )
            _clear_signatures(actor, contract)
    except BaseException:
        default_storage.delete(stored_name)
        raise
    return artifact


def remove_contract_artifact(actor, artifact):
    """Remove the labels or inputs of a draft or proposed contract; clears the signatures."""
    contract = artifact.contract
    require(actor, Action.DRAFT_CONTRACT, contract)
    with transaction.atomic():
        contract = _lock(contract)
        _check_editable(contract)
        try:
            artifact = ContractArtifact.objects.get(pk=artifact.pk, contract=contract)
        except ContractArtifact.DoesNotExist:
            raise NotFound("Not found.") from None
        _delete_file_unless_shared(artifact.file.name, artifact.pk)
        _audit(
            actor, "contract.artifact_removed", contract, contract, kind=artifact.kind, sha256=artifact.sha256
        )
        artifact.delete()
        contract.save(update_fields=["updated_at"])
        _clear_signatures(actor, contract)


# --- proposing and signing -------------------------------------------------------------------------


def proposal_problems(contract):
    """Why ``contract`` cannot be proposed (or signed) yet, as sentences (none: it can)."""
    missing = []
    if not contract.task_type:
        missing.append("a task type")
    requirements = requirements_of(contract)
    if not requirements:
        missing.append("at least one metric requirement")
    if not any(a.kind == ContractArtifactKind.LABELS for a in contract.artifacts.all()):
        missing.append("the validation labels file")
    problems = [f"Before proposing, add {_join(missing)}."] if missing else []
    terms = terms_of(contract)
    problems += terms_rules.submission_problems(terms, requirements)
    return problems


def propose(actor, contract):
    """draft -> proposed: the other side may now read, comment and sign. -> Contract

    A data scientist or an ML engineer of the project may call it; the
    contract needs a task type, a metric requirement and its labels."""
    require(actor, Action.DRAFT_CONTRACT, contract)
    with transaction.atomic():
        contract = _lock(contract)
        target = CONTRACT.check(contract, "propose")
        problems = proposal_problems(contract)
        if problems:
            raise Conflict(" ".join(problems))
        contract.state = target
        contract.save(update_fields=["state", "updated_at"])
        _audit(actor, "contract.proposed", contract, contract)
    return contract


def sign(actor, contract):
    """Sign a proposed contract as its data scientist or ML engineer, recording
    the sha256 of the terms and of each file as signed. Once both sides have
    signed it is agreed and frozen, and the version it succeeds is superseded.
    -> ContractSignature

    A data scientist or an ML engineer of the project may call it, once."""
    require(actor, Action.SIGN_CONTRACT, contract)
    with transaction.atomic():
        contract = _lock(contract)
        CONTRACT.check(contract, "sign")
        role = role_of(actor, contract.project)
        if role not in SIGNING_ROLES:
            raise Conflict("Only a data scientist or an ML engineer of the project signs its contracts.")
        if contract.signatures.filter(signer=actor).exists():
            raise Conflict(f"You have already signed {contract}.")
        problems = proposal_problems(contract)
        if problems:
            raise Conflict(" ".join(problems))
        signature = ContractSignature.objects.create(
            contract=contract,
            signer=actor,
            role=role,
            terms_sha256=terms_digest(contract),
            artifact_hashes=artifact_hashes(contract),
        )
        _audit(
            actor,
            "contract.signed",
            contract,
            contract,
            role=role,
            terms_sha256=signature.terms_sha256,
            artifact_hashes=signature.artifact_hashes,
        )
        signed_roles = set(contract.signatures.values_list("role", flat=True))
        if signed_roles >= set(SIGNING_ROLES):
            _agree(actor, contract)
    return signature


def _agree(actor, contract):
    contract.state = CONTRACT.check(contract, "agree")
    contract.agreed_at = timezone.now()
    contract.save(update_fields=["state", "agreed_at", "updated_at"])
    _audit(
        actor,
        "contract.agreed",
        contract,
        contract,
        signers=list(contract.signatures.values_list("signer__username", flat=True)),
    )
    for older in Contract.objects.filter(
        series=contract.series, version__lt=contract.version, state=ContractState.AGREED
    ).order_by("version"):
        older = _lock(older)
        older.state = CONTRACT.check(older, "supersede")
        older.save(update_fields=["state", "updated_at"])
        _audit(actor, "contract.superseded", older, older, by=contract.pk)


def new_version(actor, contract):
    """Start version n+1 of an agreed contract as a draft copy of its terms,
    requirements and files (the same stored files). Version n stays in force
    until n+1 is agreed; its candidates stay tied to it. -> Contract

    A data scientist or an ML engineer of the project may call it."""
    require(actor, Action.DRAFT_CONTRACT, contract)
    with transaction.atomic():
        contract = _lock(contract)
        CONTRACT.check(contract, "new_version")
        newer = Contract.objects.filter(series=contract.series, version__gt=contract.version).order_by(
            "-version"
        )
        if newer.exists():
            raise Conflict(
                f"Version {newer.first().version} of this contract already exists; change that one."
            )
        successor = Contract.objects.create(
            project=contract.project,
            series=contract.series,
            version=contract.version + 1,
            title=contract.title,
            labels_blind=contract.labels_blind,
            created_by=actor,
            **terms_of(contract),
        )
        Requirement.objects.bulk_create(
            Requirement(contract=successor, metric=r.metric, minimum=r.minimum, maximum=r.maximum)
            for r in contract.requirements.all()
        )
        ContractArtifact.objects.bulk_create(
            ContractArtifact(
                contract=successor,
                kind=a.kind,
                file=a.file.name,
                original_name=a.original_name,
                size=a.size,
                sha256=a.sha256,
                uploaded_by_id=a.uploaded_by_id,
            )
            for a in contract.artifacts.all()
        )
        _audit(actor, "contract.created", successor, successor, succeeds=contract.pk)
    return successor


def close(actor, contract, *, reason=""):
    """draft | proposed | agreed -> closed: no candidate is filed against it any
    more. A data scientist or an ML engineer of the project may call it. -> Contract"""
    require(actor, Action.DRAFT_CONTRACT, contract)
    with transaction.atomic():
        contract = _lock(contract)
        contract.state = CONTRACT.check(contract, "close")
        contract.save(update_fields=["state", "updated_at"])
        _audit(actor, "contract.closed", contract, contract, reason=(reason or "").strip()[:2000])
    return contract


def add_comment(actor, contract, *, body):
    """Anyone who may comment on the project comments on a contract, in any
    state. ``@mentions`` of members are told. -> ContractComment"""
    require(actor, Action.COMMENT, contract)
    body = (body or "").strip()
    if not body:
        raise DomainError("Write something to comment.", field="body")
    if len(body) > 20000:
        raise DomainError("The comment is too long (at most 20000 characters).", field="body")
    mentions = handover_services.mentions_in(contract, body, field="body")
    with transaction.atomic():
        comment = ContractComment.objects.create(contract=contract, author=actor, body=body)
        _audit(
            actor,
            "contract.commented",
            comment,
            contract,
            comment=comment.pk,
            mentioned=[person.pk for person in mentions.members],
            not_told=[person.username for person in mentions.outsiders],
        )
    comment.mentions = mentions
    return comment


# --- candidates and selection ----------------------------------------------------------------------


def file_candidate(
    actor,
    contract,
    *,
    model,
    version_label,
    framework,
    framework_version="",
    parameter_count=None,
    claims=None,
):
    """File a candidate against an agreed contract: a new handover of
    ``model`` whose revision 1 holds the contract's requirements (fixed on the
    candidate) and its labels; the data scientist then uploads the model and
    predictions and submits it. ``claims`` ({metric: value}) states claimed
    values for required metrics, which are checked too. -> Handover

    A data scientist of the project may call it."""
    require(actor, Action.CREATE_HANDOVER, contract)
    if model is None or model.project_id != contract.project_id:
        raise DomainError("Choose a model of this contract's project.", field="model")
    framework = (framework or "").strip()
    if not framework:
        raise DomainError("Choose the candidate's framework.", field="framework")
    if contract.framework_list and framework not in contract.framework_list:
        raise DomainError(
            f"The contract accepts {', '.join(contract.framework_list)} only.", field="framework"
        )
    claims = dict(claims or {})
    with transaction.atomic():
        contract = _lock(contract)
        if contract.state != ContractState.AGREED:
            raise Conflict(
                f"Candidates are filed against an agreed contract; {contract} is "
                f"{contract.get_state_display().lower()}."
            )
        chosen = _selected(contract)
        if chosen is not None:
            raise Conflict(f"{chosen.handover} was already selected for {contract}.")
        requirements = requirements_of(contract)
        unknown = sorted(set(claims) - {r["metric"] for r in requirements})
        if unknown:
            raise DomainError(
                f"{unknown[0]!r} is not a metric this contract requires; claim values only for "
                f"{', '.join(r['metric'] for r in requirements)}.",
                field="claims",
            )
        for row in requirements:
            row["claimed_value"] = claims.get(row["metric"])
        terms = {name: value for name, value in terms_of(contract).items() if name != "frameworks"}
        terms.update(
            framework=framework, framework_version=framework_version, parameter_count=parameter_count
        )
        labels = [
            handover_services.Evidence(
                ArtifactKind.LABELS, a.file.name, a.original_name, a.size, a.sha256, a.uploaded_by_id
            )
            for a in contract.artifacts.all()
            if a.kind == ContractArtifactKind.LABELS
        ]
        handover = handover_services.open_candidate(
            actor,
            model,
            version_label=version_label,
            terms=terms,
            requirements=requirements,
            evidence=labels,
            labels_blind=contract.labels_blind,
        )
        candidate = Candidate.objects.create(contract=contract, handover=handover)
        _audit(actor, "contract.candidate_filed", candidate, contract, handover=handover.pk)
    return handover


def _selected(contract):
    return (
        Candidate.objects.select_related("handover__model")
        .filter(contract=contract, handover__state__in=SELECTED_STATES)
        .first()
    )


def candidate_of(handover):
    """The Candidate row of a handover, or None for a handover filed without a contract."""
    return Candidate.objects.select_related("contract__project").filter(handover=handover).first()


def select(actor, handover, *, comment=""):
    """Select a candidate: accept and sign it (``accepted``), and move every
    other open candidate of the same contract version to ``not_selected`` with
    a comment that says why; their owners are told. One transaction, under the
    contract's lock: of two engineers selecting at once, one wins and the other
    gets Conflict. -> Review

    An ML engineer of the project may call it, on a candidate awaiting review."""
    require(actor, Action.SELECT_CANDIDATE, handover)
    candidate = candidate_of(handover)
    if candidate is None:
        raise Conflict("This handover was not filed against a contract; accept it instead.")
    comment = (comment or "").strip()
    with transaction.atomic():
        contract = _lock(candidate.contract)
        if contract.state not in SELECTABLE_STATES:
            raise Conflict(
                f"{contract} is {contract.get_state_display().lower()}; no candidate of it is selected."
            )
        chosen = _selected(contract)
        if chosen is not None:
            raise Conflict(f"{chosen.handover} was already selected for {contract}.")
        revision = handover_services.current_revision(handover)
        review = handover_services.accept_candidate(actor, revision, comment=comment)
        reason = f"Not selected: {handover} was selected for {contract} by {actor.display_name}." + (
            f"\n\n{comment}" if comment else ""
        )
        others = (
            Candidate.objects.select_related("handover")
            .filter(contract=contract, handover__state__in=OPEN_CANDIDATE_STATES)
            .exclude(handover=handover)
            .order_by("handover_id")
        )
        passed_over = []
        for other in others:
            handover_services.move_handover(
                actor, other.handover, "not_select", reason=reason, contract=contract.pk, selected=handover.pk
            )
            passed_over.append(other.handover_id)
        _audit(
            actor,
            "contract.candidate_selected",
            candidate,
            contract,
            handover=handover.pk,
            not_selected=passed_over,
        )
    return review


def _join(items):
    items = list(items)
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]
