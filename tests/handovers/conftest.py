import pytest

from handoff.teams.models import Role
from tests.factories import ProjectFactory, UserFactory, member, ready_draft


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
def other_engineer(project):
    return member(project, Role.ML_ENGINEER, username="emma")


@pytest.fixture
def manager(project):
    return member(project, Role.MANAGER, username="mona")


@pytest.fixture
def outsider(db):
    return UserFactory(username="otto")


@pytest.fixture
def draft(project, scientist):
    """(handover, revision 1) ready to submit."""
    return ready_draft(project=project, owner=scientist)
