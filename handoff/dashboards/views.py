from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET

from . import chart, export, figures, selectors
from .home import home as home_of


@login_required
@require_GET
def home(request):
    """What needs me first (the sections my roles allow), then my projects with my role on each."""
    return render(request, "dashboards/home.html", {"home": home_of(request.user)})


# --- team dashboards -------------------------------------------------------------------------------


@login_required
def index(request):
    """The teams whose dashboards I may open (one: straight to it)."""
    teams = list(selectors.dashboard_teams(request.user))
    if len(teams) == 1:
        return redirect("dashboards:team", slug=teams[0].slug)
    return render(request, "dashboards/index.html", {"teams": teams})


def _dashboard(request, slug):
    scope = selectors.scope_of(request.user, slug, request.GET.get("project"))
    period = selectors.period_of(request.GET.get("period"))
    return scope, period, selectors.team_figures(request.user, scope, period)


@login_required
def team(request, slug):
    """A team's figures, trends and charts over a period, for its leader and managers."""
    scope, period, data = _dashboard(request, slug)
    return render(request, "dashboards/team.html", {
        "scope": scope, "period": period, "periods": figures.PERIODS, "data": data,
        "charts": chart.of(data),
    })


@login_required
def team_csv(request, slug):
    """The same figures as CSV: one row per figure, then the weekly and per-project tables."""
    scope, period, data = _dashboard(request, slug)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    suffix = f"-{scope.project.slug}" if scope.project else ""
    response["Content-Disposition"] = (
        f'attachment; filename="{scope.team.slug}{suffix}-{period.days}d-{period.end:%Y-%m-%d}.csv"')
    export.write_csv(data, response)
    return response
