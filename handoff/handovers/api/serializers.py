"""Serializers of the handovers API.

Input serializers only parse types; what a valid contract is lives in
``handovers.contract`` and is applied by the services."""

from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from handoff.teams.models import Project

from ..models import (
    Artifact,
    ArtifactKind,
    ClaimedMetric,
    Comment,
    Framework,
    Handover,
    Metric,
    Model,
    Review,
    Revision,
    TaskType,
)

TERM_READ_FIELDS = [
    "task_type", "framework", "framework_version", "latency_p95_ms", "latency_batch_size", "peak_memory_mb",
    "parameter_count", "validation_description", "validation_row_count", "fairness_slice_column",
    "fairness_max_gap", "intended_use", "limitations", "metric_tolerance",
]


class Username(serializers.SlugRelatedField):
    def __init__(self, **kwargs):
        super().__init__(slug_field="username", read_only=True, **kwargs)


# --- read ----------------------------------------------------------------------------------------------


class ClaimedMetricSerializer(serializers.ModelSerializer):
    class Meta:
        model = ClaimedMetric
        fields = ["metric", "claimed_value", "minimum", "maximum"]


class ArtifactSerializer(serializers.ModelSerializer):
    uploaded_by = Username()
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = Artifact
        fields = [
            "id", "kind", "original_name", "size", "sha256", "uploaded_by", "uploaded_at", "download_url",
        ]

    @extend_schema_field(OpenApiTypes.URI)
    def get_download_url(self, artifact):
        url = reverse("api-artifact-download", args=[artifact.pk])
        request = self.context.get("request")
        return request.build_absolute_uri(url) if request else url


class ReviewSerializer(serializers.ModelSerializer):
    reviewer = Username()

    class Meta:
        model = Review
        fields = ["id", "decision", "reviewer", "comment", "artifact_hashes", "created_at"]


class RevisionSerializer(serializers.ModelSerializer):
    created_by = Username()
    submitted_by = Username(allow_null=True, help_text="Null while the revision is a draft.")
    frozen = serializers.BooleanField(source="is_frozen", read_only=True)
    claimed_metrics = ClaimedMetricSerializer(many=True, read_only=True)
    artifacts = ArtifactSerializer(many=True, read_only=True)
    reviews = ReviewSerializer(many=True, read_only=True)

    class Meta:
        model = Revision
        fields = [
            "number", "created_by", "created_at", "submitted_at", "submitted_by", "frozen",
            *TERM_READ_FIELDS, "claimed_metrics", "artifacts", "reviews",
        ]


class CommentSerializer(serializers.ModelSerializer):
    author = Username()
    revision = serializers.IntegerField(source="revision.number", read_only=True, allow_null=True)

    class Meta:
        model = Comment
        fields = ["id", "author", "revision", "body", "created_at"]


class ModelSerializer(serializers.ModelSerializer):
    project = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    owner = Username()

    class Meta:
        model = Model
        fields = ["id", "project", "name", "description", "owner", "created_at"]


class ModelSummarySerializer(serializers.ModelSerializer):
    class Meta:
        model = Model
        fields = ["id", "name"]


class HandoverListSerializer(serializers.ModelSerializer):
    model = ModelSummarySerializer(read_only=True)
    project = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    owner = Username()
    reviewer = Username(allow_null=True, help_text="Who decided; null until someone has.")
    current_revision = serializers.IntegerField(source="current_revision_number", read_only=True,
                                                allow_null=True)

    class Meta:
        model = Handover
        fields = [
            "id", "model", "project", "version_label", "state", "owner", "reviewer", "current_revision",
            "awaiting_review_since", "created_at", "updated_at",
        ]


class HandoverSerializer(HandoverListSerializer):
    revisions = RevisionSerializer(many=True, read_only=True)
    comments = CommentSerializer(many=True, read_only=True)

    class Meta(HandoverListSerializer.Meta):
        fields = [*HandoverListSerializer.Meta.fields, "revisions", "comments"]


# --- write ---------------------------------------------------------------------------------------------


class ClaimedMetricInputSerializer(serializers.Serializer):
    metric = serializers.ChoiceField(choices=Metric.choices)
    claimed_value = serializers.FloatField()
    minimum = serializers.FloatField(required=False, allow_null=True)
    maximum = serializers.FloatField(required=False, allow_null=True)


class TermsInputSerializer(serializers.Serializer):
    """Contract terms; every field optional. On PATCH, absent fields keep their value."""

    task_type = serializers.ChoiceField(choices=TaskType.choices, required=False, allow_blank=True)
    framework = serializers.ChoiceField(choices=Framework.choices, required=False, allow_blank=True)
    framework_version = serializers.CharField(required=False, allow_blank=True)
    latency_p95_ms = serializers.FloatField(required=False, allow_null=True,
                                            help_text="p95 latency budget in milliseconds (> 0)")
    latency_batch_size = serializers.IntegerField(required=False,
                                                  help_text="Batch size of the latency budget")
    peak_memory_mb = serializers.FloatField(required=False, allow_null=True,
                                            help_text="Peak inference memory budget in MB (> 0)")
    parameter_count = serializers.IntegerField(required=False, allow_null=True)
    validation_description = serializers.CharField(required=False, allow_blank=True)
    validation_row_count = serializers.IntegerField(required=False, allow_null=True)
    fairness_slice_column = serializers.CharField(required=False, allow_blank=True)
    fairness_max_gap = serializers.FloatField(required=False, allow_null=True)
    intended_use = serializers.CharField(required=False, allow_blank=True, help_text="Markdown")
    limitations = serializers.CharField(required=False, allow_blank=True, help_text="Markdown")
    metric_tolerance = serializers.FloatField(required=False, allow_null=True,
                                              help_text="Absolute tolerance for metric agreement "
                                                        "(default 0.005)")
    claimed_metrics = ClaimedMetricInputSerializer(
        many=True, required=False, help_text="When given, replaces every claimed metric of the revision."
    )

    def split(self):
        """-> (terms dict, metrics list or None) for the services."""
        data = dict(self.validated_data)
        metrics = data.pop("claimed_metrics", None)
        return data, [dict(m) for m in metrics] if metrics is not None else None


class ModelCreateSerializer(serializers.Serializer):
    project = serializers.CharField(help_text="Project slug or id")
    name = serializers.CharField(max_length=120)
    description = serializers.CharField(required=False, allow_blank=True, default="")

    def __init__(self, *args, projects=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.projects = projects if projects is not None else Project.objects.none()

    def validate_project(self, value):
        value = value.strip()
        found = self.projects.filter(slug=value).first()
        # isdigit() alone also takes "²" and other digits int() refuses.
        if found is None and value.isascii() and value.isdigit():
            found = self.projects.filter(pk=int(value)).first()
        if found is None:
            raise serializers.ValidationError(f"No project {value!r} that you can see.")
        return found


class HandoverCreateSerializer(TermsInputSerializer):
    model = serializers.IntegerField(help_text="Id of a registered model of a project you work on")
    version_label = serializers.CharField(max_length=64,
                                          help_text='The model version handed over, e.g. "1.4.0"')

    def __init__(self, *args, models=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.models = models if models is not None else Model.objects.none()

    def validate_model(self, value):
        found = self.models.filter(pk=value).first()
        if found is None:
            raise serializers.ValidationError(f"No model {value} that you can see.")
        return found

    def split(self):
        data = dict(self.validated_data)
        data.pop("model")
        data.pop("version_label")
        metrics = data.pop("claimed_metrics", None)
        return data, [dict(m) for m in metrics] if metrics is not None else None


class CommentInputSerializer(serializers.Serializer):
    body = serializers.CharField(help_text="Markdown", allow_blank=True)


class DecisionInputSerializer(serializers.Serializer):
    comment = serializers.CharField(required=False, allow_blank=True, default="")


class ChangesInputSerializer(serializers.Serializer):
    comment = serializers.CharField(allow_blank=True, help_text="What should change (required)")


class ArtifactUploadSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=ArtifactKind.choices)
    file = serializers.FileField(allow_empty_file=True, use_url=False)
