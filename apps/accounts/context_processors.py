from django.conf import settings
from django.http import HttpRequest

from apps.accounts.models import TextSize
from apps.accounts.services import preference_text_size


def registration(request: HttpRequest) -> dict[str, bool]:
    """Whether to offer "Sign up" in the header and on the login page."""
    return {"registration_open": settings.REGISTRATION_OPEN}


def text_size(request: HttpRequest) -> dict:
    """The reader's text size, as a class on <html>: chosen on the account page or in an exam's tools."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not hasattr(request, "session"):
        return {"text_size": TextSize.NORMAL, "text_sizes": TextSize.choices}
    return {"text_size": preference_text_size(user=user, session=request.session), "text_sizes": TextSize.choices}
