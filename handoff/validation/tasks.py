"""Celery tasks of validation: doorbells. Each carries a run's id; the run
row and ``services`` decide whether there is work to do."""

from celery import shared_task
from celery.signals import worker_ready

from handoff.core.tasks import worker_identity

from . import services


@shared_task(bind=True)
def run_validation(self, run_id):
    """Work validation run ``run_id`` if it still needs a worker (idempotent:
    a redelivered or repeated task finds it claimed or finished)."""
    return services.work_run(run_id, worker=worker_identity(self))


@shared_task
def sweep_validation_runs():
    """Periodic (Celery beat): re-enqueue forgotten or orphaned runs, end the hopeless ones."""
    return services.sweep()


@worker_ready.connect
def _sweep_when_a_worker_starts(sender=None, **kwargs):
    # A worker that starts after one was killed picks up its runs at once,
    # without waiting for beat.
    sweep_validation_runs.delay()
