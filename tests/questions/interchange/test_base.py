import codecs

import pytest

from apps.questions.interchange.base import DecodeError, decode, html_to_markdown


@pytest.mark.parametrize(
    "data",
    [
        "Which é?".encode(),
        codecs.BOM_UTF8 + "Which é?".encode(),
        "Which é?".encode("utf-16"),  # with BOM
        "Which é?".encode("utf-16-le"),  # without BOM, recognised by its zero bytes
        "Which é?".encode("utf-16-be"),
    ],
)
def test_utf8_and_utf16_are_read(data):
    assert decode(data) == "Which é?"


def test_other_encodings_are_refused_with_the_place_and_the_remedy():
    with pytest.raises(DecodeError, match=r"line 2, byte 12: the file is not UTF-8 text. Save it as UTF-8"):
        decode("Line one\nCafé".encode("cp1252"))


def test_html_becomes_markdown_and_images_are_reported():
    text, images = html_to_markdown(
        '<p>Which <b>service</b> reads <code>s3://</code>?</p><p><img src="@@PLUGINFILE@@/confusion%20matrix.png"></p>'
        '<ul><li>one</li><li>two</li></ul><a href="https://docs.aws.amazon.com/">docs</a><script>alert(1)</script>'
    )

    assert text == (
        "Which **service** reads `s3://`?\n\n[image not imported: confusion matrix.png]\n\n- one\n- two\n\n"
        "[docs](https://docs.aws.amazon.com/)"
    )
    assert images == ["@@PLUGINFILE@@/confusion%20matrix.png"]


def test_html_conversion_stays_linear_on_hostile_markup():
    # unclosed tags (quadratic in Python 3.11's HTMLParser) and very deep lists (quadratic indentation)
    text, _ = html_to_markdown("Which?" + "<a " * 50_000)
    assert text.startswith("Which?")
    text, _ = html_to_markdown("<ol><li>" * 20_000 + "deep")
    assert len(text) < 20_000 * 40
