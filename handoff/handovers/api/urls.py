from rest_framework.routers import SimpleRouter

from . import views

router = SimpleRouter()
router.register("models", views.ModelViewSet, basename="api-model")
router.register("handovers", views.HandoverViewSet, basename="api-handover")
router.register("artifacts", views.ArtifactViewSet, basename="api-artifact")
urlpatterns = router.urls
