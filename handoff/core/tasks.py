from celery import shared_task

from handoff.audit.services import record


@shared_task
def probe(note="worker probe"):
    """Write one audit event: proves a worker can reach the database.

    Used by the health page's deep check and by the worker fixture's test."""
    event = record(None, "worker.probe", None, note=note)
    return event.pk
