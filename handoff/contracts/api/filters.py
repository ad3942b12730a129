"""The API lists contracts by project (slug or id) and state, as the handovers API lists handovers."""

import django_filters

from handoff.handovers.filters import _project_filter, _without_blanks

from ..models import Contract, ContractState


class ContractFilter(django_filters.FilterSet):
    project = django_filters.CharFilter(method=_project_filter, label="Project (slug or id)")
    state = django_filters.MultipleChoiceFilter(choices=ContractState.choices, label="State")

    class Meta:
        model = Contract
        fields = ["project", "state"]

    # An empty value is no filter (below): the API schema lets a choice be "" (handoff.core.schema).
    blank_means_any = True

    def __init__(self, data=None, *args, **kwargs):
        if data is not None and hasattr(data, "lists"):
            data = _without_blanks(data)
        super().__init__(data, *args, **kwargs)
