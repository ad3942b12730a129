from django.apps import AppConfig


class DashboardsConfig(AppConfig):
    """Team dashboards and each person's home page: reads every app below, writes nothing of theirs."""

    name = "handoff.dashboards"
    label = "dashboards"

    def ready(self):
        from . import receivers  # noqa: F401 - drops cached figures when what they count changes
