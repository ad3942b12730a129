"""A deployment's lifecycle: active until it is rolled back or retired."""

from handoff.access import Action
from handoff.core.lifecycle import Lifecycle

from .models import DeploymentStatus as S

DEPLOYMENT = Lifecycle("deployment", {
    "rollback": ({S.ACTIVE}, S.ROLLED_BACK, Action.DEPLOY, "roll back this deployment"),
    "retire": ({S.ACTIVE}, S.RETIRED, Action.DEPLOY, "retire this deployment"),
}, state_field="status")
