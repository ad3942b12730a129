"""Every list reads its rows in the order an index keeps them.

Each list query below, as its selector builds it, is planned by PostgreSQL with
sequential scans and sorts priced out of reach (``enable_seqscan``,
``enable_sort`` off): the plan must then name the index the migrations add for
that list's order and filter. Without the index the planner has to sort, and
the plan names another index or none."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from handoff.contracts import selectors as contract_selectors
from handoff.deployments import selectors as deployment_selectors
from handoff.handovers import selectors as handover_selectors
from handoff.handovers.models import HandoverState
from handoff.incidents import selectors as incident_selectors
from handoff.incidents.models import ACTIVE_STATUSES
from handoff.notifications import webhooks
from handoff.teams.models import Role
from handoff.validation import selectors as validation_selectors
from tests.factories import (
    AuditEventFactory,
    HandoverFactory,
    IncidentFactory,
    ModelFactory,
    ProjectFactory,
    RevisionFactory,
    ValidationRunFactory,
    draft_contract,
    member,
)

pytestmark = pytest.mark.skipif(connection.vendor != "postgresql", reason="reads PostgreSQL's plans")


@pytest.fixture
def world(db):
    project = ProjectFactory()
    scientist = member(project, Role.DATA_SCIENTIST)
    engineer = member(project, Role.ML_ENGINEER)
    model = ModelFactory(project=project, owner=scientist)
    for n in range(3):
        handover = HandoverFactory(model=model, reviewer=engineer, state=HandoverState.AWAITING_REVIEW,
                                   awaiting_review_since=timezone.now())
        revision = RevisionFactory(handover=handover, number=1)
        ValidationRunFactory(revision=revision, number=1)
        AuditEventFactory(project=project, details={"handover": handover.pk, "revision": 1})
        IncidentFactory(project=project, title=f"Drift {n}")
    draft_contract(project, engineer)
    return project, scientist, engineer, handover


def plan_of(queryset=None, *, run=None):
    """PostgreSQL's plan of ``queryset`` (or of the last query ``run()`` sends), with
    sequential scans and sorts disabled."""
    if queryset is not None:
        sql, params = queryset.query.sql_with_params()
    else:
        with CaptureQueriesContext(connection) as context:
            run()
        sql, params = context.captured_queries[-1]["sql"], None
    with connection.cursor() as cursor:
        cursor.execute("SET enable_seqscan = off")
        cursor.execute("SET enable_sort = off")
        try:
            cursor.execute("EXPLAIN " + sql, params)
            return "\n".join(row[0] for row in cursor.fetchall())
        finally:
            cursor.execute("RESET enable_seqscan")
            cursor.execute("RESET enable_sort")


LISTS = {
    "handovers list (default order)": (
        "handover_recent_idx",
        lambda p, s, e, h: handover_selectors.visible_handovers(s).order_by("-updated_at", "-id")[:25]),
    "handovers list of one project": (
        "handover_project_recent_idx",
        lambda p, s, e, h: handover_selectors.visible_handovers(s).filter(project=p)
        .order_by("-updated_at", "-id")[:25]),
    "my handovers (owner filter)": (
        "handover_owner_recent_idx", lambda p, s, e, h: handover_selectors.my_handovers(s)[:25]),
    "reviewer filter": (
        "handover_reviewer_recent_idx",
        lambda p, s, e, h: handover_selectors.visible_handovers(s).filter(reviewer=e)
        .order_by("-updated_at", "-id")[:25]),
    "review queue": ("handover_review_queue_idx", lambda p, s, e, h: handover_selectors.review_queue(e)[:25]),
    "triage queue (being worked)": (
        "incident_active_queue_idx",
        lambda p, s, e, h: incident_selectors.triage_queue(e).filter(status__in=ACTIVE_STATUSES)[:25]),
    "validation runs (API)": (
        "validation_run_recent_idx", lambda p, s, e, h: validation_selectors.visible_runs(s)[:50]),
    "contracts list": (
        "contract_recent_idx", lambda p, s, e, h: contract_selectors.visible_contracts(s)[:25]),
    "deployments list": (
        "deployment_list_order", lambda p, s, e, h: deployment_selectors.visible_deployments(s)[:50]),
    "webhook delivery log": (
        "webhook_delivery_log_idx",
        lambda p, s, e, h: webhooks.deliveries_of(
            webhooks.create_webhook(p, url="https://93.184.215.14/hook", events=["handover.accepted"],
                                    created_by=e))[:25]),
}


@pytest.mark.parametrize("name", list(LISTS))
def test_list_is_read_in_the_order_of_its_index(world, name):
    index, build = LISTS[name]

    plan = plan_of(build(*world))

    assert index in plan, f"the {name} does not use {index}:\n{plan}"


def test_activity_trail_finds_its_events_by_index(world):
    project, scientist, engineer, handover = world

    plan = plan_of(run=lambda: handover_selectors.handover_activity(handover))

    assert "audit_event_handover_idx" in plan, plan
