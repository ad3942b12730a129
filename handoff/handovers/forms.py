"""Browser input -> cleaned values -> a service call.

The forms only parse what the browser sends (numbers are numbers, a choice
is one of the choices, a metric row left blank is dropped). Whether the terms
make a valid contract is decided by ``contract.py``: ``check_contract`` asks it
up front so every error shows at once, the services ask again when they write,
and ``add_service_error`` puts either's errors back on the fields.
"""

from django import forms
from django.core.exceptions import ValidationError

from handoff import access
from handoff.access import Action

from . import contract
from .contract import MODEL_FORMATS, TERM_FIELDS
from .models import ArtifactKind, Framework, Metric, Model, TaskType

METRIC_ROWS = 6
# Service error keys that are named differently on the forms.
FIELD_ALIASES = {"name": "new_model_name", "claimed_metrics": "metrics"}


def _blank(label):
    return [("", f"— {label} —")]


class PlainLabelsForm(forms.Form):
    """Labels read "Project", not "Project:" (also what screen readers announce)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)


class TermsForm(PlainLabelsForm):
    """The contract terms of one revision (everything but claimed metrics)."""

    task_type = forms.ChoiceField(choices=_blank("choose") + TaskType.choices, required=False)
    positive_label = forms.CharField(
        label="Positive class", max_length=64, required=False,
        help_text="Binary tasks: the label counted as positive for precision, recall, F1 and ROC AUC "
                  "(blank means 1).",
    )
    framework = forms.ChoiceField(choices=_blank("choose") + Framework.choices, required=False)
    framework_version = forms.CharField(max_length=32, required=False, help_text="For example 1.5.2")
    latency_p95_ms = forms.FloatField(
        label="p95 latency budget (ms)", required=False,
        widget=forms.NumberInput(attrs={"step": "any"}),
    )
    latency_batch_size = forms.IntegerField(label="at batch size", initial=1, required=False)
    peak_memory_mb = forms.FloatField(
        label="Peak inference memory budget (MB)", required=False,
        widget=forms.NumberInput(attrs={"step": "any"}),
    )
    parameter_count = forms.IntegerField(label="Parameter count", required=False)
    max_parameter_count = forms.IntegerField(
        label="Largest parameter count allowed", required=False,
        help_text="A budget: validation fails when the model holds more.",
    )
    model_formats = forms.MultipleChoiceField(
        label="Accepted model formats", required=False, widget=forms.CheckboxSelectMultiple,
        choices=list(MODEL_FORMATS.items()), help_text="None ticked: any format.",
    )
    validation_description = forms.CharField(
        label="Validation set description", required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    validation_row_count = forms.IntegerField(label="Validation set row count", required=False)
    fairness_slice_column = forms.CharField(
        label="Fairness slice column", max_length=64, required=False,
        help_text="A column of the labels file; metrics are compared between its values.",
    )
    fairness_max_gap = forms.FloatField(
        label="Largest allowed gap between slices", required=False,
        widget=forms.NumberInput(attrs={"step": "any"}),
    )
    fairness_metric = forms.ChoiceField(
        label="Fairness metric", required=False,
        choices=[("", "— default: accuracy, or MAE for regression —")] + Metric.choices,
    )
    intended_use = forms.CharField(
        label="Intended use", required=False, widget=forms.Textarea(attrs={"rows": 5}),
        help_text="Markdown.",
    )
    limitations = forms.CharField(
        label="Limitations", required=False, widget=forms.Textarea(attrs={"rows": 5}),
        help_text="Markdown.",
    )
    metric_tolerance = forms.FloatField(
        label="Tolerance for metric agreement", initial=0.005, required=False,
        widget=forms.NumberInput(attrs={"step": "any"}),
        help_text="Largest absolute difference between a claimed and a measured metric.",
    )

    def __init__(self, *args, candidate=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.candidate = candidate
        if candidate:  # the agreed contract's requirements are shown, not edited
            for name in TERM_FIELDS:
                if name not in contract.CANDIDATE_FREE_TERMS and name in self.fields:
                    self.fields[name].disabled = True

    def terms(self):
        return {name: self.cleaned_data[name] for name in TERM_FIELDS}

    @staticmethod
    def initial_from(revision):
        initial = {name: getattr(revision, name) for name in TERM_FIELDS}
        initial["model_formats"] = [name for name in revision.model_formats.split(",") if name]
        return initial


class MetricRowForm(forms.Form):
    """One claimed metric; a row left blank is ignored."""

    metric = forms.ChoiceField(choices=_blank("metric") + Metric.choices, required=False)
    claimed_value = forms.FloatField(required=False, widget=forms.NumberInput(attrs={"step": "any"}))
    minimum = forms.FloatField(required=False, widget=forms.NumberInput(attrs={"step": "any"}))
    maximum = forms.FloatField(required=False, widget=forms.NumberInput(attrs={"step": "any"}))

    def claim(self):
        """The row as a claim for the services, or None when it was left blank."""
        row = {key: self.cleaned_data.get(key) for key in ("metric", "claimed_value", "minimum", "maximum")}
        if all(value in (None, "") for value in row.values()):
            return None
        return row


class BaseMetricFormSet(forms.BaseFormSet):
    def claims(self):
        return [claim for claim in (form.claim() for form in self.forms) if claim]


MetricFormSet = forms.formset_factory(
    MetricRowForm, formset=BaseMetricFormSet, extra=METRIC_ROWS, max_num=METRIC_ROWS,
    absolute_max=METRIC_ROWS,
)


def metric_formset(data=None, revision=None, *, candidate=False):
    """The claimed-metric rows; on a candidate only the claimed values are
    editable (the metrics and bounds are its contract's requirements)."""
    initial = []
    if revision is not None:
        initial = [
            {"metric": c.metric, "claimed_value": c.claimed_value, "minimum": c.minimum, "maximum": c.maximum}
            for c in revision.claimed_metrics.all()
        ]
    formset = MetricFormSet(data, initial=initial, prefix="metrics")
    formset.candidate = candidate
    if candidate:
        for row in formset.forms:
            for name in ("metric", "minimum", "maximum"):
                row.fields[name].disabled = True
    return formset


class NewHandoverForm(TermsForm):
    """Project, model (existing or new) and version, then the terms."""

    project = forms.ModelChoiceField(queryset=None, empty_label="— choose a project —")
    model = forms.ModelChoiceField(
        label="Existing model", queryset=None, required=False, empty_label="— none: register a new one —",
    )
    new_model_name = forms.CharField(
        label="or a new model named", max_length=120, required=False,
        help_text="Registers the model in the chosen project, owned by you.",
    )
    version_label = forms.CharField(label="Version label", max_length=64, help_text="For example 1.4.0")

    field_order = ["project", "model", "new_model_name", "version_label"]

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        projects = access.projects_allowing(user, Action.CREATE_HANDOVER)
        project_ids = list(projects.values_list("pk", flat=True))
        self.fields["project"].queryset = (
            access.visible_projects(user).filter(pk__in=project_ids).select_related("team")
        )
        models_qs = Model.objects.filter(project__in=project_ids).select_related("project")
        self.fields["model"].queryset = models_qs
        # Group the models under their project so the choice reads well without JS.
        groups = {}
        for model in models_qs.order_by("project__name", "name"):
            groups.setdefault(model.project.name, []).append((model.pk, model.name))
        self.fields["model"].choices = [("", self.fields["model"].empty_label), *groups.items()]

    def clean(self):
        data = super().clean()
        project, model, name = data.get("project"), data.get("model"), data.get("new_model_name", "").strip()
        if model and name:
            self.add_error("new_model_name", "Choose an existing model or name a new one, not both.")
        elif not model and not name and "model" not in self.errors:
            self.add_error("model", "Choose an existing model or name a new one below.")
        elif model and project and model.project_id != project.pk:
            self.add_error("model", f"{model.name} belongs to another project ({model.project.name}).")
        data["new_model_name"] = name
        return data


class ArtifactUploadForm(forms.Form):
    kind = forms.ChoiceField(choices=ArtifactKind.choices, widget=forms.HiddenInput)
    # An empty file reaches the service, which refuses it with a message that says so.
    file = forms.FileField(label="File", allow_empty_file=True)


class CommentForm(PlainLabelsForm):
    body = forms.CharField(
        label="Comment", widget=forms.Textarea(attrs={"rows": 4}), help_text="Markdown.",
        error_messages={"required": "Write something to comment."},
    )


class ReviewForm(PlainLabelsForm):
    comment = forms.CharField(
        label="Review comment", required=False, widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Required when you request changes: say what needs to change.",
    )


def check_contract(form, formset):
    """Ask ``contract`` about the terms and the claims together, so every
    error shows at once (the services ask again when they write). -> bool"""
    ok = True
    try:
        task_type = contract.clean_terms(form.terms()).get("task_type", "")
    except ValidationError as error:
        add_service_error(form, error, formset)
        task_type, ok = form.cleaned_data.get("task_type", ""), False
    if "task_type" not in form.errors:
        try:
            contract.clean_metrics(task_type, formset.claims(),
                                   requirement=getattr(formset, "candidate", False))
        except ValidationError as error:
            add_service_error(form, error, formset)
            ok = False
    return ok


def add_service_error(form, error, formset=None):
    """Put an error raised by a service on the field it names (or on the form).

    Services raise ``django.core.exceptions.ValidationError`` (field -> messages;
    claimed-metric messages sit on ``metrics`` with params {"index", "field"})
    or ``DomainError(message, field=...)``."""
    if isinstance(error, ValidationError):
        if hasattr(error, "error_dict"):
            for field, errors in error.error_dict.items():
                for one in errors:
                    _add_one(form, formset, field, one)
        else:
            for one in error.error_list:
                _add_one(form, formset, None, one)
    else:
        _add_one(form, formset, getattr(error, "field", None), error.message)


def _add_one(form, formset, field, error):
    message = " ".join(error.messages) if isinstance(error, ValidationError) else str(error)
    field = FIELD_ALIASES.get(field, field) if field else None
    if field in (None, "__all__", "non_field_errors"):
        form.add_error(None, message)
    elif field in form.fields:
        form.add_error(field, message)
    elif formset is not None and field == "metrics":
        _add_metric_error(formset, getattr(error, "params", None) or {}, message)
    else:
        form.add_error(None, message)


def _add_metric_error(formset, params, message):
    """``index`` counts the claims sent to the service (blank rows skipped):
    find the row on the page that held it."""
    rows = [row for row in formset.forms if row.claim()]
    index, row_field = params.get("index"), params.get("field")
    if isinstance(index, int) and 0 <= index < len(rows):
        rows[index].add_error(row_field if row_field in MetricRowForm.base_fields else "metric", message)
    else:
        formset.non_form_errors().append(message)
