"""The project's URLconf plus routes that break the reach rules on purpose,
for the walker's own test (``test_walker.py``)."""

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import path
from rest_framework.response import Response
from rest_framework.views import APIView

from handoff.handovers.models import Handover
from handoff.urls import urlpatterns as project_urlpatterns


class UnscopedHandover(APIView):
    """Any signed-in person reads any handover: the access check is missing."""

    def get(self, request, pk):
        handover = get_object_or_404(Handover, pk=pk)
        return Response({"version_label": handover.version_label})


@login_required
def unscoped_page(request, pk):
    return HttpResponse(get_object_or_404(Handover, pk=pk).version_label)


@login_required
def nobody_reaches_it(request, pk):
    raise Http404


urlpatterns = [
    path("api/v1/leaky/<int:pk>/", UnscopedHandover.as_view(), name="leaky-api"),
    path("leaky/<int:pk>/", unscoped_page, name="leaky-page"),
    path("dead/<int:pk>/", nobody_reaches_it, name="dead-page"),
    path("forgotten/<int:pk>/", unscoped_page),
    *project_urlpatterns,
]
