from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
    inline_serializer,
)
from rest_framework import exceptions, mixins, serializers, status, viewsets
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.decorators import action
from rest_framework.parsers import JSONParser
from rest_framework.response import Response

from handoff.core.errors import NotFound

from .. import lockout, selectors, services
from ..models import ApiToken
from . import serializers as s

WRONG_CREDENTIALS = "Unable to log in with provided credentials."


class ObtainTokenView(ObtainAuthToken):
    """Exchange a username and password for a new API token ("API login <time>");
    earlier ones stay valid and listed until revoked."""

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
        summary="Get a new API token with your username and password",
        description="Each call creates a token named “API login <date and time>”, listed with your "
                    "other tokens (GET /api/v1/auth/tokens/) until you revoke it. Ten wrong passwords for an "
                    "account lock it for the cool-off (a 429 saying when to try again), here and on the "
                    "login page.",
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
        lockout.forget_failures(user)
        _token, secret = services.token_for_login(user)
        return Response({"token": secret})


ERRORS = {
    400: OpenApiResponse(description="Bad input: a message per field"),
    404: OpenApiResponse(description="Not found, or not one of your tokens"),
    409: OpenApiResponse(description="Already revoked"),
}
TAGS = ["auth"]


@extend_schema_view(
    list=extend_schema(summary="Your API tokens, newest first (never their secrets)", tags=TAGS),
    retrieve=extend_schema(summary="One of your API tokens (never its secret)", tags=TAGS,
                           responses={200: s.ApiTokenSerializer, 404: ERRORS[404]}),
)
class ApiTokenViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The caller's own API tokens; anyone else's is a 404."""

    serializer_class = s.ApiTokenSerializer
    queryset = ApiToken.objects.none()  # for the schema: the real one is the caller's (get_queryset)
    parser_classes = [JSONParser]
    ordering_fields = ["created_at", "last_used_at"]
    ordering = ["-created_at"]

    def get_queryset(self):
        return selectors.tokens_of(self.request.user)

    @extend_schema(summary="Create an API token; the answer holds it, shown this once", tags=TAGS,
                   request=s.ApiTokenInputSerializer,
                   responses={201: s.ApiTokenCreatedSerializer, 400: ERRORS[400]})
    def create(self, request):
        serializer = s.ApiTokenInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        token, secret = services.create_api_token(request.user, name=serializer.validated_data["name"])
        body = s.ApiTokenCreatedSerializer(token).data
        body["token"] = secret
        return Response(body, status=status.HTTP_201_CREATED)

    @extend_schema(summary="Revoke one of your API tokens: requests with it are refused from now on",
                   tags=TAGS, request=None,
                   responses={200: s.ApiTokenSerializer, 404: ERRORS[404], 409: ERRORS[409]})
    @action(detail=True, methods=["post"])
    def revoke(self, request, pk=None):
        token = selectors.token_of(request.user, pk) if str(pk).isascii() and str(pk).isdigit() else None
        if token is None:
            raise NotFound("Not found.")
        return Response(s.ApiTokenSerializer(services.revoke_api_token(request.user, token)).data)
