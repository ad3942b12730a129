"""Every change to incidents: opening, triage, comments, postmortems and fixes.

Each function: permission check (``handoff.access``), state check against
``lifecycle.INCIDENT`` under the incident's row lock, a timeline event, an
audit event (whose ``notices.announce`` tells the people concerned), one
transaction. Views, the API and tasks call these and nothing else writes.
Breaches found in production metrics are recorded by ``breaches.py``.
"""

from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models.functions import Coalesce
from django.utils import timezone

from handoff.access import Action, can, require
from handoff.audit.services import record
from handoff.core.errors import Conflict, DomainError, NotFound
from handoff.core.locking import lock_row
from handoff.handovers import services as handover_services
from handoff.handovers.models import HandoverState

from . import notices
from .lifecycle import ENTERED_AT, INCIDENT
from .models import ActionItem, EventKind, Incident, IncidentStatus, RootCause, Severity, TimelineEvent

TITLE_LIMIT = Incident._meta.get_field("title").max_length
TEXT_LIMIT = 20_000
DEFAULT_SLA_SECONDS = {"sev1": 15 * 60, "sev2": 60 * 60, "sev3": 8 * 3600, "sev4": 3 * 86400}
ACTION_ITEM_LIMIT = ActionItem._meta.get_field("text").max_length


# --- plumbing ------------------------------------------------------------------------------------


def _lock(incident):
    """Lock the incident's row (only its row: FOR UPDATE over a join would lock the
    project and team too, and PostgreSQL refuses it across the nullable owner and
    assignee), then read it with what the notices need."""
    try:
        lock_row(Incident.objects.all(), pk=incident.pk)
    except Incident.DoesNotExist:
        raise NotFound("Not found.") from None
    return Incident.objects.select_related("project__team", "owner", "assignee").get(pk=incident.pk)


def add_event(incident, kind, actor=None, *, body="", at=None, **details):
    """Append one entry to ``incident``'s timeline (inside the caller's transaction)."""
    return TimelineEvent.objects.create(incident=incident, kind=kind, actor=actor, body=body,
                                        created_at=at or timezone.now(), details=details)


def audit(actor, verb, incident, **details):
    """Record ``verb`` on ``incident`` and tell whom it concerns (``notices``)."""
    event = record(actor, verb, incident, project=incident.project, incident=incident.pk, **details)
    notices.announce(event, incident)
    return event


def _text(value, *, field, limit, what, required=True):
    value = (value or "").strip()
    if required and not value:
        raise DomainError(f"Write the {what}.", field=field)
    if len(value) > limit:
        raise DomainError(f"The {what} is too long (at most {limit} characters).", field=field)
    return value


def _choice(value, choices, *, field, what):
    if value not in choices.values:
        labels = ", ".join(label for label in choices.labels)
        raise DomainError(f"Choose a {what}: {labels}.", field=field)
    return choices(value)


# --- opening -------------------------------------------------------------------------------------


def open_incident(actor, project, *, title, severity, description="", deployment=None, handover=None):
    """Anyone on ``project`` opens an incident by hand. -> Incident

    ``deployment`` (or ``handover``) ties it to a model: its owning data
    scientist is pulled in and the signed revision recorded. Either must be of
    ``project`` and visible to ``actor`` (NotFound otherwise)."""
    require(actor, Action.REPORT_INCIDENT, project)
    title = _text(title, field="title", limit=TITLE_LIMIT, what="title")
    description = _text(description, field="description", limit=TEXT_LIMIT, what="description",
                        required=False)
    severity = _choice(severity, Severity, field="severity", what="severity")
    revision = None
    for obj in (deployment, handover):
        if obj is not None and (obj.project_id != project.pk or not can(actor, Action.VIEW, obj)):
            raise NotFound("Not found.")
    if deployment is not None:
        handover, revision = deployment.handover, deployment.revision
    elif handover is not None:
        revision = handover_services.signed_revision(handover)
    with transaction.atomic():
        incident = Incident.objects.create(
            project=project, deployment=deployment, handover=handover, revision=revision, title=title,
            description=description, severity=severity, reporter=actor,
            owner=handover.model.owner if handover is not None else None, opened_at=timezone.now(),
        )
        add_event(incident, EventKind.OPENED, actor, at=incident.opened_at, severity=severity)
        audit(actor, "incident.opened", incident, severity=severity)
    return incident


# --- the lifecycle -------------------------------------------------------------------------------


def _move(actor, incident, transition, *, update=None, **details):
    """Take ``incident`` along ``transition`` of the lifecycle table, under its lock."""
    require(actor, INCIDENT[transition].action, incident)
    with transaction.atomic():
        incident = _lock(incident)
        source = incident.status
        target = INCIDENT.check(incident, transition)
        now = timezone.now()
        incident.status = target
        fields = ["status", "updated_at"]
        if target in ENTERED_AT and getattr(incident, ENTERED_AT[target]) is None:
            # The first time counts (time to acknowledge is measured once).
            setattr(incident, ENTERED_AT[target], now)
            fields.append(ENTERED_AT[target])
        if transition == "reopen":
            incident.reopened_at, incident.resolved_at, incident.closed_at = now, None, None
            fields += ["reopened_at", "resolved_at", "closed_at"]
        for name, value in (update or {}).items():
            setattr(incident, name, value)
            fields.append(name)
        try:
            with transaction.atomic():
                incident.save(update_fields=fields)
        except IntegrityError:
            # Only a reopen can: a breach opened another incident for the same metric meanwhile.
            raise Conflict("Another incident is being worked for this deployment's metric; "
                           "work that one instead of reopening this.") from None
        add_event(incident, EventKind.STATUS, actor, at=now, body=details.pop("body", ""),
                  source=source, target=target, **details)
        # Not target=: record()'s own argument is the audited object.
        audit(actor, f"incident.{transition}", incident, from_status=source, to_status=target, **details)
    return incident


def acknowledge(actor, incident):
    """open -> acknowledged (an ML engineer of the project). -> Incident"""
    return _move(actor, incident, "acknowledge")


def investigate(actor, incident):
    """acknowledged -> investigating. -> Incident"""
    return _move(actor, incident, "investigate")


def mitigate(actor, incident, *, note=""):
    """investigating -> mitigated: the harm has stopped. -> Incident"""
    require(actor, INCIDENT["mitigate"].action, incident)  # out of reach is a 404 before bad input
    note = _text(note, field="note", limit=TEXT_LIMIT, what="note", required=False)
    return _move(actor, incident, "mitigate", body=note)


def resolve(actor, incident, *, root_cause, summary):
    """mitigated -> resolved, with its root cause and what was done (an ML
    engineer of the project). When a fix handover is linked and deployed, the
    incident is resolved with it. -> Incident"""
    require(actor, INCIDENT["resolve"].action, incident)  # out of reach is a 404 before bad input
    root_cause = _choice(root_cause, RootCause, field="root_cause", what="root cause")
    summary = _text(summary, field="resolution_summary", limit=TEXT_LIMIT, what="resolution summary")
    details = {"root_cause": root_cause}
    fix = incident.fix_handover
    if fix is not None and fix.state == HandoverState.DEPLOYED:
        details["fix_handover"] = fix.pk
    return _move(actor, incident, "resolve", update={"root_cause": root_cause, "resolution_summary": summary},
                 body=summary, **details)


def close(actor, incident):
    """resolved -> closed. -> Incident"""
    return _move(actor, incident, "close")


def reopen(actor, incident, *, reason=""):
    """resolved | closed -> open. The time to acknowledge is kept from the
    first time round; the resolution is cleared until it is resolved again, and
    the SLA to acknowledge runs again from the reopening. -> Incident"""
    require(actor, INCIDENT["reopen"].action, incident)  # out of reach is a 404 before bad input
    reason = _text(reason, field="reason", limit=TEXT_LIMIT, what="reason", required=False)
    return _move(actor, incident, "reopen", body=reason)


TRANSITION_SERVICES = {
    "acknowledge": acknowledge, "investigate": investigate, "mitigate": mitigate, "resolve": resolve,
    "close": close, "reopen": reopen,
}


# --- triage --------------------------------------------------------------------------------------


def assign(actor, incident, assignee):
    """Give ``incident`` to ``assignee``, an ML engineer of its project (None
    unassigns). An ML engineer of the project may call it. -> Incident"""
    require(actor, Action.TRIAGE_INCIDENT, incident)
    if assignee is not None and not (assignee.is_active and can(assignee, Action.TRIAGE_INCIDENT, incident)):
        raise DomainError("Assign it to an ML engineer of this project.", field="assignee")
    with transaction.atomic():
        incident = _lock(incident)
        if incident.assignee_id == (assignee.pk if assignee else None):
            return incident
        previous = incident.assignee
        incident.assignee = assignee
        incident.save(update_fields=["assignee", "updated_at"])
        add_event(incident, EventKind.ASSIGNED, actor, assignee=assignee.username if assignee else None,
                  previous=previous.username if previous else None)
        audit(actor, "incident.assigned", incident, assignee=assignee.pk if assignee else None)
    return incident


def change_severity(actor, incident, severity):
    """Set ``incident``'s severity (an ML engineer of the project). -> Incident"""
    require(actor, Action.TRIAGE_INCIDENT, incident)
    severity = _choice(severity, Severity, field="severity", what="severity")
    with transaction.atomic():
        incident = _lock(incident)
        if incident.severity == severity:
            return incident
        previous = incident.severity
        incident.severity = severity
        incident.save(update_fields=["severity", "updated_at"])
        add_event(incident, EventKind.SEVERITY, actor, source=previous, target=severity)
        audit(actor, "incident.severity_changed", incident, from_severity=previous, to_severity=severity)
    return incident


def sla_for(severity):
    """How long an incident of ``severity`` may wait to be acknowledged."""
    severity = Severity(severity).value
    # A setting that names only some severities keeps the defaults for the others.
    seconds = {**DEFAULT_SLA_SECONDS, **settings.HANDOFF_INCIDENT_SLA_SECONDS}[severity]
    return timedelta(seconds=seconds)


def escalate(actor, incident, *, reason=""):
    """Tell the team leader about ``incident`` now (an ML engineer of the
    project). -> Incident"""
    require(actor, Action.TRIAGE_INCIDENT, incident)
    reason = _text(reason, field="reason", limit=TEXT_LIMIT, what="reason", required=False)
    with transaction.atomic():
        incident = _lock(incident)
        if incident.status in (IncidentStatus.RESOLVED, IncidentStatus.CLOSED):
            raise Conflict(f"The incident is {incident.get_status_display().lower()}; reopen it first.")
        now = timezone.now()
        if incident.escalated_at is None:
            incident.escalated_at = now
            incident.save(update_fields=["escalated_at", "updated_at"])
        add_event(incident, EventKind.ESCALATED, actor, at=now, body=reason)
        audit(actor, "incident.escalated", incident, sla=False)
    return incident


def escalate_overdue(now=None):
    """Tell each team leader once about incidents still unacknowledged past
    their severity's SLA (the beat task calls it every minute). -> list of ids"""
    now = now or timezone.now()
    escalated = []
    # A reopened incident waits for acknowledgement again: its SLA runs from the reopening.
    waiting = Incident.objects.annotate(waiting_since=Coalesce("reopened_at", "opened_at"))
    for severity in Severity:
        overdue = waiting.filter(status=IncidentStatus.OPEN, escalated_at__isnull=True,
                                 severity=severity, waiting_since__lte=now - sla_for(severity))
        for pk in overdue.values_list("pk", flat=True):
            with transaction.atomic():
                # Only one beat run (or worker) wins the row: escalated once.
                if not Incident.objects.filter(pk=pk, status=IncidentStatus.OPEN,
                                               escalated_at__isnull=True).update(escalated_at=now):
                    continue
                incident = Incident.objects.select_related("project__team__leader").get(pk=pk)
                waited = now - (incident.reopened_at or incident.opened_at)
                add_event(incident, EventKind.ESCALATED, None, at=now, sla=True,
                          waited_minutes=int(waited.total_seconds() // 60))
                audit(None, "incident.escalated", incident, sla=True)
                escalated.append(pk)
    return escalated


# --- conversation, postmortem, fix ---------------------------------------------------------------


def add_comment(actor, incident, *, body):
    """Post a Markdown comment on the timeline (anyone who may comment on the
    project); ``@mentions`` of members tell them. -> TimelineEvent"""
    require(actor, Action.COMMENT, incident)
    body = _text(body, field="body", limit=TEXT_LIMIT, what="comment")
    members, outsiders = handover_services.mentions_in(incident, body, field="body")
    with transaction.atomic():
        incident = _lock(incident)
        event = add_event(incident, EventKind.COMMENT, actor, body=body)
        audit(actor, "incident.commented", incident, comment=event.pk,
              mentioned=[person.pk for person in members], not_told=[person.username for person in outsiders])
    event.not_told = outsiders
    return event


def update_postmortem(actor, incident, *, postmortem):
    """Replace the postmortem (Markdown, sanitised when shown): an ML engineer
    of the project or the owning data scientist. -> Incident"""
    require(actor, Action.EDIT_POSTMORTEM, incident)
    postmortem = _text(postmortem, field="postmortem", limit=TEXT_LIMIT, what="postmortem", required=False)
    with transaction.atomic():
        incident = _lock(incident)
        if incident.postmortem == postmortem:
            return incident
        incident.postmortem = postmortem
        incident.save(update_fields=["postmortem", "updated_at"])
        add_event(incident, EventKind.POSTMORTEM, actor)
        audit(actor, "incident.postmortem_updated", incident)
    return incident


def add_action_item(actor, incident, *, text, owner=None):
    """Add a follow-up to the postmortem; its owner must be on the project. -> ActionItem"""
    require(actor, Action.EDIT_POSTMORTEM, incident)
    text = _text(text, field="text", limit=ACTION_ITEM_LIMIT, what="action item")
    if owner is not None and not can(owner, Action.VIEW, incident):
        raise DomainError("The owner of an action item must be on this project.", field="owner")
    with transaction.atomic():
        incident = _lock(incident)
        item = ActionItem.objects.create(incident=incident, text=text, owner=owner)
        add_event(incident, EventKind.ACTION_ITEM, actor, body=text, item=item.pk, done=False)
        audit(actor, "incident.action_item_added", incident, item=item.pk)
    return item


def set_action_item_done(actor, item, *, done):
    """Tick an action item off (or on again). -> ActionItem"""
    require(actor, Action.EDIT_POSTMORTEM, item.incident)
    with transaction.atomic():
        incident = _lock(item.incident)
        item = ActionItem.objects.select_for_update().get(pk=item.pk)
        if item.done == bool(done):
            return item
        item.done, item.done_at = bool(done), timezone.now() if done else None
        item.save(update_fields=["done", "done_at"])
        add_event(incident, EventKind.ACTION_ITEM, actor, body=item.text, item=item.pk, done=item.done)
        audit(actor, "incident.action_item_done" if done else "incident.action_item_reopened", incident,
              item=item.pk)
    return item


def link_fix(actor, incident, handover):
    """Name ``handover`` (a version of the incident's model, filed by a data
    scientist of the project) as the incident's fix. -> Incident"""
    require(actor, Action.CREATE_HANDOVER, incident)
    if handover.project_id != incident.project_id or not can(actor, Action.VIEW, handover):
        raise NotFound("Not found.")
    if incident.handover_id and handover.model_id != incident.handover.model_id:
        raise DomainError(f"The fix must be a version of {incident.handover.model.name}.", field="handover")
    if incident.handover_id == handover.pk:
        raise DomainError("The fix must be a new version, not the one the incident is about.",
                          field="handover")
    with transaction.atomic():
        incident = _lock(incident)
        if incident.status == IncidentStatus.CLOSED:
            raise Conflict("The incident is closed; reopen it to link a fix.")
        incident.fix_handover = handover
        incident.save(update_fields=["fix_handover", "updated_at"])
        add_event(incident, EventKind.FIX, actor, handover=handover.pk, version=handover.version_label)
        audit(actor, "incident.fix_linked", incident, handover=handover.pk)
    return incident


def file_fix(actor, incident, *, version_label, terms=None, metrics=None):
    """File the next version of the incident's model as a new handover that
    names the incident (a data scientist of the project). -> Handover"""
    if incident.handover_id is None:
        require(actor, Action.VIEW, incident)
        raise Conflict("This incident is not about a model; file the handover from the handovers page.")
    with transaction.atomic():
        handover = handover_services.create_handover(
            actor, incident.handover.model, version_label=version_label, terms=terms, metrics=metrics)
        link_fix(actor, incident, handover)
    return handover
