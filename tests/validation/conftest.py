import pytest

from handoff.teams.models import Role
from tests.factories import ProjectFactory, member, ready_draft


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
def draft(project, scientist):
    return ready_draft(project=project, owner=scientist)
