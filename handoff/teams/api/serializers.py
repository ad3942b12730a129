from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.models import User
from handoff.teams.models import Project, Role, RoleAssignment, Team


class PersonSerializer(serializers.ModelSerializer):
    name = serializers.CharField(source="display_name", read_only=True, help_text="Full name, or username.")

    class Meta:
        model = User
        fields = ["id", "username", "name"]
        read_only_fields = fields


class TeamRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Team
        fields = ["id", "name", "slug"]
        read_only_fields = fields


class ProjectRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Project
        fields = ["id", "name", "slug", "stage"]
        read_only_fields = fields


class MemberSerializer(serializers.ModelSerializer):
    user = PersonSerializer(read_only=True)

    class Meta:
        model = RoleAssignment
        fields = ["id", "user", "role"]
        read_only_fields = fields


class TeamSerializer(serializers.ModelSerializer):
    leader = PersonSerializer(read_only=True)
    projects = ProjectRefSerializer(
        source="visible_projects", many=True, read_only=True,
        help_text="The team's projects that you may see.",
    )

    class Meta:
        model = Team
        fields = ["id", "name", "slug", "leader", "projects"]
        read_only_fields = fields


class ProjectSerializer(serializers.ModelSerializer):
    team = TeamRefSerializer(read_only=True)
    members = MemberSerializer(source="role_assignments", many=True, read_only=True)
    my_role = serializers.SerializerMethodField(
        help_text="Your role on this project; null when you have none."
    )

    class Meta:
        model = Project
        fields = ["id", "name", "slug", "team", "stage", "description", "members", "my_role"]
        read_only_fields = fields

    @extend_schema_field(serializers.ChoiceField(choices=Role.choices, allow_null=True))
    def get_my_role(self, project):
        # Read from the prefetched members: no query per project.
        user_id = self.context["request"].user.pk
        return next((m.role for m in project.role_assignments.all() if m.user_id == user_id), None)


# --- webhooks -------------------------------------------------------------------------------------

from handoff.core.api import InputSerializer  # noqa: E402
from handoff.core.schema import document  # noqa: E402
from handoff.notifications import webhooks  # noqa: E402
from handoff.notifications.models import DeliveryState, Webhook, WebhookDelivery  # noqa: E402

# An http(s) URL with a host name, an optional port and a path of the characters a URI may hold (the
# webhook's answer says `format: uri`).
WEBHOOK_URL = (r"^[hH][tT][tT][pP][sS]?://[A-Za-z0-9][A-Za-z0-9.-]{0,200}(:[1-9][0-9]{0,3})?"
               r"(/[A-Za-z0-9._~:/?#@!$&'()*+,;=%-]*)?$")


class WebhookSerializer(serializers.ModelSerializer):
    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    events = serializers.ListField(child=serializers.CharField(), read_only=True,
                                   help_text="The event names sent to this webhook.")

    class Meta:
        model = Webhook
        fields = ["id", "url", "events", "active", "created_by", "created_at"]
        read_only_fields = fields


class WebhookCreatedSerializer(WebhookSerializer):
    secret = serializers.CharField(read_only=True, help_text=(
        "Keys the X-Handoff-Signature of every request. Shown in this answer only: keep it now."))

    class Meta(WebhookSerializer.Meta):
        fields = [*WebhookSerializer.Meta.fields, "secret"]
        read_only_fields = fields


def _registered_events():
    return {"minItems": 1, "items": {"type": "string", "enum": list(webhooks.events())}}


# What clean_url and clean_events accept, so that a request the schema allows is not refused (a host
# that must be public and is not, in production, is the one 400 left: no schema can know it).
@document(url={"pattern": WEBHOOK_URL, "maxLength": webhooks.URL_MAX_LENGTH}, events=_registered_events)
class WebhookInputSerializer(InputSerializer):
    url = serializers.CharField(allow_blank=True, trim_whitespace=True,
                                help_text="Where events are sent: an http or https URL.")
    events = serializers.ListField(child=serializers.CharField(), allow_empty=True, help_text=(
        "Event names to send (audit verbs such as handover.validation_failed)."))


class WebhookUpdateSerializer(InputSerializer):
    active = serializers.BooleanField(required=False, help_text="false pauses the webhook; true resumes it.")


class WebhookAttemptSerializer(serializers.Serializer):
    attempt = serializers.IntegerField()
    at = serializers.DateTimeField()
    status_code = serializers.IntegerField(allow_null=True)
    excerpt = serializers.CharField(allow_blank=True, help_text="The start of the receiver's answer.")
    error = serializers.CharField(allow_blank=True)


class WebhookDeliverySerializer(serializers.ModelSerializer):
    event = serializers.CharField(source="event_name", read_only=True,
                                  help_text="The event sent, or webhook.test for a test.")
    state = serializers.ChoiceField(choices=DeliveryState.choices, read_only=True)
    log = WebhookAttemptSerializer(many=True, read_only=True, help_text="Every attempt, first first.")

    class Meta:
        model = WebhookDelivery
        fields = ["id", "event", "state", "attempts", "status_code", "response_excerpt", "last_error",
                  "next_attempt_at", "created_at", "sent_at", "log", "payload"]
        read_only_fields = fields
