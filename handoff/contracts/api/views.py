"""Contracts API: a thin viewset. Each view finds the contract in the user's
scope (404 otherwise) and checks the role the action needs before the body is
read (403), then parses, calls one service and serializes. The services check
again under the contract's lock; a move the lifecycle refuses, or a change to
an agreed contract, is a 409. Errors become JSON in ``handoff.core.api``.

A blind contract's labels are never listed, returned or served to anyone
``access.hides_labels`` holds blind (a data scientist): to them the file does
not exist (404)."""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.urls import reverse
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
from rest_framework.exceptions import ValidationError
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response

from handoff import access
from handoff.access import Action
from handoff.core.errors import NotFound
from handoff.core.storage import file_response
from handoff.handovers import selectors as handover_selectors
from handoff.handovers.api import serializers as handover_serializers
from handoff.handovers.uploads import FileTooLarge, upload_error
from handoff.validation.selectors import summaries_by_handover_id

from .. import figures, services
from ..models import CONTRACT_TERMS, Contract, ContractArtifact, ContractArtifactKind, ContractComment
from . import serializers as s
from .filters import ContractFilter

TAGS = ["contracts"]
OCTET_STREAM = "application/octet-stream"
ERRORS = {
    400: OpenApiResponse(description="Bad input: a message per field"),
    403: OpenApiResponse(description="Your role does not allow this"),
    404: OpenApiResponse(description="Not found, or outside your projects"),
    409: OpenApiResponse(
        description="The contract is not in a state that allows this (an agreed contract "
        "never changes: start version n+1)"
    ),
}
PAGE_ERROR = OpenApiResponse(description="A page or page size that is not a whole number in range")
ARTIFACT = OpenApiParameter(
    "artifact_id",
    OpenApiTypes.INT,
    OpenApiParameter.PATH,
    description="A file of the contract (GET …/artifacts/)",
)
AGAINST = OpenApiParameter(
    "against",
    # A row id: what the view accepts (a positive whole number of at most 18 digits), said in the schema.
    {"type": "integer", "minimum": 1, "maximum": 10**18 - 1},
    OpenApiParameter.QUERY,
    required=True,
    description="Another version of the same contract (one that is not, or that you cannot see: 404)",
)
LONGEST_ID = 18  # digits: more cannot be a row id (and int() of thousands of digits is slow)


# --- reads -------------------------------------------------------------------------------------


def visible_contracts(user):
    """Contracts of the user's projects, newest change first."""
    contracts = Contract.objects.select_related("project", "created_by")
    return access.scope(contracts, user).order_by("-updated_at", "-id")


def contracts_with_detail(user):
    """The same, with what a contract's JSON nests."""
    return visible_contracts(user).prefetch_related(
        "requirements", "artifacts__uploaded_by", "signatures__signer"
    )


def listed_artifacts(user, contract):
    """The contract's files ``user`` may see: a blind contract's labels are
    not listed to anyone ``access.hides_labels`` holds blind."""
    hidden = access.hides_labels(user, contract)
    return [a for a in contract.artifacts.all() if not (hidden and a.kind == ContractArtifactKind.LABELS)]


def artifact_of(user, contract, artifact_id):
    """One file of ``contract`` that ``user`` may see, else NotFound (a blind
    contract's labels too, for those held blind)."""
    found = None
    if len(artifact_id) <= LONGEST_ID:
        found = (
            ContractArtifact.objects.select_related("uploaded_by")
            .filter(pk=int(artifact_id), contract=contract)
            .first()
        )
    if found is None or (found.kind == ContractArtifactKind.LABELS and access.hides_labels(user, contract)):
        raise NotFound("Not found.")
    found.contract = contract
    return found


def diff(user, old, new):
    """What differs from ``old`` to ``new``: title, blind flag and terms; requirements; files by sha256
    (those ``user`` may see)."""
    names = ["title", "labels_blind", *CONTRACT_TERMS]
    terms = [
        {"name": name, "old": getattr(old, name), "new": getattr(new, name)}
        for name in names
        if getattr(old, name) != getattr(new, name)
    ]

    def bounds(contract):
        return {r.metric: {"minimum": r.minimum, "maximum": r.maximum} for r in contract.requirements.all()}

    old_bounds, new_bounds = bounds(old), bounds(new)
    requirements = [
        {"metric": metric, "old": old_bounds.get(metric), "new": new_bounds.get(metric)}
        for metric in sorted(set(old_bounds) | set(new_bounds))
        if old_bounds.get(metric) != new_bounds.get(metric)
    ]

    def files(contract):
        return {a.kind: a.sha256 for a in listed_artifacts(user, contract)}

    old_files, new_files = files(old), files(new)
    changed_files = [
        {"kind": kind, "old_sha256": old_files.get(kind), "new_sha256": new_files.get(kind)}
        for kind in ContractArtifactKind.values
        if old_files.get(kind) != new_files.get(kind)
    ]
    return {
        "contract": new.pk,
        "against": old.pk,
        "terms": terms,
        "requirements": requirements,
        "files": changed_files,
    }


# --- the viewset -------------------------------------------------------------------------------


def _claims_errors_on_claims(call, *args, **kwargs):
    """The handover services report a claimed value's errors on ``metrics``; the API field is ``claims``."""
    try:
        return call(*args, **kwargs)
    except DjangoValidationError as exc:
        if hasattr(exc, "error_dict") and "metrics" in exc.error_dict:
            errors = dict(exc.error_dict)
            errors["claims"] = errors.pop("metrics")
            raise DjangoValidationError(errors) from None
        raise


def _move_schema(summary, description=""):
    return extend_schema(
        summary=summary,
        description=description,
        tags=TAGS,
        request=None,
        responses={200: s.ContractSerializer, **ERRORS},
    )


@extend_schema_view(
    list=extend_schema(summary="Contracts of your projects, the latest changed first", tags=TAGS),
    retrieve=extend_schema(summary="One contract: terms, requirements, files, signatures", tags=TAGS),
)
class ContractViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    # JSON bodies only (uploads excepted): a form cannot say null, nor carry the requirements.
    parser_classes = [JSONParser]
    filterset_class = ContractFilter
    ordering_fields = ["updated_at", "created_at", "title", "version"]
    # What each action needs, checked as soon as the contract is found (before the body is read).
    required_actions = {
        "partial_update": Action.DRAFT_CONTRACT,
        "propose": Action.DRAFT_CONTRACT,
        "sign": Action.SIGN_CONTRACT,
        "new_version": Action.DRAFT_CONTRACT,
        "close": Action.DRAFT_CONTRACT,
        "artifact": Action.DRAFT_CONTRACT,
    }
    # Actions whose POST needs more than their GET.
    post_actions = {
        "comments": Action.COMMENT,
        "artifacts": Action.DRAFT_CONTRACT,
        "candidates": Action.CREATE_HANDOVER,
    }

    def get_queryset(self):
        user = self.request.user
        if self.action == "list":
            return visible_contracts(user).prefetch_related("requirements")
        # Actions only need the row (the body is read after it is found); the detail needs everything.
        if self.action == "retrieve":
            return contracts_with_detail(user)
        return visible_contracts(user)

    def get_object(self):
        contract = super().get_object()
        needed = self.required_actions.get(self.action)
        if self.request.method == "POST" and self.action in self.post_actions:
            needed = self.post_actions[self.action]
        if needed:
            access.require(self.request.user, needed, contract)
        return contract

    def get_serializer_class(self):
        return s.ContractListSerializer if self.action == "list" else s.ContractSerializer

    def get_serializer_context(self):
        user = self.request.user
        return {
            **super().get_serializer_context(),
            "actions_of": lambda obj: access.allowed_actions(user, obj),
            "listed_artifacts": lambda obj: listed_artifacts(user, obj),
        }

    def _detail(self, contract, status_code=status.HTTP_200_OK):
        contract = contracts_with_detail(self.request.user).get(pk=contract.pk)
        return Response(
            s.ContractSerializer(contract, context=self.get_serializer_context()).data, status=status_code
        )

    def _input(self, serializer_class, **kwargs):
        serializer = serializer_class(data=self.request.data, **kwargs)
        serializer.is_valid(raise_exception=True)
        return serializer

    def _page(self, queryset, serializer_class, context=None):
        page = self.paginate_queryset(queryset)
        context = {**self.get_serializer_context(), **(context or {})}
        return self.get_paginated_response(serializer_class(page, many=True, context=context).data)

    # --- drafting ------------------------------------------------------------------------------

    @extend_schema(
        summary="Draft a contract (version 1) for a project (data scientists and ML engineers)",
        tags=TAGS,
        request=s.ContractCreateSerializer,
        responses={201: s.ContractSerializer, **ERRORS},
    )
    def create(self, request):
        serializer = self._input(s.ContractCreateSerializer)
        project = (
            access.visible_projects(request.user).filter(slug=serializer.validated_data["project"]).first()
        )
        if project is None:
            raise NotFound("Not found.")
        access.require(request.user, Action.DRAFT_CONTRACT, project)
        serializer.validated_data.pop("project")
        title, blind, terms, requirements = serializer.split()
        contract = services.create_contract(
            request.user,
            project,
            title=title,
            terms=terms,
            requirements=requirements,
            labels_blind=bool(blind),
        )
        return self._detail(contract, status.HTTP_201_CREATED)

    @extend_schema(
        summary="Change a draft or proposed contract (clears its signatures)",
        description="Absent fields keep their value; `requirements`, when given, replaces every "
        "requirement. Any change clears the signatures gathered so far. An agreed, "
        "superseded or closed contract never changes (409): start version n+1.",
        tags=TAGS,
        request=s.ContractInputSerializer,
        responses={200: s.ContractSerializer, **ERRORS},
    )
    def partial_update(self, request, pk=None):
        contract = self.get_object()
        title, blind, terms, requirements = self._input(s.ContractInputSerializer, partial=True).split()
        contract = services.update_contract(
            request.user, contract, title=title, terms=terms, requirements=requirements, labels_blind=blind
        )
        return self._detail(contract)

    # --- the lifecycle -------------------------------------------------------------------------

    @_move_schema(
        "Propose the contract (draft -> proposed): the other side may now sign",
        "Needs a task type, a metric requirement and the labels file (409 naming what is missing).",
    )
    @action(detail=True, methods=["post"])
    def propose(self, request, pk=None):
        return self._detail(services.propose(request.user, self.get_object()))

    @_move_schema(
        "Sign the proposed contract as its data scientist or ML engineer",
        "Records the sha256 of the terms and of each file as signed. Once a data scientist and an "
        "ML engineer of the project have signed, it is agreed and frozen.",
    )
    @action(detail=True, methods=["post"])
    def sign(self, request, pk=None):
        contract = self.get_object()
        services.sign(request.user, contract)
        return self._detail(contract)

    @extend_schema(
        summary="Start version n+1 of an agreed contract as a draft copy (returns the new version)",
        tags=TAGS,
        request=None,
        responses={201: s.ContractSerializer, **ERRORS},
    )
    @action(detail=True, methods=["post"], url_path="new-version", url_name="new-version")
    def new_version(self, request, pk=None):
        successor = services.new_version(request.user, self.get_object())
        return self._detail(successor, status.HTTP_201_CREATED)

    @extend_schema(
        summary="Close the contract: no candidate is filed against it any more",
        tags=TAGS,
        request=s.CloseInputSerializer,
        responses={200: s.ContractSerializer, **ERRORS},
    )
    @action(detail=True, methods=["post"])
    def close(self, request, pk=None):
        contract = self.get_object()
        reason = self._input(s.CloseInputSerializer).validated_data["reason"]
        return self._detail(services.close(request.user, contract, reason=reason))

    # --- versions and their differences --------------------------------------------------------

    @extend_schema(
        summary="Every version of the contract, oldest first",
        tags=TAGS,
        request=None,
        responses={200: s.ContractListSerializer(many=True), 400: PAGE_ERROR, 404: ERRORS[404]},
    )
    @action(detail=True, methods=["get"], filterset_class=None, filter_backends=[])
    def versions(self, request, pk=None):
        contract = self.get_object()
        versions = (
            visible_contracts(request.user).filter(series=contract.series).prefetch_related("requirements")
        )
        return self._page(versions.order_by("version"), s.ContractListSerializer)

    @extend_schema(
        summary="What differs between this version and another of the same contract",
        tags=TAGS,
        parameters=[AGAINST],
        request=None,
        responses={200: s.DiffSerializer, 400: ERRORS[400], 404: ERRORS[404]},
    )
    @action(detail=True, methods=["get"], filterset_class=None, filter_backends=[])
    def diff(self, request, pk=None):
        contract = self.get_object()
        against = request.query_params.get("against", "")
        if not (against.isascii() and against.isdigit() and len(against) <= LONGEST_ID):
            raise ValidationError({"against": ["Give the id of another version of this contract."]})
        # Another version you cannot see, or none, is not found, as an id in a path would be.
        versions = visible_contracts(request.user).prefetch_related("requirements")
        other = versions.filter(pk=int(against), series=contract.series).first()
        if other is None:
            raise NotFound(f"No version {against} of {contract} that you can see.")
        old, new = sorted((other, contract), key=lambda c: c.version)
        return Response(s.DiffSerializer(diff(request.user, old, new)).data)

    # --- comments ------------------------------------------------------------------------------

    @extend_schema(
        methods=["GET"],
        summary="The contract's comments, oldest first",
        tags=TAGS,
        request=None,
        responses={200: s.ContractCommentSerializer(many=True), 400: PAGE_ERROR, 404: ERRORS[404]},
    )
    @extend_schema(
        methods=["POST"],
        summary="Comment on the contract (anyone on the project)",
        tags=TAGS,
        request=s.ContractCommentInputSerializer,
        responses={201: s.ContractCommentCreatedSerializer, **ERRORS},
    )
    @action(detail=True, methods=["get", "post"], filterset_class=None, filter_backends=[])
    def comments(self, request, pk=None):
        contract = self.get_object()
        if request.method == "GET":
            comments = ContractComment.objects.filter(contract=contract).select_related("author")
            return self._page(comments.order_by("created_at", "id"), s.ContractCommentSerializer)
        body = self._input(s.ContractCommentInputSerializer).validated_data["body"]
        comment = services.add_comment(request.user, contract, body=body)
        return Response(s.ContractCommentCreatedSerializer(comment).data, status=status.HTTP_201_CREATED)

    # --- the validation set --------------------------------------------------------------------

    @extend_schema(
        methods=["GET"],
        summary="The validation set's files you may see",
        tags=TAGS,
        description="A blind contract's labels are listed to ML engineers and the team leader only.",
        request=None,
        responses={200: s.ContractArtifactSerializer(many=True), 404: ERRORS[404]},
    )
    @extend_schema(
        methods=["POST"],
        summary="Upload the labels or inputs of a draft or proposed contract",
        description="Multipart: kind (`labels` or `inputs`) and file. Replaces a file of the same "
        "kind and clears the signatures. Refused on an agreed contract (409), for an "
        "empty file (400) and for a file over the upload limit (413).",
        tags=TAGS,
        request={
            "multipart/form-data": OpenApiRequest(
                s.ContractArtifactUploadSerializer, encoding={"file": {"contentType": OCTET_STREAM}}
            )
        },
        responses={
            201: s.ContractArtifactSerializer,
            **ERRORS,
            413: OpenApiResponse(description="File over the limit"),
        },
    )
    @action(
        detail=True,
        methods=["get", "post"],
        parser_classes=[MultiPartParser, FormParser],
        filterset_class=None,
        filter_backends=[],
        pagination_class=None,
    )
    def artifacts(self, request, pk=None):
        contract = self.get_object()
        if request.method == "GET":
            shown = listed_artifacts(request.user, contract)
            return Response(s.ContractArtifactSerializer(shown, many=True, context={"request": request}).data)
        data = request.data  # parses the body: the upload handler hashes while it streams
        dropped = upload_error(request, "file")
        if dropped:
            raise FileTooLarge(dropped, field="file")
        serializer = s.ContractArtifactUploadSerializer(data=data)
        serializer.is_valid(raise_exception=True)
        artifact = services.attach_contract_artifact(
            request.user,
            contract,
            kind=serializer.validated_data["kind"],
            uploaded_file=serializer.validated_data["file"],
        )
        return Response(
            s.ContractArtifactSerializer(artifact, context={"request": request}).data,
            status=status.HTTP_201_CREATED,
        )

    @extend_schema(
        summary="Remove a file from a draft or proposed contract (clears its signatures)",
        tags=TAGS,
        parameters=[ARTIFACT],
        request=None,
        responses={204: None, **ERRORS},
    )
    @action(
        detail=True, methods=["delete"], url_path=r"artifacts/(?P<artifact_id>[0-9]+)", url_name="artifact"
    )
    def artifact(self, request, pk=None, artifact_id=None):
        contract = self.get_object()
        services.remove_contract_artifact(request.user, artifact_of(request.user, contract, artifact_id))
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        summary="Download a file of the contract",
        tags=TAGS,
        parameters=[ARTIFACT],
        description="A blind contract's labels are served to ML engineers and the team leader "
        "only: to anyone else they do not exist (404).",
        responses={(200, OCTET_STREAM): OpenApiTypes.BINARY, 404: ERRORS[404]},
    )
    @action(
        detail=True,
        methods=["get"],
        url_path=r"artifacts/(?P<artifact_id>[0-9]+)/download",
        url_name="artifact-download",
        filterset_class=None,
        filter_backends=[],
    )
    def download(self, request, pk=None, artifact_id=None):
        artifact = artifact_of(request.user, self.get_object(), artifact_id)
        return file_response(artifact.file, filename=artifact.original_name, sha256=artifact.sha256)

    # --- candidates ----------------------------------------------------------------------------

    @extend_schema(
        methods=["GET"],
        summary="The candidates filed against this contract version",
        tags=TAGS,
        request=None,
        responses={200: s.CandidateSerializer(many=True), 400: PAGE_ERROR, 404: ERRORS[404]},
    )
    @extend_schema(
        methods=["POST"],
        summary="File a candidate against the agreed contract (data scientists)",
        description="Opens a handover of the model whose revision 1 holds the contract's "
        "requirements and its labels. Then upload the model and predictions to it "
        "(POST /api/v1/handovers/{id}/revisions/1/artifacts/) and submit it "
        "(POST /api/v1/handovers/{id}/submit/). A model you cannot see is a 404; a "
        "contract that is not agreed, or whose candidate was selected, a 409.",
        tags=TAGS,
        request=s.CandidateInputSerializer,
        responses={201: s.CandidateFiledSerializer, **ERRORS},
    )
    @action(detail=True, methods=["get", "post"], filterset_class=None, filter_backends=[])
    def candidates(self, request, pk=None):
        contract = self.get_object()
        if request.method == "GET":
            page = self.paginate_queryset(figures.candidates_of(contract))
            summaries = summaries_by_handover_id([candidate.handover_id for candidate in page])
            context = {"request": request, "summaries": summaries}
            return self.get_paginated_response(s.CandidateSerializer(page, many=True, context=context).data)
        data = self._input(s.CandidateInputSerializer).validated_data
        model = handover_selectors.visible_models(request.user).filter(pk=data["model"]).first()
        if model is None:
            raise NotFound(f"No model {data['model']} that you can see.")
        handover = _claims_errors_on_claims(
            services.file_candidate,
            request.user,
            contract,
            model=model,
            version_label=data["version_label"],
            framework=data["framework"],
            framework_version=data.get("framework_version", ""),
            parameter_count=data.get("parameter_count"),
            claims=data.get("claims"),
        )
        url = request.build_absolute_uri(reverse("api-handover-detail", args=[handover.pk]))
        body = {
            "id": handover.pk,
            "url": url,
            "state": handover.state,
            "version_label": handover.version_label,
        }
        return Response(s.CandidateFiledSerializer(body).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="The candidates side by side, requirement by requirement",
        tags=TAGS,
        description="The figures validation measured on each candidate's current revision (its "
        "latest run), the contract's bound on each row and the best value in each "
        "row; the same figures as the comparison page.",
        request=None,
        responses={200: s.ComparisonSerializer, 404: ERRORS[404]},
    )
    @action(detail=True, methods=["get"], filterset_class=None, filter_backends=[])
    def comparison(self, request, pk=None):
        contract = self.get_object()
        return Response(
            s.ComparisonSerializer({"contract": contract.pk, **figures.comparison(contract)}).data
        )


class SelectCandidateViewSet(viewsets.GenericViewSet):
    """``POST /api/v1/handovers/{id}/select/``: routed by hand (``urls.py``), so
    that the handovers router keeps its own ``handovers`` prefix."""

    parser_classes = [JSONParser]
    # What OPTIONS describes (DRF's metadata asks for it): without it, OPTIONS was a 500.
    serializer_class = s.SelectInputSerializer

    def get_queryset(self):
        return handover_selectors.visible_handovers(self.request.user)

    def get_object(self):
        handover = super().get_object()
        access.require(self.request.user, Action.SELECT_CANDIDATE, handover)
        return handover

    @extend_schema(
        summary="Select a candidate: accept and sign it, and close the other candidates (ML engineers)",
        description="The candidate must await review; every other open candidate of the same "
        "contract version becomes `not_selected` and its owner is told why. A handover "
        "filed without a contract, or a contract whose candidate was already selected "
        "(by someone else a moment ago, say), is a 409.",
        tags=TAGS,
        request=s.SelectInputSerializer,
        responses={200: handover_serializers.HandoverSerializer, **ERRORS},
    )
    def select(self, request, pk=None):
        handover = self.get_object()
        serializer = s.SelectInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.select(request.user, handover, comment=serializer.validated_data["comment"])
        detail = handover_selectors.handover_detail(request.user, handover.pk)
        return Response(handover_serializers.HandoverSerializer(detail, context={"request": request}).data)
