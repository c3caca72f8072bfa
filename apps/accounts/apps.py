from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "apps.accounts"
    label = "accounts"
    verbose_name = "Accounts"

    def ready(self) -> None:
        from apps.accounts import (
            checks,  # noqa: F401 - registers the deploy check on the email backend
            receivers,  # noqa: F401 - brings the text size into each new session
        )
