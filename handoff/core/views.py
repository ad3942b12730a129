from django.contrib.auth.decorators import login_required
from django.http import JsonResponse
from django.shortcuts import render

from handoff.teams import selectors as team_selectors

from . import health as health_checks


@login_required
def home(request):
    """My projects with my role on each."""
    return render(request, "home.html", {"memberships": team_selectors.my_projects(request.user)})


def health(request):
    """Database, broker and worker status as JSON; 503 when something is down."""
    report = health_checks.report()
    return JsonResponse(report, status=200 if report["ok"] else 503)
