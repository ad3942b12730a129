from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import exceptions, serializers
from rest_framework.authtoken.models import Token
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.response import Response

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

    @extend_schema(
        summary="Get your API token",
        request=inline_serializer("TokenRequest", {"username": serializers.CharField(),
                                                   "password": serializers.CharField()}),
        responses={
            200: inline_serializer("TokenResponse", {"token": serializers.CharField()}),
            400: OpenApiResponse(description="A field is missing or the body is not JSON."),
            401: OpenApiResponse(description="Wrong username or password, or an inactive account: "
                                             "the same answer for each, so it tells nobody which."),
        },
        auth=[],
        tags=["auth"],
    )
    def post(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        if not serializer.is_valid() and set(serializer.errors) == {"non_field_errors"}:
            # AuthTokenSerializer found no active account with these credentials.
            raise exceptions.AuthenticationFailed(WRONG_CREDENTIALS)
        serializer.is_valid(raise_exception=True)
        user = serializer.validated_data["user"]
        token, _created = Token.objects.get_or_create(user=user)
        return Response({"token": token.key})
