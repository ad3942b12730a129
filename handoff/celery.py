"""The Celery application: Redis is the broker (the doorbell); rows in the
database carry the state of every piece of work."""

import os

from celery import Celery
from celery.signals import task_prerun

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "handoff.settings")

app = Celery("handoff", task_cls="celery.contrib.django.task:DjangoTask")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@task_prerun.connect
def _forget_content_type_ids(**kwargs):
    """A worker outlives changes to the content-type table (a migration, a
    test database flushed between tests); the ids it cached would then point
    at nothing. One small query per task re-reads them."""
    from django.contrib.contenttypes.models import ContentType

    ContentType.objects.clear_cache()
