from django.db import transaction
from rest_framework.authtoken.models import Token

from handoff.audit.services import record


@transaction.atomic
def rotate_api_token(user):
    """Replace the user's API token with a new one; the old one stops working."""
    Token.objects.filter(user=user).delete()
    token = Token.objects.create(user=user)
    record(user, "api_token.rotated", user)
    return token
