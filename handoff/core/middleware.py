from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseRedirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme

from .errors import DomainError, Forbidden, NotFound


class DomainErrorMiddleware:
    """Turns a DomainError escaping a browser view into a 404, a 403, or a
    message shown on the page the user came from. Views that render forms
    catch DomainError themselves to show it on the field."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, DomainError):
            return None
        if isinstance(exception, NotFound):
            raise Http404(exception.message)
        if isinstance(exception, Forbidden):
            raise PermissionDenied(exception.message)
        messages.error(request, exception.message)
        back = request.headers.get("referer", "")
        if not url_has_allowed_host_and_scheme(
            back, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        ):
            # Never off-site. Without a usable Referer, a page shown by GET is
            # its own way back; an action's URL (POST-only) is not a page.
            back = request.path if request.method in ("GET", "HEAD") else reverse("home")
        response = HttpResponseRedirect(back)
        if getattr(request, "htmx", False):
            response["HX-Redirect"] = back
        return response
