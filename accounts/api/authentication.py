"""``Authorization: Token <key>`` with messages a person can act on.

Listed first in ``REST_FRAMEWORK["DEFAULT_AUTHENTICATION_CLASSES"]`` so that a
missing or bad credential answers 401 with ``WWW-Authenticate: Token``
(DRF takes the status from the first authentication class; a session first
would turn every 401 into a 403).

The key is looked up by its sha256 (``accounts.ApiToken``); the request's
``auth`` is the ApiToken, whose last use is noted at most once a minute.
"""

import re

from rest_framework import authentication, exceptions

from handoff.core.errors import Unauthenticated

from .. import services

HOW = "Send 'Authorization: Token <your token>'; get a token from POST /api/v1/auth/token/."
# Tokens made here ("hat_" and 43 URL-safe characters), and the 40 hex digits of those
# carried over from before (accounts migration 0003).
TOKEN_KEY = re.compile(rf"{services.TOKEN_PREFIX}[A-Za-z0-9_-]{{43}}|[0-9a-f]{{40}}")


class TokenAuthentication(authentication.TokenAuthentication):
    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if header and header[0].lower() == b"bearer":
            # The usual slip from OAuth habits: say so instead of "not authenticated".
            # (Other schemes, such as Basic from a proxy in front of the app, are
            # left alone so that a session still works behind them.)
            raise exceptions.AuthenticationFailed(f"The 'Bearer' authorization scheme is not accepted. {HOW}")
        try:
            return super().authenticate(request)
        except exceptions.AuthenticationFailed as exc:
            raise exceptions.AuthenticationFailed(f"{exc.detail} {HOW}") from None

    def authenticate_credentials(self, key):
        # A key of the wrong shape cannot exist; do not send it to the database.
        if not TOKEN_KEY.fullmatch(key):
            raise exceptions.AuthenticationFailed("Invalid token.")
        try:
            token = services.token_from_secret(key)
        except Unauthenticated as error:
            raise exceptions.AuthenticationFailed(error.message) from None
        services.note_use(token)
        return (token.user, token)
