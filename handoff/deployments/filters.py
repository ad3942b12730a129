"""FilterSets for deployments, shared by pages and the API."""

import django_filters
from django.db.models import Q

from .models import Deployment, DeploymentStatus, Environment


def _project(queryset, name, value):
    """A project given by slug or by id (as the handovers' filter reads it)."""
    value = (value or "").strip()
    if not value:
        return queryset
    condition = Q(project__slug=value)
    if value.isascii() and value.isdigit() and int(value) <= 2**63 - 1:
        condition |= Q(project_id=int(value))
    return queryset.filter(condition)


def _handover(queryset, name, value):
    """A handover by id: anything else matches none (it names no handover)."""
    value = (value or "").strip()
    if not value:
        return queryset
    if value.isascii() and value.isdigit() and int(value) <= 2**63 - 1:
        return queryset.filter(handover_id=int(value))
    return queryset.none()


class DeploymentFilter(django_filters.FilterSet):
    project = django_filters.CharFilter(method=_project, label="Project (slug or id)")
    handover = django_filters.CharFilter(method=_handover, label="Handover (id)")
    environment = django_filters.ChoiceFilter(choices=Environment.choices, label="Environment")
    status = django_filters.MultipleChoiceFilter(choices=DeploymentStatus.choices, label="Status")

    class Meta:
        model = Deployment
        fields = ["project", "handover", "environment", "status"]
