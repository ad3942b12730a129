from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import exceptions, serializers
from rest_framework.authtoken.models import Token
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.response import Response

from .. import lockout

WRONG_CREDENTIALS = "Unable to log in with provided credentials."


class ObtainTokenView(ObtainAuthToken):
    """Exchange a username and password for the API token (created on first use)."""

    # The credentials are in the body: a stale or malformed Authorization
    # header, or a session, must not stand in the way of getting a token.
    authentication_classes = []

    def get_authenticate_header(self, request):
        # Wrong credentials are a 401 (the request is well formed; who sent it is not
        # known), and a 401 names how to authenticate. Without authenticators DRF
        # would turn it into a 403.
        return 'Token realm="api"'

    def get_serializer_context(self):
        # authenticate() gets Django's request, as on the login page: axes reads
        # and marks it (``axes_locked_out``), and its middleware looks there.
        return {**super().get_serializer_context(), "request": self.request._request}

    @extend_schema(
        summary="Get your API token",
        request=inline_serializer("TokenRequest", {"username": serializers.CharField(),
                                                   "password": serializers.CharField()}),
        responses={
            200: inline_serializer("TokenResponse", {"token": serializers.CharField()}),
            400: OpenApiResponse(description="A field is missing or the body is not JSON."),
            401: OpenApiResponse(description="Wrong username or password, or an inactive account: "
                                             "the same answer for each, so it tells nobody which."),
            429: OpenApiResponse(
                response=inline_serializer("LockedOut", {"detail": serializers.CharField()}),
                description="Too many failed attempts for this account (HANDOFF_LOGIN_FAILURE_LIMIT within "
                            "HANDOFF_LOGIN_COOLOFF_MINUTES): it is locked, even for the right password. "
                            "`detail` says when to try again; the `Retry-After` header gives the seconds.",
                examples=[OpenApiExample("Locked out", value={
                    "detail": "Too many failed log-in attempts for this account: it is locked. Try again "
                              "after 04:32 UTC (in 15 minutes), or ask an administrator to unlock it."})],
            ),
        },
        auth=[],
        tags=["auth"],
    )
    def post(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        valid = serializer.is_valid()
        refused = lockout.lockout_of(request._request)
        if refused is not None:
            message, wait = refused
            error = exceptions.Throttled(detail=message)
            error.wait = wait  # for Retry-After; given to Throttled(), DRF would add to the message
            raise error
        if not valid and set(serializer.errors) == {"non_field_errors"}:
            # AuthTokenSerializer found no active account with these credentials.
            raise exceptions.AuthenticationFailed(WRONG_CREDENTIALS)
        serializer.is_valid(raise_exception=True)
        user = serializer.validated_data["user"]
        token, _created = Token.objects.get_or_create(user=user)
        return Response({"token": token.key})
