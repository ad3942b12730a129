"""Deployments API: thin viewsets. Each view finds the object in the caller's
reach (404 otherwise) and checks the role the action needs (403) before it
reads the body, parses, calls a service and serializes. Errors from services
become JSON in ``handoff.core.api``.

``POST /deployments/{id}/metrics/`` is monitoring's: it takes an ingestion
token (``Authorization: Bearer hoi_…``) and nothing else, and a deployment
outside the token's project is a 404. People read what was posted at
``GET /deployments/{id}/observations/``.
"""

from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
    inline_serializer,
)
from rest_framework import exceptions, mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import JSONParser
from rest_framework.response import Response

from handoff import access
from handoff.access import Action
from handoff.core.errors import Conflict, NotFound
from handoff.handovers import selectors as handover_selectors

from .. import selectors, services
from ..filters import DeploymentFilter
from ..models import Deployment, DeploymentStatus, IngestionToken
from . import serializers as s
from .authentication import HasIngestionToken, IngestionTokenAuthentication
from .throttling import IngestionTokenThrottle

ERRORS = {
    400: OpenApiResponse(description="Bad input: a message per field"),
    403: OpenApiResponse(description="Your role does not allow this"),
    404: OpenApiResponse(description="Not found, or outside your projects"),
    409: OpenApiResponse(description="Not in a state that allows this"),
}
TAGS = ["deployments"]


def _body(serializer_class, request):
    """The validated body, or a 400 whose fields are paths such as ``observations[3].metric``."""
    serializer = serializer_class(data=request.data)
    if not serializer.is_valid():
        raise exceptions.ValidationError(s.flat_errors(serializer.errors))
    return serializer.validated_data


@extend_schema_view(
    list=extend_schema(summary="Deployments in your projects", tags=TAGS),
    retrieve=extend_schema(summary="One deployment", tags=TAGS),
)
class DeploymentViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = s.DeploymentSerializer
    queryset = Deployment.objects.none()  # for the schema: the real one is the caller's (get_queryset)
    parser_classes = [JSONParser]
    filterset_class = DeploymentFilter
    ordering_fields = ["deployed_at", "traffic_share"]
    # Checked as soon as the deployment is found, before the body is read.
    required_actions = {"rollback": Action.DEPLOY, "retire": Action.DEPLOY, "value": Action.RECORD_VALUE}

    def get_queryset(self):
        return selectors.visible_deployments(self.request.user)

    def get_object(self):
        deployment = super().get_object()
        needed = self.required_actions.get(self.action)
        if needed:
            access.require(self.request.user, needed, deployment)
        return deployment

    def _answer(self, deployment, status_code=status.HTTP_200_OK):
        deployment = selectors.deployment_detail(self.request.user, deployment.pk)
        return Response(s.DeploymentSerializer(deployment).data, status=status_code)

    @extend_schema(summary="Record a deployment of an accepted handover (ML engineers)", tags=TAGS,
                   description="The handover becomes deployed. The active deployments of one model in one "
                               "environment serve at most 100 % of its traffic together: a larger share is "
                               "refused with a 409 on `traffic_share`, naming the share still free.",
                   request=s.DeploymentCreateSerializer, responses={201: s.DeploymentSerializer, **ERRORS})
    def create(self, request):
        data = _body(s.DeploymentCreateSerializer, request)
        handover = handover_selectors.visible_handovers(request.user).filter(pk=data["handover"]).first()
        if handover is None:
            raise NotFound("Not found.")
        deployment = services.deploy(request.user, handover, environment=data["environment"],
                                     traffic_share=data["traffic_share"], deployed_at=data["deployed_at"],
                                     notes=data["notes"])
        return self._answer(deployment, status.HTTP_201_CREATED)

    @extend_schema(summary="Roll back an active deployment (ML engineers)", tags=TAGS,
                   request=s.RollbackSerializer, responses={200: s.DeploymentSerializer, **ERRORS})
    @action(detail=True, methods=["post"])
    def rollback(self, request, pk=None):
        deployment = self.get_object()
        data = _body(s.RollbackSerializer, request)
        return self._answer(services.rollback(request.user, deployment, reason=data["reason"]))

    @extend_schema(summary="Retire an active deployment (ML engineers)", tags=TAGS,
                   request=None, responses={200: s.DeploymentSerializer, **ERRORS})
    @action(detail=True, methods=["post"])
    def retire(self, request, pk=None):
        return self._answer(services.retire(request.user, self.get_object()))

    @extend_schema(
        summary="Record what a deployment is worth a month (product manager, team leader)", tags=TAGS,
        description="Sets any of `monthly_value`, `monthly_cost` (in the installation's currency, "
                    "`currency` in the answer) and `business_metric_name`; a field left out stays as it "
                    "is, `null` clears an amount. Only what differs is written, with `value_set_by` and "
                    "`value_set_at` when an amount changed, and audited. A negative, too large or too "
                    "precise amount is a 400 naming the field, and nothing changes. A deployment outside "
                    "your projects is a 404 and another role a 403, before the body is read.",
        request=s.ValueInputSerializer, responses={200: s.DeploymentSerializer, **ERRORS})
    @action(detail=True, methods=["post"])
    def value(self, request, pk=None):
        deployment = self.get_object()
        data = _body(s.ValueInputSerializer, request)
        return self._answer(services.record_value(request.user, deployment, **data))

    @extend_schema(summary="Retire a handover none of whose deployments is active (ML engineers)", tags=TAGS,
                   request=s.HandoverRefSerializer, responses={200: s.RetiredHandoverSerializer, **ERRORS})
    @action(detail=False, methods=["post"], url_path="retire-handover", url_name="retire-handover")
    def retire_handover(self, request):
        data = _body(s.HandoverRefSerializer, request)
        handover = handover_selectors.visible_handovers(request.user).filter(pk=data["handover"]).first()
        if handover is None:
            raise NotFound("Not found.")
        handover = services.retire_handover(request.user, handover)
        return Response(s.RetiredHandoverSerializer(handover).data)

    @extend_schema(summary="Observations posted for a deployment, latest window first", tags=TAGS,
                   responses={200: s.ObservationSerializer(many=True), 400: ERRORS[400]})
    @action(detail=True, methods=["get"], filter_backends=[])
    def observations(self, request, pk=None):
        page = self.paginate_queryset(selectors.observations_of(self.get_object()))
        return self.get_paginated_response(s.ObservationSerializer(page, many=True).data)

    @extend_schema(
        summary="Post production metrics of an active deployment (monitoring, with an ingestion token)",
        description="Authenticated by the project's ingestion token only: `Authorization: Bearer hoi_…`. "
                    "Stores every observation or none (a 400 names the field at fault, such as "
                    "`observations[3].metric`). A deployment of another project is a 404; one that is no "
                    "longer active a 409; an unknown or revoked token a 401. Each token may post "
                    "`HANDOFF_INGEST_RATE` times per period (600 a minute unless configured); a post over "
                    "it is a 429, stores nothing, and says when to try again (also in `Retry-After`).",
        tags=TAGS, request=s.MetricsInputSerializer,
        responses={202: s.MetricsStoredSerializer, 400: ERRORS[400], 404: ERRORS[404], 409: ERRORS[409],
                   429: OpenApiResponse(
                       response=inline_serializer("IngestionThrottled", {"detail": serializers.CharField()}),
                       description="This token posted more than its rate allows: nothing was stored. "
                                   "`Retry-After` gives the seconds until the next window.",
                       examples=[OpenApiExample("Over the rate", value={
                           "detail": "This ingestion token may post at most 600 times per minute; nothing of "
                                     "this post was stored. Try again in 12 seconds (see Retry-After), or "
                                     "send more observations per post."})])},
    )
    @action(detail=True, methods=["post"], authentication_classes=[IngestionTokenAuthentication],
            permission_classes=[HasIngestionToken], throttle_classes=[IngestionTokenThrottle],
            filter_backends=[])
    def metrics(self, request, pk=None):
        token = request.auth
        # Found within the token's project before the body is read: elsewhere is a 404, exists or not.
        deployment = None
        if pk.isascii() and pk.isdigit():
            deployment = Deployment.objects.filter(pk=int(pk), project_id=token.project_id).first()
        if deployment is None:
            raise NotFound("Not found.")
        if deployment.status != DeploymentStatus.ACTIVE:
            raise Conflict(f"This deployment was {deployment.get_status_display().lower()}; "
                           "metrics are taken only for an active deployment.")
        data = _body(s.MetricsInputSerializer, request)
        batch = services.ingest(token, deployment.pk, data["observations"])
        return Response(s.MetricsStoredSerializer({"stored": batch.count, "batch": batch.pk}).data,
                        status=status.HTTP_202_ACCEPTED)


@extend_schema_view(
    list=extend_schema(summary="Ingestion tokens of the projects where you manage them", tags=["ingestion"]),
    retrieve=extend_schema(summary="One ingestion token (never its secret)", tags=["ingestion"]),
)
class IngestionTokenViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Projects' ingestion tokens, for their ML engineers (403 for other members; 404 for
    anyone who cannot see the project)."""

    serializer_class = s.IngestionTokenSerializer
    queryset = IngestionToken.objects.none()  # for the schema: the real one is the caller's (get_queryset)
    parser_classes = [JSONParser]
    role_needed_to_read = True  # the schema lists 403 for reads too
    ordering_fields = ["created_at"]
    ordering = ["-created_at"]

    def get_queryset(self):
        user = self.request.user
        tokens = IngestionToken.objects.select_related("project", "created_by", "revoked_by")
        if self.action == "list":
            allowed = access.projects_allowing(user, Action.MANAGE_INGESTION_TOKENS)
            return tokens.filter(project__in=allowed.values("pk"))
        return access.scope(tokens, user)

    def get_object(self):
        token = super().get_object()
        access.require(self.request.user, Action.MANAGE_INGESTION_TOKENS, token)
        return token

    @extend_schema(summary="Create an ingestion token; the answer holds its secret, shown this once",
                   tags=["ingestion"], request=s.IngestionTokenInputSerializer,
                   responses={201: s.IngestionTokenCreatedSerializer, **ERRORS})
    def create(self, request):
        data = _body(s.IngestionTokenInputSerializer, request)
        project = access.visible_projects(request.user).filter(slug=data["project"]).first()
        if project is None:
            raise NotFound("Not found.")
        token, secret = services.create_token(request.user, project, name=data["name"])
        body = s.IngestionTokenCreatedSerializer(token).data
        body["secret"] = secret
        return Response(body, status=status.HTTP_201_CREATED)

    @extend_schema(summary="Revoke an ingestion token: what posts with it is refused from now on",
                   tags=["ingestion"], request=None, responses={200: s.IngestionTokenSerializer, **ERRORS})
    @action(detail=True, methods=["post"])
    def revoke(self, request, pk=None):
        token = services.revoke_token(request.user, self.get_object())
        return Response(s.IngestionTokenSerializer(token).data)

