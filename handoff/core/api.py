"""API plumbing shared by every app: errors as JSON a person can act on.

Every error body has a ``detail`` string to show as it is; validation errors
also keep the per-field lists (``{"name": ["…"], "detail": "name: …"}``).
"""

from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import exceptions, pagination
from rest_framework.views import exception_handler as drf_exception_handler

from .errors import DomainError, Forbidden


class Pagination(pagination.PageNumberPagination):
    """``?page=2&page_size=100``: 50 a page unless asked, at most 500."""

    page_size_query_param = "page_size"
    max_page_size = 500


def exception_handler(exc, context):
    request = context.get("request")
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
