from django.contrib.auth.decorators import login_required
from django.http import JsonResponse
from django.shortcuts import render
from django.views import defaults
from django.views.decorators.cache import never_cache

from handoff.teams import selectors as team_selectors

from . import health as health_checks


@login_required
def home(request):
    """My projects with my role on each."""
    return render(request, "home.html", {"memberships": team_selectors.my_projects(request.user)})


@never_cache
def health(request):
    """Database, broker and worker status as JSON; 503 when something is down."""
    report = health_checks.report()
    return JsonResponse(report, status=200 if report["ok"] else 503)


def _is_api(request):
    return request.path.startswith("/api/")


def not_found(request, exception):
    """``handler404``: JSON under /api/, the normal page elsewhere."""
    if _is_api(request):
        message = f"Nothing at {request.path}. The API's endpoints are listed at /api/docs/."
        return JsonResponse({"detail": message}, status=404)
    return defaults.page_not_found(request, exception)


def server_error(request):
    """``handler500``: JSON under /api/, the normal page elsewhere."""
    if _is_api(request):
        message = "Something went wrong on our side and was logged. Try again, or tell an administrator."
        return JsonResponse({"detail": message}, status=500)
    return defaults.server_error(request)
