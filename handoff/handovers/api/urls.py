from rest_framework.routers import DefaultRouter

from . import views

router = DefaultRouter()
router.include_root_view = False
router.register("models", views.ModelViewSet, basename="api-model")
router.register("handovers", views.HandoverViewSet, basename="api-handover")
router.register("artifacts", views.ArtifactViewSet, basename="api-artifact")
urlpatterns = router.urls
