"""Browser input -> cleaned values -> a service call."""

from django import forms

from .models import ApiToken


class ApiTokenForm(forms.Form):
    name = forms.CharField(
        max_length=ApiToken._meta.get_field("name").max_length, label="Name",
        help_text="What will use it, such as “CI pipeline” or “my laptop”.")

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
