"""A candidate sees an item's image and can play its audio, within the Content-Security-Policy, on a desktop and a
phone. Controls are found by role, label and text only."""

import struct
import uuid
import zlib
from pathlib import Path

import pytest
from playwright.sync_api import expect

from apps.questions.models import Question
from apps.questions.services import item_media_add
from tests.browser.conftest import DESKTOP, PHONE, axe_violations, browser_page, horizontal_overflow, login
from tests.browser.test_practice_flow import practice_build

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SAMPLES = Path(__file__).resolve().parents[1] / "questions" / "interchange" / "samples" / "media"


def wide_png(width: int, height: int) -> bytes:
    """A grey PNG wider than a phone, to show that an item's image shrinks to the column."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = (b"\x00" + b"\x90" * width) * height
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


def media_in_every_stem(task: str) -> None:
    """Every published item of ``task`` shows one image and one audio clip under its stem."""
    questions = Question.objects.filter(task__code=task, status="published")
    owner = questions.first()
    image, audio = uuid.uuid4(), uuid.uuid4()
    for media_id, name, content_type, data in (
        (image, "confusion-matrix.png", "image/png", wide_png(1600, 300)),
        (audio, "briefing.wav", "audio/wav", (SAMPLES / "briefing.wav").read_bytes()),
    ):
        item_media_add(question=owner, media_id=media_id, name=name, data=data, content_type=content_type)
    for question in questions:
        stem = (
            f"{question.stem}\n\n![Confusion matrix of the fraud model](media:{image}/confusion-matrix.png)\n\n"
            f"![On-call briefing](media:{audio}/briefing.wav)"
        )
        # Published stems are frozen for authors; the test sets up a bank that had the media from the start.
        Question.objects.filter(pk=question.pk).update(stem=stem)


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_a_candidate_sees_the_image_and_can_play_the_audio_of_an_item(browser, live_server, bank, candidate, viewport):
    # given published items of task 1.1 with an image and an audio clip
    media_in_every_stem("1.1")

    with browser_page(browser, live_server.url, viewport) as page:
        # when the candidate practises one of them
        login(page, "cand", "pw-cand-123")
        practice_build(page, task="1.1", count=1, feedback="After each item")
        expect(page.get_by_role("heading", name="Question 1 of 1", exact=True)).to_be_visible()

        # then the image is shown (loaded, with its alt text) and the audio has a player with a name
        image = page.get_by_role("img", name="Confusion matrix of the fraud model")
        expect(image).to_be_visible()
        page.wait_for_function("() => [...document.images].every(img => img.complete)")
        assert image.evaluate("img => img.naturalWidth") == 1600
        assert image.bounding_box()["width"] <= viewport["width"]
        audio = page.get_by_label("On-call briefing", exact=True)
        expect(audio).to_be_visible()
        assert audio.evaluate("el => el.tagName") == "AUDIO"
        assert audio.evaluate("el => el.controls") is True
        page.wait_for_function("() => document.querySelector('audio').readyState >= 1")
        assert audio.evaluate("el => el.duration") == pytest.approx(0.05, abs=0.01)
        assert horizontal_overflow(page) == 0
        assert axe_violations(page) == []
