"""Read queries for deployment pages, the handover page's deployments panel and
the API. Every queryset a person reads is scoped with ``access.scope``."""

from django.db.models import OuterRef, Subquery

from handoff.access import scope
from handoff.core.errors import NotFound

from .models import Deployment, IngestionToken, MetricObservation, ProductionMetric


def visible_deployments(user):
    """Deployments in the user's projects, with what a row shows."""
    return scope(
        Deployment.objects.select_related("project", "handover__model", "revision", "deployed_by",
                                          "ended_by", "value_set_by"),
        user,
    )


def deployment_detail(user, pk):
    """One deployment the user may see, else NotFound (a 404)."""
    deployment = visible_deployments(user).filter(pk=pk).first()
    if deployment is None:
        raise NotFound("Not found.")
    return deployment


def handover_deployments(handover):
    """The handover page's deployment rows, newest first. (The page is only
    shown to someone who may see the handover.)"""
    return list(
        Deployment.objects.filter(handover=handover).select_related("deployed_by", "ended_by", "revision")
    )


def observations_of(deployment):
    """A deployment's observations, latest window first (paginate it)."""
    return deployment.observations.order_by("-window_end", "-id")


def latest_per_metric(deployment):
    """The latest observation of each metric a deployment reported, by metric;
    the business metric (held to no contract) last."""
    latest = (MetricObservation.objects.filter(deployment=deployment, metric=OuterRef("metric"))
              .order_by("-window_end", "-id").values("pk")[:1])
    rows = deployment.observations.filter(pk=Subquery(latest)).order_by("metric")
    return sorted(rows, key=lambda o: o.metric == ProductionMetric.BUSINESS)


def visible_observations(user):
    """Observations of deployments in the user's projects."""
    return scope(MetricObservation.objects.all(), user, project_field="deployment__project")


def project_tokens(project):
    """A project's ingestion tokens, newest first, revoked ones included. (For
    someone who may manage them: the caller asks ``access``.)"""
    return IngestionToken.objects.filter(project=project).select_related("created_by", "revoked_by")


def project_token(project, pk):
    """One ingestion token of ``project``, else NotFound."""
    token = project_tokens(project).filter(pk=pk).first()
    if token is None:
        raise NotFound("Not found.")
    return token
