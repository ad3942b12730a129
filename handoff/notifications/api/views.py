"""Notifications API: the current user's notifications and preferences only;
anyone else's notification is a 404. Thin: the rules are in ``services``."""

from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import JSONParser
from rest_framework.response import Response

from .. import services
from ..filters import NotificationFilter
from ..models import Notification
from . import serializers as s

TAGS = ["notifications"]
NOT_YOURS = OpenApiResponse(description="No such notification of yours")
ID = OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH, description="The notification's id")


@extend_schema_view(
    list=extend_schema(summary="Your notifications, unread first, then newest first", tags=TAGS),
)
class NotificationViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    serializer_class = s.NotificationSerializer
    filterset_class = NotificationFilter
    ordering_fields = ["created_at"]
    lookup_value_regex = "[0-9]+"
    parser_classes = [JSONParser]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # the schema is generated without a user
            return Notification.objects.none()
        return services.inbox(self.request.user)

    def get_serializer_class(self):
        return s.PreferencesSerializer if self.action == "preferences" else s.NotificationSerializer

    def get_object(self):
        # Asked by OPTIONS to describe a PUT: the preferences are the current user's. Marking read
        # asks the service, which finds only the user's own notification.
        if self.action == "preferences":
            return self.request.user
        raise Http404

    @extend_schema(summary="Mark one of your notifications read", tags=TAGS, request=None, parameters=[ID],
                   responses={200: s.NotificationSerializer, 404: NOT_YOURS})
    @action(detail=True, methods=["post"])
    def read(self, request, pk=None):
        notification = services.mark_read(request.user, pk)
        return Response(s.NotificationSerializer(notification).data)

    @extend_schema(summary="Mark all your notifications read", tags=TAGS, request=None,
                   responses={200: s.MarkedReadSerializer})
    @action(detail=False, methods=["post"], url_path="read-all", url_name="read-all")
    def read_all(self, request):
        return Response({"marked": services.mark_all_read(request.user)})

    @extend_schema(methods=["GET"], summary="Your choice, per kind, of in the app only or also by email",
                   tags=TAGS, responses={200: s.PreferencesSerializer})
    @extend_schema(methods=["PUT"], summary="Choose per kind: in the app only (false) or email too (true)",
                   description="Kinds left out keep their choice. A kind that does not exist is refused "
                               "(400) and nothing is stored.",
                   tags=TAGS, request=s.PreferencesSerializer, responses={200: s.PreferencesSerializer})
    @action(detail=False, methods=["get", "put"])
    def preferences(self, request):
        if request.method == "PUT":
            serializer = s.PreferencesSerializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            # Unknown kinds reach the service, which refuses them by name before storing anything.
            unknown = {key: value for key, value in request.data.items() if key not in serializer.fields}
            services.set_preferences(request.user, {**unknown, **serializer.validated_data})
        return Response({kind.key: email for kind, email in services.preferences(request.user)})
