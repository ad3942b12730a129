import pytest

from handoff.audit.models import AuditEvent
from handoff.handovers import services
from handoff.handovers.models import Handover, HandoverState
from tests.factories import ready_draft
from tests.plugins.worker import assert_ran_in_worker
from tests.timing import wait_until

pytestmark = pytest.mark.worker


def test_submitted_revision_reaches_awaiting_review_through_the_real_worker(celery_worker):
    handover, revision = ready_draft()
    services.submit_revision(handover.owner, revision)
    assert Handover.objects.get(pk=handover.pk).state in {
        HandoverState.VALIDATING,
        HandoverState.AWAITING_REVIEW,
    }
    wait_until(
        lambda: Handover.objects.get(pk=handover.pk).state == HandoverState.AWAITING_REVIEW,
        "the worker to validate the revision", detail=celery_worker.log,
    )
    # Eager execution would reach the same state, but in this process.
    passed = AuditEvent.objects.get(verb="handover.validation_passed", details__handover=handover.pk)
    assert passed.details["revision"] == revision.number
    assert_ran_in_worker(passed.details.get("worker"), celery_worker)
