"""FilterSets shared by handover pages and the API."""

import django_filters
from django.db.models import Q
from django.http import QueryDict

from .models import Handover, HandoverState, Model


def _project_filter(queryset, name, value):
    """A project given by slug or by id."""
    value = (value or "").strip()
    if not value:
        return queryset
    condition = Q(project__slug=value)
    # ASCII digits only ("²".isdigit() is true) and within a bigint.
    if value.isascii() and value.isdigit() and int(value) <= 2**63 - 1:
        condition |= Q(project_id=int(value))
    return queryset.filter(condition)


def _without_blanks(data):
    """The query without empty values: a form's "any" option sends ``state=``,
    which means no filter, not an invalid state."""
    kept = QueryDict(mutable=True)
    for key, values in data.lists():
        values = [value for value in values if value not in ("", None)]
        if values:
            kept.setlist(key, values)
    return kept


class HandoverFilter(django_filters.FilterSet):
    project = django_filters.CharFilter(method=_project_filter, label="Project (slug or id)")
    # distinct=False: a column of the row itself cannot repeat a row, and a
    # SELECT DISTINCT over every column made PostgreSQL sort the whole match.
    state = django_filters.MultipleChoiceFilter(choices=HandoverState.choices, label="State", distinct=False)
    owner = django_filters.CharFilter(field_name="owner__username", label="Owner (username)")
    reviewer = django_filters.CharFilter(field_name="reviewer__username", label="Reviewer (username)")

    class Meta:
        model = Handover
        fields = ["project", "state", "owner", "reviewer"]

    # An empty value is no filter (below): the API schema lets a choice be "" (handoff.core.schema).
    blank_means_any = True

    def __init__(self, data=None, *args, **kwargs):
        if data is not None and hasattr(data, "lists"):
            data = _without_blanks(data)
        super().__init__(data, *args, **kwargs)


class ModelFilter(django_filters.FilterSet):
    project = django_filters.CharFilter(method=_project_filter, label="Project (slug or id)")
    owner = django_filters.CharFilter(field_name="owner__username", label="Owner (username)")

    class Meta:
        model = Model
        fields = ["project", "owner"]
