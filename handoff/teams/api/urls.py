from rest_framework.routers import SimpleRouter

from . import views

router = SimpleRouter()
router.register("teams", views.TeamViewSet, basename="team")
router.register("projects", views.ProjectViewSet, basename="project")
router.register(r"projects/(?P<slug>[-a-zA-Z0-9_]+)/webhooks", views.WebhookViewSet,
                basename="project-webhook")
urlpatterns = router.urls
