from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.authtoken.views import ObtainAuthToken


class ObtainTokenView(ObtainAuthToken):
    """Exchange a username and password for the API token (created on first use)."""

    # The credentials are in the body: a stale or malformed Authorization
    # header, or a session, must not stand in the way of getting a token.
    authentication_classes = []

    @extend_schema(
        summary="Get your API token",
        request=inline_serializer("TokenRequest", {"username": serializers.CharField(),
                                                   "password": serializers.CharField()}),
        responses={
            200: inline_serializer("TokenResponse", {"token": serializers.CharField()}),
            400: OpenApiResponse(description="Wrong username or password, or a field is missing."),
        },
        auth=[],
        tags=["auth"],
    )
    def post(self, request, *args, **kwargs):
        return super().post(request, *args, **kwargs)
