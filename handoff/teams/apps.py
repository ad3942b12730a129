from django.apps import AppConfig


class TeamsConfig(AppConfig):
    name = "handoff.teams"
    label = "teams"
