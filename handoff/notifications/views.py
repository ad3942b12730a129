"""Notification pages: the list, marking read, preferences, and the bell's count."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import F
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from . import services
from .models import Notification


@login_required
@require_GET
def notification_list(request):
    notifications = Notification.objects.filter(recipient=request.user).select_related("actor").order_by(
        F("read_at").asc(nulls_first=True), "-created_at", "-id")
    page = Paginator(notifications, 50).get_page(request.GET.get("page"))
    context = {"page": page, "unread": services.unread_count(request.user)}
    return render(request, "notifications/list.html", context)


@login_required
@require_POST
def open_notification(request, pk):
    """Mark it read and go to what it is about."""
    notification = services.mark_read(request.user, pk)
    if url_has_allowed_host_and_scheme(notification.url, allowed_hosts={request.get_host()}):
        return redirect(notification.url)
    return redirect("notifications:list")


@login_required
@require_POST
def read_all(request):
    count = services.mark_all_read(request.user)
    messages.success(request, f"{count} notification{'s' if count != 1 else ''} marked read.")
    return redirect("notifications:list")


@login_required
def preferences(request):
    choices = services.preferences(request.user)
    if request.method == "POST":
        chosen = {kind.key: f"email:{kind.key}" in request.POST for kind, _ in choices}
        services.set_preferences(request.user, chosen)
        messages.success(request, "Notification preferences saved.")
        return redirect("notifications:preferences")
    return render(request, "notifications/preferences.html", {"choices": choices})


@login_required
@require_GET
def bell(request):
    """The navigation's bell with the unread count (htmx polls it)."""
    return render(request, "notifications/_bell.html", {"unread": services.unread_count(request.user)})
