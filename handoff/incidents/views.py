"""Incident pages: the triage queue, the incident page, opening one by hand.

Thin, like the handover pages: every view that takes an incident id finds it
in the viewer's scope first (a 404 for anyone outside its project before the
request is read), parses a form, calls one service, and redirects back. A
``DomainError`` that escapes a view becomes a message on the page the user
came from (``handoff.core.middleware``); a refused form field is shown on the
field. Which buttons a person sees comes from ``lifecycle.INCIDENT`` and
``handoff.access``, never from a table of its own here.
"""

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from handoff import access
from handoff.access import Action
from handoff.core.errors import DomainError, NotFound
from handoff.core.feedback import warn_not_told
from handoff.handovers.markdown import render_markdown

from . import chart, selectors, services
from .breaches import limits_of
from .filters import ACTIVE, STATUS_CHOICES, IncidentFilter
from .forms import (
    ActionItemForm,
    CommentForm,
    FixForm,
    NewIncidentForm,
    PostmortemForm,
    ResolveForm,
    add_service_error,
)
from .lifecycle import INCIDENT
from .models import ACTIVE_STATUSES, EventKind, IncidentStatus, Severity

PAGE_SIZE = 25
# What a button that takes a transition says.
MOVE_LABELS = {
    "acknowledge": "Acknowledge", "investigate": "Start investigating", "mitigate": "Mark mitigated",
    "resolve": "Resolve…", "close": "Close", "reopen": "Reopen",
}
# Transitions one click takes; resolve asks for a root cause and a summary on the incident page.
ONE_CLICK = ("acknowledge", "investigate", "mitigate", "close", "reopen")


# --- what the viewer may do -------------------------------------------------------------------


def offers(user, incident):
    """The controls ``user`` is offered on ``incident`` now: the lifecycle's
    available transitions for their actions, and the triage controls."""
    actions = access.allowed_actions(user, incident)
    moves = INCIDENT.available(incident, actions)
    triage = Action.TRIAGE_INCIDENT in actions
    active = incident.status in ACTIVE_STATUSES
    return {
        "moves": [(name, MOVE_LABELS[name]) for name in moves if name in ONE_CLICK],
        "resolve": "resolve" in moves,
        "triage": triage and active,
        "assign_me": triage and active and incident.assignee_id != user.pk,
        "escalate": triage and active,
        "comment": Action.COMMENT in actions,
        "postmortem": Action.EDIT_POSTMORTEM in actions,
        "file_fix": Action.CREATE_HANDOVER in actions and incident.handover_id is not None
        and incident.status != IncidentStatus.CLOSED,
    }


def _back(request, incident=None):
    """Where a button sends its presser back to: the ``next`` it carries when
    it is on this site (the queue with its filters), else the incident page."""
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                                  require_https=request.is_secure()):
        return redirect(target)
    return redirect(incident if incident is not None else "incidents:triage")


# --- the triage queue -------------------------------------------------------------------------


@login_required
@require_GET
def triage(request):
    """Incidents of my projects, being worked by default, most severe and
    oldest first; htmx asks for the list alone (polling, and after a button)."""
    filterset = IncidentFilter(request.GET, queryset=selectors.triage_queue(request.user),
                               request=request, default_status=ACTIVE)
    page = Paginator(filterset.qs, PAGE_SIZE).get_page(request.GET.get("page"))
    access.remember_roles(request.user, {incident.project for incident in page.object_list})
    rows = [(incident, offers(request.user, incident)) for incident in page.object_list]
    context = {
        "page_obj": page, "rows": rows, "filterset": filterset,
        "projects": access.visible_projects(request.user).order_by("name"),
        "severities": Severity.choices, "statuses": STATUS_CHOICES,
        "status_asked": request.GET.getlist("status") if "status" in request.GET else [ACTIVE],
        "filtered": any(request.GET.get(name) for name in ("project", "severity", "assignee"))
        or "status" in request.GET,
        "may_report": access.projects_allowing(request.user, Action.REPORT_INCIDENT).exists(),
    }
    if getattr(request, "htmx", False) and not request.htmx.boosted:
        return render(request, "incidents/_queue.html", context)
    return render(request, "incidents/triage.html", context)


# --- opening by hand --------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def new_incident(request):
    """Open an incident by hand (anyone on the project); ``?project=`` (a slug)
    and ``?handover=`` (an id) preselect them."""
    initial = {"severity": Severity.SEV3}
    if request.method == "GET":
        slug = request.GET.get("project")
        project = access.projects_allowing(request.user, Action.REPORT_INCIDENT).filter(slug=slug).first()
        if project is not None:
            initial["project"] = project.pk
        handover = request.GET.get("handover", "")
        if handover.isascii() and handover.isdigit():
            initial["handover"] = int(handover)
    form = NewIncidentForm(request.POST or None, user=request.user, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            incident = services.open_incident(
                request.user, data["project"], title=data["title"], severity=data["severity"],
                description=data["description"], handover=data["handover"])
        except DomainError as error:
            if isinstance(error, NotFound) or error.status_code == 403:
                raise
            add_service_error(form, error)
        else:
            messages.success(request,
                             f"Opened incident #{incident.pk}. The project's engineers triage it here.")
            return redirect(incident)
    status = 400 if request.method == "POST" else 200
    return render(request, "incidents/new.html", {
        "form": form, "can_report": form.fields["project"].queryset.exists()}, status=status)


# --- the incident page ------------------------------------------------------------------------


def _promise(incident):
    """The contract's promise beside what production showed, for a breach."""
    if not incident.metric:
        return None
    limits = limits_of(incident.revision) if incident.revision_id else {}
    limit = limits.get(incident.metric)
    windows = selectors.metric_windows(incident)
    latest = windows[-1].value if windows else incident.observed_value
    return {
        "metric": incident.metric, "kind": incident.limit_kind,
        "limit": incident.limit_value if incident.limit_value is not None else getattr(limit, "value", None),
        "claimed": getattr(limit, "promised", None), "first": incident.observed_value, "latest": latest,
        "windows": windows, "chart": chart.draw(windows, limit),
    }


def _timeline(incident):
    events = list(selectors.timeline_of(incident))
    for event in events:
        event.html = render_markdown(event.body) if event.kind == EventKind.COMMENT else None
    return events


def _times(incident):
    rows = [("Opened", incident.opened_at)]
    for label, field in (("Acknowledged", "acknowledged_at"), ("Investigating since", "investigating_at"),
                         ("Mitigated", "mitigated_at"), ("Resolved", "resolved_at"), ("Closed", "closed_at"),
                         ("Reopened", "reopened_at"), ("Escalated", "escalated_at")):
        if getattr(incident, field):
            rows.append((label, getattr(incident, field)))
    return rows


def _detail_page(request, incident, *, status=200, **forms):
    may = offers(request.user, incident)
    return render(request, "incidents/detail.html", {
        "incident": incident,
        "may": may,
        "times": _times(incident),
        "to_acknowledge": incident.acknowledged_at - incident.opened_at if incident.acknowledged_at else None,
        "to_resolve": incident.resolved_at - incident.opened_at if incident.resolved_at else None,
        "promise": _promise(incident),
        "timeline": _timeline(incident),
        "action_items": list(selectors.action_items_of(incident)),
        "engineers": list(selectors.engineers_of(incident.project)) if may["triage"] else [],
        "severities": Severity.choices,
        "fix": incident.fix_handover,
        "resolve_form": forms.get("resolve_form") or ResolveForm(),
        "comment_form": forms.get("comment_form") or CommentForm(),
        "postmortem_form": forms.get("postmortem_form") or PostmortemForm(
            initial={"postmortem": incident.postmortem}),
        "action_item_form": forms.get("action_item_form") or ActionItemForm(),
        "fix_form": forms.get("fix_form") or FixForm(),
    }, status=status)


@login_required
@require_GET
def incident_detail(request, pk):
    return _detail_page(request, selectors.incident_for(request.user, pk))


# --- buttons ----------------------------------------------------------------------------------


@login_required
@require_POST
def move(request, pk, transition):
    """One-click transitions (acknowledge, investigate, mitigate, close, reopen)
    and resolve, whose form needs a root cause and a summary."""
    incident = selectors.incident_for(request.user, pk)
    if transition == "resolve":
        form = ResolveForm(request.POST)
        if not form.is_valid():
            access.require(request.user, INCIDENT["resolve"].action, incident)
            return _detail_page(request, incident, resolve_form=form, status=400)
        try:
            services.resolve(request.user, incident, root_cause=form.cleaned_data["root_cause"],
                             summary=form.cleaned_data["summary"])
        except DomainError as error:
            if error.field not in form.fields and error.field != "resolution_summary":
                raise
            form.add_error("summary" if error.field == "resolution_summary" else error.field, error.message)
            return _detail_page(request, incident, resolve_form=form, status=400)
        messages.success(request, f"Resolved #{incident.pk}. Write the postmortem below while it is fresh.")
        return redirect(incident)
    incident = services.TRANSITION_SERVICES[transition](request.user, incident)
    messages.success(request, f"#{incident.pk} is {incident.get_status_display().lower()}.")
    return _back(request, incident)


@login_required
@require_POST
def assign(request, pk):
    """Assign to the username posted ("" unassigns); the queue's "Assign to me" posts the viewer's."""
    incident = selectors.incident_for(request.user, pk)
    username = request.POST.get("assignee", "").strip()
    assignee = None
    if username:
        assignee = get_user_model().objects.filter(username=username).first()
        if assignee is None:
            access.require(request.user, Action.TRIAGE_INCIDENT, incident)
            raise DomainError("Assign it to an ML engineer of this project.", field="assignee")
    incident = services.assign(request.user, incident, assignee)
    if assignee is None:
        messages.success(request, f"#{incident.pk} is unassigned.")
    else:
        who = "you" if assignee.pk == request.user.pk else assignee.display_name
        messages.success(request, f"#{incident.pk} is assigned to {who}.")
    return _back(request, incident)


@login_required
@require_POST
def severity(request, pk):
    incident = selectors.incident_for(request.user, pk)
    incident = services.change_severity(request.user, incident, request.POST.get("severity", ""))
    messages.success(request, f"#{incident.pk} is {incident.get_severity_display()} now.")
    return _back(request, incident)


@login_required
@require_POST
def escalate(request, pk):
    incident = selectors.incident_for(request.user, pk)
    services.escalate(request.user, incident, reason=request.POST.get("reason", ""))
    messages.success(request, f"The team leader was told about #{incident.pk}.")
    return _back(request, incident)


@login_required
@require_POST
def comment(request, pk):
    incident = selectors.incident_for(request.user, pk)
    form = CommentForm(request.POST)
    if not form.is_valid():
        access.require(request.user, Action.COMMENT, incident)
        return _detail_page(request, incident, comment_form=form, status=400)
    try:
        event = services.add_comment(request.user, incident, body=form.cleaned_data["body"])
    except DomainError as error:
        if error.field != "body":
            raise
        form.add_error("body", error.message)  # a mention of no one: said on the field, text kept
        return _detail_page(request, incident, comment_form=form, status=400)
    messages.success(request, "Comment added.")
    warn_not_told(request, event.not_told)
    return redirect(f"{incident.get_absolute_url()}#timeline")


@login_required
@require_POST
def postmortem(request, pk):
    incident = selectors.incident_for(request.user, pk)
    form = PostmortemForm(request.POST)
    form.is_valid()
    try:
        services.update_postmortem(request.user, incident, postmortem=form.cleaned_data.get("postmortem", ""))
    except DomainError as error:
        if error.field != "postmortem":
            raise
        form.add_error("postmortem", error.message)
        return _detail_page(request, incident, postmortem_form=form, status=400)
    messages.success(request, "Saved the postmortem.")
    return redirect(f"{incident.get_absolute_url()}#postmortem")


@login_required
@require_POST
def add_action_item(request, pk):
    incident = selectors.incident_for(request.user, pk)
    form = ActionItemForm(request.POST)
    if not form.is_valid():
        access.require(request.user, Action.EDIT_POSTMORTEM, incident)
        return _detail_page(request, incident, action_item_form=form, status=400)
    services.add_action_item(request.user, incident, text=form.cleaned_data["text"])
    messages.success(request, "Added the action item.")
    return redirect(f"{incident.get_absolute_url()}#postmortem")


@login_required
@require_POST
def action_item_done(request, pk, item_pk):
    incident = selectors.incident_for(request.user, pk)
    item = incident.action_items.filter(pk=item_pk).first()
    if item is None:
        raise NotFound("Not found.")
    item.incident = incident
    done = request.POST.get("done", "1") not in ("0", "false", "")
    services.set_action_item_done(request.user, item, done=done)
    messages.success(request, f"Marked “{item.text}” {'done' if done else 'not done'}.")
    return redirect(f"{incident.get_absolute_url()}#postmortem")


@login_required
@require_POST
def file_fix(request, pk):
    """The owning data scientist files the next version of the model as the
    incident's fix, and lands on its terms to fill in."""
    incident = selectors.incident_for(request.user, pk)
    form = FixForm(request.POST)
    if not form.is_valid():
        access.require(request.user, Action.CREATE_HANDOVER, incident)
        return _detail_page(request, incident, fix_form=form, status=400)
    try:
        handover = services.file_fix(request.user, incident, version_label=form.cleaned_data["version_label"])
    except DomainError as error:
        if error.field != "version_label":
            raise
        form.add_error("version_label", error.message)
        return _detail_page(request, incident, fix_form=form, status=400)
    messages.success(request, f"Filed {handover} as the fix of #{incident.pk}: state its terms, upload the "
                              "artifacts, then submit.")
    return redirect(reverse("handovers:edit", args=[handover.pk]))
