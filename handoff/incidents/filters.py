"""The FilterSet shared by the triage queue and the incidents API."""

import django_filters
from django import forms
from drf_spectacular.utils import extend_schema_field

from handoff.handovers.filters import _project_filter, _without_blanks

from .models import ACTIVE_STATUSES, Incident, IncidentStatus, Severity

# "active": every status still being worked (open to mitigated), the queue's default.
ACTIVE = "active"
STATUS_CHOICES = [(ACTIVE, "Being worked (open to mitigated)"), *IncidentStatus.choices]
ME, UNASSIGNED = "me", "none"
BIGGEST_ID = 2**63 - 1


@extend_schema_field({"type": "integer", "minimum": 1, "maximum": BIGGEST_ID})
class IdFilter(django_filters.Filter):
    """A row id: a whole number from 1 (anything else is a 400 naming the parameter)."""

    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", BIGGEST_ID)
        super().__init__(*args, **kwargs)


def _status_filter(queryset, name, values):
    statuses = set()
    for value in values:
        statuses |= set(ACTIVE_STATUSES) if value == ACTIVE else {value}
    return queryset.filter(status__in=statuses) if statuses else queryset


class IncidentFilter(django_filters.FilterSet):
    project = django_filters.CharFilter(method=_project_filter, label="Project (slug or id)")
    # distinct=False: the row's own column cannot repeat a row (DISTINCT sorted every match).
    severity = django_filters.MultipleChoiceFilter(choices=Severity.choices, label="Severity", distinct=False)
    status = django_filters.MultipleChoiceFilter(choices=STATUS_CHOICES, method=_status_filter,
                                                 label='Status ("active": open to mitigated)')
    assignee = django_filters.CharFilter(method="_assignee_filter",
                                         label='Assignee: a username, "me" or "none" (unassigned)')
    deployment = IdFilter(field_name="deployment_id", label="Deployment id")
    handover = IdFilter(field_name="handover_id", label="Handover id (the model version)")

    class Meta:
        model = Incident
        fields = ["project", "severity", "status", "assignee", "deployment", "handover"]

    # An empty value is no filter (below): the API schema lets a choice be "" (handoff.core.schema).
    blank_means_any = True

    def __init__(self, data=None, *args, default_status=None, **kwargs):
        if data is not None and hasattr(data, "lists"):
            # No ``status`` at all (not even the form's empty "any status"): the default applies.
            asked = "status" in data
            data = _without_blanks(data)
            if default_status and not asked:
                data.setlist("status", [default_status])
        super().__init__(data, *args, **kwargs)

    def _assignee_filter(self, queryset, name, value):
        value = value.strip()
        if value == UNASSIGNED:
            return queryset.filter(assignee__isnull=True)
        if value == ME:
            user = getattr(self.request, "user", None)
            return queryset.filter(assignee_id=getattr(user, "pk", None))
        return queryset.filter(assignee__username=value) if value else queryset
