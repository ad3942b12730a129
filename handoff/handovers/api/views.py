"""Handovers API: thin viewsets. Each view finds the object in the user's
scope (404 otherwise, before reading the body), parses, calls a service, and
serializes. Errors from services become JSON in ``handoff.core.api``."""

from django.core.exceptions import ValidationError
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiRequest,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response

from handoff.access import Action, require, visible_projects
from handoff.core.errors import NotFound
from handoff.core.storage import file_response

from .. import selectors, services
from ..filters import HandoverFilter, ModelFilter
from ..uploads import FileTooLarge, upload_error
from . import serializers as s

OCTET_STREAM = "application/octet-stream"
NUMBER = OpenApiParameter("number", OpenApiTypes.INT, OpenApiParameter.PATH, description="Revision number")
BLIND_NOTE = ("A candidate of a contract that holds its labels blind: for a caller who may not read "
              "them (a data scientist), its labels file is not listed, and its URLs answer 404. ML "
              "engineers and the team leader see and download it.")
ERRORS = {
    400: OpenApiResponse(description="Bad input: a message per field"),
    403: OpenApiResponse(description="Your role does not allow this"),
    404: OpenApiResponse(description="Not found, or outside your projects"),
    409: OpenApiResponse(description="The handover is not in a state that allows this"),
}


def _rename_metrics_errors(call, *args, **kwargs):
    """The services report claimed-metric errors on ``metrics``; the API field is ``claimed_metrics``."""
    try:
        return call(*args, **kwargs)
    except ValidationError as exc:
        if hasattr(exc, "error_dict") and "metrics" in exc.error_dict:
            errors = dict(exc.error_dict)
            errors["claimed_metrics"] = errors.pop("metrics")
            raise ValidationError(errors) from None
        raise


@extend_schema_view(
    list=extend_schema(summary="Registered models in your projects", tags=["models"]),
    retrieve=extend_schema(summary="One registered model", tags=["models"]),
)
class ModelViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = s.ModelSerializer
    filterset_class = ModelFilter
    ordering_fields = ["name", "created_at"]

    def get_queryset(self):
        return selectors.visible_models(self.request.user).order_by("project__slug", "name")

    @extend_schema(summary="Register a model (data scientists of the project)", tags=["models"],
                   request=s.ModelCreateSerializer, responses={201: s.ModelSerializer, **ERRORS})
    def create(self, request):
        serializer = s.ModelCreateSerializer(data=request.data, projects=visible_projects(request.user))
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        model = services.create_model(request.user, data["project"], name=data["name"],
                                      description=data["description"])
        return Response(s.ModelSerializer(model, context={"request": request}).data,
                        status=status.HTTP_201_CREATED)


@extend_schema_view(
    list=extend_schema(summary="Handovers in your projects", tags=["handovers"]),
    retrieve=extend_schema(summary="A handover with its revisions, claims, artifacts, reviews and comments",
                           description=BLIND_NOTE, tags=["handovers"]),
)
class HandoverViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    # JSON bodies only (uploads excepted): a form cannot say null, nor carry the claimed metrics.
    parser_classes = [JSONParser]
    filterset_class = HandoverFilter
    ordering_fields = ["updated_at", "created_at", "awaiting_review_since"]
    # What each action needs, checked as soon as the handover is found and
    # before the body is read (a 2 GiB upload by a reviewer is refused before
    # it streams; a bad body from a role that may not act is a 403, not a 400).
    # The services check again under the row lock.
    required_actions = {
        "upload": Action.EDIT_REVISION,
        "submit": Action.SUBMIT_REVISION,
        "accept": Action.REVIEW_REVISION,
        "request_changes": Action.REVIEW_REVISION,
        "revise": Action.REVISE_HANDOVER,
        "revalidate": Action.REVALIDATE,
        "comments": Action.COMMENT,
    }

    def get_object(self):
        handover = super().get_object()
        needed = self.required_actions.get(self.action)
        if self.action == "revision" and self.request.method == "PATCH":
            needed = Action.EDIT_REVISION
        if needed:
            require(self.request.user, needed, handover)
        return handover

    def get_queryset(self):
        user = self.request.user
        if self.action == "list":
            return selectors.handover_list(user)
        # Actions only need the row (the body is read after it is found); the
        # detail page needs everything.
        if self.action == "retrieve":
            return selectors.handovers_with_detail(user)
        return selectors.visible_handovers(user)

    def get_serializer_class(self):
        return s.HandoverListSerializer if self.action == "list" else s.HandoverSerializer

    def _detail(self, handover, status_code=status.HTTP_200_OK):
        handover = selectors.handover_detail(self.request.user, handover.pk)
        return Response(s.HandoverSerializer(handover, context={"request": self.request}).data,
                        status=status_code)

    def _revision(self, handover, number):
        revision = handover.revisions.filter(number=number).first()
        if revision is None:
            raise NotFound("Not found.")
        revision.handover = handover
        return revision

    def _current(self, handover):
        revision = services.current_revision(handover)
        revision.handover = handover
        return revision

    @extend_schema(summary="Open a handover of a model version (revision 1, a draft)", tags=["handovers"],
                   request=s.HandoverCreateSerializer, responses={201: s.HandoverSerializer, **ERRORS})
    def create(self, request):
        serializer = s.HandoverCreateSerializer(data=request.data,
                                                models=selectors.visible_models(request.user))
        serializer.is_valid(raise_exception=True)
        terms, metrics = serializer.split()
        handover = _rename_metrics_errors(
            services.create_handover, request.user, serializer.validated_data["model"],
            version_label=serializer.validated_data["version_label"], terms=terms, metrics=metrics,
        )
        return self._detail(handover, status.HTTP_201_CREATED)

    @extend_schema(methods=["GET"], summary="One revision of a handover", description=BLIND_NOTE,
                   tags=["handovers"],
                   parameters=[NUMBER], responses={200: s.RevisionSerializer, 404: ERRORS[404]})
    @extend_schema(methods=["PATCH"], summary="Change the contract terms of the draft revision",
                   description="Only the current revision of a draft handover can change (a submitted "
                               "revision is frozen: 409). Absent fields keep their value; `claimed_metrics`, "
                               "when given, replaces every claim.",
                   tags=["handovers"], parameters=[NUMBER], request=s.TermsInputSerializer,
                   responses={200: s.RevisionSerializer, **ERRORS})
    @action(detail=True, methods=["get", "patch"], url_path=r"revisions/(?P<number>[0-9]+)",
            url_name="revision")
    def revision(self, request, pk=None, number=None):
        handover = self.get_object()
        revision = self._revision(handover, number)
        if request.method == "PATCH":
            serializer = s.TermsInputSerializer(data=request.data, partial=True)
            serializer.is_valid(raise_exception=True)
            terms, metrics = serializer.split()
            _rename_metrics_errors(services.update_terms, request.user, revision, terms=terms,
                                   metrics=metrics)
        revision = selectors.revision_detail(handover, number, user=request.user)
        return Response(s.RevisionSerializer(revision, context={"request": request}).data)

    @extend_schema(summary="Upload an artifact to the draft revision (multipart: kind, file)",
                   description="Replaces an artifact of the same kind on the draft (kind `other` may "
                               "repeat). Refused on a frozen revision (409), for an empty file (400) and for "
                               "a file over the upload limit (413).",
                   tags=["artifacts"], parameters=[NUMBER],
                   # ``file`` is a file part (of any media type): without the encoding, a client
                   # generated from the schema may send it as a text field.
                   request={"multipart/form-data": OpenApiRequest(
                       s.ArtifactUploadSerializer, encoding={"file": {"contentType": OCTET_STREAM}})},
                   responses={201: s.ArtifactSerializer, **ERRORS,
                              413: OpenApiResponse(description="File over the limit")})
    @action(detail=True, methods=["post"], url_path=r"revisions/(?P<number>[0-9]+)/artifacts",
            url_name="revision-artifacts", parser_classes=[MultiPartParser, FormParser])
    def upload(self, request, pk=None, number=None):
        handover = self.get_object()
        revision = self._revision(handover, number)
        data = request.data  # parses the body: the upload handler hashes while it streams
        dropped = upload_error(request, "file")
        if dropped:
            raise FileTooLarge(dropped, field="file")
        serializer = s.ArtifactUploadSerializer(data=data)
        serializer.is_valid(raise_exception=True)
        artifact = services.attach_artifact(request.user, revision, kind=serializer.validated_data["kind"],
                                            uploaded_file=serializer.validated_data["file"])
        return Response(s.ArtifactSerializer(artifact, context={"request": request}).data,
                        status=status.HTTP_201_CREATED)

    @extend_schema(summary="Submit the draft revision for validation (draft -> validating)",
                   tags=["handovers"],
                   request=None, responses={200: s.HandoverSerializer, **ERRORS})
    @action(detail=True, methods=["post"])
    def submit(self, request, pk=None):
        handover = self.get_object()
        services.submit_revision(request.user, self._current(handover))
        return self._detail(handover)

    @extend_schema(summary="Accept the revision under review and sign the contract (ML engineers)",
                   tags=["handovers"], request=s.DecisionInputSerializer,
                   responses={200: s.HandoverSerializer, **ERRORS})
    @action(detail=True, methods=["post"])
    def accept(self, request, pk=None):
        handover = self.get_object()
        serializer = s.DecisionInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.accept_revision(request.user, self._current(handover),
                                 comment=serializer.validated_data["comment"])
        return self._detail(handover)

    @extend_schema(summary="Request changes on the revision under review (ML engineers; comment required)",
                   tags=["handovers"], request=s.ChangesInputSerializer,
                   responses={200: s.HandoverSerializer, **ERRORS})
    @action(detail=True, methods=["post"], url_path="request-changes", url_name="request-changes")
    def request_changes(self, request, pk=None):
        handover = self.get_object()
        serializer = s.ChangesInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.request_changes(request.user, self._current(handover),
                                 comment=serializer.validated_data["comment"])
        return self._detail(handover)

    @extend_schema(summary="Open revision n+1 as a draft copied from revision n", tags=["handovers"],
                   request=None, responses={200: s.HandoverSerializer, **ERRORS})
    @action(detail=True, methods=["post"])
    def revise(self, request, pk=None):
        handover = self.get_object()
        services.revise_handover(request.user, handover)
        return self._detail(handover)

    @extend_schema(summary="Run validation of the current revision again (its owner or an ML engineer)",
                   tags=["handovers"], request=None, responses={200: s.HandoverSerializer, **ERRORS})
    @action(detail=True, methods=["post"])
    def revalidate(self, request, pk=None):
        handover = self.get_object()
        services.revalidate(request.user, handover)
        return self._detail(handover)

    @extend_schema(summary="Comment on a handover", tags=["handovers"], request=s.CommentInputSerializer,
                   responses={201: s.CommentCreatedSerializer, **ERRORS})
    @action(detail=True, methods=["post"])
    def comments(self, request, pk=None):
        handover = self.get_object()
        serializer = s.CommentInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        comment = services.add_comment(request.user, handover, body=serializer.validated_data["body"])
        return Response(s.CommentCreatedSerializer(comment, context={"request": request}).data,
                        status=status.HTTP_201_CREATED)

    @extend_schema(summary="Follow a handover: hear of its comments and decisions (anyone on the project)",
                   description="Idempotent. Its owner, reviewer and commenters follow it by default.",
                   tags=["handovers"], request=None, responses={200: s.FollowSerializer, 404: ERRORS[404]})
    @action(detail=True, methods=["post"])
    def follow(self, request, pk=None):
        row = services.follow(request.user, self.get_object())
        return Response(s.FollowSerializer({"following": row.following}).data)

    @extend_schema(summary="Unfollow a handover (anyone on the project)",
                   description="Idempotent, and it sticks: commenting or reviewing later does not follow "
                               "it again. A mention of you still reaches you.",
                   tags=["handovers"], request=None, responses={200: s.FollowSerializer, 404: ERRORS[404]})
    @action(detail=True, methods=["post"])
    def unfollow(self, request, pk=None):
        row = services.unfollow(request.user, self.get_object())
        return Response(s.FollowSerializer({"following": row.following}).data)


@extend_schema_view(
    retrieve=extend_schema(summary="One artifact", description=BLIND_NOTE, tags=["artifacts"]),
    destroy=extend_schema(summary="Remove an artifact from a draft revision", tags=["artifacts"],
                          responses={204: None, **ERRORS}),
)
class ArtifactViewSet(mixins.RetrieveModelMixin, mixins.DestroyModelMixin, viewsets.GenericViewSet):
    serializer_class = s.ArtifactSerializer

    def get_queryset(self):
        return selectors.visible_artifacts(self.request.user)

    def perform_destroy(self, instance):
        services.remove_artifact(self.request.user, instance)

    @extend_schema(summary="Download the artifact's file", description=BLIND_NOTE, tags=["artifacts"],
                   responses={(200, OCTET_STREAM): OpenApiTypes.BINARY, 404: ERRORS[404]})
    @action(detail=True, methods=["get"], url_name="download")
    def download(self, request, pk=None):
        artifact = self.get_object()
        return file_response(artifact.file, filename=artifact.original_name, sha256=artifact.sha256)
