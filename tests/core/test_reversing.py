"""int_reverse formats a cached pattern instead of calling reverse(): it must give reverse()'s URL for every route
it is used for, which this test finds in the code and the templates, so that a new use is checked too."""

import re
from pathlib import Path

from django.urls import NoReverseMatch, reverse, set_script_prefix

from apps.core.reversing import int_reverse

ROOT = Path(__file__).resolve().parents[2]
USE = re.compile(r"""int_(?:url|reverse)\(?\s*["']([\w:-]+)["']""")
SAMPLES = ((1,), (2**63 - 1,), (12, 1), (12, 32767), (9, 65, 6))  # the largest id and position the routes take


def used_names() -> set[str]:
    files = [*(ROOT / "apps").rglob("*.py"), *(ROOT / "templates").rglob("*.html")]
    return {name for path in files for name in USE.findall(path.read_text(encoding="utf-8"))}


def test_every_route_used_gives_what_reverse_gives():
    names = used_names()
    assert {"exams:question", "exams:strike", "text-size"} <= names
    for name in sorted(names):
        checked = 0
        for args in [(), *SAMPLES]:
            try:
                expected = reverse(name, args=args)
            except NoReverseMatch:
                continue
            assert int_reverse(name, *args) == expected, (name, args)
            checked += 1
        assert checked, f"{name} matched none of the sample arguments"


def test_the_script_prefix_is_kept():
    set_script_prefix("/practice/")
    try:
        assert int_reverse("exams:question", 3, 4) == "/practice/exams/a/3/q/4/"
    finally:
        set_script_prefix("/")
    assert int_reverse("exams:question", 3, 4) == "/exams/a/3/q/4/"
