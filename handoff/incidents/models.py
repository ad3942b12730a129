"""Incidents of models in production, their timelines and postmortems.

Status changes follow ``lifecycle.INCIDENT``; ``services`` is the only writer.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse


class Severity(models.TextChoices):
    # The values sort as the severities do: SEV1 first.
    SEV1 = "sev1", "SEV1"
    SEV2 = "sev2", "SEV2"
    SEV3 = "sev3", "SEV3"
    SEV4 = "sev4", "SEV4"


class IncidentStatus(models.TextChoices):
    OPEN = "open", "Open"
    ACKNOWLEDGED = "acknowledged", "Acknowledged"
    INVESTIGATING = "investigating", "Investigating"
    MITIGATED = "mitigated", "Mitigated"
    RESOLVED = "resolved", "Resolved"
    CLOSED = "closed", "Closed"


# Still being worked: a breach of the same metric adds to it instead of opening another.
ACTIVE_STATUSES = (IncidentStatus.OPEN, IncidentStatus.ACKNOWLEDGED, IncidentStatus.INVESTIGATING,
                   IncidentStatus.MITIGATED)


class RootCause(models.TextChoices):
    DATA_DRIFT = "data_drift", "Data drift"
    CONCEPT_DRIFT = "concept_drift", "Concept drift"
    DATA_PIPELINE = "data_pipeline", "Data pipeline"
    CODE_DEFECT = "code_defect", "Code defect"
    INFRASTRUCTURE = "infrastructure", "Infrastructure"
    PERFORMANCE = "performance", "Performance"
    OTHER = "other", "Other"


class Incident(models.Model):
    project = models.ForeignKey("teams.Project", on_delete=models.PROTECT, related_name="incidents")
    deployment = models.ForeignKey("deployments.Deployment", null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="incidents")
    # The signed revision the deployment was held to, when known.
    revision = models.ForeignKey("handovers.Revision", null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="incidents")
    handover = models.ForeignKey("handovers.Handover", null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="incidents")
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True, help_text="Markdown")
    severity = models.CharField(max_length=8, choices=Severity.choices)
    status = models.CharField(max_length=16, choices=IncidentStatus.choices, default=IncidentStatus.OPEN)
    # A breach opened by monitoring: the metric, the contract's limit and the first value seen.
    metric = models.CharField(max_length=32, blank=True)
    limit_kind = models.CharField(max_length=16, blank=True, help_text="minimum, maximum or budget")
    limit_value = models.FloatField(null=True, blank=True)
    observed_value = models.FloatField(null=True, blank=True)
    reporter = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="reported_incidents", help_text="Empty: opened by monitoring")
    assignee = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="assigned_incidents")
    # The owning data scientist, taken from the model.
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                              related_name="owned_incidents")
    opened_at = models.DateTimeField()
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    investigating_at = models.DateTimeField(null=True, blank=True)
    mitigated_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    reopened_at = models.DateTimeField(null=True, blank=True)
    # Set once when the SLA to acknowledge passed and the team leader was told.
    escalated_at = models.DateTimeField(null=True, blank=True)
    root_cause = models.CharField(max_length=32, choices=RootCause.choices, blank=True)
    resolution_summary = models.TextField(blank=True)
    postmortem = models.TextField(blank=True, help_text="Markdown")
    fix_handover = models.ForeignKey("handovers.Handover", null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="fixed_incidents")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["severity", "opened_at", "id"]
        constraints = [
            # Never two incidents being worked for one deployment's metric (two workers at once).
            models.UniqueConstraint(
                fields=["deployment", "metric"], name="one_active_incident_per_deployment_metric",
                condition=Q(status__in=ACTIVE_STATUSES) & ~Q(metric=""),
            ),
        ]
        indexes = [
            models.Index(fields=["project", "status"]),
            models.Index(fields=["status", "severity"]),
            # The triage queue's order, most severe then longest waiting: whole,
            # and among the incidents still being worked (its default filter).
            models.Index(fields=["severity", "opened_at", "id"], name="incident_queue_idx"),
            models.Index(fields=["severity", "opened_at", "id"], name="incident_active_queue_idx",
                         condition=Q(status__in=ACTIVE_STATUSES)),
        ]

    def __str__(self):
        return f"#{self.pk} {self.title}"

    def get_absolute_url(self):
        return reverse("incidents:detail", args=[self.pk])


class EventKind(models.TextChoices):
    OPENED = "opened", "Opened"
    STATUS = "status", "Status changed"
    SEVERITY = "severity", "Severity changed"
    ASSIGNED = "assigned", "Assigned"
    ESCALATED = "escalated", "Escalated"
    COMMENT = "comment", "Comment"
    BREACH = "breach", "Metric breach"
    RECOVERY = "recovery", "Recovered"
    FIX = "fix", "Fix handover"
    POSTMORTEM = "postmortem", "Postmortem"
    ACTION_ITEM = "action_item", "Action item"


class TimelineEvent(models.Model):
    """One entry of an incident's timeline: a change, a comment, a breach or a recovery."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="timeline")
    kind = models.CharField(max_length=16, choices=EventKind.choices)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                              related_name="+")
    created_at = models.DateTimeField()
    body = models.TextField(blank=True)
    details = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["incident", "created_at"])]

    def __str__(self):
        return f"{self.get_kind_display()} on {self.incident_id}"


class ActionItem(models.Model):
    """A follow-up the postmortem commits to."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="action_items")
    text = models.CharField(max_length=300)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                              related_name="incident_action_items")
    done = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    done_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["done", "created_at", "id"]

    def __str__(self):
        return self.text
