"""Contract pages: thin views over ``selectors`` (what a page shows) and
``services`` (every change).

Every view that takes a contract id looks it up through the viewer's scope
first, so someone who cannot see the project gets a 404 before anything in
the request is looked at. A ``DomainError`` a view does not put on a field
becomes a message on the page the user came from (``handoff.core.middleware``).
"""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.shortcuts import redirect, render
from django.template.defaultfilters import filesizeformat
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from handoff import access
from handoff.access import Action
from handoff.core.errors import Conflict, DomainError, Forbidden, NotFound
from handoff.core.feedback import warn_not_told
from handoff.core.storage import file_response
from handoff.handovers import selectors as handover_selectors
from handoff.handovers import services as handover_services
from handoff.handovers.forms import CommentForm, add_service_error
from handoff.handovers.uploads import upload_error
from handoff.teams.models import Role

from . import chart, selectors, services
from .forms import (
    CandidateForm,
    CloseForm,
    ContractFileForm,
    ContractForm,
    SelectForm,
    requirement_formset,
)
from .lifecycle import CONTRACT, EDITABLE_STATES
from .models import ContractArtifactKind, ContractState

PAGE_SIZE = 25


def _refusal(error):
    """Errors a page shows on its form; NotFound and Forbidden go on to the middleware."""
    if isinstance(error, NotFound | Forbidden):
        raise error


# --- the list ------------------------------------------------------------------------------------


@login_required
@require_GET
def contract_list(request):
    """Contracts of my projects, newest first, filtered by project and state."""
    contracts = selectors.visible_contracts(request.user)
    project, state = request.GET.get("project", ""), request.GET.get("state", "")
    if project:
        contracts = contracts.filter(project__slug=project)
    if state:
        contracts = contracts.filter(state=state)
    page = Paginator(contracts, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "contracts/list.html", {
        "page_obj": page,
        "projects": access.visible_projects(request.user).order_by("name"),
        "states": ContractState.choices,
        "filtered": bool(project or state),
        "may_draft": access.projects_allowing(request.user, Action.DRAFT_CONTRACT).exists(),
    })


# --- drafting and editing ------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def new_contract(request):
    """Draft a contract: title, project, terms and metric requirements."""
    form = ContractForm(request.POST or None, user=request.user,
                        initial={"project": request.GET.get("project")})
    formset = requirement_formset(request.POST or None)
    if request.method == "POST" and _is_valid(form, formset):
        data = form.cleaned_data
        try:
            contract = services.create_contract(
                request.user, data["project"], title=data["title"], terms=form.terms(),
                requirements=formset.claims(), labels_blind=data["labels_blind"],
            )
        except (ValidationError, DomainError) as error:
            _refusal(error)
            add_service_error(form, error, formset)
        else:
            messages.success(request, f"Drafted {contract}. Attach the validation labels, then propose it.")
            return redirect(contract)
    status = 400 if request.method == "POST" else 200
    return render(request, "contracts/form.html", {
        "form": form, "formset": formset, "contract": None,
        "can_draft": form.fields["project"].queryset.exists(),
    }, status=status)


def _is_valid(form, formset):
    fields_ok = form.is_valid()
    return formset.is_valid() and fields_ok


def _refuse_frozen(request, contract):
    """A contract that is no longer draft or proposed: say why, change nothing."""
    messages.error(
        request,
        f"{contract} is {contract.get_state_display().lower()} and cannot change"
        + ("; start a new version to change its terms." if contract.state == ContractState.AGREED else "."),
    )
    return redirect(contract)


@login_required
@require_http_methods(["GET", "POST"])
def edit_contract(request, pk):
    """Change a draft or proposed contract; any change clears its signatures."""
    contract = selectors.contract_detail(request.user, pk)
    access.require(request.user, Action.DRAFT_CONTRACT, contract)
    if contract.state not in EDITABLE_STATES:
        return _refuse_frozen(request, contract)
    form = ContractForm(request.POST or None, user=request.user, contract=contract,
                        initial=ContractForm.initial_from(contract))
    formset = requirement_formset(request.POST or None, contract=contract)
    if request.method == "POST" and _is_valid(form, formset):
        data = form.cleaned_data
        signed = list(contract.signatures.all())
        try:
            contract = services.update_contract(
                request.user, contract, title=data["title"], terms=form.terms(),
                requirements=formset.claims(), labels_blind=data["labels_blind"],
            )
        except (ValidationError, DomainError) as error:
            _refusal(error)
            if isinstance(error, Conflict) and not error.field:
                return _refuse_frozen(request, selectors.contract_for(request.user, contract.pk))
            add_service_error(form, error, formset)
        else:
            cleared = signed and not contract.signatures.exists()
            cleared_note = " The signatures gathered so far were cleared: both sides sign the new terms."
            messages.success(request, f"Saved {contract}." + (cleared_note if cleared else ""))
            return redirect(contract)
    status = 400 if request.method == "POST" else 200
    return render(request, "contracts/form.html", {
        "form": form, "formset": formset, "contract": contract, "can_draft": True,
    }, status=status)


@login_required
@require_POST
def upload_file(request, pk):
    """Store the labels or inputs file of a draft or proposed contract."""
    contract = selectors.contract_detail(request.user, pk)
    access.require(request.user, Action.DRAFT_CONTRACT, contract)
    if contract.state not in EDITABLE_STATES:
        return _refuse_frozen(request, contract)
    form = ContractFileForm(request.POST, request.FILES)
    if not form.is_valid():
        error = upload_error(request, "file")
        status = 413 if error else 400
        error = error or (
            f"Choose a file to upload (at most {filesizeformat(settings.HANDOFF_MAX_UPLOAD_BYTES)})."
            if "file" in form.errors else "Choose what kind of file this is: the labels or the inputs."
        )
        return _detail_page(request, contract, upload_error_message=error, status=status)
    try:
        artifact = services.attach_contract_artifact(
            request.user, contract, kind=form.cleaned_data["kind"], uploaded_file=form.cleaned_data["file"]
        )
    except DomainError as error:
        _refusal(error)
        return _detail_page(request, contract, upload_error_message=error.message,
                            status=error.status_code)
    messages.success(request, f"Stored {artifact.original_name} (sha256 {artifact.sha256}).")
    return redirect(contract)


@login_required
@require_POST
def remove_file(request, pk, artifact_pk):
    contract = selectors.contract_detail(request.user, pk)
    artifact = next((a for a in selectors.listed_artifacts(request.user, contract) if a.pk == artifact_pk),
                    None)
    if artifact is None:
        raise NotFound("Not found.")
    services.remove_contract_artifact(request.user, artifact)
    messages.success(request, f"Removed {artifact.original_name}.")
    return redirect(contract)


@login_required
@require_GET
def download_file(request, pk, artifact_pk):
    """Stream a contract file to anyone who may see it (a blind contract's
    labels: never to those held blind; the answer is the same 404)."""
    artifact = selectors.downloadable_artifact(request.user, pk, artifact_pk)
    return file_response(artifact.file, filename=artifact.original_name, sha256=artifact.sha256)


# --- the contract page and its actions -----------------------------------------------------------


@login_required
@require_GET
def contract_detail(request, pk):
    return _detail_page(request, selectors.contract_detail(request.user, pk))


def _may(user, contract):
    """What this viewer may do to the contract now, as the lifecycle table and access allow."""
    actions = access.allowed_actions(user, contract)
    moves = CONTRACT.available(contract, actions)
    signed = any(s.signer_id == user.pk for s in contract.signatures.all())
    editable = contract.state in EDITABLE_STATES and Action.DRAFT_CONTRACT in actions
    return {
        "edit": editable,
        "propose": "propose" in moves,
        "sign": "sign" in moves and not signed,
        "signed": signed,
        "new_version": "new_version" in moves,
        "close": "close" in moves,
        "comment": Action.COMMENT in actions,
        "file_candidate": contract.state == ContractState.AGREED and Action.CREATE_HANDOVER in actions,
    }


def _detail_page(request, contract, *, comment_form=None, upload_error_message="", status=200):
    user = request.user
    may = _may(user, contract)
    artifacts = selectors.listed_artifacts(user, contract)
    by_kind = {a.kind: a for a in artifacts}
    labels_hidden = access.hides_labels(user, contract)
    versions = selectors.versions(contract)
    previous = next((v for v in reversed(versions) if v.version < contract.version), None)
    problems = (services.proposal_problems(contract)
                if contract.state in EDITABLE_STATES and (may["propose"] or may["sign"]) else [])
    return render(request, "contracts/detail.html", {
        "contract": contract,
        "may": may,
        "terms": selectors.term_rows(contract),
        "requirements": list(contract.requirements.all()),
        "artifacts": artifacts,
        "labels_hidden": labels_hidden,
        "upload_kinds": [(value, label, by_kind.get(value)) for value, label in ContractArtifactKind.choices
                         if not (labels_hidden and value == ContractArtifactKind.LABELS)],
        "upload_error": upload_error_message,
        "max_upload": settings.HANDOFF_MAX_UPLOAD_BYTES,
        "signatures": _signatures(contract),
        "discussion": selectors.discussion(contract),
        "candidates": [c.handover for c in contract.candidates.all()],
        "versions": versions,
        "previous": previous,
        "problems": problems,
        "comment_form": comment_form or CommentForm(),
        "close_form": CloseForm(),
    }, status=status)


def _signatures(contract):
    roles = dict(Role.choices)
    signatures = list(contract.signatures.all())
    for signature in signatures:
        signature.role_label = roles.get(signature.role, signature.role)
    return signatures


@login_required
@require_POST
def propose(request, pk):
    contract = selectors.contract_for(request.user, pk)
    services.propose(request.user, contract)
    messages.success(request, f"Proposed {contract}. A data scientist and an ML engineer of the project "
                              "now read and sign it.")
    return redirect(contract)


@login_required
@require_POST
def sign(request, pk):
    contract = selectors.contract_for(request.user, pk)
    services.sign(request.user, contract)
    contract.refresh_from_db()
    if contract.state == ContractState.AGREED:
        messages.success(request, f"Signed. {contract} is agreed: candidates may now be filed against it.")
    else:
        messages.success(request, f"Signed {contract}. It is agreed once the other side signs too.")
    return redirect(contract)


@login_required
@require_POST
def new_version(request, pk):
    contract = selectors.contract_for(request.user, pk)
    successor = services.new_version(request.user, contract)
    messages.success(request, f"Started {successor} as a draft copy. Version {contract.version} stays in "
                              "force until this one is agreed.")
    return redirect(successor)


@login_required
@require_POST
def close(request, pk):
    contract = selectors.contract_for(request.user, pk)
    form = CloseForm(request.POST)
    reason = form.cleaned_data.get("reason", "") if form.is_valid() else ""
    services.close(request.user, contract, reason=reason)
    messages.success(request, f"Closed {contract}: no candidate is filed against it any more.")
    return redirect(contract)


@login_required
@require_POST
def add_comment(request, pk):
    contract = selectors.contract_detail(request.user, pk)
    form = CommentForm(request.POST)
    if not form.is_valid():
        access.require(request.user, Action.COMMENT, contract)
        return _detail_page(request, contract, comment_form=form, status=400)
    try:
        comment = services.add_comment(request.user, contract, body=form.cleaned_data["body"])
    except DomainError as error:
        if error.field != "body":
            raise
        form.add_error("body", error.message)
        return _detail_page(request, contract, comment_form=form, status=400)
    messages.success(request, "Comment added.")
    warn_not_told(request, comment.mentions.outsiders)
    return redirect(f"{reverse('contracts:detail', args=[contract.pk])}#comments")


@login_required
@require_GET
def contract_diff(request, pk):
    """What changed between this version and another (by default the previous one)."""
    contract = selectors.contract_detail(request.user, pk)
    versions = selectors.versions(contract)
    others = {str(v.pk): v for v in versions}
    previous = next((v for v in reversed(versions) if v.version < contract.version), None)
    against = others.get(request.GET.get("against", ""), previous)
    if against is not None and against.pk == contract.pk:
        against = previous
    old, new = (against, contract) if against is None or against.version < contract.version else (
        contract, against)
    rows = selectors.diff(old, new, request.user) if old is not None else []
    return render(request, "contracts/diff.html", {
        "contract": contract, "versions": versions, "old": old, "new": new, "rows": rows, "against": against,
        "changed": sum(1 for row in rows if row["changed"]),
    })


# --- candidates, the comparison and selection ----------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def new_candidate(request, pk):
    """File a candidate against an agreed contract; its page then takes the model and predictions."""
    contract = selectors.contract_detail(request.user, pk)
    access.require(request.user, Action.CREATE_HANDOVER, contract)
    if contract.state != ContractState.AGREED:
        messages.error(request, f"Candidates are filed against an agreed contract; {contract} is "
                                f"{contract.get_state_display().lower()}.")
        return redirect(contract)
    form = CandidateForm(request.POST or None, contract=contract)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            handover = _file_candidate(request.user, contract, form, data)
        except (ValidationError, DomainError) as error:
            _refusal(error)
            field = getattr(error, "field", None)
            if isinstance(error, DomainError) and field in ("claims",):
                form.add_error(None, error.message)
            else:
                add_service_error(form, error)
        else:
            messages.success(request, f"Filed {handover} as a candidate of {contract}. Upload the model and "
                                      "its predictions, then submit it.")
            return redirect(handover)
    status = 400 if request.method == "POST" else 200
    return render(request, "contracts/candidate_new.html", {"contract": contract, "form": form},
                  status=status)


def _file_candidate(user, contract, form, data):
    """The model (registered here when named) and the candidate, in one transaction."""
    with transaction.atomic():
        model = data["model"] or handover_services.create_model(user, contract.project,
                                                                name=data["new_model_name"])
        return services.file_candidate(
            user, contract, model=model, version_label=data["version_label"], framework=data["framework"],
            framework_version=data["framework_version"], parameter_count=data["parameter_count"],
            claims=form.claims(),
        )


@login_required
@require_GET
def comparison(request, pk):
    """Every candidate side by side against the requirements, with the trade-off chart."""
    contract = selectors.contract_for(request.user, pk)
    table = selectors.comparison(contract, request.user, sort=request.GET.get("sort") or None)
    x_axis = request.GET.get("x") if request.GET.get("x") in chart.X_AXES else "latency"
    metric_rows = [row for row in table["rows"] if row["key"].startswith("metric.")]
    y_metric = request.GET.get("y", "")
    if f"metric.{y_metric}" not in {row["key"] for row in metric_rows}:
        y_metric = metric_rows[0]["key"].removeprefix("metric.") if metric_rows else ""
    may_select = (access.can(request.user, Action.SELECT_CANDIDATE, contract)
                  and contract.state in (ContractState.AGREED, ContractState.SUPERSEDED)
                  and not any(column["selected"] for column in table["columns"]))
    return render(request, "contracts/comparison.html", {
        "contract": contract,
        "table": table,
        "chart": chart.draw(table, x=x_axis, y=y_metric),
        "x_axis": x_axis,
        "x_axes": [(key, label) for key, (_, label) in chart.X_AXES.items()],
        "y_metric": y_metric,
        "metric_rows": metric_rows,
        "sortable": [row for row in table["rows"] if row["better"]],
        "may_select": may_select,
        "select_form": SelectForm(auto_id="select-%s"),
    })


@login_required
@require_POST
def select(request, pk):
    """Select a candidate: it is accepted and signed; the other open candidates are not selected."""
    handover = handover_selectors.visible_handovers(request.user).filter(pk=pk).first()
    if handover is None:
        raise NotFound("Not found.")
    form = SelectForm(request.POST)
    comment = form.cleaned_data.get("comment", "") if form.is_valid() else ""
    candidate = services.candidate_of(handover)
    back = (reverse("contracts:comparison", args=[candidate.contract_id]) if candidate
            else handover.get_absolute_url())
    try:
        review = services.select(request.user, handover, comment=comment)
    except Conflict as error:
        messages.error(request, error.message)
        return redirect(back)
    messages.success(request, f"Selected {handover}: it is accepted and signed; the other candidates are "
                              "marked not selected and their owners told why.")
    mentions = getattr(review, "mentions", None)
    if mentions is not None:
        warn_not_told(request, mentions.outsiders)
    return redirect(back)
