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


# --- webhooks -------------------------------------------------------------------------------------

from drf_spectacular.utils import OpenApiParameter  # noqa: E402
from rest_framework import status  # noqa: E402
from rest_framework.decorators import action  # noqa: E402
from rest_framework.response import Response  # noqa: E402

from handoff.access import Action  # noqa: E402
from handoff.notifications import webhooks  # noqa: E402
from handoff.notifications.models import Webhook  # noqa: E402
from handoff.teams import selectors  # noqa: E402
from handoff.teams.views import webhook_test_message  # noqa: E402

from .serializers import (  # noqa: E402
    WebhookCreatedSerializer,
    WebhookDeliverySerializer,
    WebhookInputSerializer,
    WebhookSerializer,
    WebhookUpdateSerializer,
)

_SLUG = OpenApiParameter("slug", str, OpenApiParameter.PATH, description="The project's slug.")
_TAGS = ["webhooks"]


@extend_schema_view(
    list=extend_schema(summary="The project's webhooks", parameters=[_SLUG], tags=_TAGS),
    create=extend_schema(summary="Create a webhook; the answer holds its secret, shown this once",
                         parameters=[_SLUG], tags=_TAGS, request=WebhookInputSerializer,
                         responses={201: WebhookCreatedSerializer}),
    retrieve=extend_schema(summary="One webhook of the project", parameters=[_SLUG], tags=_TAGS),
    partial_update=extend_schema(summary="Pause or resume a webhook", parameters=[_SLUG], tags=_TAGS,
                                 request=WebhookUpdateSerializer, responses={200: WebhookSerializer}),
    destroy=extend_schema(summary="Delete a webhook and its delivery log", parameters=[_SLUG], tags=_TAGS),
    deliveries=extend_schema(summary="The webhook's delivery log, newest first", parameters=[_SLUG],
                             tags=_TAGS, responses={200: WebhookDeliverySerializer(many=True)}),
    send_test=extend_schema(summary="Send a test message to the webhook", parameters=[_SLUG], tags=_TAGS,
                            request=None, responses={202: WebhookDeliverySerializer}),
)
class WebhookViewSet(viewsets.GenericViewSet):
    """A project's webhooks, for its ML engineers and its team's leader (403 for
    other members; 404 for anyone who cannot see the project)."""

    serializer_class = WebhookSerializer
    role_needed_to_read = True  # the schema lists 403 for reads too
    queryset = Webhook.objects.none()  # for the schema: the real one is the project's (get_queryset)
    lookup_value_regex = "[0-9]+"
    ordering_fields = ["created_at"]
    ordering = ["-created_at"]

    def project(self):
        if not hasattr(self, "_project"):
            project = selectors.get_visible_project(self.request.user, self.kwargs["slug"])
            access.require(self.request.user, Action.MANAGE_WEBHOOKS, project)
            self._project = project
        return self._project

    def get_queryset(self):
        return webhooks.webhooks_of(self.project())

    def get_object(self):
        return webhooks.get_webhook(self.project(), self.kwargs["pk"])

    def list(self, request, slug):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(WebhookSerializer(page, many=True).data)

    def create(self, request, slug):
        project = self.project()
        data = WebhookInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        webhook = webhooks.create_webhook(project, url=data.validated_data["url"],
                                          events=data.validated_data["events"], created_by=request.user)
        return Response(WebhookCreatedSerializer(webhook).data, status=status.HTTP_201_CREATED)

    def retrieve(self, request, slug, pk):
        return Response(WebhookSerializer(self.get_object()).data)

    def partial_update(self, request, slug, pk):
        webhook = self.get_object()
        data = WebhookUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        if "active" in data.validated_data:
            webhook = webhooks.set_active(webhook, data.validated_data["active"])
        return Response(WebhookSerializer(webhook).data)

    def destroy(self, request, slug, pk):
        webhooks.delete_webhook(self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @action(detail=True, methods=["get"], ordering_fields=["created_at"])
    def deliveries(self, request, slug, pk):
        page = self.paginate_queryset(webhooks.deliveries_of(self.get_object()))
        return self.get_paginated_response(WebhookDeliverySerializer(page, many=True).data)

    @action(detail=True, methods=["post"], url_path="test", url_name="test")
    def send_test(self, request, slug, pk):
        webhook = self.get_object()
        text, fields = webhook_test_message(self.project(), request.user)
        delivery = webhooks.send_test(webhook, actor=request.user, text=text, fields=fields)
        return Response(WebhookDeliverySerializer(delivery).data, status=status.HTTP_202_ACCEPTED)
