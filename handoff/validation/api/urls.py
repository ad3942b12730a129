from rest_framework.routers import SimpleRouter

from . import views

router = SimpleRouter()
router.register("validation-runs", views.ValidationRunViewSet, basename="api-validation-run")
urlpatterns = router.urls
