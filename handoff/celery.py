"""The Celery application: Redis is the broker (the doorbell); rows in the
database carry the state of every piece of work."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "handoff.settings")

app = Celery("handoff", task_cls="celery.contrib.django.task:DjangoTask")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
