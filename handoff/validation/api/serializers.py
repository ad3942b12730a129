"""Serializers of the validation API (read-only: runs are started by
submitting or re-running a handover)."""

from rest_framework import serializers

from .. import selectors
from ..models import CheckResult, ValidationRun


class CheckResultSerializer(serializers.ModelSerializer):
    """A check as the caller may read it: held from blind labels, aggregate
    figures only (``selectors.visible_result``; the view puts ``blind`` and
    ``labels_name`` in the context)."""

    check = serializers.CharField(source="key", help_text="Stable check key, such as `metric.accuracy`.")

    class Meta:
        model = CheckResult
        fields = ["check", "status", "claimed", "measured", "tolerance", "limit", "unit", "message",
                  "details"]
        extra_kwargs = {
            "message": {"help_text": "What was found, in a sentence. For a caller held from the contract's "
                                     "blind labels, a row-level check says only how many rows matched."},
            "details": {"help_text": "The figures behind the result; empty for a caller held from the "
                                     "contract's blind labels."},
        }

    def to_representation(self, instance):
        blind = self.context.get("blind", False)
        instance = selectors.visible_result(instance, blind, labels_name=self.context.get("labels_name", ""))
        return super().to_representation(instance)


class ValidationRunSerializer(serializers.ModelSerializer):
    handover = serializers.IntegerField(source="revision.handover_id", read_only=True)
    revision = serializers.IntegerField(source="revision.number", read_only=True)
    requested_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    passed = serializers.IntegerField(source="passed_count", read_only=True)
    failed = serializers.IntegerField(source="failed_count", read_only=True,
                                      help_text="Checks that failed or ended in error")
    skipped = serializers.IntegerField(source="skipped_count", read_only=True)

    class Meta:
        model = ValidationRun
        fields = ["id", "handover", "revision", "number", "state", "progress", "passed", "failed",
                  "skipped", "requested_by", "created_at", "started_at", "heartbeat_at", "finished_at",
                  "seconds", "worker", "worker_pid", "attempts", "environment", "message"]


class ValidationRunDetailSerializer(ValidationRunSerializer):
    checks = CheckResultSerializer(many=True, read_only=True)

    class Meta(ValidationRunSerializer.Meta):
        fields = [*ValidationRunSerializer.Meta.fields, "checks"]
