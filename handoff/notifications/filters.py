"""FilterSets of the notifications API."""

import django_filters

from .models import Notification


class NotificationFilter(django_filters.FilterSet):
    # A choice, not django-filter's BooleanFilter: that one reads "yes" or "maybe"
    # as no filter at all, where the API answers 400 naming the parameter.
    unread = django_filters.ChoiceFilter(
        choices=[("true", "true"), ("false", "false")], method="filter_unread",
        label="Only unread (true) or only read (false) notifications",
    )

    class Meta:
        model = Notification
        fields = ["unread"]

    def filter_unread(self, queryset, name, value):
        return queryset.filter(read_at__isnull=value == "true")
