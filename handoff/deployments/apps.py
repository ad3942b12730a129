from django.apps import AppConfig


class DeploymentsConfig(AppConfig):
    name = "handoff.deployments"
    label = "deployments"
