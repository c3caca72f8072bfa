from django.conf import settings
from django.core import checks

NOT_SENT = {
    "django.core.mail.backends.console.EmailBackend": "printed to the log",
    "django.core.mail.backends.locmem.EmailBackend": "kept in memory",
    "django.core.mail.backends.dummy.EmailBackend": "dropped",
    "django.core.mail.backends.filebased.EmailBackend": "written to files",
}


@checks.register(checks.Tags.security, deploy=True)
def email_backend_check(app_configs, **kwargs) -> list[checks.CheckMessage]:
    """In production, activation and password links must reach people, not sit in a log anyone may read."""
    fate = NOT_SENT.get(settings.EMAIL_BACKEND)
    if fate is None:
        return []
    return [
        checks.Warning(
            f"Account emails (activation, password reset, invitations) are {fate}, with their links.",
            hint="Set EMAIL_URL to your mail server, e.g. smtp+tls://user:password@smtp.example.com:587.",
            id="accounts.W001",
        )
    ]
