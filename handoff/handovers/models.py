"""Handover contracts: data and the invariants a database can hold.

The workflow (who may move a handover from which state to which) lives in
``services.py``; nothing here changes state on its own.
"""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.text import get_valid_filename


class TaskType(models.TextChoices):
    BINARY = "binary_classification", "Binary classification"
    MULTICLASS = "multiclass_classification", "Multiclass classification"
    REGRESSION = "regression", "Regression"


class Framework(models.TextChoices):
    SKLEARN = "scikit-learn", "scikit-learn"
    PYTORCH = "pytorch", "PyTorch"
    TENSORFLOW = "tensorflow", "TensorFlow/Keras"
    XGBOOST = "xgboost", "XGBoost"
    LIGHTGBM = "lightgbm", "LightGBM"
    OTHER = "other", "Other"


class Metric(models.TextChoices):
    ACCURACY = "accuracy", "Accuracy"
    PRECISION = "precision", "Precision"
    RECALL = "recall", "Recall"
    F1 = "f1", "F1"
    ROC_AUC = "roc_auc", "ROC AUC"
    LOG_LOSS = "log_loss", "Log loss"
    MAE = "mae", "MAE"
    RMSE = "rmse", "RMSE"
    R2 = "r2", "R²"


CLASSIFICATION_METRICS = frozenset(
    {Metric.ACCURACY, Metric.PRECISION, Metric.RECALL, Metric.F1, Metric.ROC_AUC, Metric.LOG_LOSS}
)
REGRESSION_METRICS = frozenset({Metric.MAE, Metric.RMSE, Metric.R2})
METRICS_FOR_TASK = {
    TaskType.BINARY: CLASSIFICATION_METRICS,
    TaskType.MULTICLASS: CLASSIFICATION_METRICS,
    TaskType.REGRESSION: REGRESSION_METRICS,
}
# Metrics where a smaller value is better (a claim sets a maximum, not a minimum).
LOWER_IS_BETTER = frozenset({Metric.LOG_LOSS, Metric.MAE, Metric.RMSE})
# Metrics that live in [0, 1].
UNIT_INTERVAL_METRICS = frozenset(
    {Metric.ACCURACY, Metric.PRECISION, Metric.RECALL, Metric.F1, Metric.ROC_AUC}
)


class Model(models.Model):
    """A registered model of a project, owned by a data scientist."""

    project = models.ForeignKey("teams.Project", on_delete=models.PROTECT, related_name="models")
    name = models.CharField(max_length=120)
    description = models.TextField(blank=True)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="owned_models")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["project", "name"]
        constraints = [
            models.UniqueConstraint(fields=["project", "name"], name="model_name_unique_in_project"),
        ]

    def __str__(self):
        return self.name


class HandoverState(models.TextChoices):
    DRAFT = "draft", "Draft"
    VALIDATING = "validating", "Validating"
    VALIDATION_FAILED = "validation_failed", "Validation failed"
    AWAITING_REVIEW = "awaiting_review", "Awaiting review"
    CHANGES_REQUESTED = "changes_requested", "Changes requested"
    ACCEPTED = "accepted", "Accepted"
    DEPLOYED = "deployed", "Deployed"
    RETIRED = "retired", "Retired"
    # A candidate of an agreed contract that lost to the one selected (terminal).
    NOT_SELECTED = "not_selected", "Not selected"


class Handover(models.Model):
    """One model version handed over ("1.4.0"); its contract lives in revisions."""

    model = models.ForeignKey(Model, on_delete=models.PROTECT, related_name="handovers")
    # Denormalised from model.project so every scope is one indexed filter.
    project = models.ForeignKey("teams.Project", on_delete=models.PROTECT, related_name="handovers")
    version_label = models.CharField(max_length=64)
    state = models.CharField(max_length=32, choices=HandoverState.choices, default=HandoverState.DRAFT)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="handovers")
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="reviewed_handovers",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # When the current revision entered awaiting_review (orders the review queue).
    awaiting_review_since = models.DateTimeField(null=True, blank=True)
    # A candidate of an agreed contract (the contracts app files it): its
    # requirements and labels come from the contract and cannot change here,
    # and it is accepted only by being selected from the contract.
    is_candidate = models.BooleanField(default=False)
    # The contract holds its labels blind: only those ``access`` lets read
    # blind labels see the labels file or row-level findings about it.
    labels_blind = models.BooleanField(default=False)

    class Meta:
        ordering = ["-updated_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["model", "version_label"], name="one_handover_per_model_version"),
        ]
        indexes = [
            models.Index(fields=["project", "state"]),
            # The lists' default order (most recently changed first), alone and
            # after each filter the pages and the API offer; a page reads its
            # rows in index order and stops at the page's end.
            models.Index(fields=["-updated_at", "-id"], name="handover_recent_idx"),
            models.Index(fields=["project", "-updated_at", "-id"], name="handover_project_recent_idx"),
            models.Index(fields=["owner", "-updated_at", "-id"], name="handover_owner_recent_idx"),
            models.Index(fields=["reviewer", "-updated_at", "-id"], name="handover_reviewer_recent_idx"),
            # The review queue: oldest first, among the few awaiting review.
            models.Index(fields=["awaiting_review_since", "id"], name="handover_review_queue_idx",
                         condition=Q(state="awaiting_review")),
        ]

    def __str__(self):
        return f"{self.model.name} {self.version_label}"

    def get_absolute_url(self):
        return reverse("handovers:detail", args=[self.pk])


class Revision(models.Model):
    """Contract terms and artifacts, numbered 1, 2, 3 … per handover.

    Frozen once submitted: ``services`` refuses every change when
    ``submitted_at`` is set."""

    handover = models.ForeignKey(Handover, on_delete=models.CASCADE, related_name="revisions")
    number = models.PositiveIntegerField()
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    # --- contract terms ---
    task_type = models.CharField(max_length=32, choices=TaskType.choices, blank=True)
    positive_label = models.CharField(max_length=64, blank=True,
                                      help_text='The positive class of a binary task; blank means "1"')
    framework = models.CharField(max_length=32, choices=Framework.choices, blank=True)
    framework_version = models.CharField(max_length=32, blank=True)
    latency_p95_ms = models.FloatField(null=True, blank=True, help_text="p95 latency budget in milliseconds")
    latency_batch_size = models.PositiveIntegerField(default=1)
    peak_memory_mb = models.FloatField(null=True, blank=True, help_text="Peak inference memory budget in MB")
    parameter_count = models.PositiveBigIntegerField(null=True, blank=True)
    max_parameter_count = models.PositiveBigIntegerField(
        null=True, blank=True, help_text="The largest parameter count allowed (a budget, not a claim)")
    model_formats = models.CharField(
        max_length=64, blank=True, help_text='Accepted model formats, such as "onnx,safetensors"; blank: any')
    validation_description = models.TextField(blank=True)
    validation_row_count = models.PositiveIntegerField(null=True, blank=True)
    fairness_slice_column = models.CharField(max_length=64, blank=True)
    fairness_max_gap = models.FloatField(null=True, blank=True)
    fairness_metric = models.CharField(max_length=16, choices=Metric.choices, blank=True,
                                       help_text="Compared between slices; blank means accuracy "
                                                 "(classification) or MAE (regression)")
    intended_use = models.TextField(blank=True, help_text="Markdown")
    limitations = models.TextField(blank=True, help_text="Markdown")
    metric_tolerance = models.FloatField(default=0.005)

    class Meta:
        ordering = ["handover", "number"]
        constraints = [
            models.UniqueConstraint(fields=["handover", "number"], name="revision_number_unique"),
            models.CheckConstraint(condition=Q(latency_p95_ms__isnull=True) | Q(latency_p95_ms__gt=0),
                                   name="latency_positive"),
            models.CheckConstraint(condition=Q(peak_memory_mb__isnull=True) | Q(peak_memory_mb__gt=0),
                                   name="memory_positive"),
            models.CheckConstraint(condition=Q(metric_tolerance__gte=0), name="tolerance_not_negative"),
            models.CheckConstraint(condition=Q(latency_batch_size__gte=1), name="batch_size_positive"),
        ]

    def __str__(self):
        return f"{self.handover} r{self.number}"

    @property
    def is_frozen(self):
        return self.submitted_at is not None


class ClaimedMetric(models.Model):
    """A metric the data scientist claims, with an optional acceptable bound.

    On a candidate the metric and its bounds are the contract's requirement,
    and the claimed value is optional (None: only the bounds are checked)."""

    revision = models.ForeignKey(Revision, on_delete=models.CASCADE, related_name="claimed_metrics")
    metric = models.CharField(max_length=16, choices=Metric.choices)
    claimed_value = models.FloatField(null=True, blank=True)
    minimum = models.FloatField(null=True, blank=True)
    maximum = models.FloatField(null=True, blank=True)

    class Meta:
        ordering = ["revision", "metric"]
        constraints = [models.UniqueConstraint(fields=["revision", "metric"], name="one_claim_per_metric")]

    def __str__(self):
        if self.claimed_value is None:
            return f"{self.get_metric_display()} (not claimed)"
        return f"{self.get_metric_display()} = {self.claimed_value}"


class ArtifactKind(models.TextChoices):
    MODEL = "model", "Model"
    PREDICTIONS = "predictions", "Predictions"
    LABELS = "labels", "Labels"
    SAMPLE_INPUT = "sample_input", "Sample input"
    OTHER = "other", "Other"


REQUIRED_ARTIFACTS = (ArtifactKind.MODEL, ArtifactKind.PREDICTIONS, ArtifactKind.LABELS)


def artifact_path(artifact, filename):
    revision = artifact.revision
    return (
        f"artifacts/{revision.handover.project_id}/{revision.handover_id}/r{revision.number}/"
        f"{artifact.kind}/{uuid.uuid4().hex[:12]}-{get_valid_filename(filename)}"
    )


class Artifact(models.Model):
    """Evidence attached to a revision. Stored, hashed, never executed or unpickled."""

    revision = models.ForeignKey(Revision, on_delete=models.CASCADE, related_name="artifacts")
    kind = models.CharField(max_length=16, choices=ArtifactKind.choices)
    file = models.FileField(upload_to=artifact_path, max_length=500)
    original_name = models.CharField(max_length=255)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["revision", "kind", "original_name"]
        constraints = [
            # One file per kind, except "other" which may hold several.
            models.UniqueConstraint(
                fields=["revision", "kind"], condition=~Q(kind="other"), name="one_artifact_per_kind"
            ),
        ]

    def __str__(self):
        return f"{self.get_kind_display()}: {self.original_name}"


class ReviewDecision(models.TextChoices):
    ACCEPT = "accept", "Accepted"
    REQUEST_CHANGES = "request_changes", "Changes requested"


class Review(models.Model):
    """An engineer's decision on a submitted revision. An acceptance is the
    signed contract: reviewer, time and every artifact's sha256."""

    revision = models.ForeignKey(Revision, on_delete=models.CASCADE, related_name="reviews")
    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="reviews")
    decision = models.CharField(max_length=16, choices=ReviewDecision.choices)
    comment = models.TextField(blank=True)
    artifact_hashes = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            # A revision gets at most one decision: the first engineer wins.
            models.UniqueConstraint(fields=["revision"], name="one_decision_per_revision"),
        ]

    def __str__(self):
        return f"{self.get_decision_display()} by {self.reviewer} on {self.revision}"


class Comment(models.Model):
    handover = models.ForeignKey(Handover, on_delete=models.CASCADE, related_name="comments")
    revision = models.ForeignKey(Revision, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    body = models.TextField(help_text="Markdown")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self):
        return f"Comment by {self.author} on {self.handover}"


class Follow(models.Model):
    """Whether a person hears of a handover's comments and decisions.

    The owner, the reviewer and commenters get a row (``following``) when they
    become so; an explicit unfollow keeps the row with ``following=False``, so
    commenting again does not follow them back against their choice."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="follows")
    handover = models.ForeignKey(Handover, on_delete=models.CASCADE, related_name="follows")
    following = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "handover"], name="one_follow_per_handover")]

    def __str__(self):
        return f"{self.user} {'follows' if self.following else 'does not follow'} {self.handover}"
