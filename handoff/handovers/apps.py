from django.apps import AppConfig


class HandoversConfig(AppConfig):
    name = "handoff.handovers"
    label = "handovers"

    def ready(self):
        from . import notices

        notices.register_kinds()
