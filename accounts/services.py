"""Every change to a person's API tokens: create, revoke, and the note of
their last use. Each is audited (never with the secret)."""

from datetime import timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from handoff.audit.services import record
from handoff.core import tokens
from handoff.core.errors import Conflict, DomainError, NotFound, Unauthenticated
from handoff.core.locking import lock_row

from .models import ApiToken

TOKEN_PREFIX = "hat_"
# "hat_" and four more: enough to tell one's tokens apart, far too few to guess the rest.
SHOWN_CHARACTERS = 8
# A token's last use is written at most this often: not a write on every request.
LAST_USED_RESOLUTION = timedelta(minutes=1)


def create_api_token(user, *, name):
    """A new API token of ``user``, who calls it for themselves. -> (ApiToken, secret)

    Only the token's sha256 and first characters are stored: the secret is
    returned here, once."""
    name = (name or "").strip()
    if not name:
        raise DomainError("Name the token after what will use it, such as “CI pipeline” or “my laptop”.",
                          field="name")
    limit = ApiToken._meta.get_field("name").max_length
    if len(name) > limit:
        raise DomainError(f"The name is too long (at most {limit} characters).", field="name")
    secret = tokens.new_secret(TOKEN_PREFIX)
    with transaction.atomic():
        token = ApiToken.objects.create(user=user, name=name, prefix=secret[:SHOWN_CHARACTERS],
                                        digest=tokens.digest(secret))
        record(user, "api_token.created", token, token=token.pk, prefix=token.prefix, name=name)
    return token, secret


def token_for_login(user):
    """A new API token for POST /api/v1/auth/token/ (username and password):
    each call makes one, named after the moment, and earlier ones stay. -> (ApiToken, secret)"""
    return create_api_token(user, name=f"API login {timezone.now():%Y-%m-%d %H:%M} UTC")


def revoke_api_token(user, token):
    """Revoke one of ``user``'s API tokens: requests with it are refused (401)
    from now on. -> ApiToken

    Someone else's token is a NotFound; revoking a revoked token a Conflict."""
    with transaction.atomic():
        try:
            token = lock_row(ApiToken.objects.filter(user=user), pk=token.pk)
        except ApiToken.DoesNotExist:
            raise NotFound("Not found.") from None
        if token.revoked_at is not None:
            raise Conflict(f"The token {token.name} ({token.prefix}…) was already revoked.")
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        record(user, "api_token.revoked", token, token=token.pk, prefix=token.prefix, name=token.name)
    return token


def token_from_secret(secret):
    """The active API token ``secret`` is, with its user, or Unauthenticated
    saying why not (unknown, revoked, inactive account). -> ApiToken"""
    token = ApiToken.objects.select_related("user").filter(digest=tokens.digest(secret)).first()
    if token is None:
        raise Unauthenticated("Invalid token: nobody was given this token, or it was mistyped.")
    if token.revoked_at is not None:
        raise Unauthenticated(f"This token ({token.prefix}…, “{token.name}”) was revoked on "
                              f"{token.revoked_at:%Y-%m-%d %H:%M} UTC; create a new one.")
    if not token.user.is_active:
        raise Unauthenticated("This account is inactive.")
    return token


def note_use(token):
    """Record that ``token`` was just used, at most once a minute: one UPDATE
    that does nothing when another request (any process) wrote it lately."""
    now = timezone.now()
    recent = now - LAST_USED_RESOLUTION
    if token.last_used_at is not None and token.last_used_at >= recent:
        return
    ApiToken.objects.filter(pk=token.pk).filter(
        Q(last_used_at__isnull=True) | Q(last_used_at__lt=recent)).update(last_used_at=now)
    token.last_used_at = now
