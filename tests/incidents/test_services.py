"""The incident services: every move of the lifecycle from every state, who
may take it, bad input refused on its field with nothing changed, and the
timeline and audit trail every change leaves."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.utils import timezone

from handoff.audit.models import AuditEvent
from handoff.core.errors import Conflict, DomainError, Forbidden, NotFound
from handoff.handovers.models import Handover, HandoverState
from handoff.incidents import services
from handoff.incidents.lifecycle import ENTERED_AT, INCIDENT
from handoff.incidents.models import (
    ActionItem,
    EventKind,
    Incident,
    IncidentStatus,
    RootCause,
    Severity,
    TimelineEvent,
)
from handoff.teams.models import Role
from tests.factories import IncidentFactory, ProjectFactory, member

S = IncidentStatus
ARGS = {"resolve": {"root_cause": RootCause.DATA_DRIFT, "summary": "Retrained on May's data."}}
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def incident(deployment):
    return IncidentFactory(project=deployment.project, deployment=deployment, handover=deployment.handover,
                           revision=deployment.revision, severity=Severity.SEV2)


def fresh(incident):
    return Incident.objects.get(pk=incident.pk)


def trail(incident):
    """(timeline entries, audit events) of ``incident``: what a change must add to."""
    audits = AuditEvent.objects.filter(verb__startswith="incident.", target_id=str(incident.pk))
    return TimelineEvent.objects.filter(incident=incident).count(), audits.count()


def move(actor, incident, transition):
    return services.TRANSITION_SERVICES[transition](actor, incident, **ARGS.get(transition, {}))


# --- the lifecycle -------------------------------------------------------------------------------


ALLOWED = [(name, source) for name in INCIDENT for source in S if source in INCIDENT[name].sources]
REFUSED = [(name, source) for name in INCIDENT for source in S if source not in INCIDENT[name].sources]


@pytest.mark.parametrize(("transition", "source"), ALLOWED)
def test_an_allowed_move_changes_the_status_and_records_when(incident, engineer, transition, source):
    Incident.objects.filter(pk=incident.pk).update(status=source)
    with time_machine.travel(T0, tick=False):
        moved = move(engineer, fresh(incident), transition)
    target = INCIDENT[transition].target
    assert fresh(incident).status == moved.status == target
    if target in ENTERED_AT:
        assert getattr(fresh(incident), ENTERED_AT[target]) == T0
    event = incident.timeline.get()
    assert (event.kind, event.actor, event.details["source"], event.details["target"]) == (
        EventKind.STATUS, engineer, source, target)
    assert AuditEvent.objects.filter(verb=f"incident.{transition}", actor=engineer,
                                     target_id=str(incident.pk)).count() == 1


@pytest.mark.parametrize(("transition", "source"), REFUSED)
def test_a_move_the_lifecycle_does_not_allow_is_a_conflict_that_changes_nothing(incident, engineer,
                                                                                 transition, source):
    Incident.objects.filter(pk=incident.pk).update(status=source)
    before = Incident.objects.filter(pk=incident.pk).values().get()
    with pytest.raises(Conflict) as refused:
        move(engineer, fresh(incident), transition)
    label = dict(S.choices)[source].lower()
    assert f"Cannot {INCIDENT[transition].verb}: it is {label} now" in refused.value.message
    assert Incident.objects.filter(pk=incident.pk).values().get() == before
    assert trail(incident) == (0, 0)


def test_no_state_is_skipped_open_cannot_be_resolved_at_once(incident, engineer):
    with pytest.raises(Conflict, match="Cannot resolve this incident: it is open now"):
        services.resolve(engineer, incident, root_cause=RootCause.OTHER, summary="Fixed")
    assert fresh(incident).status == S.OPEN and fresh(incident).resolved_at is None


def test_reopening_keeps_the_first_acknowledgement_and_clears_the_resolution(incident, engineer):
    with time_machine.travel(T0, tick=False) as clock:
        for transition in ("acknowledge", "investigate", "mitigate", "resolve"):
            clock.shift(timedelta(minutes=10))
            incident = move(engineer, incident, transition)
        first_ack = fresh(incident).acknowledged_at
        clock.shift(timedelta(hours=1))
        services.reopen(engineer, incident, reason="It came back.")
        reopened = fresh(incident)
        assert (reopened.status, reopened.reopened_at, reopened.resolved_at) == (S.OPEN, timezone.now(), None)
        clock.shift(timedelta(minutes=5))
        services.acknowledge(engineer, incident)
    assert first_ack == T0 + timedelta(minutes=10)
    assert fresh(incident).acknowledged_at == first_ack


def test_reopen_is_refused_while_another_incident_is_worked_for_the_same_metric(deployment, engineer):
    done = IncidentFactory(project=deployment.project, deployment=deployment, metric="accuracy",
                           status=S.RESOLVED, resolved_at=timezone.now())
    IncidentFactory(project=deployment.project, deployment=deployment, metric="accuracy", status=S.OPEN)
    with pytest.raises(Conflict, match="Another incident is being worked for this deployment's metric"):
        services.reopen(engineer, done)
    assert fresh(done).status == S.RESOLVED and fresh(done).reopened_at is None
    assert trail(done) == (0, 0)


# --- who may -------------------------------------------------------------------------------------


def test_an_engineer_of_another_project_cannot_acknowledge_it_not_found(incident):
    stranger = member(ProjectFactory(), Role.ML_ENGINEER)
    with pytest.raises(NotFound):
        services.acknowledge(stranger, incident)
    assert fresh(incident).status == S.OPEN and trail(incident) == (0, 0)


def test_a_data_scientist_of_the_project_cannot_acknowledge_it_forbidden(incident, scientist):
    with pytest.raises(Forbidden):
        services.acknowledge(scientist, incident)
    assert fresh(incident).status == S.OPEN and trail(incident) == (0, 0)


@pytest.mark.parametrize("role", [Role.MANAGER, Role.PRODUCT_MANAGER, Role.DATA_SCIENTIST,
                                  Role.DATA_ENGINEER, Role.ML_ENGINEER])
def test_anyone_on_the_project_opens_an_incident_by_hand(project, deployment, role):
    person = member(project, role)
    incident = services.open_incident(person, project, title="Scores look off", severity="sev3",
                                      deployment=deployment)
    assert (incident.reporter, incident.owner, incident.revision) == (
        person, deployment.handover.model.owner, deployment.revision)
    assert list(incident.timeline.values_list("kind", flat=True)) == [EventKind.OPENED]
    assert AuditEvent.objects.filter(verb="incident.opened", actor=person).count() == 1


def test_an_outsider_cannot_open_an_incident_on_the_project(project):
    outsider = member(ProjectFactory(), Role.ML_ENGINEER)
    with pytest.raises(NotFound):
        services.open_incident(outsider, project, title="Scores look off", severity="sev3")
    assert not Incident.objects.exists()


def test_a_deployment_of_another_project_is_out_of_reach_when_opening(project, engineer):
    other = ProjectFactory()
    from handoff.deployments.models import Deployment
    from tests.factories import signed_handover

    handover, revision = signed_handover(other)
    theirs = Deployment.objects.create(project=other, handover=handover, revision=revision,
                                       environment="production", deployed_at=timezone.now(),
                                       deployed_by=handover.reviewer)
    with pytest.raises(NotFound):
        services.open_incident(engineer, project, title="Theirs", severity="sev3", deployment=theirs)
    assert not Incident.objects.exists()


def test_it_is_assigned_to_another_ml_engineer_of_the_project(incident, engineer, project):
    colleague = member(project, Role.ML_ENGINEER)
    services.assign(engineer, incident, colleague)
    assert fresh(incident).assignee == colleague
    assert incident.timeline.get().details == {"assignee": colleague.username, "previous": None}


@pytest.mark.parametrize("who", ["data scientist of the project", "engineer of another project"])
def test_it_is_not_assigned_to_someone_who_cannot_triage_it(incident, engineer, scientist, who):
    assignee = scientist if who.startswith("data") else member(ProjectFactory(), Role.ML_ENGINEER)
    with pytest.raises(DomainError) as refused:
        services.assign(engineer, incident, assignee)
    assert refused.value.field == "assignee"
    assert fresh(incident).assignee is None and trail(incident) == (0, 0)


@pytest.mark.parametrize("who", ["owner", "engineer"])
def test_the_postmortem_is_written_by_the_owning_scientist_or_an_engineer(incident, scientist, engineer, who):
    author = scientist if who == "owner" else engineer
    services.update_postmortem(author, incident, postmortem="## What happened\nDrift.")
    assert fresh(incident).postmortem == "## What happened\nDrift."
    assert incident.timeline.get().kind == EventKind.POSTMORTEM


def test_a_product_manager_cannot_write_the_postmortem(incident, project):
    with pytest.raises(Forbidden):
        services.update_postmortem(member(project, Role.PRODUCT_MANAGER), incident, postmortem="Blame")
    assert fresh(incident).postmortem == "" and trail(incident) == (0, 0)


def test_action_items_are_added_and_ticked_off(incident, engineer, scientist):
    item = services.add_action_item(engineer, incident, text="Alert on drift", owner=scientist)
    services.set_action_item_done(scientist, item, done=True)
    item.refresh_from_db()
    assert (item.text, item.owner, item.done) == ("Alert on drift", scientist, True)
    assert item.done_at is not None
    assert [e.details["done"] for e in incident.timeline.filter(kind=EventKind.ACTION_ITEM)] == [False, True]


def test_an_action_item_is_not_given_to_someone_off_the_project(incident, engineer):
    with pytest.raises(DomainError) as refused:
        services.add_action_item(engineer, incident, text="Alert on drift",
                                 owner=member(ProjectFactory(), Role.ML_ENGINEER))
    assert refused.value.field == "owner"
    assert not ActionItem.objects.exists() and trail(incident) == (0, 0)


# --- fixes ---------------------------------------------------------------------------------------


def test_filing_a_fix_creates_the_next_version_as_a_draft_owned_by_the_scientist(incident, scientist):
    model = incident.handover.model
    fix = services.file_fix(scientist, incident, version_label="1.5.0")
    fix = Handover.objects.get(pk=fix.pk)
    assert (fix.model, fix.owner, fix.state, fix.version_label) == (model, scientist, HandoverState.DRAFT,
                                                                    "1.5.0")
    assert model.handovers.count() == 2 and fix.revisions.get().number == 1
    assert fresh(incident).fix_handover == fix
    assert incident.timeline.get().details == {"handover": fix.pk, "version": "1.5.0"}


def test_resolving_with_a_deployed_fix_records_the_fix(incident, scientist, engineer):
    fix = services.file_fix(scientist, incident, version_label="1.5.0")
    Handover.objects.filter(pk=fix.pk).update(state=HandoverState.DEPLOYED)  # as deployments would
    Incident.objects.filter(pk=incident.pk).update(status=S.MITIGATED)
    services.resolve(engineer, fresh(incident), root_cause=RootCause.CONCEPT_DRIFT, summary="1.5.0 shipped")
    event = incident.timeline.get(kind=EventKind.STATUS)
    assert event.details["fix_handover"] == fix.pk
    assert AuditEvent.objects.get(verb="incident.resolve").details["fix_handover"] == fix.pk
    resolved = fresh(incident)
    assert (resolved.root_cause, resolved.resolution_summary) == ("concept_drift", "1.5.0 shipped")


def test_resolving_with_a_fix_not_yet_deployed_does_not_claim_it(incident, scientist, engineer):
    services.file_fix(scientist, incident, version_label="1.5.0")
    Incident.objects.filter(pk=incident.pk).update(status=S.MITIGATED)
    services.resolve(engineer, fresh(incident), root_cause=RootCause.OTHER, summary="Rolled back")
    assert "fix_handover" not in incident.timeline.get(kind=EventKind.STATUS).details


# --- bad input -----------------------------------------------------------------------------------


def _open(title="Scores look off", severity="sev2", description=""):
    return lambda ctx: services.open_incident(ctx["engineer"], ctx["project"], title=title,
                                              severity=severity, description=description)


def _resolve(root_cause="data_drift", summary="Retrained"):
    def call(ctx):
        Incident.objects.filter(pk=ctx["incident"].pk).update(status=S.MITIGATED)
        return services.resolve(ctx["engineer"], fresh(ctx["incident"]), root_cause=root_cause,
                                summary=summary)
    return call


BAD = {
    "empty title": (_open(title="   "), "title"),
    "title too long": (_open(title="x" * 201), "title"),
    "description too long": (_open(description="x" * 20_001), "description"),
    "unknown severity": (_open(severity="sev9"), "severity"),
    "unknown severity on change": (lambda c: services.change_severity(c["engineer"], c["incident"], "p0"),
                                   "severity"),
    "unknown root cause": (_resolve(root_cause="gremlins"), "root_cause"),
    "empty resolution summary": (_resolve(summary=""), "resolution_summary"),
    "resolution summary too long": (_resolve(summary="x" * 20_001), "resolution_summary"),
    "empty comment": (lambda ctx: services.add_comment(ctx["engineer"], ctx["incident"], body=" "), "body"),
    "comment too long": (lambda c: services.add_comment(c["engineer"], c["incident"], body="x" * 20_001),
                         "body"),
    "unknown @mention": (lambda c: services.add_comment(c["engineer"], c["incident"], body="@nobody look"),
                         "body"),
    "postmortem too long": (lambda ctx: services.update_postmortem(ctx["engineer"], ctx["incident"],
                                                                   postmortem="x" * 20_001), "postmortem"),
    "empty action item": (lambda ctx: services.add_action_item(ctx["engineer"], ctx["incident"], text=""),
                          "text"),
    "action item too long": (lambda ctx: services.add_action_item(ctx["engineer"], ctx["incident"],
                                                                  text="x" * 301), "text"),
}


@pytest.mark.parametrize("case", BAD)
def test_bad_input_is_refused_on_its_field_and_changes_nothing(incident, engineer, project, case):
    call, field = BAD[case]
    ctx = {"engineer": engineer, "project": project, "incident": incident}
    before = (Incident.objects.count(), TimelineEvent.objects.count(), AuditEvent.objects.count(),
              ActionItem.objects.count())
    snapshot = Incident.objects.exclude(status=S.MITIGATED).filter(pk=incident.pk).values(
        "title", "severity", "root_cause", "resolution_summary", "postmortem", "resolved_at").first()
    with pytest.raises(DomainError) as refused:
        call(ctx)
    assert type(refused.value) is DomainError and refused.value.field == field
    assert (Incident.objects.count(), TimelineEvent.objects.count(), AuditEvent.objects.count(),
            ActionItem.objects.count()) == before
    after = Incident.objects.filter(pk=incident.pk).values(*snapshot).get() if snapshot else None
    assert after is None or after == snapshot


@pytest.mark.parametrize("transition", ["mitigate", "resolve", "reopen"])
def test_an_outsider_with_bad_input_is_told_not_found_before_the_input_is_read(incident, transition):
    stranger = member(ProjectFactory(), Role.ML_ENGINEER)
    bad = {"mitigate": {"note": "x" * 20_001}, "reopen": {"reason": "x" * 20_001},
           "resolve": {"root_cause": "gremlins", "summary": ""}}[transition]
    with pytest.raises(NotFound):
        services.TRANSITION_SERVICES[transition](stranger, incident, **bad)


# --- the trail -----------------------------------------------------------------------------------


CHANGES = {
    "open": lambda c: services.open_incident(c["engineer"], c["project"], title="By hand", severity="sev4"),
    "acknowledge": lambda c: services.acknowledge(c["engineer"], c["incident"]),
    "assign": lambda c: services.assign(c["engineer"], c["incident"], c["engineer"]),
    "change severity": lambda c: services.change_severity(c["engineer"], c["incident"], "sev1"),
    "escalate": lambda c: services.escalate(c["engineer"], c["incident"], reason="Nobody looks"),
    "comment": lambda c: services.add_comment(c["engineer"], c["incident"], body="Looking"),
    "postmortem": lambda c: services.update_postmortem(c["engineer"], c["incident"], postmortem="Drift"),
    "action item": lambda c: services.add_action_item(c["engineer"], c["incident"], text="Alert"),
    "file a fix": lambda c: services.file_fix(c["scientist"], c["incident"], version_label="2.0.0"),
}


@pytest.mark.parametrize("change", CHANGES)
def test_every_change_adds_a_timeline_entry_and_an_audit_event(incident, engineer, scientist, project,
                                                               change):
    ctx = {"engineer": engineer, "scientist": scientist, "project": project, "incident": incident}
    timeline, audits = TimelineEvent.objects.count(), AuditEvent.objects.filter(verb__startswith="incident.")
    audit_count = audits.count()
    CHANGES[change](ctx)
    assert TimelineEvent.objects.count() == timeline + 1
    assert audits.count() == audit_count + 1
