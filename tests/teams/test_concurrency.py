"""Two people managing the same membership at the same moment, through the
project page's real concurrent requests against PostgreSQL: the first to lock
the membership wins, the second is told what happened (``tests/race.py``
proves the two overlapped)."""

import pytest

from handoff.teams.models import Role, RoleAssignment
from tests.factories import ProjectFactory, UserFactory, member
from tests.race import page_session, race

pytestmark = pytest.mark.postgres


@pytest.fixture
def membership(postgres, live_server):
    project = ProjectFactory(name="Churn")
    dora = member(project, Role.DATA_ENGINEER, username="dora", first_name="Dora", last_name="Lane")
    admin = UserFactory(username="root", is_superuser=True, is_staff=True)
    sessions = page_session(project.team.leader), page_session(admin)
    assignment = RoleAssignment.objects.get(user=dora, project=project)
    base = f"{live_server.url}/projects/{project.slug}/members/{assignment.pk}"
    yield project, assignment, base, sessions
    for session in sessions:
        session.close()


def test_a_role_change_made_while_the_member_is_removed_says_they_were_removed(membership):
    project, assignment, base, (leader, admin) = membership
    result = race(
        lambda: leader.post(f"{base}/remove/", timeout=60),
        lambda: admin.post(f"{base}/", data={"role": Role.PRODUCT_MANAGER}, timeout=60),
    )
    assert (result.first.status, result.second.status) == (200, 200), result  # both land on the page
    assert "Dora Lane was removed from Churn." in result.first.body
    assert "removed from the project a moment ago" in result.second.body
    assert not RoleAssignment.objects.filter(pk=assignment.pk).exists()


def test_a_removal_made_while_the_role_changes_removes_the_member_once(membership):
    project, assignment, base, (leader, admin) = membership
    result = race(
        lambda: admin.post(f"{base}/", data={"role": Role.PRODUCT_MANAGER}, timeout=60),
        lambda: leader.post(f"{base}/remove/", timeout=60),
    )
    assert "is now Product manager on Churn" in result.first.body
    assert "was removed from Churn" in result.second.body
    from handoff.audit.models import AuditEvent
    assert list(AuditEvent.objects.filter(verb__startswith="member.", details__user="dora")
                .order_by("pk").values_list("verb", flat=True)) == ["member.role_changed", "member.removed"]
