"""Upgrading a populated database: each DRF token becomes a named API token
kept as a digest (its key goes on working), and the plain key is deleted."""

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from rest_framework.test import APIClient

from accounts.models import ApiToken
from handoff.core.tokens import digest

pytestmark = pytest.mark.django_db(transaction=True)
BEFORE = [("accounts", "0002_api_tokens"), ("authtoken", "0004_alter_tokenproxy_options")]


def test_drf_tokens_are_carried_over_as_digests_and_keep_working():
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    old = executor.loader.project_state(BEFORE).apps
    user = old.get_model("accounts", "User").objects.create(username="legacy", is_active=True)
    key = "0123456789abcdef0123456789abcdef01234567"
    old.get_model("authtoken", "Token").objects.create(user=user, key=key)
    created = old.get_model("authtoken", "Token").objects.get().created

    call_command("migrate", verbosity=0)

    token = ApiToken.objects.get()
    assert (token.user_id, token.digest, token.prefix, token.created_at) == (user.pk, digest(key), key[:8],
                                                                             created)
    with connection.cursor() as cursor:
        cursor.execute("select count(*) from authtoken_token")
        assert cursor.fetchone()[0] == 0
    assert APIClient().get("/api/v1/projects/", HTTP_AUTHORIZATION=f"Token {key}").status_code == 200
