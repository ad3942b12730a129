"""Browser input -> cleaned values -> a contracts service call.

The forms only parse what the browser sends; whether the terms make a valid
contract is decided by ``services.clean_contract_terms`` and
``handovers.contract`` when the service writes, and
``handovers.forms.add_service_error`` puts their errors back on the fields.
"""

from django import forms

from handoff import access
from handoff.access import Action
from handoff.handovers.contract import MODEL_FORMATS
from handoff.handovers.forms import PlainLabelsForm
from handoff.handovers.models import Framework, Metric, Model, TaskType

from .models import ContractArtifactKind

REQUIREMENT_ROWS = 6


def _blank(label):
    return [("", f"— {label} —")]


def _number(label, **kwargs):
    return forms.FloatField(label=label, required=False, widget=forms.NumberInput(attrs={"step": "any"}),
                            **kwargs)


class ContractForm(PlainLabelsForm):
    """A contract's title, project (on a new one), blind flag and terms."""

    title = forms.CharField(max_length=200, help_text="The use case the contract serves.")
    project = forms.ModelChoiceField(queryset=None, empty_label="— choose a project —")
    task_type = forms.ChoiceField(choices=_blank("choose") + TaskType.choices, required=False)
    positive_label = forms.CharField(
        label="Positive class", max_length=64, required=False,
        help_text="Binary tasks: the label counted as positive (blank means 1).",
    )
    frameworks = forms.MultipleChoiceField(
        label="Accepted frameworks", choices=Framework.choices, required=False,
        widget=forms.CheckboxSelectMultiple, help_text="None ticked: any framework.",
    )
    model_formats = forms.MultipleChoiceField(
        label="Accepted model formats", choices=list(MODEL_FORMATS.items()), required=False,
        widget=forms.CheckboxSelectMultiple, help_text="None ticked: any format.",
    )
    latency_p95_ms = _number("p95 latency budget (ms)")
    latency_batch_size = forms.IntegerField(label="at batch size", initial=1, required=False)
    peak_memory_mb = _number("Peak memory budget (MB)")
    max_parameter_count = forms.IntegerField(label="Largest parameter count", required=False)
    validation_description = forms.CharField(
        label="Validation set description", required=False, widget=forms.Textarea(attrs={"rows": 3}),
    )
    validation_row_count = forms.IntegerField(label="Validation set row count", required=False)
    fairness_slice_column = forms.CharField(label="Fairness slice column", max_length=64, required=False)
    fairness_max_gap = _number("Largest allowed gap between slices")
    fairness_metric = forms.ChoiceField(
        label="Fairness metric", required=False,
        choices=[("", "— default: accuracy, or MAE for regression —")] + Metric.choices,
    )
    intended_use = forms.CharField(label="Intended use", required=False,
                                   widget=forms.Textarea(attrs={"rows": 4}), help_text="Markdown.")
    limitations = forms.CharField(label="Limitations", required=False,
                                  widget=forms.Textarea(attrs={"rows": 4}), help_text="Markdown.")
    metric_tolerance = _number("Tolerance for metric agreement", initial=0.005,
                               help_text="Largest difference between a claimed and a measured metric.")
    labels_blind = forms.BooleanField(
        label="Hold the labels blind", required=False,
        help_text="Data scientists never see or download the labels, only their candidates' figures.",
    )

    TERMS = ("task_type", "positive_label", "frameworks", "model_formats", "latency_p95_ms",
             "latency_batch_size", "peak_memory_mb", "max_parameter_count", "validation_description",
             "validation_row_count", "fairness_slice_column", "fairness_max_gap", "fairness_metric",
             "intended_use", "limitations", "metric_tolerance")

    def __init__(self, *args, user, contract=None, **kwargs):
        super().__init__(*args, **kwargs)
        if contract is not None:
            del self.fields["project"]  # a contract stays in its project
        else:
            self.fields["project"].queryset = access.projects_allowing(user, Action.DRAFT_CONTRACT).order_by(
                "name"
            )

    def terms(self):
        data = dict((name, self.cleaned_data.get(name)) for name in self.TERMS)
        data["frameworks"] = list(data["frameworks"] or [])
        data["model_formats"] = list(data["model_formats"] or [])
        return data

    @classmethod
    def initial_from(cls, contract):
        initial = {name: getattr(contract, name) for name in cls.TERMS}
        initial.update(title=contract.title, labels_blind=contract.labels_blind,
                       frameworks=contract.framework_list, model_formats=contract.format_list)
        return initial


class RequirementRowForm(forms.Form):
    """One metric requirement; a row left blank is ignored."""

    metric = forms.ChoiceField(choices=_blank("metric") + Metric.choices, required=False)
    minimum = forms.FloatField(required=False, widget=forms.NumberInput(attrs={"step": "any"}))
    maximum = forms.FloatField(required=False, widget=forms.NumberInput(attrs={"step": "any"}))

    def claim(self):
        """The row for the services, or None when it was left blank (the name
        ``add_service_error`` looks for to find a row)."""
        row = {key: self.cleaned_data.get(key) for key in ("metric", "minimum", "maximum")}
        if all(value in (None, "") for value in row.values()):
            return None
        return row


class BaseRequirementFormSet(forms.BaseFormSet):
    def claims(self):
        return [row for row in (form.claim() for form in self.forms) if row]


RequirementFormSet = forms.formset_factory(
    RequirementRowForm, formset=BaseRequirementFormSet, extra=REQUIREMENT_ROWS, max_num=REQUIREMENT_ROWS,
    absolute_max=REQUIREMENT_ROWS,
)


def requirement_formset(data=None, contract=None):
    initial = []
    if contract is not None:
        initial = [{"metric": r.metric, "minimum": r.minimum, "maximum": r.maximum}
                   for r in contract.requirements.all()]
    return RequirementFormSet(data, initial=initial, prefix="requirements")


class ContractFileForm(forms.Form):
    kind = forms.ChoiceField(choices=ContractArtifactKind.choices, widget=forms.HiddenInput)
    # An empty file reaches the service, which refuses it with a message that says so.
    file = forms.FileField(label="File", allow_empty_file=True)


class CloseForm(PlainLabelsForm):
    reason = forms.CharField(label="Why close it (optional)", required=False, max_length=2000)


class CandidateForm(PlainLabelsForm):
    """A candidate of an agreed contract: a model (existing or new), its
    version, framework, parameter count and optional claimed values."""

    model = forms.ModelChoiceField(
        label="Existing model", queryset=None, required=False, empty_label="— none: register a new one —",
    )
    new_model_name = forms.CharField(label="or a new model named", max_length=120, required=False)
    version_label = forms.CharField(label="Version label", max_length=64, help_text="For example 1.4.0")
    framework = forms.ChoiceField()
    framework_version = forms.CharField(max_length=32, required=False, help_text="For example 1.5.2")
    parameter_count = forms.IntegerField(label="Claimed parameter count", required=False)

    def __init__(self, *args, contract, **kwargs):
        super().__init__(*args, **kwargs)
        self.contract = contract
        self.fields["model"].queryset = Model.objects.filter(project=contract.project).order_by("name")
        accepted = contract.framework_list or Framework.values
        self.fields["framework"].choices = _blank("choose") + [
            (value, label) for value, label in Framework.choices if value in accepted
        ]
        self.required_metrics = [(r.metric, r.get_metric_display()) for r in contract.requirements.all()]
        for metric, label in self.required_metrics:
            self.fields[f"claim_{metric}"] = forms.FloatField(
                label=f"Claimed {label} (optional)", required=False,
                widget=forms.NumberInput(attrs={"step": "any"}),
            )

    def clean(self):
        data = super().clean()
        model, name = data.get("model"), (data.get("new_model_name") or "").strip()
        if model and name:
            self.add_error("new_model_name", "Choose an existing model or name a new one, not both.")
        elif not model and not name and "model" not in self.errors:
            self.add_error("model", "Choose an existing model or name a new one below.")
        data["new_model_name"] = name
        return data

    def claim_fields(self):
        return [self[f"claim_{metric}"] for metric, _ in self.required_metrics]

    def claims(self):
        return {metric: self.cleaned_data[f"claim_{metric}"] for metric, _ in self.required_metrics
                if self.cleaned_data.get(f"claim_{metric}") is not None}


class SelectForm(PlainLabelsForm):
    comment = forms.CharField(
        label="Why this one (optional)", required=False, widget=forms.Textarea(attrs={"rows": 3}),
        help_text="The owners of the other candidates read it.",
    )
