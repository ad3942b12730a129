"""FilterSets shared by handover pages and the API."""

import django_filters
from django.db.models import Q

from .models import Handover, HandoverState, Model


def _project_filter(queryset, name, value):
    """A project given by slug or by id."""
    value = (value or "").strip()
    if not value:
        return queryset
    condition = Q(project__slug=value)
    if value.isdigit():
        condition |= Q(project_id=int(value))
    return queryset.filter(condition)


class HandoverFilter(django_filters.FilterSet):
    project = django_filters.CharFilter(method=_project_filter, label="Project (slug or id)")
    state = django_filters.MultipleChoiceFilter(choices=HandoverState.choices, label="State")
    owner = django_filters.CharFilter(field_name="owner__username", label="Owner (username)")
    reviewer = django_filters.CharFilter(field_name="reviewer__username", label="Reviewer (username)")

    class Meta:
        model = Handover
        fields = ["project", "state", "owner", "reviewer"]


class ModelFilter(django_filters.FilterSet):
    project = django_filters.CharFilter(method=_project_filter, label="Project (slug or id)")
    owner = django_filters.CharFilter(field_name="owner__username", label="Owner (username)")

    class Meta:
        model = Model
        fields = ["project", "owner"]
