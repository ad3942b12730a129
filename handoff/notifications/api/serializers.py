"""Serializers of the notifications API."""

from drf_spectacular.extensions import OpenApiSerializerExtension
from rest_framework import serializers

from handoff.core.api import InputSerializer

from .. import kinds
from ..models import Notification


class NotificationSerializer(serializers.ModelSerializer):
    actor = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True,
                                         help_text="Who made the change, when someone did.")
    unread = serializers.SerializerMethodField()
    url = serializers.CharField(read_only=True, help_text="Where to read it: the path of its handover page.")

    class Meta:
        model = Notification
        fields = ["id", "kind", "subject", "body", "url", "actor", "created_at", "read_at", "unread"]

    def get_unread(self, notification) -> bool:
        return notification.read_at is None


class MarkedReadSerializer(serializers.Serializer):
    marked = serializers.IntegerField(help_text="How many notifications were unread and now are read.")


class PreferencesSerializer(InputSerializer):
    """One boolean per kind of notification: true for an email too, false for in the app only."""

    def get_fields(self):
        # The kinds are registered by the apps that send them as they start, so they are read here,
        # not when this module is imported.
        return {kind.key: serializers.BooleanField(required=False, help_text=kind.label)
                for kind in kinds.all_kinds()}


class PreferencesSchema(OpenApiSerializerExtension):
    """A body naming a kind that does not exist is refused (400): the schema says so."""

    target_class = PreferencesSerializer

    def map_serializer(self, auto_schema, direction):
        schema = auto_schema._map_basic_serializer(self.target, direction)
        schema["additionalProperties"] = False
        return schema
