"""URLs of routes whose arguments are all integers (int, id or position converters), formatted from a pattern
that reverse() builds once.

Hand-written because nothing in Django or a library does it: reverse() finds the route, checks every argument
against its converter and quotes it, on each call (about 10 µs). The question page builds a dozen URLs, and one
more per option, on every view. An integer reads the same in any URL, so reversing once with marker numbers and
formatting the result gives exactly what reverse() gives (a test compares the two for every route used so).
"""

from functools import lru_cache

from django.core.exceptions import ImproperlyConfigured
from django.urls import get_script_prefix, reverse

# Arguments no route is given, short enough for every converter here (a position has at most 5 digits): their
# digits mark where each argument goes.
_MARKER = 24_681


@lru_cache(maxsize=256)
def _pattern(name: str, arity: int, prefix: str) -> str:
    markers = [str(_MARKER + i) for i in range(arity)]
    url = reverse(name, args=markers).replace("{", "{{").replace("}", "}}")
    for index, marker in enumerate(markers):
        if url.count(marker) != 1:
            raise ImproperlyConfigured(f"{name}: int_reverse needs one integer in the path per argument")
        url = url.replace(marker, f"{{{index}}}")
    return url


def int_reverse(name: str, *args: int) -> str:
    """``reverse(name, args=args)`` for a route whose arguments are all integers."""
    return _pattern(name, len(args), get_script_prefix()).format(*(int(arg) for arg in args))
