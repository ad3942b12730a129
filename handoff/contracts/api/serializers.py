"""Contracts API: what is shown (read serializers) and what is read
(``InputSerializer``s whose fields are the services' own names).

Input serializers only parse types; what valid terms are lives in
``handovers.contract`` (through ``contracts.services``), as for a revision."""

from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from handoff.core.api import InputSerializer
from handoff.core.schema import document
from handoff.handovers.api.serializers import (
    NOT_NEGATIVE,
    POSITIVE,
    TEXT_LIMITS,
    WHOLE_LIMITS,
    ModelSummarySerializer,
    Username,
    ValidationSummarySerializer,
    _bounds,
)
from handoff.handovers.contract import MODEL_FORMATS
from handoff.handovers.models import Framework, Handover, HandoverState, Metric, TaskType
from handoff.validation.models import CheckStatus, RunState

from ..lifecycle import CONTRACT
from ..models import (
    CONTRACT_TERMS,
    Contract,
    ContractArtifact,
    ContractArtifactKind,
    ContractComment,
    ContractSignature,
)
from ..services import TITLE_LIMIT

BIGGEST_ID = 2**63 - 1
COMMENT_LIMIT = 20000  # what services.add_comment keeps
VERSION_LABEL_LIMIT = Handover._meta.get_field("version_label").max_length


# --- read ----------------------------------------------------------------------------------------------


def requirements_schema(*, for_input):
    """Requirements keyed by metric, each a minimum and/or a maximum a measured value must meet."""

    def requirement(metric):
        bound = {"type": "number", **_bounds(metric)}
        if for_input:
            return {
                "type": "object",
                "properties": {"minimum": bound, "maximum": bound},
                "additionalProperties": False,
                "anyOf": [{"required": ["minimum"]}, {"required": ["maximum"]}],
            }
        nullable = {**bound, "nullable": True}
        return {
            "type": "object",
            "required": ["minimum", "maximum"],
            "properties": {"minimum": nullable, "maximum": nullable},
        }

    return {
        "type": "object",
        "description": "Metric requirements keyed by metric (`accuracy`, `roc_auc`, `mae` …), each with the "
        "minimum and/or the maximum every candidate's measured value must meet."
        + (" When given, they replace every requirement of the contract." if for_input else ""),
        "properties": {metric.value: requirement(metric) for metric in Metric},
        "additionalProperties": False,
    }


@extend_schema_field(requirements_schema(for_input=False))
class RequirementsField(serializers.Field):
    def __init__(self, **kwargs):
        super().__init__(read_only=True, **kwargs)

    def to_representation(self, requirements):
        return {r.metric: {"minimum": r.minimum, "maximum": r.maximum} for r in requirements.all()}


class ContractArtifactSerializer(serializers.ModelSerializer):
    uploaded_by = Username()
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = ContractArtifact
        fields = [
            "id",
            "kind",
            "original_name",
            "size",
            "sha256",
            "uploaded_by",
            "uploaded_at",
            "download_url",
        ]
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.URI)
    def get_download_url(self, artifact):
        url = reverse("api-contract-artifact-download", args=[artifact.contract_id, artifact.pk])
        request = self.context.get("request")
        return request.build_absolute_uri(url) if request else url


class SignatureSerializer(serializers.ModelSerializer):
    signer = Username()
    artifact_hashes = serializers.DictField(
        child=serializers.CharField(),
        read_only=True,
        help_text="sha256 of each file as signed, keyed by kind",
    )

    class Meta:
        model = ContractSignature
        fields = ["signer", "role", "signed_at", "terms_sha256", "artifact_hashes"]
        read_only_fields = fields


class ContractListSerializer(serializers.ModelSerializer):
    project = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    created_by = Username()
    frameworks = serializers.ListField(
        source="framework_list",
        child=serializers.ChoiceField(choices=Framework.choices),
        read_only=True,
        help_text="Accepted frameworks; empty: any",
    )
    model_formats = serializers.ListField(
        source="format_list",
        child=serializers.CharField(),
        read_only=True,
        help_text="Accepted model formats; empty: any",
    )
    requirements = RequirementsField()
    # Blank until chosen: the enum or "".
    task_type = serializers.ChoiceField(choices=TaskType.choices, allow_blank=True, read_only=True)
    fairness_metric = serializers.ChoiceField(
        choices=Metric.choices,
        allow_blank=True,
        read_only=True,
        help_text="Blank: accuracy (classification) or MAE (regression)",
    )

    class Meta:
        model = Contract
        fields = [
            "id",
            "project",
            "series",
            "version",
            "title",
            "state",
            "labels_blind",
            "created_by",
            "created_at",
            "updated_at",
            "agreed_at",
            *CONTRACT_TERMS,
            "requirements",
        ]
        read_only_fields = fields


class ContractSerializer(ContractListSerializer):
    artifacts = serializers.SerializerMethodField(
        help_text="The validation set's files you may see: a blind contract's labels are listed to ML "
        "engineers and the team leader only"
    )
    signatures = SignatureSerializer(many=True, read_only=True)
    terms_sha256 = serializers.SerializerMethodField(
        help_text="sha256 of the terms as a signer agrees to them"
    )
    available_actions = serializers.SerializerMethodField(
        help_text="Lifecycle actions you may take now (POST /contracts/{id}/<action>/)"
    )

    class Meta(ContractListSerializer.Meta):
        fields = [
            *ContractListSerializer.Meta.fields,
            "artifacts",
            "signatures",
            "terms_sha256",
            "available_actions",
        ]
        read_only_fields = fields

    @extend_schema_field(ContractArtifactSerializer(many=True))
    def get_artifacts(self, contract):
        shown = self.context["listed_artifacts"](contract)
        return ContractArtifactSerializer(shown, many=True, context=self.context).data

    def get_terms_sha256(self, contract) -> str:
        from ..services import terms_digest

        return terms_digest(contract)

    def get_available_actions(self, contract) -> list[str]:
        actions = self.context.get("actions_of", lambda _: set())(contract)
        return [name.replace("_", "-") for name in CONTRACT.available(contract, actions)]


class ContractCommentSerializer(serializers.ModelSerializer):
    author = Username()

    class Meta:
        model = ContractComment
        fields = ["id", "author", "body", "created_at"]
        read_only_fields = fields


class ContractCommentCreatedSerializer(ContractCommentSerializer):
    mentioned = serializers.SerializerMethodField(help_text="Members of the project told of the mention")
    not_notified = serializers.SerializerMethodField(
        help_text="People mentioned who are not on the project: not told"
    )

    class Meta(ContractCommentSerializer.Meta):
        fields = [*ContractCommentSerializer.Meta.fields, "mentioned", "not_notified"]
        read_only_fields = fields

    def get_mentioned(self, comment) -> list[str]:
        return [person.username for person in comment.mentions.members]

    def get_not_notified(self, comment) -> list[str]:
        return [person.username for person in comment.mentions.outsiders]


class CandidateSerializer(serializers.Serializer):
    """A candidate of the contract version: its handover and how its latest validation stands."""

    handover = serializers.IntegerField(source="handover_id", help_text="GET /api/v1/handovers/{id}/")
    url = serializers.SerializerMethodField(help_text="The handover in the API")
    model = ModelSummarySerializer(source="handover.model")
    version_label = serializers.CharField(source="handover.version_label")
    owner = serializers.CharField(source="handover.owner.username")
    state = serializers.ChoiceField(source="handover.state", choices=HandoverState.choices)
    filed_at = serializers.DateTimeField()
    validation = serializers.SerializerMethodField(
        help_text="The latest validation run of the candidate's current revision; null before submission"
    )

    @extend_schema_field(OpenApiTypes.URI)
    def get_url(self, candidate):
        url = reverse("api-handover-detail", args=[candidate.handover_id])
        request = self.context.get("request")
        return request.build_absolute_uri(url) if request else url

    @extend_schema_field(ValidationSummarySerializer(allow_null=True))
    def get_validation(self, candidate):
        return self.context.get("summaries", {}).get(candidate.handover_id)


class CandidateFiledSerializer(serializers.Serializer):
    id = serializers.IntegerField(help_text="The candidate's handover")
    url = serializers.URLField(
        help_text="The handover in the API: upload the model and predictions to "
        "its revision 1 (POST …/revisions/1/artifacts/), then POST …/submit/"
    )
    state = serializers.ChoiceField(choices=HandoverState.choices)
    version_label = serializers.CharField()


# The comparison (``contracts.figures``).


class CheckFigureSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=CheckStatus.choices)
    measured = serializers.FloatField(allow_null=True)
    limit = serializers.FloatField(allow_null=True, help_text="The minimum or maximum acceptable")
    unit = serializers.CharField()
    claimed = serializers.FloatField(allow_null=True)
    message = serializers.CharField()


class RunFigureSerializer(serializers.Serializer):
    id = serializers.IntegerField(help_text="GET /api/v1/validation-runs/{id}/ has every check")
    number = serializers.IntegerField()
    state = serializers.ChoiceField(choices=RunState.choices)


class CandidateFiguresSerializer(serializers.Serializer):
    handover = serializers.IntegerField()
    model = serializers.CharField()
    version_label = serializers.CharField()
    owner = serializers.CharField()
    owner_name = serializers.CharField()
    state = serializers.ChoiceField(choices=HandoverState.choices)
    filed_at = serializers.DateTimeField()
    run = RunFigureSerializer(allow_null=True, help_text="The latest run of its current revision")
    checks = serializers.DictField(
        child=CheckFigureSerializer(),
        help_text='Every check of that run keyed by check ("metric.accuracy", '
        '"model.parameters", "runtime.latency_p95_ms" …)',
    )


class CellSerializer(serializers.Serializer):
    handover = serializers.IntegerField()
    status = serializers.ChoiceField(
        choices=CheckStatus.choices,
        allow_null=True,
        help_text="Null: not measured (never validated, or no such check)",
    )
    measured = serializers.FloatField(allow_null=True)
    claimed = serializers.FloatField(allow_null=True)
    limit = serializers.FloatField(allow_null=True)
    message = serializers.CharField()
    best = serializers.BooleanField(help_text="Holds the row's best measured value")


class RowSerializer(serializers.Serializer):
    key = serializers.CharField(
        help_text='The check compared: "metric.<name>", "runtime.latency_p95_ms", '
        '"runtime.peak_memory_mb" or "model.parameters"'
    )
    label = serializers.CharField()
    unit = serializers.CharField()
    better = serializers.ChoiceField(choices=["higher", "lower"], help_text="higher or lower")
    minimum = serializers.FloatField(allow_null=True)
    maximum = serializers.FloatField(allow_null=True)
    required = serializers.BooleanField(help_text="The contract sets a bound on it")
    cells = CellSerializer(many=True, help_text="One per candidate, in the order of `candidates`")
    best = serializers.ListField(
        child=serializers.IntegerField(),
        help_text="Handovers holding the best measured value (ties: several)",
    )


class ComparisonSerializer(serializers.Serializer):
    contract = serializers.IntegerField()
    candidates = CandidateFiguresSerializer(many=True, help_text="In filing order")
    rows = RowSerializer(many=True)


class DiffTermSerializer(serializers.Serializer):
    name = serializers.CharField()
    old = serializers.JSONField(allow_null=True)
    new = serializers.JSONField(allow_null=True)


class BoundsSerializer(serializers.Serializer):
    minimum = serializers.FloatField(allow_null=True)
    maximum = serializers.FloatField(allow_null=True)


class DiffRequirementSerializer(serializers.Serializer):
    metric = serializers.ChoiceField(choices=Metric.choices)
    old = BoundsSerializer(allow_null=True, help_text="Null: not required in the older version")
    new = BoundsSerializer(allow_null=True, help_text="Null: not required in the newer version")


class DiffFileSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=ContractArtifactKind.choices)
    old_sha256 = serializers.CharField(allow_null=True)
    new_sha256 = serializers.CharField(allow_null=True)


class DiffSerializer(serializers.Serializer):
    contract = serializers.IntegerField()
    against = serializers.IntegerField()
    terms = DiffTermSerializer(many=True, help_text="The title, blind flag and terms that differ")
    requirements = DiffRequirementSerializer(many=True, help_text="Requirements that differ")
    files = DiffFileSerializer(many=True, help_text="Files that differ, by sha256 (those you may see)")


# --- write ---------------------------------------------------------------------------------------------
#
# Text is read as sent (``trim_whitespace=False``): the services strip it. Bounds the services check
# on single values are stated in the schema too (``document``).


def _text(name, **kwargs):
    return serializers.CharField(
        required=False, allow_blank=True, trim_whitespace=False, max_length=TEXT_LIMITS[name], **kwargs
    )


class RequirementInputSerializer(InputSerializer):
    minimum = serializers.FloatField(required=False)
    maximum = serializers.FloatField(required=False)


@document(
    latency_p95_ms=POSITIVE,
    peak_memory_mb=POSITIVE,
    latency_batch_size={"minimum": 1, "maximum": WHOLE_LIMITS["latency_batch_size"]},
    max_parameter_count={"minimum": 1, "maximum": WHOLE_LIMITS["max_parameter_count"]},
    validation_row_count={"minimum": 1, "maximum": WHOLE_LIMITS["validation_row_count"]},
    fairness_max_gap=NOT_NEGATIVE,
    metric_tolerance={"minimum": 0, "maximum": 1, "exclusiveMaximum": True},
    requirements=requirements_schema(for_input=True),
    frameworks={"uniqueItems": True},
)
class ContractInputSerializer(InputSerializer):
    """A contract's title, blind flag, terms and requirements; on PATCH every field is optional and
    absent fields keep their value."""

    title = serializers.CharField(max_length=TITLE_LIMIT, trim_whitespace=False)
    labels_blind = serializers.BooleanField(
        required=False, help_text="Data scientists never see or download the labels, only measured figures"
    )
    task_type = serializers.ChoiceField(choices=TaskType.choices, required=False, allow_blank=True)
    positive_label = _text("positive_label", help_text='The positive class of a binary task; blank means "1"')
    frameworks = serializers.ListField(
        child=serializers.ChoiceField(choices=Framework.choices),
        required=False,
        help_text="Accepted frameworks; empty: any",
    )
    model_formats = serializers.ListField(
        child=serializers.ChoiceField(choices=list(MODEL_FORMATS)),
        required=False,
        help_text="Accepted model formats; empty: any",
    )
    latency_p95_ms = serializers.FloatField(
        required=False, allow_null=True, help_text="p95 latency budget in milliseconds (> 0)"
    )
    latency_batch_size = serializers.IntegerField(
        required=False, help_text="Batch size of the latency budget"
    )
    peak_memory_mb = serializers.FloatField(
        required=False, allow_null=True, help_text="Peak inference memory budget in MB (> 0)"
    )
    max_parameter_count = serializers.IntegerField(
        required=False, allow_null=True, help_text="Largest parameter count a candidate may have"
    )
    validation_description = _text("validation_description")
    validation_row_count = serializers.IntegerField(required=False, allow_null=True)
    fairness_slice_column = _text("fairness_slice_column")
    fairness_max_gap = serializers.FloatField(required=False, allow_null=True)
    fairness_metric = serializers.ChoiceField(choices=Metric.choices, required=False, allow_blank=True)
    intended_use = _text("intended_use", help_text="Markdown")
    limitations = _text("limitations", help_text="Markdown")
    metric_tolerance = serializers.FloatField(
        required=False, allow_null=True, help_text="Absolute tolerance for metric agreement (default 0.005)"
    )
    requirements = serializers.DictField(child=RequirementInputSerializer(), required=False)

    def split(self):
        """-> (title or None, labels_blind or None, terms, requirements or None) for the services."""
        data = dict(self.validated_data)
        title = data.pop("title", None)
        blind = data.pop("labels_blind", None)
        requirements = data.pop("requirements", None)
        if requirements is not None:
            requirements = [
                {"metric": metric, "minimum": bounds.get("minimum"), "maximum": bounds.get("maximum")}
                for metric, bounds in requirements.items()
            ]
        for name in ("frameworks", "model_formats"):
            if name in data:
                data[name] = ",".join(data[name])
        return title, blind, data, requirements


class ContractCreateSerializer(ContractInputSerializer):
    project = serializers.CharField(
        max_length=64, trim_whitespace=False, help_text="The project's slug (one of yours, else 404)"
    )


class ContractCommentInputSerializer(InputSerializer):
    body = serializers.CharField(
        max_length=COMMENT_LIMIT,
        trim_whitespace=False,
        help_text="Markdown. `@username` tells that member of the project; a name that is no one's refuses "
        "the comment (400 on `body`); someone off the project is not told (`not_notified`).",
    )


class CloseInputSerializer(InputSerializer):
    reason = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=2000,
        trim_whitespace=False,
        help_text="Why, kept in the audit trail",
    )


@document(file={"minLength": 1})  # an empty file is refused (by the service, with its message)
class ContractArtifactUploadSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=ContractArtifactKind.choices)
    file = serializers.FileField(allow_empty_file=True, use_url=False)


@document(
    claims={
        "type": "object",
        "additionalProperties": False,
        "properties": {m.value: {"type": "number", **_bounds(m)} for m in Metric},
    }
)
class CandidateInputSerializer(InputSerializer):
    model = serializers.IntegerField(
        min_value=1,
        max_value=BIGGEST_ID,
        help_text="A registered model of the contract's project (POST /api/v1/models/)",
    )
    version_label = serializers.CharField(
        max_length=VERSION_LABEL_LIMIT,
        trim_whitespace=False,
        help_text='The model version filed, e.g. "1.0.0"',
    )
    framework = serializers.ChoiceField(
        choices=Framework.choices, help_text="One of the contract's accepted frameworks"
    )
    framework_version = _text("framework_version")
    parameter_count = serializers.IntegerField(
        required=False,
        allow_null=True,
        min_value=1,
        max_value=WHOLE_LIMITS["parameter_count"],
        help_text="Claimed parameter count, checked by validation",
    )
    claims = serializers.DictField(
        child=serializers.FloatField(),
        required=False,
        help_text="Claimed values of required metrics, {metric: value}; checked too",
    )


class SelectInputSerializer(InputSerializer):
    comment = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        trim_whitespace=False,
        max_length=COMMENT_LIMIT,
        help_text="Why this one: told to the owners of the others",
    )
