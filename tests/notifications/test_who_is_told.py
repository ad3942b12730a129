"""Who hears of a validation verdict: the owner, and for a pass the project's
reviewers; nobody else on the project, nobody on another one."""

from handoff.handovers import services as handover_services
from handoff.notifications.models import Notification
from handoff.teams.models import Role
from tests.factories import ProjectFactory, member, ready_draft


def kinds_of(user):
    return list(Notification.objects.filter(recipient=user).values_list("kind", flat=True))


def test_a_pass_tells_the_owner_and_asks_the_projects_engineers_to_review(
    project, scientist, engineer, django_capture_on_commit_callbacks
):
    second_engineer = member(project, Role.ML_ENGINEER)
    data_engineer = member(project, Role.DATA_ENGINEER)
    elsewhere = member(ProjectFactory(), Role.ML_ENGINEER)
    handover, revision = ready_draft(project=project, owner=scientist)

    with django_capture_on_commit_callbacks(execute=True):
        handover_services.submit_revision(scientist, revision)

    assert kinds_of(scientist) == ["validation_passed"]
    assert kinds_of(engineer) == kinds_of(second_engineer) == ["awaiting_review"]
    review = Notification.objects.get(recipient=engineer)
    assert review.subject == f"{handover} (revision 1) awaits your review"
    assert review.url == f"/handovers/{handover.pk}/"
    assert kinds_of(data_engineer) == kinds_of(elsewhere) == []


def test_a_failure_tells_the_owner_only(project, scientist, engineer, failed_handover):
    [told] = Notification.objects.filter(recipient=scientist)
    assert told.kind == "validation_failed" and "metric.accuracy" in told.body
    assert kinds_of(engineer) == []
