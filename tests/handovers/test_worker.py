import time

import pytest

from handoff.handovers import services
from handoff.handovers.models import Handover, HandoverState
from tests.factories import ready_draft

pytestmark = pytest.mark.worker


def test_submitted_revision_reaches_awaiting_review_through_the_real_worker(celery_worker):
    handover, revision = ready_draft()
    services.submit_revision(handover.owner, revision)
    assert Handover.objects.get(pk=handover.pk).state in {
        HandoverState.VALIDATING,
        HandoverState.AWAITING_REVIEW,
    }
    deadline = time.monotonic() + 30
    while Handover.objects.get(pk=handover.pk).state != HandoverState.AWAITING_REVIEW:
        assert time.monotonic() < deadline, f"the worker did not validate:\n{celery_worker.log()}"
        time.sleep(0.2)
