from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, viewsets
from rest_framework.response import Response

from .. import selectors
from ..checks import CHECK_KEYS_DOC
from ..filters import ValidationRunFilter
from . import serializers as s

CHECKS_DESCRIPTION = "Check keys:\n\n" + "\n".join(
    f"- `{key}`: {text}" for key, text in CHECK_KEYS_DOC.items()
)

BLIND_DESCRIPTION = (
    "A candidate of a contract that holds its labels blind: a caller who may not read them (a data "
    "scientist) gets aggregate figures only: every check's `details` is empty, and the message of a "
    "row-level check (`data.ids`, `data.rows`, a metric that could not be measured) says only how many "
    "rows matched. ML engineers and the team leader read everything."
)


@extend_schema_view(
    list=extend_schema(summary="Validation runs of handovers in your projects (filter by handover)",
                       tags=["validation"]),
    retrieve=extend_schema(summary="A validation run with the result of every check", tags=["validation"],
                           description=CHECKS_DESCRIPTION + "\n\n" + BLIND_DESCRIPTION),
)
class ValidationRunViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    filterset_class = ValidationRunFilter
    ordering_fields = ["created_at", "finished_at"]

    def get_queryset(self):
        runs = selectors.visible_runs(self.request.user)
        if self.action == "retrieve":
            return runs.select_related("revision__handover__project__team").prefetch_related("checks")
        return runs

    def get_serializer_class(self):
        return s.ValidationRunDetailSerializer if self.action == "retrieve" else s.ValidationRunSerializer

    def retrieve(self, request, *args, **kwargs):
        run = self.get_object()
        context = self.get_serializer_context()
        context["blind"] = selectors.blind_for(request.user, run.revision.handover)
        if context["blind"]:
            context["labels_name"] = selectors.labels_name(run.revision_id)
        return Response(s.ValidationRunDetailSerializer(run, context=context).data)
