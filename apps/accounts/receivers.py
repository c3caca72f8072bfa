from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver

from apps.accounts.services import preference_text_size


@receiver(user_logged_in)
def text_size_remember(sender, request, user, **kwargs) -> None:
    """Bring the person's text size into their new session at login, so pages read it from there (no query)."""
    if request is not None and hasattr(request, "session"):
        preference_text_size(user=user, session=request.session)
