from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from handoff.teams import selectors as team_selectors


@login_required
def home(request):
    """My projects with my role on each."""
    return render(request, "dashboards/home.html", {"memberships": team_selectors.my_projects(request.user)})
