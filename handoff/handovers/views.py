from django.contrib.auth.decorators import login_required
from django.http import HttpResponse


@login_required
def new_handover(request):
    return HttpResponse("coming soon")


@login_required
def my_handovers(request):
    return HttpResponse("coming soon")


@login_required
def review_queue(request):
    return HttpResponse("coming soon")


@login_required
def handover_detail(request, pk):
    return HttpResponse("coming soon")
