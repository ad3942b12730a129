"""Notification pages: the list, opening one (marks it read), marking all read,
preferences, and the bell's count that the navigation polls."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from handoff.core.errors import DomainError

from . import services

PER_PAGE = 25
# The preferences form sends, per kind, "kind:<key>" = "app" (in the app only) or "email" (also by email).
FIELD_PREFIX = "kind:"
CHANNELS = {"app": False, "email": True}


@login_required
@require_GET
def notification_list(request):
    page = Paginator(services.inbox(request.user), PER_PAGE).get_page(request.GET.get("page"))
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


def _chosen(post):
    """{kind: email} from the preferences form; a channel it does not offer is refused."""
    chosen = {}
    for name, value in post.items():
        if name.startswith(FIELD_PREFIX):
            if value not in CHANNELS:
                raise DomainError(f"Choose “in the app only” or “also by email”, not {value!r}.",
                                  field="kind")
            chosen[name.removeprefix(FIELD_PREFIX)] = CHANNELS[value]
    return chosen


@login_required
@require_http_methods(["GET", "POST"])
def preferences(request):
    if request.method == "POST":
        # An unknown kind is refused with a message and nothing is stored (the service decides).
        services.set_preferences(request.user, _chosen(request.POST))
        messages.success(request, "Notification preferences saved.")
        return redirect("notifications:preferences")
    return render(request, "notifications/preferences.html", {"choices": services.preferences(request.user)})


@login_required
@require_GET
def bell(request):
    """The navigation's bell with the unread count (htmx polls it).

    The bell sends the count it shows as ``seen``: when nothing changed the
    answer is an empty 204, which htmx does not swap, so the bell (and the
    keyboard focus on it) stays as it is and nothing is announced again."""
    unread = services.unread_count(request.user)
    seen = request.GET.get("seen", "")
    if seen.isascii() and seen.isdigit() and len(seen) < 10 and int(seen) == unread:
        return HttpResponse(status=204)
    rose = seen.isascii() and seen.isdigit() and len(seen) < 10 and unread > int(seen)
    return render(request, "notifications/_bell.html", {"unread": unread, "announce": rose})
