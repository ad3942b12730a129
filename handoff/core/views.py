import sys

from django.http import HttpResponsePermanentRedirect, JsonResponse
from django.urls import Resolver404, resolve
from django.views import defaults
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt

from . import health as health_checks
from . import outages
from .api import SERVER_ERROR
from .observability import presents_operator_token


@never_cache
def health(request):
    """Database, broker and worker status as JSON; 503 when something is down.
    Load balancers get only ``{"ok": ...}``; the checks' details (versions, host
    names, errors) only the operator presenting HANDOFF_OPERATOR_TOKEN."""
    report = health_checks.report()
    status = 200 if report["ok"] else 503
    if not presents_operator_token(request):
        return JsonResponse({"ok": report["ok"]}, status=status)
    return JsonResponse(report, status=status)


def _is_api(request):
    return request.path.startswith("/api/")


def _api_not_found(request, hint="."):
    message = f"Nothing at {request.path}{hint} The API's endpoints are listed at /api/docs/."
    return JsonResponse({"detail": message}, status=404)


def _is_routed(path):
    try:
        return resolve(path).url_name != "api-not-found"
    except Resolver404:
        return False


@csrf_exempt  # any method, cookies or not: the answer is a 404 and nothing changes
def api_not_found(request, rest=""):
    """The last route under /api/: an address no endpoint answers is a JSON
    404 even while DEBUG is on (Django's resolver would show its HTML page).

    Without its final slash, a GET is redirected as APPEND_SLASH did before
    this route caught everything; another method is told (a redirect would
    drop its body)."""
    if not request.path_info.endswith("/") and _is_routed(f"{request.path_info}/"):
        if request.method in ("GET", "HEAD"):
            return HttpResponsePermanentRedirect(request.get_full_path(force_append_slash=True))
        return _api_not_found(request, hint=f": API addresses end with a slash ({request.path}/).")
    return _api_not_found(request)


def not_found(request, exception):
    """``handler404``: JSON under /api/, the normal page elsewhere."""
    if _is_api(request):
        return _api_not_found(request)
    return defaults.page_not_found(request, exception)


def server_error(request):
    """``handler500``: JSON under /api/, the normal page elsewhere; a 503 with
    Retry-After when the exception being handled is a service that is away
    (``handoff.core.outages``). Django calls it inside its ``except`` block."""
    exc = sys.exc_info()[1]
    if exc is not None and outages.is_outage(exc):
        return outages.response(request, exc)
    if _is_api(request):
        return JsonResponse({"detail": SERVER_ERROR}, status=500)
    return defaults.server_error(request)
