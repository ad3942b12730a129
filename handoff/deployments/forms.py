"""Browser input -> cleaned values -> a service call. The services decide
what is allowed (the free traffic share, a time not in the future)."""

from django import forms

from .models import Environment, IngestionToken
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
