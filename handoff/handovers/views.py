"""Handover pages: thin views that parse input, call one service or selector, render.

Every view that takes a handover id looks it up through the viewer's scope
first, so someone who cannot see the project gets a 404 before anything in
the request is looked at. A ``DomainError`` that escapes a view becomes a
message on the page the user came from (``handoff.core.middleware``).
"""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.template.defaultfilters import filesizeformat
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from handoff import access
from handoff.access import Action
from handoff.core.errors import DomainError, Forbidden, NotFound
from handoff.core.feedback import warn_not_told
from handoff.core.storage import file_response

from . import notices, selectors, services
from .contract import TERM_FIELDS, TERM_LABELS
from .filters import HandoverFilter
from .forms import (
    ArtifactUploadForm,
    CommentForm,
    NewHandoverForm,
    ReviewForm,
    TermsForm,
    add_service_error,
    check_contract,
    metric_formset,
)
from .lifecycle import HANDOVER
from .markdown import mentioned_usernames, render_markdown
from .models import ArtifactKind, HandoverState
from .uploads import upload_error

PAGE_SIZE = 25


# --- lookups -------------------------------------------------------------------


def _handover(user, pk):
    """The handover if ``user`` may see it, else NotFound (a 404)."""
    return selectors.handover_detail(user, pk)


def _current_revision(handover):
    revisions = list(handover.revisions.all())
    if not revisions:
        raise NotFound("This handover has no revision.")
    return max(revisions, key=lambda r: r.number)


def _selected_revision(handover, number):
    revisions = sorted(handover.revisions.all(), key=lambda r: r.number)
    if number:
        for revision in revisions:
            if str(revision.number) == str(number):
                return revision
    return revisions[-1]


def _may(user, handover, revision):
    """The actions this viewer may take on this handover now: the page shows
    these and only these, as the lifecycle table and ``access`` allow them."""
    current = _current_revision(handover)
    actions = access.allowed_actions(user, handover)
    moves = HANDOVER.available(handover, actions)
    is_current = revision.pk == current.pk
    is_current_draft = is_current and not revision.is_frozen and handover.state == HandoverState.DRAFT
    return {
        "edit": is_current_draft and Action.EDIT_REVISION in actions,
        "submit": is_current_draft and "submit" in moves,
        "review": "accept" in moves,
        "revise": "revise" in moves,
        "revalidate": is_current and "revalidate" in moves,
        "comment": Action.COMMENT in actions,
    }


def _term_rows(revision):
    """(label, shown value) of every term but the Markdown ones, which the page renders apart."""
    rows = []
    for name in TERM_FIELDS:
        if name in ("intended_use", "limitations"):
            continue
        display = getattr(revision, f"get_{name}_display", None)
        value = display() if display and getattr(revision, name) else getattr(revision, name)
        rows.append((TERM_LABELS[name], value))
    return rows


def _discussion(handover, revisions):
    """Reviews and comments as one conversation, oldest first, each with its
    Markdown rendered (``entry.html``): a mention of a member of the project
    links to their handovers there; any other mention stays text."""
    entries = sorted(
        [("review", review) for r in revisions for review in r.reviews.all()]
        + [("comment", comment) for comment in handover.comments.all()],
        key=lambda entry: entry[1].created_at,
    )
    texts = [entry.comment if kind == "review" else entry.body for kind, entry in entries]
    names = {name for text in texts for name in mentioned_usernames(text)}
    members = {person.username for person in get_user_model().objects.filter(username__in=names)
               if access.can(person, Action.VIEW, handover)} if names else set()

    def mention_link(username):
        if username not in members:
            return None
        query = urlencode({"project": handover.project.slug, "owner": username})
        return f"{reverse('handovers:list')}?{query}"

    for (_, entry), text in zip(entries, texts, strict=True):
        entry.html = render_markdown(text, mention_link=mention_link)
    return entries


def _is_async(request):
    if getattr(request, "htmx", False):
        return True
    return request.headers.get("x-requested-with") == "XMLHttpRequest"


def _paginate(request, queryset):
    return Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))


# --- lists ---------------------------------------------------------------------


@login_required
@require_GET
def handover_list(request):
    """Every handover in my projects, filtered like the API (project, state, owner, reviewer)."""
    filterset = HandoverFilter(
        request.GET, queryset=selectors.visible_handovers(request.user).order_by("-updated_at", "-id")
    )
    page = _paginate(request, filterset.qs)
    return render(request, "handovers/list.html", {
        "page_obj": page,
        "filterset": filterset,
        "projects": access.visible_projects(request.user).order_by("name"),
        "states": HandoverState.choices,
        "filtered": any(request.GET.get(name) for name in HandoverFilter.base_filters),
    })


@login_required
@require_GET
def my_handovers(request):
    """Handovers I own, newest first."""
    page = _paginate(request, selectors.my_handovers(request.user))
    return render(request, "handovers/mine.html", {"page_obj": page})


@login_required
@require_GET
def review_queue(request):
    """Handovers awaiting review where I am an ML engineer, oldest first."""
    page = _paginate(request, selectors.review_queue(request.user))
    return render(request, "handovers/review_queue.html", {"page_obj": page})


# --- filing and editing -----------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def new_handover(request):
    """File a handover: a model (existing or new), a version and revision 1's terms, saved as a draft."""
    # ?project=<id> (from a project page) preselects the project.
    form = NewHandoverForm(request.POST or None, user=request.user,
                           initial={"project": request.GET.get("project")})
    formset = metric_formset(request.POST or None)
    if request.method == "POST" and _contract_form_is_valid(form, formset):
        data = form.cleaned_data
        try:
            with transaction.atomic():
                model = data["model"] or services.create_model(
                    request.user, data["project"], name=data["new_model_name"]
                )
                handover = services.create_handover(
                    request.user, model, version_label=data["version_label"],
                    terms=form.terms(), metrics=formset.claims(),
                )
        except (ValidationError, DomainError) as error:
            if isinstance(error, NotFound | Forbidden):
                raise
            add_service_error(form, error, formset)
        else:
            messages.success(request, f"Saved {handover} as a draft. Upload the artifacts, then submit.")
            return redirect(handover)
    return render(request, "handovers/new.html", {
        "form": form, "formset": formset, "can_file": form.fields["project"].queryset.exists(),
    })


def _contract_form_is_valid(form, formset):
    """Validate the fields, the metric rows and the contract rules together, so
    a missing version label and accuracy 1.7 are reported in one round."""
    fields_ok = form.is_valid()
    rows_ok = formset.is_valid()
    if not rows_ok or any(name in form.errors for name in TERM_FIELDS):
        return False
    return check_contract(form, formset) and fields_ok


@login_required
@require_http_methods(["GET", "POST"])
def edit_terms(request, pk):
    """Change the terms of the current draft revision."""
    handover = _handover(request.user, pk)
    revision = _current_revision(handover)
    if not _may(request.user, handover, revision)["edit"]:
        access.require(request.user, Action.EDIT_REVISION, handover)  # 403 for a role that may not edit
        messages.error(request, f"Revision {revision.number} is submitted and can no longer be changed.")
        return redirect(handover)
    form = TermsForm(request.POST or None, initial=TermsForm.initial_from(revision),
                     candidate=handover.is_candidate)
    formset = metric_formset(request.POST or None, revision=revision, candidate=handover.is_candidate)
    if request.method == "POST" and form.is_valid() and formset.is_valid() and check_contract(form, formset):
        try:
            services.update_terms(request.user, revision, terms=form.terms(), metrics=formset.claims())
        except (ValidationError, DomainError) as error:
            if isinstance(error, NotFound | Forbidden):
                raise
            add_service_error(form, error, formset)
        else:
            messages.success(request, f"Saved the terms of revision {revision.number}.")
            return redirect(handover)
    return render(request, "handovers/edit.html", {
        "handover": handover, "revision": revision, "form": form, "formset": formset,
    })


@login_required
@require_POST
def upload_artifact(request, pk):
    """Store one file on the current draft revision.

    Answers an htmx/XHR upload with the artifact's table row (or a 4xx with
    the message), and a plain form post with a redirect to the handover."""
    handover = _handover(request.user, pk)
    revision = _current_revision(handover)
    form = ArtifactUploadForm(request.POST, request.FILES)
    error, status = None, 400
    if not form.is_valid():
        # The upload handler drops a file over the limit as it arrives and says why.
        error = upload_error(request, "file")
        if error:
            status = 413
        else:
            error = (
                f"Choose a file to upload (at most {filesizeformat(settings.HANDOFF_MAX_UPLOAD_BYTES)})."
                if "file" in form.errors else "Choose what kind of artifact this file is."
            )
    else:
        data = form.cleaned_data
        try:
            artifact = services.attach_artifact(
                request.user, revision, kind=data["kind"], uploaded_file=data["file"]
            )
        except (ValidationError, DomainError) as exc:
            if isinstance(exc, NotFound | Forbidden):
                raise
            error = " ".join(exc.messages) if isinstance(exc, ValidationError) else exc.message
            status = getattr(exc, "status_code", 400)
    if _is_async(request):
        if error:
            return HttpResponse(error, status=status, content_type="text/plain; charset=utf-8")
        return render(request, "handovers/_artifact_row.html", {"artifact": artifact, "may": {"edit": True}})
    if error:
        messages.error(request, error)
    else:
        messages.success(request, f"Stored {artifact.original_name} (sha256 {artifact.sha256}).")
    return redirect(handover)


@login_required
@require_GET
def download_artifact(request, pk, artifact_pk):
    """Stream an artifact's file to anyone who may see the handover (never opened here)."""
    artifact = selectors.visible_artifacts(request.user).filter(
        pk=artifact_pk, revision__handover_id=pk
    ).first()
    if artifact is None:
        raise NotFound("Not found.")
    return file_response(artifact.file, filename=artifact.original_name, sha256=artifact.sha256)


@login_required
@require_POST
def remove_artifact(request, pk, artifact_pk):
    handover = _handover(request.user, pk)
    revision = _current_revision(handover)
    artifact = selectors.visible_artifacts(request.user).filter(pk=artifact_pk, revision=revision).first()
    if artifact is None:
        raise NotFound("Not found.")
    services.remove_artifact(request.user, artifact)
    messages.success(request, f"Removed {artifact.original_name}.")
    return redirect(handover)


# --- the handover page and its actions --------------------------------------------


@login_required
@require_GET
def handover_detail(request, pk):
    return _detail_page(request, _handover(request.user, pk))


def _detail_page(request, handover, *, review_form=None, comment_form=None, status=200):
    """The handover page; a review or comment form that came back with errors is shown on it.

    It opens with what the viewer needs first: on an older revision, a banner
    pointing at the current one; for the owner after a change request, the
    reviewer's comment and the next step."""
    revision = _selected_revision(handover, request.GET.get("revision"))
    may = _may(request.user, handover, revision)
    revisions = sorted(handover.revisions.all(), key=lambda r: r.number)
    # Only the owner answers a change request; others read it in the discussion.
    change_request = selectors.change_request(handover) if handover.owner_id == request.user.pk else None
    # Held-blind labels are not among them (``selectors.handover_detail``).
    artifacts = list(revision.artifacts.all())
    by_kind = {a.kind: a for a in artifacts if a.kind != ArtifactKind.OTHER}
    # A candidate's labels are its contract's: nothing to upload for them here.
    upload_kinds = [(value, label, by_kind.get(value)) for value, label in ArtifactKind.choices
                    if not (handover.is_candidate and value == ArtifactKind.LABELS)]
    return render(request, "handovers/detail.html", {
        "handover": handover,
        "revision": revision,
        "current": _current_revision(handover),
        "revisions": revisions,
        "terms": _term_rows(revision),
        "claims": list(revision.claimed_metrics.all()),
        "artifacts": artifacts,
        "upload_kinds": upload_kinds,
        "max_upload": settings.HANDOFF_MAX_UPLOAD_BYTES,
        "discussion": _discussion(handover, revisions),
        "following": notices.is_following(request.user, handover),
        "activity": selectors.handover_activity(handover, blind=access.hides_labels(request.user, handover)),
        "change_request": change_request,
        "may": may,
        "comment_form": comment_form or CommentForm(),
        "review_form": review_form or ReviewForm(),
    }, status=status)


@login_required
@require_GET
def handover_state(request, pk):
    """The state partial that the page polls while validation runs; a changed
    state reloads the page so its actions follow. Light: the handover row
    and the validation run's progress, not the whole page's read model."""
    handover = selectors.visible_handovers(request.user).filter(pk=pk).first()
    if handover is None:
        raise NotFound("Not found.")
    response = render(request, "handovers/_state.html", {"handover": handover})
    was = request.GET.get("was")
    if was and was != handover.state:
        response["HX-Refresh"] = "true"
    return response


@login_required
@require_POST
def submit(request, pk):
    handover = _handover(request.user, pk)
    services.submit_revision(request.user, _current_revision(handover))
    handover.refresh_from_db()
    if handover.state == HandoverState.VALIDATING:
        messages.success(request, "Submitted. Validation is running: the results appear here.")
    else:
        messages.success(request, f"Submitted. {handover.get_state_display()}.")
    return redirect(handover)


@login_required
@require_POST
def accept(request, pk):
    handover = _handover(request.user, pk)
    form = ReviewForm(request.POST)
    form.is_valid()
    try:
        review = services.accept_revision(
            request.user, _current_revision(handover), comment=form.cleaned_data.get("comment", "")
        )
    except DomainError as error:
        return _refused_review(request, handover, error)
    messages.success(request, f"Accepted {handover}. The signed contract is recorded below.")
    warn_not_told(request, review.mentions.outsiders)
    return redirect(handover)


def _refused_review(request, handover, error):
    """A review comment the service refused (a mention of no one) is shown on
    its field with what was typed kept; any other refusal goes on as before."""
    if error.field != "comment":
        raise error
    form = ReviewForm(request.POST)
    form.add_error("comment", error.message)
    return _detail_page(request, handover, review_form=form, status=400)


@login_required
@require_POST
def request_changes(request, pk):
    handover = _handover(request.user, pk)
    form = ReviewForm(request.POST)
    comment = form.cleaned_data.get("comment", "").strip() if form.is_valid() else ""
    if not comment:
        access.require(request.user, Action.REVIEW_REVISION, handover)
        # Shown on the comment field itself, with what was typed kept.
        form = ReviewForm(request.POST)
        form.add_error("comment", "Say what needs to change: a comment is required to request changes.")
        return _detail_page(request, handover, review_form=form, status=400)
    try:
        review = services.request_changes(request.user, _current_revision(handover), comment=comment)
    except DomainError as error:
        return _refused_review(request, handover, error)
    messages.success(request, "Changes requested. The owner sees your comment on this page.")
    warn_not_told(request, review.mentions.outsiders)
    return redirect(handover)


@login_required
@require_POST
def revise(request, pk):
    handover = _handover(request.user, pk)
    revision = services.revise_handover(request.user, handover)
    messages.success(request, f"Started revision {revision.number} as a draft, copied from the last one.")
    return redirect(handover)


@login_required
@require_POST
def revalidate(request, pk):
    handover = _handover(request.user, pk)
    revision = services.revalidate(request.user, handover)
    messages.success(request, f"Validation of revision {revision.number} starts again; this page shows its "
                              "progress.")
    return redirect(handover)


@login_required
@require_POST
def add_comment(request, pk):
    handover = _handover(request.user, pk)
    form = CommentForm(request.POST)
    if not form.is_valid():
        access.require(request.user, Action.COMMENT, handover)
        return _detail_page(request, handover, comment_form=form, status=400)
    try:
        comment = services.add_comment(request.user, handover, body=form.cleaned_data["body"])
    except DomainError as error:
        if error.field != "body":
            raise
        # A mention of no one: said on the field, with what was typed kept.
        form.add_error("body", error.message)
        return _detail_page(request, handover, comment_form=form, status=400)
    messages.success(request, "Comment added.")
    warn_not_told(request, comment.mentions.outsiders)
    return redirect(f"{reverse('handovers:detail', args=[handover.pk])}#comments")


@login_required
@require_POST
def follow(request, pk):
    handover = _handover(request.user, pk)
    services.follow(request.user, handover)
    messages.success(request, "You follow this handover: you hear of its comments and decisions.")
    return redirect(f"{reverse('handovers:detail', args=[handover.pk])}#comments")


@login_required
@require_POST
def unfollow(request, pk):
    handover = _handover(request.user, pk)
    services.unfollow(request.user, handover)
    messages.success(request, "You no longer follow this handover; a mention of you still reaches you.")
    return redirect(f"{reverse('handovers:detail', args=[handover.pk])}#comments")


@login_required
@require_GET
def revision_diff(request, pk):
    """What changed between two revisions: terms, claimed metrics and artifact hashes."""
    handover = _handover(request.user, pk)
    revisions = sorted(handover.revisions.all(), key=lambda r: r.number)
    numbers = {str(r.number): r for r in revisions}
    default_old = revisions[-2] if len(revisions) > 1 else revisions[-1]
    old = numbers.get(request.GET.get("from", ""), default_old)
    new = numbers.get(request.GET.get("to", ""), revisions[-1])
    rows = [_diff_row(row) for row in selectors.revision_diff(old, new)]
    return render(request, "handovers/diff.html", {
        "handover": handover, "revisions": revisions, "old": old, "new": new, "rows": rows,
        "changed": sum(1 for row in rows if row["changed"]),
    })


def _diff_row(row):
    label, old, new = row.label, row.old, row.new
    old, new = (None if value == "" else value for value in (old, new))
    return {"label": label, "old": old, "new": new, "changed": old != new}
