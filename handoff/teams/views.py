from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from handoff import access
from handoff.access import Action
from handoff.core.errors import DomainError, Forbidden, NotFound

from . import selectors, services
from .forms import AddMemberForm, ChangeRoleForm
from .models import Role


@login_required
def home(request):
    """My projects with my role on each."""
    return render(request, "home.html", {"memberships": selectors.my_projects(request.user)})


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
