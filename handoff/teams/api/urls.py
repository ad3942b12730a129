from rest_framework.routers import DefaultRouter

from . import views

router = DefaultRouter()
router.register("teams", views.TeamViewSet, basename="team")
router.register("projects", views.ProjectViewSet, basename="project")
urlpatterns = router.urls
