import pytest

from handoff.teams.models import Role
from tests.factories import ProjectFactory, UserFactory, accepted_handover, member


@pytest.fixture
def project(db):
    return ProjectFactory()


@pytest.fixture
def scientist(project):
    return member(project, Role.DATA_SCIENTIST, username="dana")


@pytest.fixture
def engineer(project):
    return member(project, Role.ML_ENGINEER, username="eli")


@pytest.fixture
def outsider(db):
    return member(ProjectFactory(), Role.ML_ENGINEER, username="otto")


@pytest.fixture
def nobody(db):
    return UserFactory(username="nobody")


@pytest.fixture
def handover(project, scientist, engineer):
    """An accepted handover of Dana's model, signed by Eli."""
    return accepted_handover(project=project, owner=scientist, reviewer=engineer)[0]
