"""Incidents API: a thin viewset. Each view finds the incident in the user's
scope (404 otherwise) and checks the role the action needs before the body
is read (403), then parses, calls one service and serializes. The services
check again under the row lock; a move the lifecycle refuses is a 409.
Errors become JSON in ``handoff.core.api``."""

from django.contrib.auth import get_user_model
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import JSONParser
from rest_framework.response import Response

from handoff import access
from handoff.access import Action
from handoff.core.errors import DomainError, NotFound
from handoff.deployments.models import Deployment
from handoff.handovers.models import Handover

from .. import selectors, services
from ..lifecycle import INCIDENT
from . import serializers as s
from .filters import IncidentFilter

TAGS = ["incidents"]
ERRORS = {
    400: OpenApiResponse(description="Bad input: a message per field"),
    403: OpenApiResponse(description="Your role does not allow this"),
    404: OpenApiResponse(description="Not found, or outside your projects"),
    409: OpenApiResponse(description="The incident is not in a state that allows this"),
}
PAGE_ERROR = OpenApiResponse(description="A page or page size that is not a whole number in range")
ITEM = OpenApiParameter("item_id", OpenApiTypes.INT, OpenApiParameter.PATH, description="Action item id")
# Lifecycle moves whose body is empty or an optional note.
PLAIN_MOVES = ("acknowledge", "investigate", "close")


def _move_schema(name):
    move = INCIDENT[name]
    sources = ", ".join(sorted(move.sources))
    return extend_schema(summary=f"{move.verb.capitalize()} ({sources} -> {move.target}; ML engineers)",
                         tags=TAGS, request=None, responses={200: s.IncidentSerializer, **ERRORS})


@extend_schema_view(
    list=extend_schema(summary="Incidents in your projects, most severe and oldest first", tags=TAGS),
    retrieve=extend_schema(summary="One incident", tags=TAGS),
)
class IncidentViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = s.IncidentSerializer
    parser_classes = [JSONParser]
    filterset_class = IncidentFilter
    ordering_fields = ["opened_at", "severity", "updated_at", "status"]
    # What each action needs, checked as soon as the incident is found (before the body is read).
    required_actions = {
        **{name: INCIDENT[name].action for name in INCIDENT},
        "assign": Action.TRIAGE_INCIDENT, "severity": Action.TRIAGE_INCIDENT,
        "escalate": Action.TRIAGE_INCIDENT, "fix": Action.CREATE_HANDOVER,
        "action_items": Action.EDIT_POSTMORTEM, "action_item": Action.EDIT_POSTMORTEM,
    }

    def get_queryset(self):
        if self.action == "list":
            return selectors.incident_list(self.request.user)
        return selectors.triage_queue(self.request.user).select_related("reporter", "owner")

    def get_object(self):
        incident = super().get_object()
        needed = self.required_actions.get(self.action)
        if self.action == "comments" and self.request.method == "POST":
            needed = Action.COMMENT
        elif self.action == "postmortem" and self.request.method != "GET":
            needed = Action.EDIT_POSTMORTEM
        if needed:
            access.require(self.request.user, needed, incident)
        return incident

    def paginate_queryset(self, queryset):
        page = super().paginate_queryset(queryset)
        # Each row says what the caller may do: read their roles on the page's projects at once.
        if page and self.action == "list":
            access.remember_roles(self.request.user, {incident.project for incident in page})
        return page

    def get_serializer_context(self):
        user = self.request.user
        return {**super().get_serializer_context(),
                "actions_of": lambda obj: access.allowed_actions(user, obj)}

    def _detail(self, incident, status_code=status.HTTP_200_OK):
        incident = selectors.incident_for(self.request.user, incident.pk)
        return Response(s.IncidentSerializer(incident, context=self.get_serializer_context()).data,
                        status=status_code)

    def _input(self, serializer_class):
        serializer = serializer_class(data=self.request.data)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data

    # --- opening -----------------------------------------------------------------------------

    @extend_schema(summary="Open an incident by hand (anyone on the project)", tags=TAGS,
                   request=s.IncidentCreateSerializer, responses={201: s.IncidentSerializer, **ERRORS})
    def create(self, request):
        data = self._input(s.IncidentCreateSerializer)
        user = request.user
        project = access.visible_projects(user).filter(slug=data["project"]).first()
        if project is None:
            raise NotFound("Not found.")

        def visible(model, pk):
            if pk is None:
                return None
            obj = model.objects.filter(pk=pk, project=project).first()
            if obj is None or not access.can(user, Action.VIEW, obj):
                raise NotFound("Not found.")
            return obj

        access.require(user, Action.REPORT_INCIDENT, project)
        incident = services.open_incident(
            user, project, title=data["title"], severity=data["severity"], description=data["description"],
            deployment=visible(Deployment, data.get("deployment")),
            handover=visible(Handover, data.get("handover")))
        return self._detail(incident, status.HTTP_201_CREATED)

    # --- the lifecycle -----------------------------------------------------------------------

    @_move_schema("acknowledge")
    @action(detail=True, methods=["post"])
    def acknowledge(self, request, pk=None):
        return self._detail(services.acknowledge(request.user, self.get_object()))

    @_move_schema("investigate")
    @action(detail=True, methods=["post"])
    def investigate(self, request, pk=None):
        return self._detail(services.investigate(request.user, self.get_object()))

    @extend_schema(summary="Mark mitigated: the harm has stopped (investigating -> mitigated)", tags=TAGS,
                   request=s.NoteInputSerializer, responses={200: s.IncidentSerializer, **ERRORS})
    @action(detail=True, methods=["post"])
    def mitigate(self, request, pk=None):
        incident = self.get_object()
        data = self._input(s.NoteInputSerializer)
        return self._detail(services.mitigate(request.user, incident, note=data["note"]))

    @extend_schema(summary="Resolve with a root cause and what was done (mitigated -> resolved)", tags=TAGS,
                   request=s.ResolveInputSerializer, responses={200: s.IncidentSerializer, **ERRORS})
    @action(detail=True, methods=["post"])
    def resolve(self, request, pk=None):
        incident = self.get_object()
        data = self._input(s.ResolveInputSerializer)
        return self._detail(services.resolve(request.user, incident, root_cause=data["root_cause"],
                                             summary=data["resolution_summary"]))

    @_move_schema("close")
    @action(detail=True, methods=["post"])
    def close(self, request, pk=None):
        return self._detail(services.close(request.user, self.get_object()))

    @extend_schema(summary="Reopen a resolved or closed incident (-> open)", tags=TAGS,
                   request=s.NoteInputSerializer, responses={200: s.IncidentSerializer, **ERRORS})
    @action(detail=True, methods=["post"])
    def reopen(self, request, pk=None):
        incident = self.get_object()
        data = self._input(s.NoteInputSerializer)
        return self._detail(services.reopen(request.user, incident, reason=data["note"]))

    # --- triage ------------------------------------------------------------------------------

    @extend_schema(summary="Assign to an ML engineer of the project, or unassign with null", tags=TAGS,
                   request=s.AssignInputSerializer, responses={200: s.IncidentSerializer, **ERRORS})
    @action(detail=True, methods=["post"])
    def assign(self, request, pk=None):
        incident = self.get_object()
        username = self._input(s.AssignInputSerializer)["assignee"]
        assignee = None
        if username is not None:
            assignee = get_user_model().objects.filter(username=username).first()
            if assignee is None:
                raise DomainError("Assign it to an ML engineer of this project.", field="assignee")
        return self._detail(services.assign(request.user, incident, assignee))

    @extend_schema(summary="Change the severity (ML engineers of the project)", tags=TAGS,
                   request=s.SeverityInputSerializer, responses={200: s.IncidentSerializer, **ERRORS})
    @action(detail=True, methods=["post"])
    def severity(self, request, pk=None):
        incident = self.get_object()
        data = self._input(s.SeverityInputSerializer)
        return self._detail(services.change_severity(request.user, incident, data["severity"]))

    @extend_schema(summary="Tell the team leader now (ML engineers; not once resolved: 409)", tags=TAGS,
                   request=s.NoteInputSerializer, responses={200: s.IncidentSerializer, **ERRORS})
    @action(detail=True, methods=["post"])
    def escalate(self, request, pk=None):
        incident = self.get_object()
        data = self._input(s.NoteInputSerializer)
        return self._detail(services.escalate(request.user, incident, reason=data["note"]))

    # --- fix, timeline, comments, postmortem ---------------------------------------------------

    @extend_schema(summary="File the next version of the incident's model as its fix (data scientists)",
                   description="Creates a draft handover of the model (revision 1) linked as the "
                               "incident's fix. 409 when the incident is about no model, is closed, or the "
                               "version exists.",
                   tags=TAGS, request=s.FixInputSerializer, responses={201: s.FixCreatedSerializer, **ERRORS})
    @action(detail=True, methods=["post"])
    def fix(self, request, pk=None):
        incident = self.get_object()
        data = self._input(s.FixInputSerializer)
        handover = services.file_fix(request.user, incident, version_label=data["version_label"])
        return Response(s.FixCreatedSerializer(handover).data, status=status.HTTP_201_CREATED)

    @extend_schema(summary="The incident's timeline, oldest first", tags=TAGS,
                   responses={200: s.TimelineEventSerializer(many=True), 400: PAGE_ERROR, 404: ERRORS[404]})
    @action(detail=True, methods=["get"], filterset_class=None, filter_backends=[])
    def timeline(self, request, pk=None):
        return self._events(selectors.timeline_of(self.get_object()))

    def _events(self, queryset):
        page = self.paginate_queryset(queryset)
        return self.get_paginated_response(s.TimelineEventSerializer(page, many=True).data)

    @extend_schema(methods=["GET"], summary="The incident's comments, oldest first", tags=TAGS,
                   request=None,
                   responses={200: s.TimelineEventSerializer(many=True), 400: PAGE_ERROR, 404: ERRORS[404]})
    @extend_schema(methods=["POST"], summary="Comment on the incident (anyone on the project)", tags=TAGS,
                   request=s.IncidentCommentInputSerializer,
                   responses={201: s.IncidentCommentCreatedSerializer, **ERRORS})
    @action(detail=True, methods=["get", "post"], filterset_class=None, filter_backends=[])
    def comments(self, request, pk=None):
        incident = self.get_object()
        if request.method == "GET":
            return self._events(selectors.comments_of(incident))
        data = self._input(s.IncidentCommentInputSerializer)
        event = services.add_comment(request.user, incident, body=data["body"])
        return Response(s.IncidentCommentCreatedSerializer(event).data, status=status.HTTP_201_CREATED)

    def _postmortem(self, incident):
        items = selectors.action_items_of(incident)
        body = {"postmortem": incident.postmortem, "action_items": items}
        return Response(s.PostmortemSerializer(body).data)

    @extend_schema(methods=["GET"], summary="The postmortem and its action items", tags=TAGS, request=None,
                   responses={200: s.PostmortemSerializer, 404: ERRORS[404]})
    @extend_schema(methods=["PUT", "PATCH"],
                   summary="Replace the postmortem (ML engineers and the model's data scientist)",
                   description="PATCH without `postmortem` changes nothing.", tags=TAGS,
                   request=s.PostmortemInputSerializer, responses={200: s.PostmortemSerializer, **ERRORS})
    @action(detail=True, methods=["get", "put", "patch"])
    def postmortem(self, request, pk=None):
        incident = self.get_object()
        if request.method != "GET":
            serializer = s.PostmortemInputSerializer(data=request.data, partial=request.method == "PATCH")
            serializer.is_valid(raise_exception=True)
            if "postmortem" in serializer.validated_data:
                incident = services.update_postmortem(request.user, incident,
                                                      postmortem=serializer.validated_data["postmortem"])
        return self._postmortem(incident)

    @extend_schema(summary="Add an action item to the postmortem", tags=TAGS,
                   request=s.ActionItemInputSerializer, responses={201: s.ActionItemSerializer, **ERRORS})
    @action(detail=True, methods=["post"], url_path="action-items", url_name="action-items")
    def action_items(self, request, pk=None):
        incident = self.get_object()
        data = self._input(s.ActionItemInputSerializer)
        item = services.add_action_item(request.user, incident, text=data["text"])
        return Response(s.ActionItemSerializer(item).data, status=status.HTTP_201_CREATED)

    @extend_schema(summary="Tick an action item done, or not done", tags=TAGS,
                   description="PATCH without `done` changes nothing.", parameters=[ITEM],
                   request=s.ActionItemDoneSerializer, responses={200: s.ActionItemSerializer, **ERRORS})
    @action(detail=True, methods=["patch"], url_path=r"action-items/(?P<item_id>[0-9]+)",
            url_name="action-item")
    def action_item(self, request, pk=None, item_id=None):
        incident = self.get_object()
        item = incident.action_items.filter(pk=item_id).first() if len(item_id) < 19 else None
        if item is None:
            raise NotFound("Not found.")
        item.incident = incident
        serializer = s.ActionItemDoneSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        if "done" in serializer.validated_data:  # a PATCH without it changes nothing
            item = services.set_action_item_done(request.user, item, done=serializer.validated_data["done"])
        return Response(s.ActionItemSerializer(item).data)
