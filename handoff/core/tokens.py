"""Bearer secrets kept only as a digest: a person's API token, a project's
ingestion token. The secret is shown once, when it is made; the database
holds its sha256 (to find it by) and its first characters (to tell tokens
apart)."""

import hashlib
import secrets


def new_secret(prefix):
    """A fresh secret: ``prefix`` and 256 random bits, URL-safe (43 characters)."""
    return prefix + secrets.token_urlsafe(32)


def digest(secret):
    """The sha256 of ``secret`` as 64 hex digits: what is stored and looked up.

    A plain hash is enough (no salt, no slow hash): the secret is random and
    long, not a password a person chose, so there is nothing to guess."""
    return hashlib.sha256(secret.encode()).hexdigest()
