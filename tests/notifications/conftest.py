import pytest
from django.utils import timezone

from handoff.handovers import notices
from handoff.handovers import services as handover_services
from handoff.handovers.models import ClaimedMetric, Handover, HandoverState, Revision
from handoff.teams.models import Role
from tests.factories import AuditEventFactory, ProjectFactory, member, ready_draft


@pytest.fixture
def project(db):
    return ProjectFactory()


@pytest.fixture
def scientist(project):
    return member(project, Role.DATA_SCIENTIST, username="dana", email="dana@example.org")


@pytest.fixture
def engineer(project):
    return member(project, Role.ML_ENGINEER, username="eli", email="eli@example.org")


@pytest.fixture
def failed_handover(project, scientist, django_capture_on_commit_callbacks):
    """A handover whose accuracy claim is false, submitted: validation fails and its owner is told."""
    handover, revision = ready_draft(project=project, owner=scientist)
    ClaimedMetric.objects.filter(revision=revision).update(claimed_value=0.970)
    with django_capture_on_commit_callbacks(execute=True):
        handover_services.submit_revision(scientist, revision)
    return handover


@pytest.fixture
def tell(project, engineer):
    """tell(handover, verb="handover.changes_requested") -> the owner's new notification, written
    by the handovers app's own notices from an audit event by the engineer."""

    def tell_(handover, verb="handover.changes_requested"):
        event = AuditEventFactory(project=project, actor=engineer, target=handover, verb=verb,
                                  details={"revision": 1})
        notices.announce(event, handover)
        return handover.owner.notifications.get(event=event)

    return tell_


def awaiting_review(project, owner):
    """(handover, revision 1), submitted and passed: awaiting an engineer's decision."""
    handover, revision = ready_draft(project=project, owner=owner)
    now = timezone.now()
    Revision.objects.filter(pk=revision.pk).update(submitted_at=now, submitted_by=owner)
    Handover.objects.filter(pk=handover.pk).update(state=HandoverState.AWAITING_REVIEW,
                                                   awaiting_review_since=now)
    return Handover.objects.get(pk=handover.pk), Revision.objects.get(pk=revision.pk)


@pytest.fixture
def awaiting(project, scientist):
    return awaiting_review(project, scientist)
