from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from handoff import access
from handoff.access import Action
from handoff.core.errors import DomainError, Forbidden, NotFound
from handoff.notifications import webhooks
from handoff.notifications.services import absolute

from . import selectors, services
from .forms import AddMemberForm, ChangeRoleForm, WebhookForm
from .models import Role


@login_required
def team_detail(request, slug):
    """A team, its leader and the team's projects I may see."""
    team = selectors.get_visible_team(request.user, slug)
    rows = [(p, mine) for p, mine in selectors.my_projects(request.user) if p.team_id == team.pk]
    return render(request, "teams/team_detail.html", {
        "team": team,
        "rows": rows,
        "can_manage": access.can(request.user, Action.MANAGE_MEMBERS, team),
    })


@login_required
def project_detail(request, slug):
    """A project, its members and (for its team's leader) the member forms."""
    project = selectors.get_visible_project(request.user, slug)
    return _project_page(request, project)


def _project_page(request, project, *, add_form=None, status=200):
    my_role = access.role_of(request.user, project)
    return render(request, "teams/project_detail.html", {
        "project": project,
        "members": selectors.project_members(project),
        "my_role": Role(my_role).label if my_role else None,
        "can_manage": access.can(request.user, Action.MANAGE_MEMBERS, project),
        "add_form": add_form or AddMemberForm(),
        "roles": Role.choices,
        "can_file": access.can(request.user, Action.CREATE_HANDOVER, project),
        "can_manage_webhooks": access.can(request.user, Action.MANAGE_WEBHOOKS, project),
        "can_manage_ingestion_tokens": access.can(request.user, Action.MANAGE_INGESTION_TOKENS, project),
    }, status=status)


@login_required
@require_POST
def add_member(request, slug):
    project = selectors.get_visible_project(request.user, slug)
    access.require(request.user, Action.MANAGE_MEMBERS, project)
    form = AddMemberForm(request.POST)
    if form.is_valid():
        try:
            assignment = services.add_member(
                request.user, project,
                username_or_user=form.cleaned_data["username"], role=form.cleaned_data["role"],
            )
        except (NotFound, Forbidden):
            raise
        except DomainError as error:
            form.add_error(error.field if error.field in form.fields else None, error.message)
        else:
            messages.success(
                request,
                f"{assignment.user.display_name} ({assignment.user.username}) is now "
                f"{assignment.get_role_display()} on {project.name}.",
            )
            return redirect(project)
    return _project_page(request, project, add_form=form, status=400)


def _member(request, slug, assignment_id):
    """The project (404 when out of reach) and one of its memberships, for a manager."""
    project = selectors.get_visible_project(request.user, slug)
    access.require(request.user, Action.MANAGE_MEMBERS, project)
    assignments = project.role_assignments.select_related("user", "project")
    assignment = get_object_or_404(assignments, pk=assignment_id)
    return project, assignment


@login_required
@require_POST
def change_member_role(request, slug, assignment_id):
    project, assignment = _member(request, slug, assignment_id)
    form = ChangeRoleForm(request.POST)
    if not form.is_valid():
        messages.error(request, form.errors["role"][0])
        return redirect(project)
    try:
        changed = services.change_role(request.user, assignment, role=form.cleaned_data["role"])
    except (NotFound, Forbidden):
        raise
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request, f"{changed.user.display_name} is now {changed.get_role_display()} on {project.name}."
        )
    return redirect(project)


@login_required
@require_POST
def remove_member(request, slug, assignment_id):
    project, assignment = _member(request, slug, assignment_id)
    try:
        services.remove_member(request.user, assignment)
    except (NotFound, Forbidden):
        raise
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, f"{assignment.user.display_name} was removed from {project.name}.")
    return redirect(project)


# --- webhooks: where the project's events are sent (its ML engineers and team leader) -------------


def _webhooks_project(request, slug):
    """The project (404 when out of reach), for someone who may manage its webhooks (else 403)."""
    project = selectors.get_visible_project(request.user, slug)
    access.require(request.user, Action.MANAGE_WEBHOOKS, project)
    return project


def webhook_test_message(project, actor):
    """The text and fields of a *Send test* message for ``project``'s webhooks."""
    url = absolute(project.get_absolute_url())
    text = (f"Test from Handoff: <{url}|{project.name}> will send its events here "
            f"(sent by {actor.display_name}).")
    return text, {"project": {"slug": project.slug, "name": project.name}, "url": url}


def _webhooks_page(request, project, *, form=None, created=None, status=200):
    return render(request, "teams/webhooks.html", {
        "project": project,
        "webhooks": webhooks.webhooks_of(project),
        "events": webhooks.events(),
        "form": form or WebhookForm(),
        "created": created,
    }, status=status)


@login_required
def project_webhooks(request, slug):
    """The project's webhooks and the form for a new one; its secret is shown once, here, after creating."""
    project = _webhooks_project(request, slug)
    if request.method != "POST":
        return _webhooks_page(request, project)
    form = WebhookForm(request.POST)
    if form.is_valid():
        try:
            webhook = webhooks.create_webhook(project, url=form.cleaned_data["url"],
                                              events=form.cleaned_data["events"], created_by=request.user)
        except DomainError as error:
            form.add_error(error.field if error.field in form.fields else None, error.message)
        else:
            return _webhooks_page(request, project, created=webhook, status=201)
    return _webhooks_page(request, project, form=form, status=400)


def _webhook(request, slug, pk):
    project = _webhooks_project(request, slug)
    return project, webhooks.get_webhook(project, pk)


@login_required
@require_GET
def webhook_detail(request, slug, pk):
    """One webhook and its delivery log (every attempt: time, status code, response excerpt)."""
    project, webhook = _webhook(request, slug, pk)
    page = Paginator(webhooks.deliveries_of(webhook), 25).get_page(request.GET.get("page"))
    return render(request, "teams/webhook_detail.html", {
        "project": project, "webhook": webhook, "page_obj": page, "events": webhooks.events(),
    })


@login_required
@require_POST
def webhook_test(request, slug, pk):
    project, webhook = _webhook(request, slug, pk)
    text, fields = webhook_test_message(project, request.user)
    webhooks.send_test(webhook, actor=request.user, text=text, fields=fields)
    messages.success(request, "A test message is on its way; its delivery shows in the log below.")
    return redirect("teams:webhook", slug=project.slug, pk=webhook.pk)


@login_required
@require_POST
def webhook_active(request, slug, pk):
    """Pause (``active=0``) or resume a webhook."""
    project, webhook = _webhook(request, slug, pk)
    webhook = webhooks.set_active(webhook, request.POST.get("active") == "1")
    messages.success(request, f"The webhook to {webhook.url} is {'active' if webhook.active else 'paused'}.")
    return redirect("teams:webhook", slug=project.slug, pk=webhook.pk)


@login_required
@require_POST
def webhook_delete(request, slug, pk):
    project, webhook = _webhook(request, slug, pk)
    webhooks.delete_webhook(webhook)
    messages.success(request, f"The webhook to {webhook.url} was deleted with its delivery log.")
    return redirect(reverse("teams:webhooks", args=[project.slug]))
