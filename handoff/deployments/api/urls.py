from rest_framework.routers import SimpleRouter

from . import views

router = SimpleRouter()
router.register("deployments", views.DeploymentViewSet, basename="api-deployment")
router.register("ingestion-tokens", views.IngestionTokenViewSet, basename="api-ingestion-token")
urlpatterns = router.urls
