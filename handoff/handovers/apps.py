from django.apps import AppConfig


class HandoversConfig(AppConfig):
    name = "handoff.handovers"
    label = "handovers"
