"""FilterSets for teams and projects, shared by pages and the API."""

import django_filters

from .models import Project, Stage, Team


class ProjectFilter(django_filters.FilterSet):
    team = django_filters.CharFilter(
        field_name="team__slug", label="Team slug", help_text="Only projects of the team with this slug."
    )
    stage = django_filters.ChoiceFilter(choices=Stage.choices, help_text="Only projects in this stage.")

    class Meta:
        model = Project
        fields = ["team", "stage"]


class TeamFilter(django_filters.FilterSet):
    leader = django_filters.CharFilter(
        field_name="leader__username", label="Leader username", help_text="Only teams led by this person."
    )

    class Meta:
        model = Team
        fields = ["leader"]
