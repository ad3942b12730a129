"""Validation runs of a revision and the result of each check.

The run row carries the truth about a piece of background work (queued,
running on which worker, heartbeat, progress, finished); the broker only
rings the doorbell. Workflow lives in ``services.py``.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q


class RunState(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    PASSED = "passed", "Passed"
    FAILED = "failed", "Failed"
    ERROR = "error", "Error"


FINISHED_STATES = frozenset({RunState.PASSED, RunState.FAILED, RunState.ERROR})


class ValidationRun(models.Model):
    """One measurement of every claim of a submitted revision, numbered 1, 2 …
    per revision; the latest run of the current revision decides."""

    revision = models.ForeignKey(
        "handovers.Revision", on_delete=models.CASCADE, related_name="validation_runs"
    )
    number = models.PositiveIntegerField()
    state = models.CharField(max_length=16, choices=RunState.choices, default=RunState.QUEUED)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    # Set by the worker that claims the run; the heartbeat says it is alive.
    started_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    seconds = models.FloatField(null=True, blank=True, help_text="Time taken by the run that finished it")
    worker = models.CharField(max_length=255, blank=True, help_text="Celery node that works or worked it")
    worker_pid = models.PositiveIntegerField(null=True, blank=True)
    # A token per claim: a worker that lost its claim (its heartbeat stopped
    # and another took over) cannot write over the new owner's work.
    claim = models.CharField(max_length=32, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    # {"check": "data.ids", "done": 1200, "total": 5000, "step": 3, "steps": 9}
    progress = models.JSONField(default=dict, blank=True)
    # The worker's CPU model and thread count, shown beside runtime figures.
    environment = models.JSONField(default=dict, blank=True)
    message = models.TextField(blank=True, help_text="Why the run ended in error")

    class Meta:
        ordering = ["revision", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["revision", "number"], name="validation_run_number_unique"),
        ]
        indexes = [
            models.Index(fields=["state", "heartbeat_at"]),
            # The API list's default order, newest first.
            models.Index(fields=["-created_at", "-id"], name="validation_run_recent_idx"),
        ]

    def __str__(self):
        return f"Validation run {self.number} of {self.revision}"

    @property
    def finished(self):
        return self.state in FINISHED_STATES


class CheckStatus(models.TextChoices):
    PASS = "pass", "Pass"
    FAIL = "fail", "Fail"
    ERROR = "error", "Error"
    SKIPPED = "skipped", "Skipped"


class CheckResult(models.Model):
    """One check of a run: ``integrity``, ``model.format``, ``metric.accuracy`` …"""

    run = models.ForeignKey(ValidationRun, on_delete=models.CASCADE, related_name="checks")
    key = models.CharField(max_length=64)
    position = models.PositiveIntegerField(default=0)
    status = models.CharField(max_length=8, choices=CheckStatus.choices)
    claimed = models.FloatField(null=True, blank=True)
    measured = models.FloatField(null=True, blank=True)
    tolerance = models.FloatField(null=True, blank=True)
    limit = models.FloatField(null=True, blank=True, help_text="The minimum or maximum acceptable")
    unit = models.CharField(max_length=16, blank=True)
    message = models.TextField(blank=True)
    details = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["run", "position"]
        constraints = [
            models.UniqueConstraint(fields=["run", "key"], name="one_result_per_check_per_run"),
            models.CheckConstraint(condition=~Q(key=""), name="check_key_not_empty"),
        ]

    def __str__(self):
        return f"{self.key}: {self.status}"
