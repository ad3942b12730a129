"""Two engineers deploying two versions of one model at the same moment,
through real concurrent HTTP requests against PostgreSQL: the model's row
lock puts the second after the first, which then sees the share the first
took (``tests/race.py`` proves the two overlapped)."""

import pytest

from handoff.deployments.models import Deployment
from handoff.teams.models import Role
from tests.factories import ProjectFactory, accepted_handover, api_token, member
from tests.race import api_session, race

pytestmark = pytest.mark.postgres


@pytest.fixture
def people(postgres, live_server):
    project = ProjectFactory()
    engineers = member(project, Role.ML_ENGINEER), member(project, Role.ML_ENGINEER)
    sessions = {user.pk: api_session(api_token(user)) for user in engineers}
    yield project, engineers, sessions
    for session in sessions.values():
        session.close()


def test_two_deploys_of_one_model_at_once_never_exceed_100_percent(people, live_server):
    project, (eli, emma), sessions = people
    first, _ = accepted_handover(project=project, reviewer=eli)
    second, _ = accepted_handover(model=first.model, reviewer=eli)

    def deploy(user, handover):
        body = {"handover": handover.pk, "environment": "production", "traffic_share": 60}
        return lambda: sessions[user.pk].post(f"{live_server.url}/api/v1/deployments/", json=body, timeout=60)

    result = race(deploy(eli, first), deploy(emma, second))

    assert (result.first.status, result.second.status) == (201, 409), result
    assert "Only 40 %" in result.second.detail
    assert list(Deployment.objects.values_list("handover_id", "traffic_share")) == [(first.pk, 60)]
