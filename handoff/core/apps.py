from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "handoff.core"
    label = "core"
