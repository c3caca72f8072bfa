import json

from csp.constants import UNSAFE_INLINE
from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.utils.cache import patch_cache_control


class RejectNulBytesMiddleware:
    """Refuse requests with NUL characters in the path, query or form fields.

    PostgreSQL cannot store or compare text containing NUL, so such input would otherwise surface as a server
    error deep inside a query. It is never legitimate here, so it gets a clear 400 at the door.
    """

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        values = [request.path, request.META.get("QUERY_STRING", "")]
        values += [value for key in request.GET for value in [key, *request.GET.getlist(key)]]
        if request.method == "POST" and request.content_type in (
            "application/x-www-form-urlencoded",
            "multipart/form-data",
        ):
            values += [value for key in request.POST for value in [key, *request.POST.getlist(key)]]
        if any("\x00" in value or "%00" in value for value in values) or _json_has_nul(request):
            return HttpResponseBadRequest("Request refused: it contains a NUL character.", content_type="text/plain")
        return self.get_response(request)


def _json_has_nul(request: HttpRequest) -> bool:
    """Whether a JSON body holds a NUL in any key or string (written ``\\u0000``). A body that does not parse
    is left to the API, which answers it with its own 400."""
    if request.content_type != "application/json" or b"\\u0000" not in request.body:
        return False
    try:
        document = json.loads(request.body)
    except ValueError:
        return False
    pending = [document]
    while pending:
        value = pending.pop()
        if isinstance(value, str):
            if "\x00" in value:
                return True
        elif isinstance(value, dict):
            pending += [*value.keys(), *value.values()]
        elif isinstance(value, list):
            pending += value
    return False


class AdminStylesMiddleware:
    """Let Django's admin pages keep their inline ``style`` attributes (styles only; never scripts).

    Candidate, lead and API pages get the strict policy; the admin is staff-only and its templates are Django's.
    Sits inside django-csp's middleware, which reads ``_csp_update`` from the response.
    """

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if request.path.startswith("/admin/"):
            response._csp_update = {"style-src": [UNSAFE_INLINE]}  # type: ignore[attr-defined]
        return response


class PrivateNoStoreMiddleware:
    """``Cache-Control: private, no-store`` on every response to a signed-in user and on every API response.

    Results pages carry answer keys, dashboards and CSV exports carry other people's scores: neither a shared
    cache nor the browser's back button may keep them. API clients authenticate per request (tokens), so the
    whole API is covered whoever asks. Anonymous pages keep their own caching, and static files never get here
    (WhiteNoise answers them first).
    """

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if getattr(response, "private_cacheable", False):
            # The view decided (an item's image: the same bytes on every page, checked per user, never a key).
            return response
        if request.path_info.startswith("/api/") or self._signed_in(request):
            patch_cache_control(response, private=True, no_store=True)
        return response

    @staticmethod
    def _signed_in(request: HttpRequest) -> bool:
        # Without a session cookie no one is signed in; looking at request.user would load an empty session
        # and add "Vary: Cookie" to anonymous responses that do not depend on it.
        return settings.SESSION_COOKIE_NAME in request.COOKIES and request.user.is_authenticated
