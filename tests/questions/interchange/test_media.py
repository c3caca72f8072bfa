"""Images and audio in items: imported from Moodle XML, QTI and pasted data: URIs, stored as files of the version,
rendered with their alt text, served only to people who may see the item, and carried by exports."""

from __future__ import annotations

import base64
import io
import zipfile
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone

from apps.core.markdown import markdown_to_html
from apps.questions.interchange import moodlexml
from apps.questions.interchange.exporting import questions_export
from apps.questions.interchange.importing import questions_import
from apps.questions.models import ItemMedia, Question
from apps.questions.services import question_new_version

SAMPLES = Path(__file__).parent / "samples" / "media"
PNG = (SAMPLES / "confusion-matrix.png").read_bytes()
WAV = (SAMPLES / "briefing.wav").read_bytes()


def moodle_quiz(questiontext: str, files: dict[str, bytes], *, name: str = "Reading a confusion matrix") -> bytes:
    encoded = "".join(
        f'<file name="{file}" path="/" encoding="base64">{base64.b64encode(data).decode()}</file>'
        for file, data in files.items()
    )
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<quiz>
  <question type="multichoice">
    <name><text>{name}</text></name>
    <questiontext format="html"><text><![CDATA[{questiontext}]]></text>{encoded}</questiontext>
    <generalfeedback format="html"><text>Recall is TP / (TP + FN).</text></generalfeedback>
    <single>true</single>
    <answer fraction="100" format="html"><text>0.80</text><feedback><text>TP / (TP + FN)</text></feedback></answer>
    <answer fraction="0" format="html"><text>0.60</text><feedback><text>The precision.</text></feedback></answer>
    <answer fraction="0" format="html"><text>0.90</text><feedback><text>The accuracy.</text></feedback></answer>
    <tags><tag><text>mla-objective:1.1.1</text></tag>
      <tag><text>mla-reference:https://docs.aws.amazon.com/sagemaker/latest/dg/model-monitor.html</text></tag></tags>
  </question>
</quiz>
""".encode()


CHART_AND_BRIEFING = moodle_quiz(
    '<p>Listen to the briefing: <audio controls><source src="@@PLUGINFILE@@/briefing.wav">No audio.</audio></p>'
    '<p><img src="@@PLUGINFILE@@/confusion-matrix.png" alt="Confusion matrix of the fraud model"></p>'
    "<p>What is the model's recall?</p>",
    {"confusion-matrix.png": PNG, "briefing.wav": WAV},
)


def import_moodle(data: bytes, exam, *, published: bool = False):
    status = "published" if published else "draft"
    report = questions_import(data=data, filename="quiz.xml", exam=exam, task="1.1", status=status)
    assert report.errors == []
    return report


# ----------------------------------------------------------------------------------------------------------------
# Import
# ----------------------------------------------------------------------------------------------------------------


def test_moodle_image_and_audio_are_stored_with_the_item_and_render_in_the_stem(exam):
    # when
    report = import_moodle(CHART_AND_BRIEFING, exam)

    # then both files are stored with the new version, byte for byte
    question = Question.objects.get()
    media = {file.name: file for file in ItemMedia.objects.filter(question=question)}
    assert set(media) == {"confusion-matrix.png", "briefing.wav"}
    assert media["confusion-matrix.png"].file.read() == PNG
    assert (media["confusion-matrix.png"].content_type, media["confusion-matrix.png"].size) == ("image/png", len(PNG))
    assert media["briefing.wav"].content_type == "audio/wav"
    assert not any("not imported" in warning for warning in report.warnings)
    # and the stem shows the image with its alt text and plays the audio
    html = markdown_to_html(question.stem)
    image, audio = media["confusion-matrix.png"], media["briefing.wav"]
    assert f'<img src="/media/items/{image.pk}/confusion-matrix.png" alt="Confusion matrix of the fraud model">' in html
    assert f'<audio controls src="/media/items/{audio.pk}/briefing.wav" aria-label="Audio">Audio</audio>' in html
    assert "No audio." not in html


def test_a_link_to_an_audio_file_plays_in_place_with_the_link_text_as_its_label(exam):
    data = moodle_quiz(
        '<p>Hear the <a href="@@PLUGINFILE@@/briefing.wav">on-call briefing</a>. Which alarm fired?</p>',
        {"briefing.wav": WAV},
    )
    import_moodle(data, exam)
    question = Question.objects.get()
    audio = ItemMedia.objects.get(question=question)
    assert f'<audio controls src="/media/items/{audio.pk}/briefing.wav" aria-label="on-call briefing">' in (
        markdown_to_html(question.stem)
    )


def test_an_80_kb_pasted_image_imports_without_a_length_error(exam):
    # given a question whose HTML carries an 80 KB image as a data: URI (the stem limit is 6,000 characters)
    big_png = PNG + b"\x00" * 80_000
    uri = "data:image/png;base64," + base64.b64encode(big_png).decode()
    data = moodle_quiz(f'<p>Which class is confused most?</p><p><img src="{uri}" alt="Matrix"></p>', {})

    # when
    report = import_moodle(data, exam)

    # then the image is a file of the item and the stem stays short
    question = Question.objects.get()
    assert not any("longer than" in message for message in report.errors + report.warnings)
    assert len(question.stem) < 200
    stored = ItemMedia.objects.get(question=question)
    assert (stored.name, stored.file.read()) == ("image-1.png", big_png)
    assert f'src="/media/items/{stored.pk}/image-1.png" alt="Matrix"' in markdown_to_html(question.stem)


def test_a_file_over_the_bound_is_left_out_with_a_warning_naming_it_and_the_item(exam, settings):
    # given a bound smaller than the audio file
    settings.ITEM_MEDIA_MAX_BYTES = 200

    # when
    report = import_moodle(CHART_AND_BRIEFING, exam)

    # then the image is imported, the audio is not, and the warning says which file of which item and why
    question = Question.objects.get()
    assert list(ItemMedia.objects.filter(question=question).values_list("name", flat=True)) == ["confusion-matrix.png"]
    [warning] = [warning for warning in report.warnings if "briefing.wav" in warning]
    assert '"Reading a confusion matrix"' in warning
    assert f"it is {len(WAV):,} bytes, over the limit of 200 bytes per file" in warning
    assert "[audio not imported: briefing.wav]" in question.stem


def test_a_file_that_is_not_an_image_or_audio_is_refused_with_a_warning(exam):
    data = moodle_quiz('<p>See <img src="@@PLUGINFILE@@/run.exe" alt="x"></p>', {"run.exe": b"MZ"})
    report = import_moodle(data, exam)
    assert not ItemMedia.objects.exists()
    assert any("file run.exe was not imported: items carry only images" in warning for warning in report.warnings)


def test_a_new_version_keeps_showing_the_media_of_the_version_it_came_from(exam):
    import_moodle(CHART_AND_BRIEFING, exam, published=True)
    first = Question.objects.get()
    second = question_new_version(question=first)
    assert second.stem == first.stem
    assert ItemMedia.objects.filter(question=first).count() == 2


# ----------------------------------------------------------------------------------------------------------------
# Serving
# ----------------------------------------------------------------------------------------------------------------


def media_url(media: ItemMedia) -> str:
    return reverse("questions:item-media", args=[media.pk, media.name])


@pytest.fixture
def published_image(exam) -> ItemMedia:
    import_moodle(CHART_AND_BRIEFING, exam, published=True)
    return ItemMedia.objects.get(name="confusion-matrix.png")


def test_staff_get_the_file_with_its_type_and_protective_headers(client, instructor, exam):
    # given a draft's image
    import_moodle(CHART_AND_BRIEFING, exam)
    media = ItemMedia.objects.get(name="confusion-matrix.png")
    client.force_login(instructor)

    # when
    response = client.get(media_url(media))

    # then
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PNG
    assert response["Content-Type"] == "image/png"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"] == "default-src 'none'; sandbox"
    assert response["Cache-Control"] == "private, max-age=3600"


def test_a_candidate_gets_a_published_items_media(client, candidate, published_image):
    client.force_login(candidate)
    response = client.get(media_url(published_image))
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PNG


def test_a_candidate_gets_no_media_of_a_draft(client, candidate, exam):
    import_moodle(CHART_AND_BRIEFING, exam)
    client.force_login(candidate)
    for media in ItemMedia.objects.all():
        assert client.get(media_url(media)).status_code == 404


def test_a_candidate_gets_the_media_of_an_item_they_met_in_an_attempt_after_it_is_retired(client, candidate, exam):
    from apps.exams.models import Attempt, AttemptItem

    import_moodle(CHART_AND_BRIEFING, exam, published=True)
    question = Question.objects.get()
    attempt = Attempt.objects.create(
        candidate=candidate, exam=exam, mode="practice", item_count=1, started_at=timezone.now()
    )
    AttemptItem.objects.create(attempt=attempt, position=1, question=question, task=question.task)
    Question.objects.filter(pk=question.pk).update(status="retired")
    client.force_login(candidate)
    media = ItemMedia.objects.get(name="briefing.wav")
    response = client.get(media_url(media))
    assert response.status_code == 200
    assert response["Content-Type"] == "audio/wav"
    other = get_user_model().objects.create_user("other", password="pw-other-123")
    client.force_login(other)
    assert client.get(media_url(media)).status_code == 404


def test_anonymous_users_are_not_served(client, published_image):
    response = client.get(media_url(published_image))
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_a_wrong_name_is_not_found(client, instructor, published_image):
    client.force_login(instructor)
    url = reverse("questions:item-media", args=[published_image.pk, "other.png"])
    assert client.get(url).status_code == 404


# ----------------------------------------------------------------------------------------------------------------
# Export and round trips
# ----------------------------------------------------------------------------------------------------------------


def reimported_media(exam, fmt: str) -> dict[str, bytes]:
    """Export every item in ``fmt``, empty the bank, import the file again: the media files that come back."""
    exported = questions_export(queryset=Question.objects.all(), fmt=fmt)
    Question.objects.all().delete()
    report = questions_import(data=exported.data, filename=exported.filename, exam=exam, task="1.1")
    assert report.errors == []
    assert not any("not imported" in warning for warning in report.warnings), report.warnings
    question = Question.objects.get()
    media = {file.name: file.file.read() for file in ItemMedia.objects.filter(question=question)}
    html = markdown_to_html(question.stem)
    for file in ItemMedia.objects.filter(question=question):
        assert f"/media/items/{file.pk}/{file.name}" in html
    return media


def test_moodle_xml_export_writes_pluginfile_references_with_base64_files(exam):
    import_moodle(CHART_AND_BRIEFING, exam)
    exported = questions_export(queryset=Question.objects.all(), fmt="moodlexml")
    text = exported.data.decode()
    assert "@@PLUGINFILE@@/confusion-matrix.png" in text
    assert f'<file name="briefing.wav" path="/" encoding="base64">{base64.b64encode(WAV).decode()}</file>' in text
    assert "media:" not in text


def test_moodle_xml_round_trip_keeps_the_media(exam):
    import_moodle(CHART_AND_BRIEFING, exam)
    assert reimported_media(exam, "moodlexml") == {"confusion-matrix.png": PNG, "briefing.wav": WAV}


def test_gift_export_says_images_and_audio_are_not_carried(exam):
    import_moodle(CHART_AND_BRIEFING, exam)
    exported = questions_export(queryset=Question.objects.all(), fmt="gift")
    assert any("images and audio are not carried" in loss.message for loss in exported.losses)


def test_moodle_parser_reads_url_encoded_file_names():
    data = moodle_quiz(
        '<p><img src="@@PLUGINFILE@@/confusion%20matrix.png" alt="Matrix"></p>', {"confusion matrix.png": PNG}
    )
    [item] = moodlexml.parse(data, name="quiz.xml").items
    assert item.media["confusion-matrix.png"].data == PNG
    assert "![Matrix](media:confusion-matrix.png)" in item.draft.stem


def test_qti_package_carries_the_files_and_points_at_them(exam):
    import_moodle(CHART_AND_BRIEFING, exam)
    exported = questions_export(queryset=Question.objects.all(), fmt="qti")
    package = zipfile.ZipFile(io.BytesIO(exported.data))
    assert package.read("media/confusion-matrix.png") == PNG
    assert package.read("media/briefing.wav") == WAV
    [item_file] = [name for name in package.namelist() if name.startswith("items/")]
    document = package.read(item_file).decode()
    assert 'src="../media/confusion-matrix.png"' in document
    assert '<object type="audio/wav" data="../media/briefing.wav">Audio</object>' in document
    manifest = package.read("imsmanifest.xml").decode()
    assert '<file href="media/briefing.wav"/>' in manifest


def test_qti_round_trip_keeps_the_media(exam):
    import_moodle(CHART_AND_BRIEFING, exam)
    assert reimported_media(exam, "qti") == {"confusion-matrix.png": PNG, "briefing.wav": WAV}


def test_importing_the_same_file_again_finds_the_duplicate_despite_new_file_ids(exam):
    import_moodle(CHART_AND_BRIEFING, exam)
    again = questions_import(data=CHART_AND_BRIEFING, filename="quiz.xml", exam=exam, task="1.1")
    assert Question.objects.count() == 1
    assert ItemMedia.objects.count() == 2
    assert any("same stem, options and key as" in line for line in again.skipped)


def test_native_json_round_trip_keeps_the_media(exam):
    import_moodle(CHART_AND_BRIEFING, exam)
    exported = questions_export(queryset=Question.objects.all(), fmt="native")
    assert base64.b64encode(WAV).decode() in exported.data.decode()
    assert reimported_media(exam, "native") == {"confusion-matrix.png": PNG, "briefing.wav": WAV}


def test_gift_reads_a_pasted_data_uri_image_in_html_text():
    from apps.questions.interchange import gift

    uri = "data:image/png;base64," + base64.b64encode(PNG).decode().replace("=", "\\=")
    data = f'::matrix::[html]<p>Read it\\: <img src\\="{uri}" alt\\="Matrix"></p>{{=0.80 ~0.60 ~0.90}}'.encode()
    [item] = gift.parse(data, name="q.gift").items
    assert "![Matrix](media:image-1.png)" in item.draft.stem
    assert item.media["image-1.png"].data == PNG


def test_an_item_carries_at_most_ten_files_and_the_eleventh_is_named_in_a_warning():
    files = {f"chart-{n}.png": PNG + bytes([n]) for n in range(11)}
    images = "".join(f'<img src="@@PLUGINFILE@@/chart-{n}.png" alt="Chart {n}">' for n in range(11))
    result = moodlexml.parse(moodle_quiz(f"<p>{images}</p>", files), name="quiz.xml")
    [item] = result.items
    assert len(item.media) == 10
    assert "[image not imported: chart-10.png]" in item.draft.stem
    refused = "file chart-10.png was not imported: an item carries at most 10 files"
    assert any(refused in str(warning) for warning in result.warnings)
