"""Every format end to end through the import service and the database."""

from collections import Counter
from pathlib import Path

import pytest
from django.core.management import call_command
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from apps.questions.interchange.exporting import questions_export, questions_for_export
from apps.questions.interchange.formats import format_detect
from apps.questions.interchange.importing import questions_import
from apps.questions.models import CaseStudy, Question

SAMPLES = Path(__file__).parent / "samples"

pytestmark = pytest.mark.django_db


def _counts() -> Counter:
    return Counter(Question.objects.values_list("type", flat=True))


def test_the_shipped_bank_survives_export_and_reimport_in_every_format(exam):
    # given the shipped bank
    call_command("load_bank", verbosity=0)
    expected, cases = _counts(), CaseStudy.objects.count()
    files = {fmt: questions_export(queryset=questions_for_export(), fmt=fmt) for fmt in ("gift", "qti", "moodlexml")}

    for fmt, exported in files.items():
        # when the bank is emptied and the export imported
        Question.objects.all().delete()
        CaseStudy.objects.all().delete()
        report = questions_import(data=exported.data, filename=exported.filename, exam=exam)

        # then the same number of items of each type comes back, with their case studies, as drafts
        assert report.errors == [], fmt
        assert report.format == fmt
        assert _counts() == expected, fmt
        assert CaseStudy.objects.count() == cases, fmt
        assert set(Question.objects.values_list("status", flat=True)) == {"draft"}
        assert not Question.objects.filter(task__isnull=True).exists(), fmt


@pytest.mark.parametrize(
    ("path", "fmt"),
    [
        ("native/bank.json", "native"),
        ("aiken/questions.txt", "aiken"),
        ("moodlexml/multichoice_single.xml", "moodlexml"),
        ("moodlexml/matching.xml", "moodlexml"),
    ],
)
def test_the_format_is_recognised_from_the_file(path, fmt):
    assert format_detect((SAMPLES / path).read_bytes(), Path(path).name) == fmt


def test_gift_and_qti_samples_are_recognised():
    gift = sorted((SAMPLES / "gift").glob("*"))
    qti = sorted((SAMPLES / "qti").glob("*.xml"))
    assert gift
    assert qti
    assert {format_detect(path.read_bytes(), path.name) for path in gift if "broken" not in path.name} == {"gift"}
    assert {format_detect(path.read_bytes(), path.name) for path in qti} == {"qti"}


@pytest.mark.parametrize("fmt", ["auto", "native", "gift", "moodlexml", "aiken", "qti"])
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.one_of(st.binary(max_size=3000), st.text(max_size=3000).map(str.encode)))
def test_any_upload_gives_a_report_and_writes_nothing_it_should_not(exam, fmt, data):
    before = Question.objects.count()

    report = questions_import(data=data, filename="fuzz", exam=exam, fmt=fmt)

    if report.errors:
        assert Question.objects.count() == before
    else:
        assert Question.objects.count() == before + report.to_write
