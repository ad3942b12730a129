from csp.decorators import csp_update
from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import DefaultRouter

from handoff.contracts import card_views
from handoff.contracts.api.urls import router as contracts_router
from handoff.contracts.api.urls import urlpatterns as contracts_api_urls
from handoff.core import metrics as core_metrics
from handoff.core import views as core_views
from handoff.dashboards import views as dashboard_views
from handoff.dashboards.api import views as dashboard_api
from handoff.deployments.api.urls import router as deployments_router
from handoff.handovers.api.urls import router as handovers_router
from handoff.incidents.api.urls import router as incidents_router
from handoff.notifications.api.urls import router as notifications_router
from handoff.teams.api.urls import router as teams_router
from handoff.validation.api.urls import router as validation_router

# One router for /api/v1/ so its index lists every resource; each app
# registers its viewsets on its own router.
api_router = DefaultRouter()
# JSON only: the ``.json`` suffix twins reached action views with a ``format``
# argument they do not take.
api_router.include_format_suffixes = False
for app_router in (teams_router, handovers_router, validation_router, notifications_router,
                   deployments_router, incidents_router,
                   contracts_router):
    api_router.registry.extend(app_router.registry)

api_v1 = [
    path("auth/", include("accounts.api.urls")),
    path("", include(contracts_api_urls)),
    path("", include(api_router.urls)),
    path("handovers/<int:pk>/model-card/", card_views.model_card_api, name="api-handover-model-card"),
    path("dashboards/team/<slug:slug>/", dashboard_api.team_dashboard, name="api-dashboard-team"),
]

urlpatterns = [
    path("", dashboard_views.home, name="home"),
    path("health/", core_views.health, name="health"),
    path("metrics", core_metrics.metrics, name="metrics"),
    path("accounts/", include("accounts.urls")),
    path("", include("handoff.teams.urls")),
    path("", include("handoff.handovers.urls")),
    path("", include("handoff.contracts.urls")),
    path("", include("handoff.notifications.urls")),
    path("", include("handoff.incidents.urls")),
    path("", include("handoff.deployments.urls")),
    path("", include("handoff.dashboards.urls")),
    path("api/v1/", include(api_v1)),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # Swagger UI under the Content-Security-Policy: its start script from a URL (the split view), its
    # page rules in a stylesheet (core/api_docs.html), and data: images for the icons in its CSS.
    path("api/docs/", csp_update({"img-src": ["data:"]})(SpectacularSwaggerSplitView.as_view(
        url_name="schema", template_name="core/api_docs.html")), name="api-docs"),
    # After every API route: the rest of /api/ is a JSON 404, whatever DEBUG is (a newline in the
    # address too: `.` would not match it, and DEBUG's HTML page would answer).
    re_path(r"^api/(?P<rest>[\s\S]*)$", core_views.api_not_found, name="api-not-found"),
    path("admin/", admin.site.urls),
]

handler404 = "handoff.core.views.not_found"
handler500 = "handoff.core.views.server_error"
