"""Markdown to safe HTML: markdown-it renders, nh3 (the Ammonia sanitiser) decides what survives.

Authors and importers may write anything; only this allow-list reaches a page. Scripts, event handlers,
styles, iframes and non-http(s) links are removed.
"""

from __future__ import annotations

import re
from functools import lru_cache

import nh3
from markdown_it import MarkdownIt

_md = MarkdownIt("commonmark", {"html": True, "linkify": False, "typographer": False}).enable("table")

ALLOWED_TAGS = {
    "p",
    "br",
    "hr",
    "strong",
    "em",
    "b",
    "i",
    "code",
    "pre",
    "blockquote",
    "ul",
    "ol",
    "li",
    "a",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
    "h3",
    "h4",
    "h5",
    "sub",
    "sup",
    "kbd",
    "img",
}
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title"},
    "th": {"align"},
    "td": {"align"},
}
# ``media:<id>/<name>`` points at an item's own image or audio (ItemMedia); it becomes a serving URL below.
URL_SCHEMES = {"http", "https", "mailto", "media"}
ITEM_MEDIA_URL = "/media/items/"
_AUDIO_EXTENSIONS = (".mp3", ".ogg", ".oga", ".wav", ".m4a")
_MEDIA_IMG_RE = re.compile(r'<img ([^>]*?src="/media/items/[^"]*"[^>]*?)/?>')
_ATTRIBUTE_RE = re.compile(r'(\w+)="([^"]*)"')


@lru_cache(maxsize=8192)
def markdown_to_html(text: str) -> str:
    """Render Markdown and sanitise the result; the output is safe to mark safe in a template.

    Cached per process: published items never change, so the same text is rendered once, not per page view.
    """
    html = _md.render(text or "")
    html = nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
    )
    if "media:" not in html:
        return html
    return _MEDIA_IMG_RE.sub(_media_element, html.replace('src="media:', f'src="{ITEM_MEDIA_URL}'))


def _media_element(match: re.Match[str]) -> str:
    """An item's audio file is written as a Markdown image; it plays in an ``<audio>`` element instead.

    Built from the attributes nh3 has already sanitised and escaped, so nothing new can slip in.
    """
    attributes = dict(_ATTRIBUTE_RE.findall(match.group(1)))
    source = attributes.get("src", "")
    if not source.lower().endswith(_AUDIO_EXTENSIONS):
        return match.group(0)
    label = attributes.get("alt") or "Audio"
    return f'<audio controls src="{source}" aria-label="{label}">{label}</audio>'


@lru_cache(maxsize=16384)
def markdown_inline_to_html(text: str) -> str:
    """Like markdown_to_html for short texts (options, steps): no wrapping paragraph."""
    html = markdown_to_html(text).strip()
    if html.startswith("<p>") and html.endswith("</p>") and html.count("<p>") == 1:
        html = html[3:-4]
    return html
