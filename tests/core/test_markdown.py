from html.parser import HTMLParser

import pytest

from apps.core.markdown import markdown_to_html

XSS_PAYLOADS = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "<svg onload=alert(1)>",
    '<a href="javascript:alert(1)">x</a>',
    '<a href="JaVaScRiPt:alert(1)">x</a>',
    '<a href="  javascript:alert(1)">x</a>',
    "[click](javascript:alert(1))",
    "[click](vbscript:msgbox(1))",
    '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">x</a>',
    '<iframe src="https://evil.example"></iframe>',
    '<object data="x.swf"></object>',
    '<embed src="x.swf">',
    '<div style="background:url(javascript:alert(1))">x</div>',
    "<body onload=alert(1)>",
    "<input autofocus onfocus=alert(1)>",
    "<details open ontoggle=alert(1)>",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    '<form action="javascript:alert(1)"><button>x</button></form>',
    '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">',
    '<base href="javascript:/">',
    '<link rel=stylesheet href="https://evil.example/x.css">',
    '<p onclick="alert(1)">text</p>',
    "<scr<script>ipt>alert(1)</script>",
    "![x](javascript:alert(1))",
    '<img src="javascript:alert(1)">',
]

FORBIDDEN_TAGS = {
    "script",
    "iframe",
    "object",
    "embed",
    "form",
    "meta",
    "base",
    "link",
    "input",
    "style",
    "svg",
    "math",
    "body",
    "details",
    "button",
}
SAFE_SCHEMES = ("http://", "https://", "mailto:", "#", "/")


class ActiveContentFinder(HTMLParser):
    """Collects what a browser would act on: dangerous tags, event handlers, styles and non-http(s) URLs."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in FORBIDDEN_TAGS:
            self.found.append(f"<{tag}>")
        for name, value in attrs:
            if name.startswith("on") or name == "style":
                self.found.append(f"{tag}[{name}]")
            url = (value or "").strip().lower()
            if name in {"href", "src", "action", "formaction"} and ":" in url and not url.startswith(SAFE_SCHEMES):
                self.found.append(f"{tag}[{name}={value}]")


@pytest.mark.parametrize("payload", XSS_PAYLOADS)
def test_markdown_output_is_inert(payload):
    finder = ActiveContentFinder()
    finder.feed(markdown_to_html(payload))
    assert finder.found == [], payload


def test_ordinary_markdown_survives():
    html = markdown_to_html("**Bold**, `code` and [docs](https://docs.aws.amazon.com/).")
    assert "<strong>Bold</strong>" in html
    assert "<code>code</code>" in html
    assert 'href="https://docs.aws.amazon.com/"' in html
