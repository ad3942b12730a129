"""Serializers of the validation API (read-only: runs are started by
submitting or re-running a handover)."""

from rest_framework import serializers

from ..models import CheckResult, ValidationRun


class CheckResultSerializer(serializers.ModelSerializer):
    check = serializers.CharField(source="key", help_text="Stable check key, such as `metric.accuracy`.")

    class Meta:
        model = CheckResult
        fields = ["check", "status", "claimed", "measured", "tolerance", "limit", "unit", "message",
                  "details"]


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
