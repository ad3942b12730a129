"""Read-only teams and projects, always scoped to what the caller may see:
anything else is a 404, and never appears in a list."""

from django.db.models import Prefetch
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import viewsets

from handoff import access
from handoff.teams.filters import ProjectFilter, TeamFilter
from handoff.teams.models import Project, RoleAssignment

from .serializers import ProjectSerializer, TeamSerializer


@extend_schema_view(
    list=extend_schema(summary="Teams you lead or hold a role in", tags=["teams"]),
    retrieve=extend_schema(summary="One team, with the projects you may see", tags=["teams"]),
)
class TeamViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = TeamSerializer
    lookup_field = "slug"
    filterset_class = TeamFilter
    ordering_fields = ["name", "slug", "created_at"]
    ordering = ["name"]

    def get_queryset(self):
        user = self.request.user
        projects = Project.objects.filter(pk__in=access.visible_projects(user).values("pk")).order_by("name")
        return (
            access.visible_teams(user)
            .select_related("leader")
            .prefetch_related(Prefetch("projects", queryset=projects, to_attr="visible_projects"))
        )


@extend_schema_view(
    list=extend_schema(summary="Projects you may see, with their members and your role", tags=["projects"]),
    retrieve=extend_schema(summary="One project, with its members and your role", tags=["projects"]),
)
class ProjectViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = ProjectSerializer
    lookup_field = "slug"
    filterset_class = ProjectFilter
    ordering_fields = ["name", "slug", "stage", "created_at", "team__name"]
    ordering = ["team__name", "name"]

    def get_queryset(self):
        members = RoleAssignment.objects.select_related("user").order_by("role", "user__username")
        return (
            access.visible_projects(self.request.user)
            .select_related("team")
            .prefetch_related(Prefetch("role_assignments", queryset=members))
        )
