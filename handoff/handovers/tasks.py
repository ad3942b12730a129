"""Celery tasks of handovers: thin, idempotent, they call services."""

from celery import shared_task

from handoff.core.tasks import worker_identity

from . import services
from .models import Revision


@shared_task(bind=True)
def validate_revision(self, revision_id):
    """Validate a submitted revision and record the outcome.

    Until the validation engine lands every submitted revision passes. Running
    it twice changes nothing: ``record_validation_outcome`` ignores a revision
    whose handover has already left ``validating``. The outcome records which
    worker process decided it."""
    revision = Revision.objects.select_related("handover").filter(pk=revision_id).first()
    if revision is None:
        return None
    services.record_validation_outcome(revision, passed=True, worker=worker_identity(self))
    return revision.pk
