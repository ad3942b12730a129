"""What a person is told, and each attempt to tell them by email.

A notification comes from one audit event (the change it tells about) and
is written in that change's transaction, so nothing is told of a change that
rolled back and nothing is lost when the broker is down at that moment. An
email is a ``Delivery`` row: its state, attempts and last error; a task only
rings the doorbell with its id.
"""

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Q


class Notification(models.Model):
    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                                  related_name="notifications")
    kind = models.CharField(max_length=48)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+")
    event = models.ForeignKey("audit.AuditEvent", null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="notifications")
    # What it is about (a handover), and where to read it.
    target_type = models.ForeignKey(ContentType, null=True, blank=True, on_delete=models.SET_NULL)
    target_id = models.CharField(max_length=64, blank=True)
    target = GenericForeignKey("target_type", "target_id")
    url = models.CharField(max_length=500)
    subject = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            # A task or a service that runs twice tells no one twice.
            models.UniqueConstraint(fields=["event", "recipient"],
                                    name="one_notification_per_event_and_recipient"),
        ]
        indexes = [models.Index(fields=["recipient", "read_at"])]

    def __str__(self):
        return f"{self.subject} (to {self.recipient})"

    @property
    def is_read(self):
        return self.read_at is not None


class Preference(models.Model):
    """A person's choice for one kind: in the app only, or by email too."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="notification_preferences")
    kind = models.CharField(max_length=48)
    email = models.BooleanField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "kind"], name="one_preference_per_kind")]

    def __str__(self):
        return f"{self.user}: {self.kind} {'by email too' if self.email else 'in the app only'}"


class DeliveryState(models.TextChoices):
    PENDING = "pending", "Pending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"


class Delivery(models.Model):
    """One email of one notification: sent once, retried with backoff, then failed."""

    notification = models.OneToOneField(Notification, on_delete=models.CASCADE, related_name="email")
    state = models.CharField(max_length=16, choices=DeliveryState.choices, default=DeliveryState.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["state", "next_attempt_at"])]
        constraints = [
            models.CheckConstraint(condition=~Q(state="sent") | Q(sent_at__isnull=False),
                                   name="sent_has_time"),
        ]

    def __str__(self):
        return f"Email of {self.notification}"


class Webhook(models.Model):
    """A chat channel or any HTTP endpoint that hears a project's events.

    Its scope (a project) is generic so that notifications need not know the
    teams app. The secret signs every body; a person sees it once, when the
    webhook is created, and never again."""

    scope_type = models.ForeignKey(ContentType, on_delete=models.CASCADE, related_name="+")
    scope_id = models.PositiveBigIntegerField()
    scope = GenericForeignKey("scope_type", "scope_id")
    url = models.URLField(max_length=500)
    events = models.JSONField(default=list)
    secret = models.CharField(max_length=100)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["scope_type", "scope_id"])]

    def __str__(self):
        return self.url


class WebhookDelivery(models.Model):
    """One event (or a test) sent to one webhook: retried with backoff, then failed.

    ``log`` keeps every attempt (time, status code, excerpt or error) for the
    delivery log; the other fields tell the latest."""

    webhook = models.ForeignKey(Webhook, on_delete=models.CASCADE, related_name="deliveries")
    event = models.ForeignKey("audit.AuditEvent", null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="webhook_deliveries")  # null for a test send
    event_name = models.CharField(max_length=64)
    payload = models.JSONField()
    state = models.CharField(max_length=16, choices=DeliveryState.choices, default=DeliveryState.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    response_excerpt = models.TextField(blank=True)
    last_error = models.TextField(blank=True)
    log = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["state", "next_attempt_at"]),
            # A webhook's delivery log, newest first (it grows with every event of the project).
            models.Index(fields=["webhook", "-created_at", "-id"], name="webhook_delivery_log_idx"),
        ]
        constraints = [
            # An event published twice (a task that runs again) is sent once.
            models.UniqueConstraint(fields=["webhook", "event"], name="one_webhook_delivery_per_event"),
            models.CheckConstraint(condition=~Q(state="sent") | Q(sent_at__isnull=False),
                                   name="webhook_sent_has_time"),
        ]

    def __str__(self):
        return f"{self.event_name} to {self.webhook}"
