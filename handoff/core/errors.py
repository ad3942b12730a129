"""The one exception type for errors a person can act on.

Services raise these; the browser turns them into a form error or a message
(``handoff.core.middleware``), the API into a JSON 4xx (``handoff.core.api``).
"""


class DomainError(Exception):
    """Bad input or a move the rules do not allow: nothing was changed."""

    status_code = 400

    def __init__(self, message, *, field=None):
        super().__init__(message)
        self.message = message
        self.field = field


class Forbidden(DomainError):
    """The user can see the object but their role does not allow the action."""

    status_code = 403


class NotFound(DomainError):
    """The object does not exist or is outside the user's reach (never a 403)."""

    status_code = 404


class Conflict(DomainError):
    """The object is not in a state that allows this, often because someone
    else changed it a moment ago."""

    status_code = 409


class Unauthenticated(DomainError):
    """No credential, or one nobody issued or that was revoked (a 401; the API
    names the scheme to use in ``WWW-Authenticate``)."""

    status_code = 401
    # The scheme a client should use, named in the 401's WWW-Authenticate header.
    scheme = "Bearer"
