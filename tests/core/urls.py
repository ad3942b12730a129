"""The real URLconf plus an endpoint that raises what a test asks for."""

from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.http import Http404
from django.urls import path
from rest_framework.permissions import AllowAny
from rest_framework.views import APIView

from handoff.core.errors import Conflict, DomainError, Forbidden, NotFound
from handoff.urls import handler404, handler500  # noqa: F401
from handoff.urls import urlpatterns as base_urlpatterns

RAISES = {
    "domain": lambda: DomainError("The tolerance must be between 0 and 1."),
    "domain-field": lambda: DomainError("Give a version such as 1.4.0.", field="version"),
    "forbidden": lambda: Forbidden("Your role does not allow you to review revision here."),
    "not-found": lambda: NotFound("Not found."),
    "conflict": lambda: Conflict("Cannot accept: it is accepted now."),
    "django-validation": lambda: ValidationError("The file is empty."),
    "django-validation-dict": lambda: ValidationError(
        {"name": ["This name is taken."], NON_FIELD_ERRORS: ["Nothing else can change now."]}
    ),
    "django-permission": lambda: PermissionDenied("No."),
    "http404": lambda: Http404("gone"),
    "crash": lambda: RuntimeError("a bug"),
}


def every_domain_error():
    """DomainError and all its subclasses, wherever an app defined them."""
    found, todo = [], [DomainError]
    while todo:
        cls = todo.pop()
        found.append(cls)
        todo.extend(cls.__subclasses__())
    return {f"{cls.__module__}.{cls.__qualname__}": cls for cls in found}


class Raise(APIView):
    permission_classes = [AllowAny]

    def get(self, request, kind):
        if kind == "domain-class":
            cls = every_domain_error()[request.query_params["cls"]]
            raise cls(f"A {cls.__name__} happened.")
        raise RAISES[kind]()


urlpatterns = [path("api/test/raise/<slug:kind>/", Raise.as_view()), *base_urlpatterns]
