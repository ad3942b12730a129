from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from handoff.core import views as core_views

api_v1 = [
    path("auth/", include("accounts.api.urls")),
    path("", include("handoff.teams.api.urls")),
    path("", include("handoff.handovers.api.urls")),
]

urlpatterns = [
    path("", core_views.home, name="home"),
    path("health/", core_views.health, name="health"),
    path("accounts/", include("accounts.urls")),
    path("", include("handoff.teams.urls")),
    path("", include("handoff.handovers.urls")),
    path("api/v1/", include(api_v1)),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    path("admin/", admin.site.urls),
]

handler404 = "handoff.core.views.not_found"
handler500 = "handoff.core.views.server_error"
