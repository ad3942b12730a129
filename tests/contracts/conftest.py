import pytest

from tests.factories import agreed_contract

# The people of a project, shared with the handover tests rather than repeated.
from tests.handovers.conftest import engineer, manager, other_engineer, outsider, project, scientist  # noqa: F401


@pytest.fixture
def contract(project, scientist, engineer):  # noqa: F811 - fixtures imported above
    """An agreed contract: accuracy and ROC AUC at least 0.95, at most 100 parameters."""
    return agreed_contract(project, scientist, engineer)


@pytest.fixture
def blind_contract(project, scientist, engineer):  # noqa: F811
    return agreed_contract(project, scientist, engineer, labels_blind=True, title="Blind screening")
