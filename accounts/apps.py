from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"

    def ready(self):
        # Connects the audit of lockouts to axes' signal.
        from . import lockout  # noqa: F401
