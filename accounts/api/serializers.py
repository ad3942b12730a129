from rest_framework import serializers

from handoff.core.api import InputSerializer

from ..models import ApiToken


class ApiTokenSerializer(serializers.ModelSerializer):
    active = serializers.BooleanField(source="is_active", read_only=True)

    class Meta:
        model = ApiToken
        fields = ["id", "name", "prefix", "active", "created_at", "last_used_at", "revoked_at"]
        read_only_fields = fields


class ApiTokenCreatedSerializer(ApiTokenSerializer):
    token = serializers.CharField(read_only=True, help_text=(
        "The token, to send as 'Authorization: Token <token>'. Shown in this answer only: keep it now."))

    class Meta(ApiTokenSerializer.Meta):
        fields = [*ApiTokenSerializer.Meta.fields, "token"]
        read_only_fields = fields


class ApiTokenInputSerializer(InputSerializer):
    # Read as sent (the service strips it): the length the schema documents is the length checked.
    name = serializers.CharField(max_length=ApiToken._meta.get_field("name").max_length,
                                 trim_whitespace=False, help_text="What will use it, such as “CI pipeline”.")
