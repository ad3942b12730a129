from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, viewsets

from .. import selectors
from ..checks import CHECK_KEYS_DOC
from ..filters import ValidationRunFilter
from . import serializers as s

CHECKS_DESCRIPTION = "Check keys:\n\n" + "\n".join(
    f"- `{key}`: {text}" for key, text in CHECK_KEYS_DOC.items()
)


@extend_schema_view(
    list=extend_schema(summary="Validation runs of handovers in your projects (filter by handover)",
                       tags=["validation"]),
    retrieve=extend_schema(summary="A validation run with the result of every check", tags=["validation"],
                           description=CHECKS_DESCRIPTION),
)
class ValidationRunViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    filterset_class = ValidationRunFilter
    ordering_fields = ["created_at", "finished_at"]

    def get_queryset(self):
        runs = selectors.visible_runs(self.request.user)
        if self.action == "retrieve":
            return runs.prefetch_related("checks")
        return runs

    def get_serializer_class(self):
        return s.ValidationRunDetailSerializer if self.action == "retrieve" else s.ValidationRunSerializer
