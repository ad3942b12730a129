from django.apps import AppConfig


class ContractsConfig(AppConfig):
    name = "handoff.contracts"
    label = "contracts"
    verbose_name = "Agreed contracts and candidates"

    def ready(self):
        from . import notices

        notices.register_kinds()
