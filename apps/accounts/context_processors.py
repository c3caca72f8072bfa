from django.conf import settings
from django.http import HttpRequest


def registration(request: HttpRequest) -> dict[str, bool]:
    """Whether to offer "Sign up" in the header and on the login page."""
    return {"registration_open": settings.REGISTRATION_OPEN}
