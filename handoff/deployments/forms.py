"""Browser input -> cleaned values -> a service call. The services decide
what is allowed (the free traffic share, a time not in the future)."""

from django import forms
from django.conf import settings

from .models import Deployment, Environment, IngestionToken
from .services import MAX_NOTES


class PlainLabelsForm(forms.Form):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)


class DeployForm(PlainLabelsForm):
    environment = forms.ChoiceField(choices=Environment.choices, initial=Environment.STAGING)
    traffic_share = forms.IntegerField(
        label="Traffic share (%)", min_value=0, max_value=100, initial=100,
        help_text="Percent of the environment's traffic it serves; all versions of the model together serve "
                  "at most 100 %.")
    deployed_at = forms.DateTimeField(
        label="Deployed at", required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        help_text="Leave empty for now. Not in the future.")
    notes = forms.CharField(required=False, max_length=MAX_NOTES, widget=forms.Textarea(attrs={"rows": 2}))


class RollbackForm(PlainLabelsForm):
    reason = forms.CharField(required=False, max_length=MAX_NOTES, label="Why (optional)")


class TokenForm(PlainLabelsForm):
    name = forms.CharField(
        max_length=IngestionToken._meta.get_field("name").max_length,
        help_text="What will post with it, such as “Prometheus exporter”.")


def _amount(label):
    # No digit limits here: the service refuses a negative, too large or too precise amount with its
    # own message, the same in the browser and the API.
    return forms.DecimalField(
        label=label, required=False, min_value=None,
        error_messages={"invalid": f"Give the {label.lower()} as a number, such as 12500 or 12500.50."},
        widget=forms.NumberInput(attrs={"step": "0.01", "min": "0"}))


class ValueForm(PlainLabelsForm):
    """What a deployment is worth a month (its product manager or the team's leader)."""

    monthly_value = _amount("Monthly value")
    monthly_cost = _amount("Monthly cost")
    business_metric_name = forms.CharField(
        label="Business metric", required=False,
        max_length=Deployment._meta.get_field("business_metric_name").max_length,
        help_text="What monitoring's “business” observations measure, "
                  "such as “Approved revenue, € per hour”.")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        currency = settings.HANDOFF_CURRENCY
        for name in ("monthly_value", "monthly_cost"):
            self.fields[name].label = f"{self.fields[name].label} ({currency})"
        self.fields["monthly_value"].help_text = "What it brings in a month. Leave empty if not known."
        self.fields["monthly_cost"].help_text = "What it costs to run a month: serving, monitoring, people."

    @classmethod
    def of(cls, deployment):
        """The form filled with what is recorded now."""
        return cls(initial={"monthly_value": deployment.monthly_value,
                            "monthly_cost": deployment.monthly_cost,
                            "business_metric_name": deployment.business_metric_name})
