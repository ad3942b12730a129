"""``Authorization: Bearer <ingestion token>``: how monitoring posts metrics.

Only the metrics endpoint takes it, and it takes nothing else: a person's
API token or session does not post metrics, and an ingestion token reads
nothing. The request's ``auth`` is the ``IngestionToken``; its ``user`` stays
anonymous (no person stands behind it).
"""

from django.contrib.auth.models import AnonymousUser
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions, permissions

from handoff.core.errors import Unauthenticated

from .. import services
from ..models import IngestionToken

SCHEME = "Bearer"


class IngestionTokenAuthentication(authentication.BaseAuthentication):
    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header:
            raise exceptions.AuthenticationFailed(
                f"No ingestion token was sent. {services.HOW_TO_AUTHENTICATE}")
        if header[0].lower() != SCHEME.lower().encode():
            raise exceptions.AuthenticationFailed(
                f"Metrics are posted with an ingestion token. {services.HOW_TO_AUTHENTICATE}")
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(
                f"The Authorization header must be 'Bearer' and the token, with one space between them. "
                f"{services.HOW_TO_AUTHENTICATE}")
        try:
            secret = header[1].decode("ascii")
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed(
                f"That is not an ingestion token. {services.HOW_TO_AUTHENTICATE}") from None
        try:
            token = services.token_from_secret(secret)
        except Unauthenticated as error:
            raise exceptions.AuthenticationFailed(error.message) from None
        return AnonymousUser(), token

    def authenticate_header(self, request):
        return f'{SCHEME} realm="ingestion"'


class HasIngestionToken(permissions.BasePermission):
    message = f"Send an ingestion token. {services.HOW_TO_AUTHENTICATE}"

    def has_permission(self, request, view):
        return isinstance(request.auth, IngestionToken)


class IngestionTokenScheme(OpenApiAuthenticationExtension):
    target_class = IngestionTokenAuthentication
    name = "ingestionToken"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "A project's ingestion token (hoi_…), from its Ingestion tokens page or "
                           "POST /api/v1/ingestion-tokens/. It posts metrics and nothing else.",
        }
