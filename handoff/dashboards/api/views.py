"""A team dashboard's figures as JSON: the page's and the CSV's data, for the same people."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from handoff.dashboards import figures, selectors

from .serializers import DashboardSerializer

CHOICES = ", ".join(str(days) for days in figures.PERIODS)


class TeamDashboardView(APIView):
    @extend_schema(
        summary="A team's dashboard figures over a period",
        description=(
            "Every figure of the team dashboard, computed over the team's projects whose figures you "
            "may see (a team leader: all of them; a manager: their projects). Durations are in hours, "
            "money per month in `production.currency`, percentiles nearest-rank. A team out of your "
            "reach is a 404; a team you see without the right to its figures is a 403."
        ),
        tags=["dashboards"],
        parameters=[
            OpenApiParameter("slug", OpenApiTypes.STR, OpenApiParameter.PATH, description="The team's slug"),
            OpenApiParameter("period", OpenApiTypes.INT, enum=list(figures.PERIODS),
                             description=f"The last N days, one of {CHOICES} "
                                         f"(default {figures.DEFAULT_PERIOD})"),
            OpenApiParameter("project", OpenApiTypes.STR, description="Only this project (its slug)"),
        ],
        responses={
            200: DashboardSerializer,
            400: OpenApiResponse(description="A period not offered"),
            403: OpenApiResponse(description="You see the team but not its figures"),
            404: OpenApiResponse(description="Not found, or outside your reach"),
        },
    )
    def get(self, request, slug):
        scope = selectors.scope_of(request.user, slug, request.query_params.get("project"))
        period = selectors.period_of(request.query_params.get("period"))
        return Response(selectors.team_figures(request.user, scope, period))


team_dashboard = TeamDashboardView.as_view()
