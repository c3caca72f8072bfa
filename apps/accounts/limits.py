from django.conf import settings
from django.http import HttpRequest


def client_address(group: str, request: HttpRequest) -> str:
    """The rate-limit key: the client's address as django-axes reads it (X-Forwarded-For only through the
    TRUSTED_PROXY_COUNT proxies declared), so a forged header cannot dodge the limit."""
    from axes.helpers import get_client_ip_address

    return get_client_ip_address(request) or "unknown"


def email_address(group: str, request: HttpRequest) -> str:
    """The rate-limit key for reset requests: the address asked for, whatever its case or spaces."""
    return request.POST.get("email", "").strip().casefold()


# Rates are read per request, so a deployment's settings (and tests) can change them.
def signup_rate(group: str, request: HttpRequest) -> str:
    return settings.SIGNUP_RATE


def password_reset_rate(group: str, request: HttpRequest) -> str:
    return settings.PASSWORD_RESET_RATE
