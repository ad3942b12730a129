from django.apps import AppConfig


class DashboardsConfig(AppConfig):
    """Team dashboards and each person's home page: reads every app below, writes nothing of theirs."""

    name = "handoff.dashboards"
    label = "dashboards"
