from django.urls import path
from rest_framework.routers import SimpleRouter

from . import views

router = SimpleRouter()
router.register("tokens", views.ApiTokenViewSet, basename="api-token-mine")
urlpatterns = [
    path("token/", views.ObtainTokenView.as_view(), name="api-token"),
    *router.urls,
]
