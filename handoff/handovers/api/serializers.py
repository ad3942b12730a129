"""Serializers of the handovers API.

Input serializers only parse types; what a valid contract is lives in
``handovers.contract`` and is applied by the services."""

from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.exceptions import NotFound

from handoff.core.api import InputSerializer
from handoff.core.schema import document
from handoff.teams.models import Project

from .. import contract, extensions, notices
from ..models import (
    UNIT_INTERVAL_METRICS,
    Artifact,
    ArtifactKind,
    Comment,
    Framework,
    Handover,
    Metric,
    Model,
    Review,
    Revision,
    TaskType,
)

TERM_READ_FIELDS = list(contract.TERM_FIELDS)


class Username(serializers.SlugRelatedField):
    def __init__(self, **kwargs):
        super().__init__(slug_field="username", read_only=True, **kwargs)


# --- read ----------------------------------------------------------------------------------------------


POSITIVE = {"minimum": 0, "exclusiveMinimum": True}
NOT_NEGATIVE = {"minimum": 0}
UNIT_INTERVAL = {"minimum": 0, "maximum": 1}


def _bounds(metric):
    """The values ``metric`` can take, as ``contract`` checks them."""
    if metric in UNIT_INTERVAL_METRICS:
        return UNIT_INTERVAL
    if metric == Metric.R2:
        return {"maximum": 1}
    return NOT_NEGATIVE


def claims_schema(*, nullable_bounds):
    """Claimed metrics keyed by metric: one claim per metric by construction,
    each with the values its metric can take."""
    def claim(metric):
        bound = {"type": "number", **_bounds(metric)}
        if nullable_bounds:
            bound["nullable"] = True
        return {"type": "object", "required": ["claimed_value"],
                "properties": {"claimed_value": {"type": "number", **_bounds(metric)},
                               "minimum": bound, "maximum": bound}}

    return {
        "type": "object",
        "description": "Claimed metrics keyed by metric (`accuracy`, `f1`, `mae` …), each with its claimed "
                       "value and an optional minimum or maximum acceptable. When given on a write, they "
                       "replace every claim of the revision. Submitting needs each metric to fit the task "
                       "type and each claimed value to lie within its own minimum and maximum.",
        "properties": {metric.value: claim(metric) for metric in Metric},
        "additionalProperties": False,
    }


def _claim_list(claims):
    """{metric: claim} as the API writes it -> the services' list of claims."""
    if claims is None:
        return None
    return [{"metric": metric, **dict(claim)} for metric, claim in claims.items()]


@extend_schema_field(claims_schema(nullable_bounds=True))
class ClaimsField(serializers.Field):
    """A revision's claims as {metric: {claimed_value, minimum, maximum}}."""

    def __init__(self, **kwargs):
        super().__init__(read_only=True, **kwargs)

    def to_representation(self, claims):
        return {claim.metric: {"claimed_value": claim.claimed_value, "minimum": claim.minimum,
                               "maximum": claim.maximum} for claim in claims.all()}


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
    claimed_metrics = ClaimsField()
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


class ValidationSummarySerializer(serializers.Serializer):
    """The latest validation run of the handover's current revision."""

    id = serializers.IntegerField(help_text="The run: GET /api/v1/validation-runs/{id}/ has every check.")
    number = serializers.IntegerField(help_text="1, 2 … per revision")
    state = serializers.ChoiceField(choices=["queued", "running", "passed", "failed", "error"],
                                    help_text="queued, running, passed, failed or error")
    progress = serializers.JSONField(help_text='While it runs: {"check", "done", "total"}')
    passed = serializers.IntegerField()
    failed = serializers.IntegerField(help_text="Checks that failed or ended in error")
    skipped = serializers.IntegerField()


class SummariesOfAPage(serializers.ListSerializer):
    """Loads the summaries other apps add (``extensions``) once for the page."""

    def to_representation(self, data):
        handovers = list(data.all() if hasattr(data, "all") else data)
        ids = [handover.pk for handover in handovers]
        self.child.context["summaries"] = {"validation": extensions.load("validation", ids)}
        return super().to_representation(handovers)


class HandoverListSerializer(serializers.ModelSerializer):
    model = ModelSummarySerializer(read_only=True)
    project = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    owner = Username()
    reviewer = Username(allow_null=True, help_text="Who decided; null until someone has.")
    current_revision = serializers.IntegerField(source="current_revision_number", read_only=True,
                                                allow_null=True)

    validation = serializers.SerializerMethodField(
        help_text="The latest validation run of the current revision; null before the first submission.")

    class Meta:
        model = Handover
        list_serializer_class = SummariesOfAPage
        fields = [
            "id", "model", "project", "version_label", "state", "owner", "reviewer", "current_revision",
            "validation", "awaiting_review_since", "created_at", "updated_at",
        ]

    @extend_schema_field(ValidationSummarySerializer(allow_null=True))
    def get_validation(self, handover):
        loaded = self.context.get("summaries", {}).get("validation")
        if loaded is None:
            loaded = extensions.load("validation", [handover.pk])
        return loaded.get(handover.pk)


class HandoverSerializer(HandoverListSerializer):
    revisions = RevisionSerializer(many=True, read_only=True)
    comments = CommentSerializer(many=True, read_only=True)
    following = serializers.SerializerMethodField(
        help_text="Whether you hear of its comments and decisions (POST follow/ or unfollow/ to change it)")

    class Meta(HandoverListSerializer.Meta):
        fields = [*HandoverListSerializer.Meta.fields, "revisions", "comments", "following"]

    def get_following(self, handover) -> bool:
        request = self.context.get("request")
        return request is not None and notices.is_following(request.user, handover)


class CommentCreatedSerializer(CommentSerializer):
    """A new comment, and whom its ``@mentions`` reached."""

    mentioned = serializers.SerializerMethodField(help_text="Members of the project told of the mention")
    not_notified = serializers.SerializerMethodField(
        help_text="People mentioned who are not on the project: not told")

    class Meta(CommentSerializer.Meta):
        fields = [*CommentSerializer.Meta.fields, "mentioned", "not_notified"]

    def get_mentioned(self, comment) -> list[str]:
        return [person.username for person in comment.mentions.members]

    def get_not_notified(self, comment) -> list[str]:
        return [person.username for person in comment.mentions.outsiders]


class FollowSerializer(serializers.Serializer):
    following = serializers.BooleanField(help_text="Whether you now hear of its comments and decisions")


# --- write ---------------------------------------------------------------------------------------------
#
# Text is read as sent (``trim_whitespace=False``): the services strip it, and the length the schema
# states is then the length of what was sent. What a valid contract is stays in ``contract``; the
# bounds it sets on single values are stated in the schema too (``document``), so that a client sees
# them. Rules between fields that JSON Schema cannot state are in the descriptions and checked when
# the revision is submitted (a 409 then, naming each): a claim must fit the task type and lie within
# its own minimum and maximum, the fairness terms must agree; a draft may hold them half written. A
# metric claimed twice is a 400. A reference to something you may not see is a 404, as in a path.

# The contract's own limits on text length and whole numbers.
TEXT_LIMITS = contract._TEXT_LIMITS
WHOLE_LIMITS = contract._WHOLE_LIMITS


def _text(name, **kwargs):
    """An optional contract text, at most as long as the contract allows."""
    return serializers.CharField(required=False, allow_blank=True, trim_whitespace=False,
                                 max_length=TEXT_LIMITS[name], **kwargs)


class ClaimInputSerializer(InputSerializer):
    claimed_value = serializers.FloatField()
    minimum = serializers.FloatField(required=False, allow_null=True)
    maximum = serializers.FloatField(required=False, allow_null=True)


@document(
    latency_p95_ms=POSITIVE,
    peak_memory_mb=POSITIVE,
    latency_batch_size={"minimum": 1, "maximum": WHOLE_LIMITS["latency_batch_size"]},
    parameter_count={"minimum": 1, "maximum": WHOLE_LIMITS["parameter_count"]},
    validation_row_count={"minimum": 1, "maximum": WHOLE_LIMITS["validation_row_count"]},
    fairness_max_gap=NOT_NEGATIVE,
    metric_tolerance={"minimum": 0, "maximum": 1, "exclusiveMaximum": True},
    claimed_metrics=claims_schema(nullable_bounds=True),
)
class TermsInputSerializer(InputSerializer):
    """Contract terms; every field optional. On PATCH, absent fields keep their value."""

    task_type = serializers.ChoiceField(choices=TaskType.choices, required=False, allow_blank=True)
    positive_label = _text("positive_label",
                           help_text="The label counted as positive for precision, recall, F1 and ROC AUC "
                                     'of a binary task; blank means "1"')
    framework = serializers.ChoiceField(choices=Framework.choices, required=False, allow_blank=True)
    framework_version = _text("framework_version")
    latency_p95_ms = serializers.FloatField(required=False, allow_null=True,
                                            help_text="p95 latency budget in milliseconds (> 0)")
    latency_batch_size = serializers.IntegerField(required=False,
                                                  help_text="Batch size of the latency budget")
    peak_memory_mb = serializers.FloatField(required=False, allow_null=True,
                                            help_text="Peak inference memory budget in MB (> 0)")
    parameter_count = serializers.IntegerField(required=False, allow_null=True)
    validation_description = _text("validation_description")
    validation_row_count = serializers.IntegerField(required=False, allow_null=True)
    fairness_slice_column = _text("fairness_slice_column",
                                  help_text="The column of the labels file whose slices are compared; "
                                            "submitting needs `fairness_max_gap` with it")
    fairness_max_gap = serializers.FloatField(
        required=False, allow_null=True,
        help_text="Largest allowed gap of the fairness metric between slices; submitting needs "
                  "`fairness_slice_column` with it, and a gap below 1 for a metric between 0 and 1",
    )
    fairness_metric = serializers.ChoiceField(
        choices=Metric.choices, required=False, allow_blank=True,
        help_text="The metric compared between slices; blank means accuracy (classification) or MAE "
                  "(regression). Submitting needs one that fits the task type",
    )
    intended_use = _text("intended_use", help_text="Markdown")
    limitations = _text("limitations", help_text="Markdown")
    metric_tolerance = serializers.FloatField(required=False, allow_null=True,
                                              help_text="Absolute tolerance for metric agreement "
                                                        "(default 0.005)")
    claimed_metrics = serializers.DictField(child=ClaimInputSerializer(), required=False)

    def split(self):
        """-> (terms dict, metrics list or None) for the services."""
        data = dict(self.validated_data)
        metrics = data.pop("claimed_metrics", None)
        return data, _claim_list(metrics)


class ModelCreateSerializer(InputSerializer):
    project = serializers.CharField(help_text="Slug or id of a project you work on")
    name = serializers.CharField(max_length=Model._meta.get_field("name").max_length, trim_whitespace=False,
                                 help_text="Unique in the project, whatever the case")
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
            # Out of reach and unknown are one answer, a 404, as for any object in the path.
            raise NotFound(f"No project {value!r} that you can see.")
        return found


class HandoverCreateSerializer(TermsInputSerializer):
    model = serializers.IntegerField(min_value=1,
                                     help_text="Id of a registered model of a project you work on")
    version_label = serializers.CharField(max_length=Handover._meta.get_field("version_label").max_length,
                                          trim_whitespace=False,
                                          help_text='The model version handed over, e.g. "1.4.0"; '
                                                    "one handover per version of a model")

    def __init__(self, *args, models=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.models = models if models is not None else Model.objects.none()

    def validate_model(self, value):
        found = self.models.filter(pk=value).first()
        if found is None:
            raise NotFound(f"No model {value} that you can see.")
        return found

    def split(self):
        data = dict(self.validated_data)
        data.pop("model")
        data.pop("version_label")
        metrics = data.pop("claimed_metrics", None)
        return data, _claim_list(metrics)


COMMENT_LIMIT = 20000  # what services.add_comment keeps


class CommentInputSerializer(InputSerializer):
    body = serializers.CharField(
        help_text="Markdown. `@username` tells that member of the project (once); a name that is no one's "
                  "refuses the comment (400 on `body`); someone off the project is not told "
                  "(`not_notified` in the answer).",
        trim_whitespace=False, max_length=COMMENT_LIMIT)


class DecisionInputSerializer(InputSerializer):
    comment = serializers.CharField(required=False, allow_blank=True, default="", trim_whitespace=False)


class ChangesInputSerializer(InputSerializer):
    comment = serializers.CharField(trim_whitespace=False, help_text="What should change (required)")


@document(file={"minLength": 1})  # an empty file is refused (by the service, with its message)
class ArtifactUploadSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=ArtifactKind.choices)
    file = serializers.FileField(allow_empty_file=True, use_url=False)
