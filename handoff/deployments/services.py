"""Every change to deployments, ingestion tokens and production metrics.

Each function: permission check (``handoff.access``), state check against a
lifecycle table, row lock, audit event, one transaction. Views, the API and
tasks call these and nothing else writes.

A handover's own moves (deploy, retire) are taken by
``handovers.services.move_handover`` inside these functions' transactions:
this app knows what the handover's lifecycle cannot (its deployments).
"""

import hashlib
import math
import secrets
from datetime import datetime
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from handoff.access import Action, require
from handoff.audit.services import record
from handoff.core.errors import Conflict, DomainError, NotFound, Unauthenticated
from handoff.core.locking import lock_row
from handoff.handovers.lifecycle import HANDOVER
from handoff.handovers.models import Handover, Model
from handoff.handovers.services import move_handover, signed_revision

from .lifecycle import DEPLOYMENT
from .models import (
    Deployment,
    DeploymentStatus,
    Environment,
    IngestionToken,
    MetricBatch,
    MetricObservation,
    ProductionMetric,
)
from .signals import metrics_received

# What every ingestion token starts with, so that one pasted in the wrong place is recognised.
TOKEN_PREFIX = "hoi_"
# Characters of a token kept (and shown) so people can tell their tokens apart.
SHOWN_CHARACTERS = 12
MAX_OBSERVATIONS = 1000
MAX_NOTES = 2000
HOW_TO_AUTHENTICATE = ("Send 'Authorization: Bearer <ingestion token>' with a token from the project's "
                       "Ingestion tokens page.")


# --- deployments ---------------------------------------------------------------------------------


def _clean_deployed_at(deployed_at):
    now = timezone.now()
    if deployed_at is None:
        return now
    if not isinstance(deployed_at, datetime) or timezone.is_naive(deployed_at):
        raise DomainError("Give the deployment time with its time zone.", field="deployed_at")
    if deployed_at > now:
        raise DomainError("The deployment time is in the future; record a deployment once it has happened.",
                          field="deployed_at")
    return deployed_at


def _clean_traffic_share(traffic_share):
    whole = isinstance(traffic_share, int) and not isinstance(traffic_share, bool)
    if not whole or not 0 <= traffic_share <= 100:
        raise DomainError("Give the traffic share as a whole percentage from 0 to 100.",
                          field="traffic_share")
    return traffic_share


def free_traffic_share(model, environment, *, exclude=None):
    """The percentage of ``environment``'s traffic no active deployment of
    ``model`` (any of its versions) serves yet."""
    active = Deployment.objects.filter(handover__model=model, environment=environment,
                                       status=DeploymentStatus.ACTIVE)
    if exclude is not None:
        active = active.exclude(pk=exclude.pk)
    return 100 - (active.aggregate(total=Sum("traffic_share"))["total"] or 0)


def deploy(actor, handover, *, environment, traffic_share=100, deployed_at=None, notes=""):
    """Record that an accepted (or already deployed) handover serves ``environment``
    with ``traffic_share`` percent of its traffic; the handover becomes deployed. -> Deployment

    An ML engineer of the project may call it. The deployment is held to the
    signed revision. The active deployments of one model (all its versions) in
    one environment never serve more than 100 %: the model's row is locked
    first, so two deploys of its versions at once are checked one after the
    other. ``deployed_at`` defaults to now and may not be in the future."""
    require(actor, Action.DEPLOY, handover)
    if environment not in Environment.values:
        raise DomainError(f"Choose an environment: {', '.join(Environment.values)}.", field="environment")
    traffic_share = _clean_traffic_share(traffic_share)
    deployed_at = _clean_deployed_at(deployed_at)
    notes = (notes or "").strip()
    if len(notes) > MAX_NOTES:
        raise DomainError(f"The notes are too long (at most {MAX_NOTES} characters).", field="notes")
    with transaction.atomic():
        # The model first (every deploy of any of its versions takes it), then the handover.
        model = lock_row(Model.objects, pk=handover.model_id)
        try:
            handover = lock_row(Handover.objects, pk=handover.pk)
        except Handover.DoesNotExist:
            raise NotFound("Not found.") from None
        HANDOVER.check(handover, "deploy")
        revision = signed_revision(handover)
        if revision is None:  # pragma: no cover - an accepted handover has an accepting review
            raise Conflict("This handover has no signed revision to deploy.")
        free = free_traffic_share(model, environment)
        if traffic_share > free:
            # A share the schema allows, refused for what is deployed now: a 409, as every conflict.
            where = Environment(environment).label.lower()
            raise Conflict(
                f"Only {free} % of {where} traffic is free for {model.name}: its active deployments there "
                f"serve {100 - free} %. Deploy with at most {free} %, or roll back or retire one of them "
                "first.",
                field="traffic_share",
            )
        deployment = Deployment.objects.create(
            project_id=handover.project_id, handover=handover, revision=revision, environment=environment,
            traffic_share=traffic_share, deployed_at=deployed_at, deployed_by=actor, notes=notes,
        )
        move_handover(actor, handover, "deploy", deployment=deployment.pk, environment=environment)
        record(actor, "deployment.created", deployment, project=handover.project, deployment=deployment.pk,
               handover=handover.pk, environment=environment, traffic_share=traffic_share,
               revision=revision.number)
    return deployment


def _end(actor, deployment, transition, verb, **details):
    require(actor, Action.DEPLOY, deployment)
    with transaction.atomic():
        try:
            deployment = lock_row(Deployment.objects.select_related("handover"), pk=deployment.pk)
        except Deployment.DoesNotExist:
            raise NotFound("Not found.") from None
        deployment.status = DEPLOYMENT.check(deployment, transition)
        deployment.ended_at = timezone.now()
        deployment.ended_by = actor
        deployment.save(update_fields=["status", "ended_at", "ended_by"])
        record(actor, verb, deployment, project=deployment.project, deployment=deployment.pk,
               handover=deployment.handover_id, **details)
    return deployment


def rollback(actor, deployment, *, reason=""):
    """active -> rolled back: the deployment stopped serving because it misbehaved. -> Deployment

    An ML engineer of the project may call it; ``reason`` is kept in the audit event."""
    reason = (reason or "").strip()
    if len(reason) > MAX_NOTES:
        raise DomainError(f"The reason is too long (at most {MAX_NOTES} characters).", field="reason")
    return _end(actor, deployment, "rollback", "deployment.rolled_back", reason=reason)


def retire(actor, deployment):
    """active -> retired: the deployment stopped serving in the ordinary course. -> Deployment

    An ML engineer of the project may call it."""
    return _end(actor, deployment, "retire", "deployment.retired")


def retire_handover(actor, handover):
    """deployed -> retired for a handover none of whose deployments is still
    active (Conflict naming them otherwise). -> Handover

    An ML engineer of the project may call it."""
    require(actor, Action.DEPLOY, handover)
    with transaction.atomic():
        try:
            handover = lock_row(Handover.objects, pk=handover.pk)
        except Handover.DoesNotExist:
            raise NotFound("Not found.") from None
        active = list(handover.deployments.filter(status=DeploymentStatus.ACTIVE)
                      .order_by("deployed_at", "pk"))
        if active:
            names = ", ".join(f"{d.get_environment_display().lower()} (#{d.pk}, {d.traffic_share} %)"
                              for d in active)
            raise Conflict(f"Cannot retire this handover while it is still deployed: {names}. "
                           "Roll back or retire those deployments first.")
        return move_handover(actor, handover, "retire")


# --- what a deployment is worth ------------------------------------------------------------------

# What ``record_value`` leaves as it is when a caller does not give it (the API's partial body).
UNCHANGED = object()
# Deployment.monthly_value and monthly_cost: 14 digits, 2 of them after the point.
MONEY_LIMIT = Decimal("1e12")
MONEY_FIELDS = {"monthly_value": "monthly value", "monthly_cost": "monthly cost"}


def clean_money(field, amount):
    """``amount`` (a Decimal, a whole number or a numeric string) as a Decimal
    of whole cents, or None to clear it; a DomainError on ``field`` otherwise."""
    name = MONEY_FIELDS[field]
    if amount is None or (isinstance(amount, str) and not amount.strip()):
        return None
    number = None
    if isinstance(amount, Decimal | int | float | str) and not isinstance(amount, bool):
        try:
            number = Decimal(str(amount).strip())
        except InvalidOperation:
            pass
    amount = number
    if amount is None or not amount.is_finite():
        raise DomainError(f"Give the {name} as a number, such as 12500 or 12500.50.", field=field)
    if amount < 0:
        raise DomainError(f"The {name} cannot be negative: give 0 or more.", field=field)
    if amount >= MONEY_LIMIT:
        raise DomainError(f"The {name} is too large: at most 999,999,999,999.99 {settings.HANDOFF_CURRENCY} "
                          "a month.", field=field)
    if amount != amount.quantize(Decimal("0.01")):
        raise DomainError(f"Give the {name} in whole cents: at most 2 digits after the point.", field=field)
    return amount.quantize(Decimal("0.01"))


def _clean_business_metric_name(name):
    if not isinstance(name, str):
        raise DomainError("Give the business metric's name as text.", field="business_metric_name")
    name = " ".join(name.split())
    limit = Deployment._meta.get_field("business_metric_name").max_length
    if len(name) > limit:
        raise DomainError(f"The business metric's name is too long (at most {limit} characters).",
                          field="business_metric_name")
    return name


def record_value(actor, deployment, *, monthly_value=UNCHANGED, monthly_cost=UNCHANGED,
                 business_metric_name=UNCHANGED):
    """Record what a deployment is worth a month and what it costs to run (in
    ``settings.HANDOFF_CURRENCY``; None clears an amount), and what its
    ``business`` observations measure. -> Deployment

    The project's product manager, the team's leader or a superuser may call
    it (NotFound outside their reach, Forbidden for other roles). An argument
    left out stays as it is (none given: nothing to do); of the rest, only
    what differs is written, with ``value_set_by``/``value_set_at`` when an
    amount changed and one audit event holding each changed field before and
    after. Any bad input changes nothing. Deployments in any status may be valued (a retired one's figures
    stay true of the months it served)."""
    require(actor, Action.RECORD_VALUE, deployment)
    wanted = {}
    if monthly_value is not UNCHANGED:
        wanted["monthly_value"] = clean_money("monthly_value", monthly_value)
    if monthly_cost is not UNCHANGED:
        wanted["monthly_cost"] = clean_money("monthly_cost", monthly_cost)
    if business_metric_name is not UNCHANGED:
        wanted["business_metric_name"] = _clean_business_metric_name(business_metric_name)
    if not wanted:
        return deployment
    project = deployment.project  # read by ``require``; FOR UPDATE over a join would lock it too
    with transaction.atomic():
        try:
            deployment = lock_row(Deployment.objects, pk=deployment.pk)
        except Deployment.DoesNotExist:
            raise NotFound("Not found.") from None
        changed = [field for field, value in wanted.items() if getattr(deployment, field) != value]
        if not changed:
            return deployment
        before = {field: _audited(getattr(deployment, field)) for field in changed}
        for field in changed:
            setattr(deployment, field, wanted[field])
        update_fields = list(changed)
        if set(changed) & set(MONEY_FIELDS):
            deployment.value_set_by = actor
            deployment.value_set_at = timezone.now()
            update_fields += ["value_set_by", "value_set_at"]
        deployment.save(update_fields=update_fields)
        record(actor, "deployment.value_recorded", deployment, project=project,
               deployment=deployment.pk, currency=settings.HANDOFF_CURRENCY, before=before,
               after={field: _audited(wanted[field]) for field in changed})
    return deployment


def _audited(value):
    # Amounts as exact strings ("12500.00"): JSON has no decimals.
    return str(value) if isinstance(value, Decimal) else value


# --- ingestion tokens ----------------------------------------------------------------------------


def _digest(secret):
    return hashlib.sha256(secret.encode()).hexdigest()


def create_token(actor, project, *, name):
    """A new ingestion token for ``project``'s monitoring. -> (IngestionToken, secret)

    An ML engineer of the project may call it. Only the token's sha256 and its
    first characters are stored: the secret is returned here, once."""
    require(actor, Action.MANAGE_INGESTION_TOKENS, project)
    name = (name or "").strip()
    if not name:
        raise DomainError("Name the token after what will post with it, such as “Prometheus exporter”.",
                          field="name")
    limit = IngestionToken._meta.get_field("name").max_length
    if len(name) > limit:
        raise DomainError(f"The name is too long (at most {limit} characters).", field="name")
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with transaction.atomic():
        token = IngestionToken.objects.create(project=project, name=name, prefix=secret[:SHOWN_CHARACTERS],
                                              digest=_digest(secret), created_by=actor)
        record(actor, "ingestion_token.created", token, project=project, token=token.pk, prefix=token.prefix)
    return token, secret


def revoke_token(actor, token):
    """Revoke an ingestion token: what posts with it is refused (401) from now on. -> IngestionToken

    An ML engineer of the project may call it; revoking a revoked token is a Conflict."""
    require(actor, Action.MANAGE_INGESTION_TOKENS, token)
    with transaction.atomic():
        try:
            token = lock_row(IngestionToken.objects.select_related("project"), pk=token.pk)
        except IngestionToken.DoesNotExist:
            raise NotFound("Not found.") from None
        if token.revoked_at is not None:
            raise Conflict(f"The token {token.name} was already revoked.")
        token.revoked_at = timezone.now()
        token.revoked_by = actor
        token.save(update_fields=["revoked_at", "revoked_by"])
        record(actor, "ingestion_token.revoked", token, project=token.project, token=token.pk,
               prefix=token.prefix)
    return token


def token_from_secret(secret):
    """The active ingestion token ``secret`` is, or Unauthenticated (401) for
    one nobody issued or that was revoked. -> IngestionToken"""
    if not isinstance(secret, str) or not secret.startswith(TOKEN_PREFIX) or len(secret) > 200:
        raise Unauthenticated(f"That is not an ingestion token (they start with {TOKEN_PREFIX}). "
                              f"{HOW_TO_AUTHENTICATE}")
    token = IngestionToken.objects.select_related("project").filter(digest=_digest(secret)).first()
    if token is None:
        raise Unauthenticated(f"Unknown ingestion token: nobody issued it, or it was mistyped. "
                              f"{HOW_TO_AUTHENTICATE}")
    if token.revoked_at is not None:
        raise Unauthenticated(f"This ingestion token ({token.prefix}…) was revoked on "
                              f"{token.revoked_at:%Y-%m-%d %H:%M} UTC; create a new one.")
    return token


# --- production metrics --------------------------------------------------------------------------


def _check_observation(index, observation):
    """The rules the API's serializer states, asked again of any caller
    (a DomainError on ``observations[i].field``)."""
    def refuse(field, message):
        raise DomainError(message, field=f"observations[{index}].{field}")

    if observation.get("metric") not in ProductionMetric.values:
        refuse("metric", f"Choose a metric: {', '.join(ProductionMetric.values)}.")
    value = observation.get("value")
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        refuse("value", "Give the value as a finite number.")
    start, end = observation.get("window_start"), observation.get("window_end")
    for field, moment in (("window_start", start), ("window_end", end)):
        if not isinstance(moment, datetime) or timezone.is_naive(moment):
            refuse(field, "Give the time with its time zone, such as 2026-01-31T12:00:00Z.")
    if start > end:
        refuse("window_end", "The window ends before it starts.")
    size = observation.get("sample_size")
    if size is not None and (isinstance(size, bool) or not isinstance(size, int) or not 0 < size < 2**31):
        refuse("sample_size", "Give the sample size as a whole number of 1 or more, or leave it out.")


def ingest(token, deployment_pk, observations):
    """Store one batch of production observations for an active deployment of
    the token's project, all or nothing, and announce it
    (``signals.metrics_received``, inside the transaction). -> MetricBatch

    Called with the ingestion token the request was authenticated by: a
    deployment of another project is a NotFound (404) whether it exists or
    not, one that is no longer active a Conflict (409), a token revoked
    meanwhile an Unauthenticated (401). ``observations`` is a list of 1 to
    1000 dicts: metric, value, window_start, window_end, sample_size (optional)."""
    if not isinstance(observations, list | tuple) or not 1 <= len(observations) <= MAX_OBSERVATIONS:
        raise DomainError(f"Send 1 to {MAX_OBSERVATIONS} observations in a batch.", field="observations")
    for index, observation in enumerate(observations):
        _check_observation(index, observation)
    with transaction.atomic():
        # Under the deployment's lock: a rollback at the same moment is either before (409) or after.
        try:
            deployment = lock_row(Deployment.objects, pk=deployment_pk, project_id=token.project_id)
        except (Deployment.DoesNotExist, ValueError, TypeError):
            raise NotFound("Not found.") from None
        if deployment.status != DeploymentStatus.ACTIVE:
            raise Conflict(f"This deployment was {deployment.get_status_display().lower()}; "
                           "metrics are taken only for an active deployment.")
        now = timezone.now()
        # The UPDATE waits for a revocation at the same moment, then sees it.
        if not IngestionToken.objects.filter(pk=token.pk, revoked_at=None).update(last_used_at=now):
            raise Unauthenticated("This ingestion token was revoked; create a new one.")
        batch = MetricBatch.objects.create(deployment=deployment, token=token, count=len(observations))
        MetricObservation.objects.bulk_create(
            MetricObservation(
                deployment=deployment, batch=batch, metric=o["metric"], value=float(o["value"]),
                window_start=o["window_start"], window_end=o["window_end"], sample_size=o.get("sample_size"),
            )
            for o in observations
        )
        metrics_received.send(sender=MetricBatch, batch=batch)
    return batch
