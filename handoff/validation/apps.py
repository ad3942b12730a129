from django.apps import AppConfig


class ValidationConfig(AppConfig):
    name = "handoff.validation"
    label = "validation"

    def ready(self):
        # Validation sits above handovers: it registers for submitted revisions
        # instead of handovers importing it (STYLE.md, "The house as it grows").
        from handoff.core.metrics import register_collector
        from handoff.handovers import extensions
        from handoff.handovers.signals import validation_requested

        from . import metrics, selectors, services

        validation_requested.connect(services.on_validation_requested, dispatch_uid="validation.start_run")
        extensions.summaries["validation"] = selectors.summaries_by_handover_id
        register_collector(metrics.runs_by_state)
