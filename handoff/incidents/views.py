"""Incident pages (the triage queue and the incident page)."""

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse

from . import selectors


@login_required
def incident_detail(request, pk):
    incident = selectors.incident_for(request.user, pk)
    return HttpResponse(str(incident))
