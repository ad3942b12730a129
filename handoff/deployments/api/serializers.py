import math
import re

from django.conf import settings
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from handoff.core.api import InputSerializer
from handoff.core.errors import DomainError
from handoff.core.schema import document
from handoff.handovers.models import Handover

from ..models import Deployment, Environment, IngestionToken, MetricObservation, ProductionMetric
from ..services import MAX_NOTES, MAX_OBSERVATIONS, MONEY_FIELDS, clean_money


class Username(serializers.SlugRelatedField):
    def __init__(self, **kwargs):
        super().__init__(slug_field="username", read_only=True, **kwargs)


class DeploymentSerializer(serializers.ModelSerializer):
    project = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    model = serializers.CharField(source="handover.model.name", read_only=True)
    version_label = serializers.CharField(source="handover.version_label", read_only=True)
    revision = serializers.IntegerField(source="revision.number", read_only=True,
                                        help_text="The signed revision this deployment is held to.")
    deployed_by = Username()
    ended_by = Username(allow_null=True)
    monthly_value = serializers.DecimalField(
        max_digits=14, decimal_places=2, read_only=True, allow_null=True,
        help_text="What it brings in a month, in the installation's currency (`currency`); "
                  "null until recorded.")
    monthly_cost = serializers.DecimalField(
        max_digits=14, decimal_places=2, read_only=True, allow_null=True,
        help_text="What it costs to run a month, in `currency`; null until recorded.")
    currency = serializers.SerializerMethodField(help_text="ISO 4217 code of monthly_value and monthly_cost.")
    value_set_by = Username(allow_null=True, help_text="Who last recorded the value or cost.")
    business_metric_name = serializers.CharField(
        read_only=True, help_text="What its `business` observations measure; empty when not named.")

    class Meta:
        model = Deployment
        fields = ["id", "project", "handover", "model", "version_label", "revision", "environment",
                  "traffic_share", "status", "deployed_at", "deployed_by", "ended_at", "ended_by", "notes",
                  "monthly_value", "monthly_cost", "currency", "value_set_by", "value_set_at",
                  "business_metric_name"]
        read_only_fields = fields

    def get_currency(self, deployment) -> str:
        return settings.HANDOFF_CURRENCY


@document(traffic_share={"minimum": 0, "maximum": 100}, handover={"minimum": 1, "maximum": 2**63 - 1})
class DeploymentCreateSerializer(InputSerializer):
    handover = serializers.IntegerField(help_text="The accepted (or deployed) handover to deploy.")
    environment = serializers.ChoiceField(choices=Environment.choices)
    traffic_share = serializers.IntegerField(
        required=False, default=100, min_value=0, max_value=100,
        help_text="Percent of the environment's traffic it serves. The active deployments of one model "
                  "in one environment serve at most 100 % together.")
    deployed_at = serializers.DateTimeField(
        required=False, allow_null=True, default=None,
        help_text="When it went live; now when absent. Not in the future.")
    notes = serializers.CharField(required=False, default="", allow_blank=True, max_length=MAX_NOTES)


# An amount as the API takes it: a string of digits with at most 2 after the point (money is
# never a JSON number, which a client may round on the way), or null.
AMOUNT_PATTERN = r"^[0-9]{1,12}(\.[0-9]{1,2})?$"


@extend_schema_field({"type": "string", "pattern": AMOUNT_PATTERN, "nullable": True,
                      "example": "12500.50"})
class AmountField(serializers.Field):
    """A monthly amount: the service's own message for a negative, too large
    or too precise one; any other text or a number is refused as not an amount."""

    def __init__(self, field, **kwargs):
        self.field_name_in_service = field
        self.what = MONEY_FIELDS[field]
        super().__init__(required=False, allow_null=True, **kwargs)

    def to_internal_value(self, data):
        if isinstance(data, str) and re.fullmatch(AMOUNT_PATTERN, data):
            return clean_money(self.field_name_in_service, data)
        if isinstance(data, str):
            try:
                clean_money(self.field_name_in_service, data)
            except DomainError as error:
                raise serializers.ValidationError(error.message) from None
        raise serializers.ValidationError(
            f"Give the {self.what} as a string of digits with at most 2 after the point, such as "
            "\"12500.50\" (or null to clear it).")

    def to_representation(self, value):  # pragma: no cover - input only
        return None if value is None else str(value)


def _amount(field):
    return AmountField(field, help_text=(
        f"The {MONEY_FIELDS[field]} in the installation's currency, such as \"12500.50\" (at most "
        "999999999999.99); null clears it; left out, it stays as it is."))


class ValueInputSerializer(InputSerializer):
    monthly_value = _amount("monthly_value")
    monthly_cost = _amount("monthly_cost")
    business_metric_name = serializers.CharField(
        required=False, allow_blank=True,
        max_length=Deployment._meta.get_field("business_metric_name").max_length,
        help_text="What monitoring's `business` observations measure, such as "
                  "\"Approved revenue, € per hour\"; left out, it stays as it is.")


@document(handover={"minimum": 1, "maximum": 2**63 - 1})
class HandoverRefSerializer(InputSerializer):
    handover = serializers.IntegerField(help_text="The handover's id.")


class RetiredHandoverSerializer(serializers.ModelSerializer):
    class Meta:
        model = Handover
        fields = ["id", "state"]
        read_only_fields = fields


class RollbackSerializer(InputSerializer):
    reason = serializers.CharField(required=False, default="", allow_blank=True, max_length=MAX_NOTES,
                                   help_text="Why it was rolled back (kept in the audit log).")


class AwareDateTimeField(serializers.DateTimeField):
    """An ISO 8601 time that says its time zone: monitoring's clock and ours
    may be anywhere, and a naive time would be read in ours."""

    default_error_messages = {"naive": "Give the time with its time zone, such as 2026-01-31T12:00:00Z."}

    def to_internal_value(self, value):
        if isinstance(value, str):
            try:
                parsed = parse_datetime(value.strip()) if value.strip() else None
            except ValueError:  # well formed, but no such time (minute 60): the parent says it is invalid
                parsed = None
            if parsed is not None and timezone.is_naive(parsed):
                self.fail("naive")
        return super().to_internal_value(value)


@document(sample_size={"minimum": 1, "maximum": 2**31 - 1})
class ObservationInputSerializer(InputSerializer):
    metric = serializers.ChoiceField(choices=ProductionMetric.choices)
    value = serializers.FloatField(help_text="A finite number.")
    window_start = AwareDateTimeField(help_text="Start of the window of traffic measured, with its zone.")
    window_end = AwareDateTimeField(help_text="End of the window; not before its start.")
    sample_size = serializers.IntegerField(required=False, allow_null=True, min_value=1, max_value=2**31 - 1,
                                           help_text="How many predictions the value is measured on.")

    def validate_value(self, value):
        if not math.isfinite(value):
            raise serializers.ValidationError("Give the value as a finite number.")
        return value

    def validate(self, data):
        if data["window_start"] > data["window_end"]:
            raise serializers.ValidationError({"window_end": ["The window ends before it starts."]})
        return data


@document(observations={"minItems": 1, "maxItems": MAX_OBSERVATIONS})
class MetricsInputSerializer(InputSerializer):
    observations = ObservationInputSerializer(
        many=True, allow_empty=False, max_length=MAX_OBSERVATIONS,
        help_text=f"1 to {MAX_OBSERVATIONS} observations, stored all or nothing.")


def flat_errors(errors, prefix=""):
    """DRF's nested errors keyed by a path such as ``observations[3].metric``,
    so that a 400 names the very field at fault."""
    flat = {}
    if isinstance(errors, dict):
        for key, value in errors.items():
            if isinstance(key, int):  # a list's errors, by index of the item at fault
                name = f"{prefix}[{key}]"
            elif key == "non_field_errors" and prefix:
                name = prefix
            else:
                name = f"{prefix}.{key}" if prefix else key
            flat.update(flat_errors(value, name))
    elif isinstance(errors, list) and errors and all(isinstance(e, dict | list) for e in errors):
        for index, value in enumerate(errors):
            if value:
                flat.update(flat_errors(value, f"{prefix}[{index}]"))
    else:
        messages = errors if isinstance(errors, list) else [errors]
        flat[prefix or "non_field_errors"] = [str(message) for message in messages]
    return flat


class MetricsStoredSerializer(serializers.Serializer):
    stored = serializers.IntegerField(help_text="Observations stored.")
    batch = serializers.IntegerField(help_text="The id of the batch they were stored in.")


class ObservationSerializer(serializers.ModelSerializer):
    batch = serializers.IntegerField(source="batch_id", read_only=True)

    class Meta:
        model = MetricObservation
        fields = ["id", "metric", "value", "window_start", "window_end", "sample_size", "batch"]
        read_only_fields = fields


class IngestionTokenSerializer(serializers.ModelSerializer):
    project = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    created_by = Username()
    revoked_by = Username(allow_null=True)
    active = serializers.BooleanField(source="is_active", read_only=True)

    class Meta:
        model = IngestionToken
        fields = ["id", "project", "name", "prefix", "active", "created_by", "created_at", "last_used_at",
                  "revoked_at", "revoked_by"]
        read_only_fields = fields


class IngestionTokenCreatedSerializer(IngestionTokenSerializer):
    secret = serializers.CharField(read_only=True, help_text=(
        "The token, to send as 'Authorization: Bearer <secret>'. Shown in this answer only: keep it now."))

    class Meta(IngestionTokenSerializer.Meta):
        fields = [*IngestionTokenSerializer.Meta.fields, "secret"]
        read_only_fields = fields


class IngestionTokenInputSerializer(InputSerializer):
    project = serializers.CharField(help_text="The project's slug.", max_length=200)
    name = serializers.CharField(max_length=IngestionToken._meta.get_field("name").max_length,
                                 help_text="What will post with it, such as “Prometheus exporter”.")
