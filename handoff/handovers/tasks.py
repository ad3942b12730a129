"""Celery tasks of handovers: thin, idempotent, they call services."""

from celery import shared_task

from . import services
from .models import Revision


@shared_task
def validate_revision(revision_id):
    """Validate a submitted revision and record the outcome.

    Until the validation engine lands every submitted revision passes. Running
    it twice changes nothing: ``record_validation_outcome`` ignores a revision
    whose handover has already left ``validating``."""
    revision = Revision.objects.select_related("handover").filter(pk=revision_id).first()
    if revision is None:
        return None
    services.record_validation_outcome(revision, passed=True)
    return revision.pk
