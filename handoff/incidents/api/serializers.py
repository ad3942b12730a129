"""Incidents API: what is shown (model serializers) and what is read
(``InputSerializer``s whose fields are the services' own names)."""

from rest_framework import serializers

from handoff.core.api import InputSerializer
from handoff.handovers.models import Handover

from ..lifecycle import INCIDENT
from ..models import ActionItem, EventKind, Incident, RootCause, Severity, TimelineEvent
from ..services import ACTION_ITEM_LIMIT, TEXT_LIMIT, TITLE_LIMIT

BIGGEST_ID = 2**63 - 1
USER = {"slug_field": "username", "read_only": True, "allow_null": True}


class ActionItemSerializer(serializers.ModelSerializer):
    owner = serializers.SlugRelatedField(**USER)

    class Meta:
        model = ActionItem
        fields = ["id", "text", "owner", "done", "created_at", "done_at"]
        read_only_fields = fields


class IncidentSerializer(serializers.ModelSerializer):
    project = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    reporter = serializers.SlugRelatedField(**USER, help_text="Null: opened by monitoring")
    assignee = serializers.SlugRelatedField(**USER)
    owner = serializers.SlugRelatedField(**USER, help_text="The model's data scientist")
    # Text, not the enum: empty until the incident is resolved.
    root_cause = serializers.CharField(read_only=True,
                                       help_text=f"Empty, or one of {', '.join(RootCause.values)}")
    available_actions = serializers.SerializerMethodField(
        help_text="Lifecycle actions you may take now (POST /incidents/{id}/<action>/)")

    class Meta:
        model = Incident
        fields = [
            "id", "project", "title", "description", "severity", "status", "deployment", "handover",
            "revision", "metric", "limit_kind", "limit_value", "observed_value", "reporter", "assignee",
            "owner",
            "opened_at", "acknowledged_at", "investigating_at", "mitigated_at", "resolved_at", "closed_at",
            "reopened_at", "escalated_at", "root_cause", "resolution_summary", "postmortem", "fix_handover",
            "updated_at", "available_actions",
        ]
        read_only_fields = fields

    def get_available_actions(self, incident) -> list[str]:
        actions = self.context.get("actions_of", lambda _: set())(incident)
        return INCIDENT.available(incident, actions)


class IncidentCreateSerializer(InputSerializer):
    project = serializers.CharField(max_length=64, trim_whitespace=False,
                                    help_text="The project's slug (one of yours, else 404)")
    title = serializers.CharField(max_length=TITLE_LIMIT, trim_whitespace=False)
    severity = serializers.ChoiceField(choices=Severity.choices)
    description = serializers.CharField(required=False, allow_blank=True, default="", max_length=TEXT_LIMIT,
                                        trim_whitespace=False, help_text="Markdown")
    deployment = serializers.IntegerField(required=False, allow_null=True, min_value=1, max_value=BIGGEST_ID,
                                          help_text="A deployment of the project (one you cannot see: 404)")
    handover = serializers.IntegerField(required=False, allow_null=True, min_value=1, max_value=BIGGEST_ID,
                                        help_text="A handover of the project (one you cannot see: 404)")


class AssignInputSerializer(InputSerializer):
    assignee = serializers.CharField(allow_null=True, max_length=150, trim_whitespace=False,
                                     help_text="Username of an ML engineer of the project; null unassigns")


class SeverityInputSerializer(InputSerializer):
    severity = serializers.ChoiceField(choices=Severity.choices)


class ResolveInputSerializer(InputSerializer):
    root_cause = serializers.ChoiceField(choices=RootCause.choices)
    resolution_summary = serializers.CharField(max_length=TEXT_LIMIT, help_text="What was done",
                                               trim_whitespace=False)


class NoteInputSerializer(InputSerializer):
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=TEXT_LIMIT,
                                 trim_whitespace=False, help_text="Optional, shown on the timeline")


class FixInputSerializer(InputSerializer):
    version_label = serializers.CharField(max_length=Handover._meta.get_field("version_label").max_length,
                                          trim_whitespace=False,
                                          help_text="The new version of the incident's model, such as 1.5.0")


class FixCreatedSerializer(serializers.ModelSerializer):
    model = serializers.CharField(source="model.name", read_only=True)

    class Meta:
        model = Handover
        fields = ["id", "model", "version_label", "state"]
        read_only_fields = fields


class TimelineEventSerializer(serializers.ModelSerializer):
    actor = serializers.SlugRelatedField(**USER, help_text="Null: monitoring or the system")
    # Text, not an enum: the schema's one "kind" enum is the artifacts'.
    kind = serializers.CharField(read_only=True, help_text=", ".join(EventKind.values))
    details = serializers.DictField(read_only=True)

    class Meta:
        model = TimelineEvent
        fields = ["id", "kind", "actor", "created_at", "body", "details"]
        read_only_fields = fields


class IncidentCommentInputSerializer(InputSerializer):
    body = serializers.CharField(
        max_length=TEXT_LIMIT, trim_whitespace=False,
        help_text="Markdown. `@username` tells that member of the project; a name that is no one's refuses "
                  "the comment (400 on `body`); someone off the project is not told (`not_notified`).")


class IncidentCommentCreatedSerializer(TimelineEventSerializer):
    not_notified = serializers.SerializerMethodField(help_text="People mentioned who are not on the project")

    class Meta(TimelineEventSerializer.Meta):
        fields = [*TimelineEventSerializer.Meta.fields, "not_notified"]

    def get_not_notified(self, event) -> list[str]:
        return [person.username for person in getattr(event, "not_told", [])]


class PostmortemSerializer(serializers.Serializer):
    postmortem = serializers.CharField(help_text="Markdown")
    action_items = ActionItemSerializer(many=True)


class PostmortemInputSerializer(InputSerializer):
    postmortem = serializers.CharField(allow_blank=True, max_length=TEXT_LIMIT, trim_whitespace=False,
                                       help_text="Markdown; replaces the postmortem")


class ActionItemInputSerializer(InputSerializer):
    text = serializers.CharField(max_length=ACTION_ITEM_LIMIT, trim_whitespace=False)


class ActionItemDoneSerializer(InputSerializer):
    done = serializers.BooleanField()
