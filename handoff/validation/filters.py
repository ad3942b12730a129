import django_filters
from django import forms
from drf_spectacular.utils import extend_schema_field

from .models import RunState, ValidationRun

BIGINT_MAX = 2**63 - 1
INT_MAX = 2**31 - 1


@extend_schema_field({"type": "integer", "minimum": 1, "maximum": BIGINT_MAX})
class IdFilter(django_filters.NumberFilter):
    """An object's id: a whole number the database can hold (NumberFilter took 0.5
    and let a number past the column's range reach the database)."""

    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs):
        super().__init__(*args, min_value=1, max_value=BIGINT_MAX, **kwargs)


@extend_schema_field({"type": "integer", "minimum": 1, "maximum": INT_MAX})
class WholeNumberFilter(IdFilter):
    def __init__(self, *args, **kwargs):
        django_filters.NumberFilter.__init__(self, *args, min_value=1, max_value=INT_MAX, **kwargs)


class ValidationRunFilter(django_filters.FilterSet):
    handover = IdFilter(field_name="revision__handover_id", label="Handover (id)")
    revision = WholeNumberFilter(field_name="revision__number", label="Revision number")
    # distinct=False: the run's own column cannot repeat a run (DISTINCT sorted every match).
    state = django_filters.MultipleChoiceFilter(choices=RunState.choices, label="State", distinct=False)

    class Meta:
        model = ValidationRun
        fields = ["handover", "revision", "state"]
