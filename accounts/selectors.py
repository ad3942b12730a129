"""Read queries about accounts for pages and the API."""

from .models import ApiToken


def tokens_of(user):
    """``user``'s API tokens, newest first, revoked ones included (nobody else's)."""
    return ApiToken.objects.filter(user=user)


def token_of(user, pk):
    """One of ``user``'s API tokens, or None (someone else's, or none with that id)."""
    return tokens_of(user).filter(pk=pk).first()
