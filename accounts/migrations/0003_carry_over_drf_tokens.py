"""Each person's DRF token becomes a named API token kept as a digest, so
scripts using it go on working; the plain key is then deleted from the
database. Going back leaves people without a token (a digest cannot give the
key back): they create a new one."""

import hashlib

from django.db import migrations

SHOWN_CHARACTERS = 8  # as accounts.services.SHOWN_CHARACTERS when this was written


def carry_over(apps, schema_editor):
    Token = apps.get_model("authtoken", "Token")
    ApiToken = apps.get_model("accounts", "ApiToken")
    ApiToken.objects.bulk_create(
        ApiToken(user_id=token.user_id, name="API token", prefix=token.key[:SHOWN_CHARACTERS],
                 digest=hashlib.sha256(token.key.encode()).hexdigest(), created_at=token.created)
        for token in Token.objects.iterator()
    )
    Token.objects.all().delete()


class Migration(migrations.Migration):

    dependencies = [
        ("accounts", "0002_api_tokens"),
        ("authtoken", "0004_alter_tokenproxy_options"),
    ]

    operations = [migrations.RunPython(carry_over, migrations.RunPython.noop)]
