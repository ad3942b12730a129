"""``Authorization: Token <key>`` with messages a person can act on.

Listed first in ``REST_FRAMEWORK["DEFAULT_AUTHENTICATION_CLASSES"]`` so that a
missing or bad credential answers 401 with ``WWW-Authenticate: Token``
(DRF takes the status from the first authentication class; a session first
would turn every 401 into a 403).
"""

import re

from rest_framework import authentication, exceptions

HOW = "Send 'Authorization: Token <your token>'; get a token from POST /api/v1/auth/token/."
TOKEN_KEY = re.compile(r"[0-9a-f]{40}")


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
        token = self.get_model().objects.select_related("user").filter(key=key).first()
        if token is None:
            raise exceptions.AuthenticationFailed(
                "Invalid token: it does not exist or was replaced by a newer one."
            )
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed("This account is inactive.")
        return (token.user, token)
