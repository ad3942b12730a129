"""Agreed contracts: the terms an ML engineer and a data scientist of a
project sign before candidates are measured against them, and the candidates.

A contract sits above handovers and validation (STYLE.md): a candidate is a
handover that names its contract through ``Candidate``, so handovers know only
that a handover *is* a candidate (``Handover.is_candidate``), not of which
contract. The workflow lives in ``services.py``.
"""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.text import get_valid_filename

from handoff.handovers.models import Metric, TaskType


class ContractState(models.TextChoices):
    DRAFT = "draft", "Draft"
    PROPOSED = "proposed", "Proposed"
    AGREED = "agreed", "Agreed"
    SUPERSEDED = "superseded", "Superseded"
    CLOSED = "closed", "Closed"


class Contract(models.Model):
    """One version of a project's agreed terms for a use case.

    Versions of the same contract share ``series``; version n+1 succeeds an
    agreed version n, which becomes superseded once n+1 is agreed. Terms and
    artifacts change only while draft or proposed, and any change clears the
    signatures gathered so far."""

    project = models.ForeignKey("teams.Project", on_delete=models.PROTECT, related_name="contracts")
    series = models.UUIDField(default=uuid.uuid4, editable=False)
    version = models.PositiveIntegerField(default=1)
    title = models.CharField(max_length=200)
    state = models.CharField(max_length=16, choices=ContractState.choices, default=ContractState.DRAFT)
    labels_blind = models.BooleanField(
        default=False, help_text="Data scientists never see or download the labels, only measured figures"
    )
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    agreed_at = models.DateTimeField(null=True, blank=True)

    # --- requirement terms (cleaned by handovers.contract, as a revision's are) ---
    task_type = models.CharField(max_length=32, choices=TaskType.choices, blank=True)
    positive_label = models.CharField(max_length=64, blank=True)
    frameworks = models.CharField(
        max_length=200,
        blank=True,
        help_text='Accepted frameworks, such as "scikit-learn,pytorch"; blank: any',
    )
    model_formats = models.CharField(
        max_length=64, blank=True, help_text='Accepted model formats, such as "onnx"; blank: any'
    )
    latency_p95_ms = models.FloatField(null=True, blank=True)
    latency_batch_size = models.PositiveIntegerField(default=1)
    peak_memory_mb = models.FloatField(null=True, blank=True)
    max_parameter_count = models.PositiveBigIntegerField(null=True, blank=True)
    validation_description = models.TextField(blank=True)
    validation_row_count = models.PositiveIntegerField(null=True, blank=True)
    fairness_slice_column = models.CharField(max_length=64, blank=True)
    fairness_max_gap = models.FloatField(null=True, blank=True)
    fairness_metric = models.CharField(max_length=16, choices=Metric.choices, blank=True)
    intended_use = models.TextField(blank=True, help_text="Markdown")
    limitations = models.TextField(blank=True, help_text="Markdown")
    metric_tolerance = models.FloatField(default=0.005)

    class Meta:
        ordering = ["-updated_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["series", "version"], name="contract_version_unique"),
            models.CheckConstraint(
                condition=Q(latency_p95_ms__isnull=True) | Q(latency_p95_ms__gt=0),
                name="contract_latency_positive",
            ),
            models.CheckConstraint(
                condition=Q(peak_memory_mb__isnull=True) | Q(peak_memory_mb__gt=0),
                name="contract_memory_positive",
            ),
            models.CheckConstraint(
                condition=Q(metric_tolerance__gte=0), name="contract_tolerance_not_negative"
            ),
        ]
        indexes = [
            models.Index(fields=["project", "state"]),
            # The lists' orders: the page (newest first) and the API (newest change first).
            models.Index(fields=["-created_at", "-id"], name="contract_recent_idx"),
            models.Index(fields=["-updated_at", "-id"], name="contract_changed_idx"),
        ]

    def __str__(self):
        return f"{self.title} v{self.version}"

    def get_absolute_url(self):
        return reverse("contracts:detail", args=[self.pk])

    @property
    def framework_list(self):
        return [name for name in self.frameworks.split(",") if name]

    @property
    def format_list(self):
        return [name for name in self.model_formats.split(",") if name]


class Requirement(models.Model):
    """A metric every candidate must meet: a minimum, a maximum, or both."""

    contract = models.ForeignKey(Contract, on_delete=models.CASCADE, related_name="requirements")
    metric = models.CharField(max_length=16, choices=Metric.choices)
    minimum = models.FloatField(null=True, blank=True)
    maximum = models.FloatField(null=True, blank=True)

    class Meta:
        ordering = ["contract", "metric"]
        constraints = [
            models.UniqueConstraint(fields=["contract", "metric"], name="one_requirement_per_metric"),
            models.CheckConstraint(
                condition=Q(minimum__isnull=False) | Q(maximum__isnull=False), name="requirement_has_a_bound"
            ),
        ]

    def __str__(self):
        return (
            f"{self.get_metric_display()} ≥ {self.minimum}"
            if self.minimum is not None
            else (f"{self.get_metric_display()} ≤ {self.maximum}")
        )


class ContractArtifactKind(models.TextChoices):
    LABELS = "labels", "Validation labels"
    INPUTS = "inputs", "Validation inputs (without labels)"


def contract_artifact_path(artifact, filename):
    contract = artifact.contract
    return (
        f"contracts/{contract.project_id}/{contract.series.hex}/v{contract.version}/{artifact.kind}/"
        f"{uuid.uuid4().hex[:12]}-{get_valid_filename(filename)}"
    )


class ContractArtifact(models.Model):
    """The validation set a contract fixes: its labels and, optionally, its
    inputs. Stored, hashed, never executed; shared by later versions and by
    candidates (a candidate's labels artifact points at the same stored file)."""

    contract = models.ForeignKey(Contract, on_delete=models.CASCADE, related_name="artifacts")
    kind = models.CharField(max_length=16, choices=ContractArtifactKind.choices)
    file = models.FileField(upload_to=contract_artifact_path, max_length=500)
    original_name = models.CharField(max_length=255)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["contract", "kind"]
        constraints = [
            models.UniqueConstraint(fields=["contract", "kind"], name="one_contract_artifact_per_kind")
        ]

    def __str__(self):
        return f"{self.get_kind_display()}: {self.original_name}"


class ContractSignature(models.Model):
    """A signer's agreement to exactly these terms and files: the sha256 of
    the terms and of each artifact as signed, and the role they signed in."""

    contract = models.ForeignKey(Contract, on_delete=models.CASCADE, related_name="signatures")
    signer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    role = models.CharField(max_length=32)
    signed_at = models.DateTimeField(auto_now_add=True)
    terms_sha256 = models.CharField(max_length=64)
    artifact_hashes = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["signed_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["contract", "signer"], name="one_signature_per_signer")
        ]

    def __str__(self):
        return f"{self.signer} signed {self.contract}"


class ContractComment(models.Model):
    contract = models.ForeignKey(Contract, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    body = models.TextField(help_text="Markdown")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self):
        return f"Comment by {self.author} on {self.contract}"


class Candidate(models.Model):
    """A handover filed against one agreed contract version; its state is
    the handover's (``not_selected`` once another candidate was selected)."""

    contract = models.ForeignKey(Contract, on_delete=models.PROTECT, related_name="candidates")
    handover = models.OneToOneField("handovers.Handover", on_delete=models.CASCADE, related_name="candidacy")
    filed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["contract", "filed_at", "id"]

    def __str__(self):
        return f"{self.handover} for {self.contract}"


# Terms a contract holds, in the order pages show them; all but ``frameworks``
# are also revision terms (cleaned by ``handovers.contract``) and are copied
# onto every candidate.
CONTRACT_TERMS = (
    "task_type",
    "positive_label",
    "frameworks",
    "model_formats",
    "latency_p95_ms",
    "latency_batch_size",
    "peak_memory_mb",
    "max_parameter_count",
    "validation_description",
    "validation_row_count",
    "fairness_slice_column",
    "fairness_max_gap",
    "fairness_metric",
    "intended_use",
    "limitations",
    "metric_tolerance",
)
