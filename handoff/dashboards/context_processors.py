"""What the navigation offers a person: what their roles allow (``access.reach``).

Lazy: nothing is read until a template asks, and then one query (kept on the
user for the request, so the home page asks it again for free)."""

from functools import cached_property

from django.urls import reverse

from handoff import access
from handoff.access import Action

from .home import dashboard_url


class Navigation:
    def __init__(self, user):
        self.user = user

    @cached_property
    def _reach(self):
        return access.reach(self.user)

    @property
    def sees_projects(self):
        return self._reach.allows(Action.VIEW)

    @property
    def files_handovers(self):
        return self._reach.allows(Action.CREATE_HANDOVER)

    @property
    def reviews(self):
        return self._reach.allows(Action.REVIEW_REVISION)

    @property
    def sees_dashboards(self):
        return self._reach.allows(Action.VIEW_DASHBOARD)

    @cached_property
    def dashboards_url(self):
        """The one team's dashboard, or the home page's list of them when there are several."""
        teams = self._reach.teams_allowing(Action.VIEW_DASHBOARD)
        if teams is not None and len(teams) == 1:
            return dashboard_url(teams[0])
        return f"{reverse('home')}#team-dashboards"


def navigation(request):
    return {"nav": Navigation(request.user)}
