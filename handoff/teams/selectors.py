"""Read queries about teams, projects and members."""

from django.db.models import Prefetch

from handoff import access
from handoff.core.errors import NotFound

from .models import RoleAssignment


def my_projects(user):
    """Rows of (project, my role or None) for every project I may see."""
    projects = (
        access.visible_projects(user)
        .select_related("team", "team__leader")
        .prefetch_related(
            Prefetch(
                "role_assignments",
                queryset=RoleAssignment.objects.filter(user=user),
                to_attr="my_roles",
            )
        )
        .order_by("team__name", "name")
    )
    return [(p, p.my_roles[0] if p.my_roles else None) for p in projects]


def project_members(project):
    return project.role_assignments.select_related("user").order_by("role", "user__username")


def projects_of_team(user, team):
    return access.visible_projects(user).filter(team=team).order_by("name")


def get_visible_project(user, slug):
    project = access.visible_projects(user).select_related("team", "team__leader").filter(slug=slug).first()
    if project is None:
        raise NotFound("Not found.")
    return project


def get_visible_team(user, slug):
    team = access.visible_teams(user).select_related("leader").filter(slug=slug).first()
    if team is None:
        raise NotFound("Not found.")
    return team

