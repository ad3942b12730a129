"""Contract pages: thin views over ``selectors`` (what a page shows) and
``services`` (every change)."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, render

from handoff.access import scope

from .models import Contract


@login_required
def contract_detail(request, pk):
    contract = get_object_or_404(scope(Contract.objects.select_related("project"), request.user), pk=pk)
    return render(request, "contracts/detail.html", {"contract": contract})
