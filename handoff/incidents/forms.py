"""Browser input for incidents -> cleaned values -> a service call.

The forms only parse; the services decide (and their ``DomainError``, which
names its field, goes back on the form with ``add_service_error``)."""

from django import forms

from handoff import access
from handoff.access import Action
from handoff.handovers.models import Handover

from .models import RootCause, Severity


def _blank(label):
    return [("", f"— {label} —")]


class PlainForm(forms.Form):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)


def add_service_error(form, error):
    """Put a service's DomainError on the field it names (else on the form)."""
    form.add_error(error.field if error.field in form.fields else None, error.message)


class ResolveForm(PlainForm):
    root_cause = forms.ChoiceField(label="Root cause", choices=_blank("choose") + RootCause.choices)
    summary = forms.CharField(label="What was done", widget=forms.Textarea(attrs={"rows": 3}),
                              help_text="How it was resolved, for the owner and the postmortem.")


class CommentForm(PlainForm):
    body = forms.CharField(label="Comment", widget=forms.Textarea(attrs={"rows": 3}),
                           help_text="Markdown. @username tells that member of the project.")


class PostmortemForm(PlainForm):
    postmortem = forms.CharField(label="Postmortem", required=False,
                                 widget=forms.Textarea(attrs={"rows": 8}),
                                 help_text="Markdown: what happened, why, and what changes.")


class ActionItemForm(PlainForm):
    text = forms.CharField(label="New action item", max_length=300)


class FixForm(PlainForm):
    version_label = forms.CharField(label="Version label", max_length=64, help_text="For example 1.5.0")


class NewIncidentForm(PlainForm):
    project = forms.ModelChoiceField(queryset=None, empty_label="— choose a project —")
    title = forms.CharField(max_length=200)
    severity = forms.ChoiceField(choices=Severity.choices, initial=Severity.SEV3,
                                 help_text="SEV1: harm now, everyone on it; SEV4: a nuisance.")
    handover = forms.ModelChoiceField(label="Model version", queryset=None, required=False,
                                      empty_label="— none: not about one model —")
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 5}),
                                  help_text="Markdown: what you saw, where and since when.")

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        projects = access.projects_allowing(user, Action.REPORT_INCIDENT)
        self.fields["project"].queryset = projects.select_related("team").order_by("name")
        handovers = (Handover.objects.filter(project__in=projects.values("pk"))
                     .select_related("model", "project").order_by("project__name", "model__name", "id"))
        self.fields["handover"].queryset = handovers
        self.fields["handover"].label_from_instance = (
            lambda h: f"{h.project.name} · {h.model.name} {h.version_label}")

    def clean(self):
        data = super().clean()
        project, handover = data.get("project"), data.get("handover")
        if project and handover and handover.project_id != project.pk:
            self.add_error("handover",
                           f"That model version belongs to another project ({handover.project.name}).")
        return data
