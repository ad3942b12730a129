"""Deployments of accepted handovers, the tokens monitoring posts with, and
what it posts: batches of production metric observations."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse

from handoff.handovers.models import Metric


class Environment(models.TextChoices):
    STAGING = "staging", "Staging"
    PRODUCTION = "production", "Production"


class DeploymentStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    ROLLED_BACK = "rolled_back", "Rolled back"
    RETIRED = "retired", "Retired"


class Deployment(models.Model):
    """An accepted handover serving in an environment, with the revision that was signed."""

    # Denormalised from handover.project so every scope is one indexed filter.
    project = models.ForeignKey("teams.Project", on_delete=models.PROTECT, related_name="deployments")
    handover = models.ForeignKey("handovers.Handover", on_delete=models.PROTECT, related_name="deployments")
    # The signed contract the deployment is held to: the accepted revision.
    revision = models.ForeignKey("handovers.Revision", on_delete=models.PROTECT, related_name="deployments")
    environment = models.CharField(max_length=16, choices=Environment.choices)
    traffic_share = models.PositiveSmallIntegerField(
        default=100, help_text="Percent of the environment's traffic this deployment serves (A/B, canary)")
    status = models.CharField(max_length=16, choices=DeploymentStatus.choices,
                              default=DeploymentStatus.ACTIVE)
    deployed_at = models.DateTimeField()
    deployed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    ended_at = models.DateTimeField(null=True, blank=True)
    ended_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="+")
    notes = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # What the deployment is worth, per month, in the installation's currency
    # (settings.HANDOFF_CURRENCY): recorded by the project's product manager or
    # the team's leader; None until someone has.
    monthly_value = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    monthly_cost = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    value_set_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                     on_delete=models.PROTECT, related_name="+")
    value_set_at = models.DateTimeField(null=True, blank=True)
    # What monitoring's ``business`` observations measure ("Approved revenue, € per hour").
    business_metric_name = models.CharField(max_length=80, blank=True)

    class Meta:
        ordering = ["-deployed_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(traffic_share__gte=0) & Q(traffic_share__lte=100),
                                   name="traffic_share_is_a_percentage"),
            models.CheckConstraint(condition=Q(monthly_value__gte=0) | Q(monthly_value__isnull=True),
                                   name="monthly_value_is_not_negative"),
            models.CheckConstraint(condition=Q(monthly_cost__gte=0) | Q(monthly_cost__isnull=True),
                                   name="monthly_cost_is_not_negative"),
        ]
        indexes = [
            models.Index(fields=["project", "status"]),
            # The lists' default order, over everyone's deployments and within a project: a page
            # of 50 is read in order instead of joining and sorting every deployment first.
            models.Index(fields=["-deployed_at", "-id"], name="deployment_list_order"),
            models.Index(fields=["project", "-deployed_at", "-id"], name="deployment_project_order"),
        ]

    def __str__(self):
        return f"{self.handover} in {self.get_environment_display().lower()}"

    def get_absolute_url(self):
        return reverse("deployments:detail", args=[self.pk])

    @property
    def monthly_net(self):
        """Value less cost a month, once both are recorded (else None)."""
        if self.monthly_value is None or self.monthly_cost is None:
            return None
        return self.monthly_value - self.monthly_cost

    @property
    def business_metric_label(self):
        """What its ``business`` observations are called on pages."""
        return self.business_metric_name or ProductionMetric.BUSINESS.label


class ProductionMetric(models.TextChoices):
    """What monitoring may report: the contract's metrics and its two budgets."""

    ACCURACY = Metric.ACCURACY.value, Metric.ACCURACY.label
    PRECISION = Metric.PRECISION.value, Metric.PRECISION.label
    RECALL = Metric.RECALL.value, Metric.RECALL.label
    F1 = Metric.F1.value, Metric.F1.label
    ROC_AUC = Metric.ROC_AUC.value, Metric.ROC_AUC.label
    LOG_LOSS = Metric.LOG_LOSS.value, Metric.LOG_LOSS.label
    MAE = Metric.MAE.value, Metric.MAE.label
    RMSE = Metric.RMSE.value, Metric.RMSE.label
    R2 = Metric.R2.value, Metric.R2.label
    LATENCY_P95_MS = "latency_p95_ms", "p95 latency (ms)"
    PEAK_MEMORY_MB = "peak_memory_mb", "Peak memory (MB)"
    # The deployment's business metric (what ``Deployment.business_metric_name`` says it is):
    # shown beside the model's metrics, never held to a contract.
    BUSINESS = "business", "Business metric"


class IngestionToken(models.Model):
    """A secret a project's monitoring posts metrics with. Only its sha256 is
    kept; the token itself is shown once, when it is created."""

    project = models.ForeignKey("teams.Project", on_delete=models.CASCADE, related_name="ingestion_tokens")
    name = models.CharField(max_length=80)
    # The first characters, so people can tell their tokens apart.
    prefix = models.CharField(max_length=16)
    digest = models.CharField(max_length=64, unique=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self):
        return self.revoked_at is None


class MetricBatch(models.Model):
    """One POST of observations: the row a worker's evaluation is about (the
    task carries its id; ``evaluated_at`` says whether it is done)."""

    deployment = models.ForeignKey(Deployment, on_delete=models.CASCADE, related_name="metric_batches")
    token = models.ForeignKey(IngestionToken, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="batches")
    received_at = models.DateTimeField(auto_now_add=True)
    count = models.PositiveIntegerField()
    evaluated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["received_at", "id"]
        indexes = [models.Index(fields=["evaluated_at", "received_at"])]

    def __str__(self):
        return f"{self.count} observations for {self.deployment}"


class MetricObservation(models.Model):
    """One metric's value over one window of production traffic."""

    deployment = models.ForeignKey(Deployment, on_delete=models.CASCADE, related_name="observations")
    batch = models.ForeignKey(MetricBatch, on_delete=models.CASCADE, related_name="observations")
    metric = models.CharField(max_length=32, choices=ProductionMetric.choices)
    value = models.FloatField()
    window_start = models.DateTimeField()
    window_end = models.DateTimeField()
    sample_size = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["window_end", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(window_end__gte=models.F("window_start")),
                                   name="window_ends_after_it_starts"),
        ]
        indexes = [models.Index(fields=["deployment", "metric", "window_end"])]

    def __str__(self):
        return f"{self.metric}={self.value:g} ({self.window_start:%Y-%m-%d %H:%M}–{self.window_end:%H:%M})"
