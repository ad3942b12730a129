"""API plumbing shared by every app: errors as JSON a person can act on,
pagination and ordering that refuse what they cannot read.

Every error body has a ``detail`` string to show as it is; validation errors
also keep the per-field lists (``{"name": ["…"], "detail": "name: …"}``).
A query parameter the API cannot read is a 400 naming it, never silently
ignored, and the OpenAPI schema says exactly what each one accepts.
"""

import logging
import re
from collections.abc import Mapping

from django.core import signals
from django.core.exceptions import NON_FIELD_ERRORS, BadRequest, PermissionDenied, SuspiciousOperation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import JsonResponse
from django.utils.log import log_response
from rest_framework import exceptions, filters, pagination, serializers
from rest_framework.utils import html
from rest_framework.views import exception_handler as drf_exception_handler
from rest_framework.views import set_rollback

from . import outages
from .errors import DomainError, Forbidden, Unauthenticated

SERVER_ERROR = "Something went wrong on our side and was logged. Try again, or tell an administrator."
# A whole number as a query string carries it: ASCII digits, nothing around them.
_DIGITS = re.compile(r"[0-9]+")


def _has_json_type(field, value):
    if isinstance(field, serializers.BooleanField):
        return isinstance(value, bool)
    if isinstance(field, serializers.IntegerField):
        return isinstance(value, int) and not isinstance(value, bool)
    if isinstance(field, serializers.FloatField):
        return isinstance(value, int | float) and not isinstance(value, bool)
    if isinstance(field, serializers.CharField):
        return isinstance(value, str)
    return True


# The base of every input serializer. (Comments, not a docstring: drf-spectacular would show a
# docstring as the description of every request body without one of its own.)
class InputSerializer(serializers.Serializer):
    # A JSON request body whose every value must already have its field's type, as the schema
    # says: DRF alone reads ``5`` into a text field as "5", and ``"1.5"`` or ``true`` into a
    # number field as 1.5 or 1.0. Each such value is refused with its field's own message.
    # (A form body is all text: DRF converts it as usual.)

    def to_internal_value(self, data):
        if isinstance(data, Mapping) and not html.is_html_input(data):
            errors = {
                name: [field.error_messages["invalid"]]
                for name, field in self.fields.items()
                if not field.read_only and data.get(name) is not None
                and not _has_json_type(field, data[name])
            }
            if errors:
                raise serializers.ValidationError(errors)
        return super().to_internal_value(data)


def _query_error(name, message):
    return exceptions.ValidationError({name: [message]})


def _whole_number(request, name, *, default, message, maximum=None):
    """The query parameter ``name`` as a whole number from 1 to ``maximum``, ``default`` when absent.

    Raises a 400 naming ``name`` for anything else ("abc", "0", "-1", "1.5", " 2")."""
    value = request.query_params.get(name)
    if value is None:
        return default
    if not _DIGITS.fullmatch(value):
        raise _query_error(name, message)
    # More digits than any page count or size could need: not worth int() (which refuses 4300 and more).
    number = int(value) if len(value) <= 18 else 10**18
    if number < 1 or (maximum is not None and number > maximum):
        raise _query_error(name, message)
    return number


class Pagination(pagination.PageNumberPagination):
    """``?page=2&page_size=100``: 50 a page unless asked, at most 500.

    A page or page size that is not a whole number in range is a 400 naming
    it (DRF would fall back to the default size without a word); a page past
    the end is a 404."""

    page_size_query_param = "page_size"
    max_page_size = 500
    page_message = "Give a page number: a whole number of 1 or more."
    page_size_message = f"Give a page size: a whole number from 1 to {max_page_size}."

    def get_page_size(self, request):
        return _whole_number(request, self.page_size_query_param, default=self.page_size,
                             maximum=self.max_page_size, message=self.page_size_message)

    def get_page_number(self, request, paginator):
        return _whole_number(request, self.page_query_param, default=1, message=self.page_message)

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        bounds = {self.page_query_param: {"minimum": 1},
                  self.page_size_query_param: {"minimum": 1, "maximum": self.max_page_size}}
        for parameter in parameters:
            parameter["schema"].update(bounds[parameter["name"]])
        return parameters


class Ordering(filters.OrderingFilter):
    """``?ordering=name,-created_at``: the view's ``ordering_fields``, each
    with an optional ``-`` for descending, separated by commas. Anything else
    is a 400 naming ``ordering`` (DRF would ignore it without a word); the
    schema gives the same rule as a pattern."""

    def _names(self, view, queryset=None, request=None):
        return [name for name, _ in self.get_valid_fields(queryset, view, {"request": request})]

    def _rule(self, names):
        return (f"Order by {', '.join(names)}: one or more, separated by commas, "
                "each with a leading '-' for descending.")

    @staticmethod
    def _pattern(names):
        one = "-?(?:" + "|".join(re.escape(name) for name in names) + ")"
        return f"(?:{one}(?:,{one})*)?"

    def get_ordering(self, request, queryset, view):
        value = request.query_params.get(self.ordering_param)
        if value is not None:
            names = self._names(view, queryset, request)
            if not re.fullmatch(self._pattern(names), value):
                raise _query_error(self.ordering_param, self._rule(names))
        return super().get_ordering(request, queryset, view)

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        if getattr(view, "ordering_fields", None) is None:
            return parameters  # the fields come from the serializer: no fixed list to show
        names = self._names(view)
        for parameter in parameters:
            parameter["description"] = self._rule(names).replace("'-'", "`-`")
            parameter["schema"]["pattern"] = f"^{self._pattern(names)}$"
        return parameters



def exception_handler(exc, context):
    """DRF's handler, with every error as JSON with a ``detail``; an
    exception nothing handles is logged and answered as handler500 would
    (``handoff.core.views.server_error``), so that it is JSON under /api/
    even while DEBUG is on."""
    request = context.get("request")
    if request is not None and outages.is_outage(exc):
        return _outage(request, exc)
    anonymous = request is not None and not request.user.is_authenticated
    # A logged-in browser session whose CSRF token is missing is refused as
    # anonymous by DRF; "log in" would mislead it: say what is wrong instead.
    csrf = str(getattr(exc, "detail", "")).startswith("CSRF Failed")
    if isinstance(exc, (exceptions.PermissionDenied, PermissionDenied, Forbidden)) and anonymous and not csrf:
        # "Log in first" helps an anonymous caller more than "not allowed".
        exc = exceptions.NotAuthenticated()
        exc.auth_header = "Token"
    response = drf_exception_handler(_as_drf(exc), context)
    if response is not None and isinstance(response.data, dict) and "detail" not in response.data:
        response.data["detail"] = summary(response.data)
    elif response is not None and isinstance(response.data, list):
        response.data = {"detail": summary(response.data), "errors": response.data}
    if response is None and request is not None and request.path.startswith("/api/"):
        return _server_error(request, exc)
    return response


def _outage(request, exc):
    """A service away for a moment (``handoff.core.outages``): the 503 with Retry-After,
    logged as an error like any 5xx, whatever DEBUG says."""
    set_rollback()
    response = outages.response(request._request, exc)
    log_response("%s: %s", response.reason_phrase, request.path, response=response,
                 request=request._request, exception=exc)
    return response


def _server_error(request, exc):
    """What Django does with an exception nothing handled (log it, tell
    ``got_request_exception`` listeners, roll back), but the answer is the
    JSON 500 of ``handler500`` instead of the HTML debug page."""
    set_rollback()
    signals.got_request_exception.send(sender=None, request=request._request)
    response = JsonResponse({"detail": SERVER_ERROR}, status=500)
    log_response("%s: %s", response.reason_phrase, request.path, response=response,
                 request=request._request, exception=exc)
    return response


def _as_drf(exc):
    if isinstance(exc, DomainError):
        body = {"detail": exc.message}
        if exc.field:
            body["field"] = exc.field
            body[exc.field] = [exc.message]
        drf_exc = exceptions.APIException()
        drf_exc.detail = body
        drf_exc.status_code = exc.status_code
        if isinstance(exc, Unauthenticated):
            # A 401 names the scheme to authenticate with (RFC 9110), as DRF's own 401s do.
            drf_exc.auth_header = f'{exc.scheme} realm="api"'
        return drf_exc
    if isinstance(exc, DjangoValidationError):
        if hasattr(exc, "error_dict"):
            detail = {
                ("non_field_errors" if field == NON_FIELD_ERRORS else field): [
                    message for error in errors for message in error.messages
                ]
                for field, errors in exc.error_dict.items()
            }
        else:
            detail = list(exc.messages)
        return exceptions.ValidationError(detail)
    if isinstance(exc, (BadRequest, SuspiciousOperation)):
        # Django answers these 400 (a body over DATA_UPLOAD_MAX_MEMORY_SIZE, too many fields…).
        if isinstance(exc, SuspiciousOperation):
            logging.getLogger(f"django.security.{exc.__class__.__name__}").error(str(exc))
        return exceptions.ParseError(f"The request could not be read: {exc}")
    return exc


def summary(data):
    """One sentence out of DRF's nested validation errors, field names first."""
    if isinstance(data, dict):
        parts = []
        for field, value in data.items():
            text = summary(value)
            if text:
                parts.append(text if field == "non_field_errors" else f"{field}: {text}")
        return " ".join(parts)
    if isinstance(data, list):
        return " ".join(text for text in map(summary, data) if text)
    return str(data)
