from django import forms

from .models import Role

ROLE_ERRORS = {
    "required": "Choose a role.",
    "invalid_choice": "“%(value)s” is not a role. Choose one from the list.",
}


class AddMemberForm(forms.Form):
    username = forms.CharField(
        label="Username",
        max_length=150,
        error_messages={"required": "Enter the username of the person to add."},
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "autocapitalize": "none", "spellcheck": "false"}
        ),
    )
    role = forms.ChoiceField(label="Role", choices=Role.choices, error_messages=ROLE_ERRORS)


class ChangeRoleForm(forms.Form):
    role = forms.ChoiceField(label="Role", choices=Role.choices, error_messages=ROLE_ERRORS)


class WebhookForm(forms.Form):
    """A new webhook: where to send and which events (the service checks both again)."""

    url = forms.CharField(
        label="URL", max_length=500, error_messages={"required": "Enter the URL the events are sent to."},
        widget=forms.URLInput(attrs={"autocomplete": "off", "spellcheck": "false",
                                     "placeholder": "https://hooks.slack.com/services/…"}),
    )
    events = forms.MultipleChoiceField(
        label="Events to send", widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Choose at least one event to send.",
                        "invalid_choice": "“%(value)s” is not an event a webhook can send."},
    )

    def __init__(self, *args, **kwargs):
        from handoff.notifications import webhooks

        super().__init__(*args, **kwargs)
        self.fields["events"].choices = list(webhooks.events().items())
