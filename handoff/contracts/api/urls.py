from django.urls import path
from rest_framework.routers import SimpleRouter

from . import views

router = SimpleRouter()
router.register("contracts", views.ContractViewSet, basename="api-contract")
# Selecting is an action on a handover, at /api/v1/handovers/{id}/select/; the handovers router owns
# that prefix, so this one route is mapped by hand (included before the routers in handoff/urls.py).
urlpatterns = [
    path(
        "handovers/<int:pk>/select/",
        views.SelectCandidateViewSet.as_view({"post": "select"}),
        name="api-handover-select",
    ),
]
