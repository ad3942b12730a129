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
