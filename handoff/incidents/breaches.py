"""Production metrics held against the signed contract.

A worker evaluates each batch monitoring posted (``tasks.evaluate_batch``
carries the batch's id; ``MetricBatch.evaluated_at`` says it is done). A
window past a limit opens an incident, or adds a breach to the one being
worked for that deployment and metric; a window back within the limit adds a
recovery. Evaluations of one deployment take its row lock in turn, and a
partial unique constraint backs that up: two workers never open two
incidents for one deployment's metric.
"""

import math
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils import timezone

from handoff.core.locking import lock_row
from handoff.deployments.models import Deployment, MetricBatch, ProductionMetric

from .models import ACTIVE_STATUSES, EventKind, Incident, Severity
from .services import add_event, audit


@dataclass(frozen=True)
class Limit:
    """One promise of the signed contract that production is held to."""

    metric: str
    kind: str  # "minimum", "maximum" or "budget"
    value: float
    promised: float | None = None  # the claimed value, shown beside the observed one

    def breached_by(self, value):
        if not math.isfinite(value):
            return True
        return value < self.value if self.kind == "minimum" else value > self.value

    @property
    def severity(self):
        # A metric past its minimum or maximum is SEV2; a budget exceeded is SEV3.
        return Severity.SEV3 if self.kind == "budget" else Severity.SEV2

    def describe(self, value):
        label = ProductionMetric(self.metric).label
        if self.kind == "minimum":
            return f"{label} {value:g} is below the contract's minimum of {self.value:g}"
        if self.kind == "maximum":
            return f"{label} {value:g} is above the contract's maximum of {self.value:g}"
        return f"{label} {value:g} exceeds the contract's budget of {self.value:g}"


def limits_of(revision):
    """The limits a signed revision sets production: its claims' minimum and
    maximum acceptable values, and its latency and memory budgets. -> {metric: Limit}"""
    limits = {}
    for claim in revision.claimed_metrics.all():
        if claim.minimum is not None:
            limits[claim.metric] = Limit(claim.metric, "minimum", claim.minimum, claim.claimed_value)
        elif claim.maximum is not None:
            limits[claim.metric] = Limit(claim.metric, "maximum", claim.maximum, claim.claimed_value)
    if revision.latency_p95_ms is not None:
        limits[ProductionMetric.LATENCY_P95_MS] = Limit(ProductionMetric.LATENCY_P95_MS, "budget",
                                                        revision.latency_p95_ms)
    if revision.peak_memory_mb is not None:
        limits[ProductionMetric.PEAK_MEMORY_MB] = Limit(ProductionMetric.PEAK_MEMORY_MB, "budget",
                                                        revision.peak_memory_mb)
    return limits


def evaluate_batch(batch_id):
    """Hold batch ``batch_id``'s observations against the deployment's signed
    contract, once (a batch already evaluated is left alone). Called by the
    worker. -> {"opened": [...], "breaches": n, "recoveries": n} or None"""
    with transaction.atomic():
        try:
            batch = lock_row(MetricBatch.objects.all(), pk=batch_id)
        except MetricBatch.DoesNotExist:
            return None
        if batch.evaluated_at is not None:
            return None
        # One deployment's batches are evaluated one at a time. Only its row is locked:
        # FOR UPDATE over select_related would lock its project, team and handover too.
        lock_row(Deployment.objects.all(), pk=batch.deployment_id)
        deployment = (Deployment.objects.select_related("project__team", "revision", "handover__model")
                      .get(pk=batch.deployment_id))
        limits = limits_of(deployment.revision)
        outcome = {"opened": [], "breaches": 0, "recoveries": 0}
        being_worked = Incident.objects.filter(deployment=deployment, status__in=ACTIVE_STATUSES)
        active = {incident.metric: incident for incident in being_worked.exclude(metric="")}
        for observation in batch.observations.order_by("window_end", "id"):
            limit = limits.get(observation.metric)
            if limit is None:
                continue
            incident = active.get(observation.metric)
            if limit.breached_by(observation.value):
                if incident is None:
                    incident, opened = _open(deployment, observation, limit)
                    active[observation.metric] = incident
                    if opened:
                        outcome["opened"].append(incident.pk)
                else:
                    _breach(incident, observation, limit, opened=False)
                outcome["breaches"] += 1
            elif incident is not None and _last_signal(incident) == EventKind.BREACH:
                add_event(incident, EventKind.RECOVERY, None, body=_window(observation),
                          **_observed(observation, limit))
                outcome["recoveries"] += 1
        batch.evaluated_at = timezone.now()
        batch.save(update_fields=["evaluated_at"])
    return outcome


def _observed(observation, limit):
    return {"metric": observation.metric, "value": observation.value, "limit": limit.value,
            "limit_kind": limit.kind, "observation": observation.pk,
            "window_start": observation.window_start.isoformat(),
            "window_end": observation.window_end.isoformat()}


def _window(observation):
    return f"{observation.window_start:%Y-%m-%d %H:%M}–{observation.window_end:%H:%M} UTC"


def _last_signal(incident):
    return (incident.timeline.filter(kind__in=(EventKind.BREACH, EventKind.RECOVERY))
            .order_by("-created_at", "-id").values_list("kind", flat=True).first())


def _breach(incident, observation, limit, *, opened):
    add_event(incident, EventKind.BREACH, None, body=f"{limit.describe(observation.value)} "
              f"({_window(observation)}).", opened=opened, **_observed(observation, limit))


def _open(deployment, observation, limit):
    """A new incident for the first breaching window of a metric, or the
    breach added to the one another evaluation opened first. -> (Incident, opened)"""
    handover = deployment.handover
    title = (f"{ProductionMetric(limit.metric).label} breaches the contract of {handover} "
             f"in {deployment.get_environment_display().lower()}")
    limit_of_title = Incident._meta.get_field("title").max_length
    if len(title) > limit_of_title:  # a long model name and version label would fail the insert
        title = title[:limit_of_title - 1] + "…"
    try:
        with transaction.atomic():
            incident = Incident.objects.create(
                project=deployment.project, deployment=deployment, revision=deployment.revision,
                handover=handover, owner=handover.model.owner, severity=limit.severity,
                title=title,
                description=f"{limit.describe(observation.value)}, measured in production over "
                            f"{_window(observation)}.",
                metric=limit.metric, limit_kind=limit.kind, limit_value=limit.value,
                observed_value=observation.value, opened_at=timezone.now(),
            )
    except IntegrityError:
        # Another evaluation opened it first (only without the deployment lock, as on a
        # database that has none): add to that one.
        incident = Incident.objects.get(deployment=deployment, metric=limit.metric,
                                        status__in=ACTIVE_STATUSES)
        _breach(incident, observation, limit, opened=False)
        return incident, False
    add_event(incident, EventKind.OPENED, None, at=incident.opened_at, severity=incident.severity)
    _breach(incident, observation, limit, opened=True)
    audit(None, "incident.opened", incident, severity=incident.severity, metric=limit.metric,
          observed=observation.value, limit=limit.value, deployment=deployment.pk)
    return incident, True
