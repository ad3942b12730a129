from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "handoff.core"
    label = "core"

    def ready(self):
        # In every process: the web process publishes tasks with the request's id,
        # workers log it and count the tasks' outcomes (README, "Logs and metrics").
        from . import metrics, observability

        observability.connect_celery_signals()
        metrics.connect_celery_signals()
