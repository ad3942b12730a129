"""Read queries for handover pages, the API and dashboards.

Every queryset is scoped with ``access.scope``: nothing outside the user's
projects is ever returned.
"""

from typing import NamedTuple

from django.db.models import OuterRef, Prefetch, Q, Subquery

from handoff.access import Action, projects_allowing, scope
from handoff.audit.models import AuditEvent
from handoff.core.errors import NotFound

from .contract import TERM_FIELDS, TERM_LABELS, artifact_key
from .models import (
    Artifact,
    ArtifactKind,
    ClaimedMetric,
    Comment,
    Handover,
    HandoverState,
    Metric,
    Model,
    Review,
    ReviewDecision,
    Revision,
)


def visible_models(user):
    """Registered models in the user's projects."""
    return scope(Model.objects.select_related("project", "owner"), user)


def visible_handovers(user):
    """Handovers in the user's projects, with what a list row shows."""
    return scope(Handover.objects.select_related("model", "project", "owner", "reviewer"), user)


def with_current_revision_number(handovers):
    """``handovers`` annotated with ``current_revision_number`` (None before
    revision 1), the number the API shows.

    A correlated subquery, not ``Max`` over a join: an aggregate makes the
    list group every visible handover with all its revisions before it can
    paginate (the cost grew with the data); PostgreSQL evaluates this one
    only for the rows a page returns, each through the (handover, number)
    unique index."""
    latest = Revision.objects.filter(handover=OuterRef("pk")).order_by("-number").values("number")[:1]
    return handovers.annotate(current_revision_number=Subquery(latest))


def handover_list(user):
    """``visible_handovers`` with the current revision number, most recently
    changed first (the API list; filter with ``HandoverFilter``)."""
    return with_current_revision_number(visible_handovers(user)).order_by("-updated_at", "-id")


def held_blind(user):
    """The artifacts held blind from ``user``, as a condition on artifacts: the
    labels of a handover whose labels are blind, in a project where ``user``
    may not read blind labels (``access.hides_labels`` asked of every artifact
    at once, from the same tables). The one rule of which file a person may
    not list, download or diff: every artifact query below excludes these."""
    return Q(kind=ArtifactKind.LABELS, revision__handover__labels_blind=True) & ~Q(
        revision__handover__project__in=projects_allowing(user, Action.READ_BLIND_LABELS).values("pk")
    )


def visible_artifacts(user):
    """Artifacts of handovers in the user's projects, but those held blind from them."""
    return scope(
        Artifact.objects.select_related("revision__handover__project", "uploaded_by"),
        user,
        project_field="revision__handover__project",
    ).exclude(held_blind(user))


def _revisions_with_detail(user):
    artifacts = Artifact.objects.select_related("uploaded_by").exclude(held_blind(user))
    return Revision.objects.select_related("created_by", "submitted_by").prefetch_related(
        Prefetch("claimed_metrics", queryset=ClaimedMetric.objects.order_by("metric")),
        Prefetch("artifacts", queryset=artifacts),
        Prefetch("reviews", queryset=Review.objects.select_related("reviewer")),
    )


def revisions_prefetch(user):
    """Revisions with their claims, the artifacts ``user`` may see, and reviews, in four queries."""
    return Prefetch("revisions", queryset=_revisions_with_detail(user).order_by("number"))


def revision_detail(handover, number, *, user):
    """Revision ``number`` of a handover already found in the user's scope,
    with claims, the artifacts ``user`` may see, and reviews; NotFound otherwise."""
    revision = _revisions_with_detail(user).filter(handover=handover, number=number).first()
    if revision is None:
        raise NotFound("Not found.")
    revision.handover = handover
    return revision


def handovers_with_detail(user):
    """``visible_handovers`` with revisions and comments prefetched (API detail)."""
    return with_current_revision_number(visible_handovers(user)).prefetch_related(
        revisions_prefetch(user),
        Prefetch("comments", queryset=Comment.objects.select_related("author", "revision")),
    )


def handover_detail(user, pk):
    """One handover the user may see, with everything its page shows; NotFound otherwise.

    Revisions are in ``handover.revisions.all()`` (oldest first), each with
    ``claimed_metrics``, ``artifacts`` (but those held blind from ``user``) and
    ``reviews``; ``handover.comments.all()``."""
    try:
        return handovers_with_detail(user).get(pk=pk)
    except (Handover.DoesNotExist, ValueError, TypeError):
        raise NotFound("Not found.") from None


def change_request(handover):
    """The review a handover in ``changes_requested`` is waiting on: the latest
    review of its current revision that requested changes, or None.

    Reads ``handover_detail``'s prefetched revisions and reviews (with their
    reviewer), so the page pays no query for it."""
    if handover.state != HandoverState.CHANGES_REQUESTED:
        return None
    revisions = list(handover.revisions.all())
    if not revisions:
        return None
    current = max(revisions, key=lambda r: r.number)
    requests = [r for r in current.reviews.all() if r.decision == ReviewDecision.REQUEST_CHANGES]
    if not requests:
        return None
    return max(requests, key=lambda r: (r.created_at, r.pk))


# How each audited change of a handover reads on its page.
ACTIVITY_PHRASES = {
    "handover.created": "filed the handover",
    "revision.terms_updated": "changed the contract terms of revision {revision}",
    "artifact.attached": "attached the {kind} file {name} to revision {revision}",
    "artifact.replaced": "replaced the {kind} file with {name} on revision {revision}",
    "artifact.removed": "removed the {kind} file {name} from revision {revision}",
    "handover.submitted": "submitted revision {revision}",
    "handover.validation_passed": "validation passed for revision {revision}",
    "handover.validation_failed": "validation failed for revision {revision}",
    "handover.accepted": "accepted and signed revision {revision}",
    "handover.changes_requested": "requested changes on revision {revision}",
    "handover.revised": "opened revision {revision}",
    "handover.commented": "commented",
}


class ActivityRow(NamedTuple):
    at: object
    actor: object  # a User, or None for the system (validation)
    text: str


def handover_activity(handover, limit=100, *, blind=False):
    """The handover's audit trail, newest first, as sentences for its page.
    ``blind``: the viewer does not see the labels, nor the name of their file."""
    events = (
        AuditEvent.objects.filter(project_id=handover.project_id, details__handover=handover.pk)
        .select_related("actor")
        .order_by("-created_at", "-id")[:limit]
    )
    rows = []
    for event in events:
        phrase = ACTIVITY_PHRASES.get(event.verb, event.verb.replace(".", " ").replace("_", " "))
        details = {k: v for k, v in event.details.items() if isinstance(k, str)}
        if blind and details.get("kind") == ArtifactKind.LABELS and "name" in details:
            details["name"] = "(held blind)"
        try:
            text = phrase.format(**details)
        except (KeyError, IndexError):
            text = phrase
        rows.append(ActivityRow(event.created_at, event.actor, text))
    return rows


def review_queue(user):
    """Handovers awaiting review in projects where ``user`` is an ML engineer, oldest first.

    Scoped by ``projects_allowing`` alone (a project where one may review is
    one they see), and joined only with what a row shows: the visible scope's
    subquery on top of it made PostgreSQL plan a nine-relation join, which
    took longer than running it."""
    return (
        Handover.objects.select_related("model", "project", "owner")
        .filter(
            state=HandoverState.AWAITING_REVIEW,
            project__in=projects_allowing(user, Action.REVIEW_REVISION).values("pk"),
        )
        .order_by("awaiting_review_since", "id")
    )


def project_handovers(user, project, limit=20):
    """The latest handovers of one project the user may see, newest change first."""
    return visible_handovers(user).filter(project=project).order_by("-updated_at", "-id")[:limit]


def my_handovers(user):
    """Handovers the user owns (filed), most recently changed first."""
    return visible_handovers(user).filter(owner=user).order_by("-updated_at", "-id")


class DiffRow(NamedTuple):
    field: str  # "latency_p95_ms", "metric:f1:claimed_value", "artifact:model"
    label: str
    old: str
    new: str


def _display(revision, name):
    value = getattr(revision, name)
    if name in {"task_type", "framework"}:
        return getattr(revision, f"get_{name}_display")() if value else ""
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _number(value):
    return "" if value is None else f"{value:g}"


def _artifact_label(key):
    if key.startswith("other:"):
        return f"Other file {key.split(':', 1)[1]}"
    return f"{ArtifactKind(key).label} file"


def revision_diff(old, new):
    """What changed from revision ``old`` to ``new``: a list of DiffRow
    (field, label, old, new) over contract terms, claimed metrics and artifact
    hashes, in page order. ``old`` may be None (everything is new)."""
    rows = []
    for name in TERM_FIELDS:
        before = _display(old, name) if old is not None else ""
        after = _display(new, name)
        if before != after:
            rows.append(DiffRow(name, TERM_LABELS[name], before, after))

    def claims(revision):
        return {c.metric: c for c in revision.claimed_metrics.all()} if revision is not None else {}

    old_claims, new_claims = claims(old), claims(new)
    for metric in Metric:
        a, b = old_claims.get(metric.value), new_claims.get(metric.value)
        if a is None and b is None:
            continue
        for field, what in (("claimed_value", "claimed"), ("minimum", "minimum"), ("maximum", "maximum")):
            before = _number(getattr(a, field)) if a else ""
            after = _number(getattr(b, field)) if b else ""
            if before != after:
                rows.append(
                    DiffRow(f"metric:{metric.value}:{field}", f"{metric.label} {what}", before, after)
                )

    def artifacts(revision):
        return {artifact_key(a): a for a in revision.artifacts.all()} if revision is not None else {}

    old_files, new_files = artifacts(old), artifacts(new)
    for key in sorted(set(old_files) | set(new_files)):
        a, b = old_files.get(key), new_files.get(key)
        before = f"{a.original_name} (sha256 {a.sha256})" if a else ""
        after = f"{b.original_name} (sha256 {b.sha256})" if b else ""
        if (a.sha256 if a else None) != (b.sha256 if b else None) or before != after:
            rows.append(DiffRow(f"artifact:{key}", _artifact_label(key), before, after))
    return rows


# --- what waits on a handover's owner (the home page) ---

# A handover in one of these states waits on its owner: a new revision answers it.
WAITING_ON_OWNER = (HandoverState.CHANGES_REQUESTED, HandoverState.VALIDATION_FAILED)


def _owned_rows(user):
    # No revision aggregate (``visible_handovers``'): a home row shows the model, version and project.
    return scope(Handover.objects.select_related("model", "project"), user).filter(owner=user)


def waiting_on_owner(user):
    """Handovers ``user`` owns with changes requested or failed validation,
    the longest waiting first."""
    return _owned_rows(user).filter(state__in=WAITING_ON_OWNER).order_by("updated_at", "id")


def unfinished_drafts(user):
    """Drafts ``user`` started and has not submitted, the longest untouched first."""
    return _owned_rows(user).filter(state=HandoverState.DRAFT).order_by("updated_at", "id")


def has_handed_over(user):
    """Whether ``user`` owns any handover they may still see."""
    return _owned_rows(user).exists()
