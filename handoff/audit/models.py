from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import F
from django.db.models.fields.json import KeyTransform


class AuditEvent(models.Model):
    """Who did what to which object, and when. Written only by services."""

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="audit_events",
    )
    verb = models.CharField(max_length=64, db_index=True)
    target_type = models.ForeignKey(ContentType, null=True, blank=True, on_delete=models.SET_NULL)
    target_id = models.CharField(max_length=64, blank=True)
    target = GenericForeignKey("target_type", "target_id")
    target_repr = models.CharField(max_length=255, blank=True)
    project = models.ForeignKey(
        "teams.Project", null=True, blank=True, on_delete=models.SET_NULL, related_name="audit_events"
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    details = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["target_type", "target_id"]),
            # A handover's activity trail: the events whose details name it
            # (``details__handover=``), newest first. An index on the same
            # expression the filter compiles to, on PostgreSQL and SQLite alike.
            models.Index(KeyTransform("handover", "details"), F("created_at").desc(), F("id").desc(),
                         name="audit_event_handover_idx"),
        ]

    def __str__(self):
        return f"{self.actor} {self.verb} {self.target_repr}"
