from django.apps import AppConfig


class IncidentsConfig(AppConfig):
    name = "handoff.incidents"
    label = "incidents"

    def ready(self):
        from . import notices, receivers  # noqa: F401 - registers for deployments' metric batches

        notices.register_kinds()
