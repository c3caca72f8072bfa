"""The import service and its doors (command, admin), against the real database."""

import json
import re
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from apps.questions.interchange import native
from apps.questions.interchange.exporting import question_items, questions_export, questions_for_export
from apps.questions.interchange.importing import questions_import
from apps.questions.models import CaseStudy, Question, QuestionImport
from apps.questions.rules import code_key
from apps.syllabus.models import Task

SAMPLES = Path(__file__).parent / "samples"
NATIVE = (SAMPLES / "native" / "bank.json").read_bytes()

pytestmark = pytest.mark.django_db


def _good_item(number: int) -> dict:
    return {
        "ref": f"imp-{number:03d}",
        "type": "single",
        "task": "1.1",
        "objectives": ["1.1.1"],
        "stem": f"Question {number}: which store suits columnar analytics on table {number}?",
        "explanation": "Columnar formats read only the needed columns.",
        "options": [
            {"text": f"Parquet {number}", "correct": True, "rationale": "Columnar."},
            {"text": f"CSV {number}", "rationale": "Row text."},
            {"text": f"JSON Lines {number}", "rationale": "Row text."},
        ],
    }


def _document(items: list[dict]) -> bytes:
    return json.dumps({"format": "mla-bank", "items": items}, indent=2).encode()


def test_native_round_trip_gives_identical_items_of_every_type(exam):
    # given a native file with all four types, a case study and two versions of one item
    first = questions_import(data=NATIVE, filename="bank.json", exam=exam, status="keep")
    assert first.errors == []
    assert first.written
    exported = questions_export(queryset=questions_for_export(all_versions=True), fmt="native").data

    # when the bank is emptied and the export imported again
    Question.objects.all().delete()
    CaseStudy.objects.all().delete()
    again = questions_import(data=exported, filename="export.json", exam=exam, status="keep")

    # then the second export is byte for byte the first, and every type came back
    assert again.errors == []
    assert questions_export(queryset=questions_for_export(all_versions=True), fmt="native").data == exported
    assert {item.draft.type for item in question_items(Question.objects.all())[0]} == {
        "single",
        "multiple",
        "ordering",
        "matching",
    }

    # and every field of every item is what the original file said
    def content(data: bytes) -> dict:
        items = native.parse(data).items
        for item in items:  # objectives are a set; the export lists them in syllabus order
            item.draft.objectives.sort(key=code_key)
        return {(i.ref, i.version): (i.draft, i.case_ref, i.case_order) for i in items}

    assert content(exported) == content(NATIVE)
    versions = Question.objects.filter(ref="t11-001").order_by("version")
    assert [(q.version, q.status) for q in versions] == [(1, "retired"), (2, "published")]
    assert len({q.family for q in versions}) == 1


def test_an_error_in_the_40th_question_imports_nothing_and_names_its_line(exam):
    items = [_good_item(n) for n in range(1, 41)]
    items[39]["options"][1]["correct"] = True  # two keys on a single-answer item
    data = _document(items)
    line = next(n for n, text in enumerate(data.decode().splitlines(), 1) if '"ref": "imp-040"' in text) - 1

    report = questions_import(data=data, filename="forty.json", exam=exam)

    assert Question.objects.count() == 0
    assert not report.written
    assert report.errors == [
        f"forty.json: line {line} (imp-040): options: a single-answer item needs exactly one correct option, has 2."
    ]


def test_items_arrive_as_drafts_and_incomplete_ones_list_what_to_finish(exam):
    item = _good_item(1)
    del item["explanation"]
    for option in item["options"]:
        option.pop("rationale", None)

    report = questions_import(data=_document([item]), filename="a.json", exam=exam)

    question = Question.objects.get()
    assert question.status == "draft"
    assert report.items[0].gaps[0] == "explanation: is required: say why the key is right and what rule to remember."
    # publishing still needs every rule
    blocked = questions_import(
        data=_document([_good_item(2) | {"explanation": ""}]), filename="b.json", exam=exam, status="published"
    )
    assert blocked.errors
    assert Question.objects.count() == 1


def test_items_without_a_task_wait_unmapped_unless_a_task_is_given(exam):
    text = (SAMPLES / "aiken" / "questions.txt").read_bytes()

    unmapped = questions_import(data=text, filename="q.txt", exam=exam)
    assert unmapped.unmapped == 3
    assert Question.objects.filter(task__isnull=True, status="draft").count() == 3

    Question.objects.all().delete()
    mapped = questions_import(data=text, filename="q.txt", exam=exam, task="1.1")
    assert mapped.unmapped == 0
    assert set(Question.objects.values_list("task__code", flat=True)) == {"1.1"}


def test_an_unmapped_item_cannot_be_sent_for_review_or_published(exam):
    from apps.questions.services import QuestionInvalidError, question_set_status

    questions_import(data=(SAMPLES / "aiken" / "questions.txt").read_bytes(), filename="q.txt", exam=exam)
    question = Question.objects.first()

    with pytest.raises(QuestionInvalidError, match="task: map the item to a task first"):
        question_set_status(question=question, status="in_review")


def test_duplicates_of_bank_items_are_reported_and_skipped(exam):
    text = (SAMPLES / "aiken" / "questions.txt").read_bytes()
    questions_import(data=text, filename="q.txt", exam=exam)

    again = questions_import(data=text, filename="q-again.txt", exam=exam)

    assert Question.objects.count() == 3
    assert again.count("duplicate") == 3
    assert "duplicate, same stem, options and key as #" in again.skipped[0]


def test_dry_run_writes_nothing_but_reports_the_same(exam):
    report = questions_import(data=NATIVE, filename="bank.json", exam=exam, status="keep", dry_run=True)

    assert report.errors == []
    assert report.to_write == 8
    assert not report.written
    assert Question.objects.count() == 0
    assert CaseStudy.objects.count() == 0


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ("Stem?\nA. x\nB. y\nANSWER: A\n".encode("cp1252") + "é".encode("cp1252"), "is not UTF-8 text"),
        (b"", "is empty"),
        (b"\x00\x01\x02 binary", "cannot tell the format"),
    ],
)
def test_unreadable_files_are_refused_with_a_message(exam, data, message):
    report = questions_import(data=data, filename="bad.txt", exam=exam)

    assert message in report.errors[0]
    assert Question.objects.count() == 0


def test_utf16_and_bom_files_are_read(exam):
    text = (SAMPLES / "aiken" / "questions.txt").read_text()

    for data in (text.encode("utf-16"), b"\xef\xbb\xbf" + text.encode()):
        Question.objects.all().delete()
        report = questions_import(data=data, filename="q.txt", exam=exam, fmt="aiken")
        assert report.written
        assert Question.objects.count() == 3


def test_files_over_the_limit_are_refused(exam, settings):
    settings.IMPORT_MAX_BYTES = 100

    report = questions_import(data=NATIVE, filename="bank.json", exam=exam)

    assert report.errors == [
        f"bank.json: file: bank.json is {len(NATIVE):,} bytes; the limit is 100 bytes. Split it and import the parts."
    ]


def test_command_imports_and_fails_loudly(exam, tmp_path):
    good = tmp_path / "bank.json"
    good.write_bytes(NATIVE)
    out = StringIO()
    call_command("import_questions", str(good), "--dry-run", stdout=out)
    assert "would import 8 item(s)" in out.getvalue()
    assert Question.objects.count() == 0

    call_command("import_questions", str(good), "--status", "keep", stdout=out)
    assert Question.objects.count() == 8

    bad = tmp_path / "bad.txt"
    bad.write_bytes((SAMPLES / "aiken" / "broken.txt").read_bytes())
    with pytest.raises(CommandError, match=r"bad.txt: line 9: option C should be B"):
        call_command("import_questions", str(bad), "--format", "aiken")
    assert Question.objects.count() == 8


def test_export_command_writes_the_file(exam, tmp_path):
    questions_import(data=NATIVE, filename="bank.json", exam=exam, status="keep")
    target = tmp_path / "out.json"
    out = StringIO()

    call_command("export_questions", "--format", "native", "-o", str(target), "--status", "published", stdout=out)

    document = json.loads(target.read_text())
    refs = [item["ref"] for item in document["items"]] + [
        i["ref"] for c in document["case_studies"] for i in c["items"]
    ]
    assert len(refs) == 7  # the retired version is left out, its published successor kept
    assert "Wrote 7 item(s)" in out.getvalue()


def test_admin_upload_previews_then_imports_on_confirm(exam, instructor_client):
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("bank.json", NATIVE, content_type="application/json")
    response = instructor_client.post(
        reverse("admin:questions_question_import"),
        {"file": upload, "format": "auto", "status": "keep", "exam": "MLA-C01", "task": ""},
    )
    job = QuestionImport.objects.get()
    assert response.status_code == 302
    preview = instructor_client.get(reverse("admin:questions_question_import_detail", args=[job.pk])).content.decode()
    assert "would import 8 item(s)" in preview
    assert Question.objects.count() == 0

    instructor_client.post(reverse("admin:questions_question_import_detail", args=[job.pk]))

    assert Question.objects.count() == 8
    job.refresh_from_db()
    assert job.state == "done"
    assert bytes(job.data) == b""


def test_admin_refuses_files_over_the_limit_with_a_message(exam, instructor_client, settings):
    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.IMPORT_MAX_BYTES = 1000
    upload = SimpleUploadedFile("big.json", NATIVE, content_type="application/json")

    response = instructor_client.post(
        reverse("admin:questions_question_import"), {"file": upload, "format": "auto", "status": "draft"}
    )

    assert response.status_code == 200
    assert "big.json is larger than the limit of 1,000 bytes" in response.content.decode()
    assert QuestionImport.objects.count() == 0


def test_another_instructors_import_is_not_found(exam, instructor_client, django_user_model):
    other = django_user_model.objects.create_user("other", is_staff=True)
    job = QuestionImport.objects.create(uploaded_by=other, exam=exam, filename="x.json", data=NATIVE)

    assert instructor_client.get(reverse("admin:questions_question_import_detail", args=[job.pk])).status_code == 404
    assert instructor_client.post(reverse("admin:questions_question_import_detail", args=[job.pk])).status_code == 404
    assert Question.objects.count() == 0


def test_reimporting_an_export_into_the_same_bank_changes_nothing(exam):
    questions_import(data=NATIVE, filename="bank.json", exam=exam, status="keep")
    exported = questions_export(queryset=questions_for_export(all_versions=True), fmt="native").data

    again = questions_import(data=exported, filename="export.json", exam=exam, status="keep")

    assert again.errors == []
    assert again.count("unchanged") == 8
    assert Question.objects.count() == 8


@pytest.mark.celery
def test_large_imports_run_in_a_celery_worker_with_a_progress_bar(celery_worker_process, exam, instructor, client):
    import time

    from apps.questions.interchange.importing import question_import_confirm, question_import_stage

    # given: a previewed upload of 600 items, and the instructor watching its page
    data = _document([_good_item(n) for n in range(1, 601)])
    job = question_import_stage(data=data, filename="big.json", exam=exam, user=instructor)
    client.force_login(instructor)
    url = reverse("admin:questions_question_import_detail", args=[job.pk])

    # when: confirmed, the request returns at once and a real worker imports it
    job = question_import_confirm(job=job)
    assert job.state in {"queued", "running"}
    fragments, deadline = [], time.monotonic() + 120
    while time.monotonic() < deadline:
        fragments.append(client.get(url, headers={"HX-Request": "true"}).content.decode())
        if 'hx-trigger="every 1s"' not in fragments[-1]:
            break
        time.sleep(0.3)

    # then: the polled fragment showed a progress bar, then stopped polling with the report
    progress = [re.search(r'<progress id="import-progress" max="(\d+)" value="(\d+)"', f) for f in fragments]
    assert any(match and match.group(1) == "600" for match in progress)
    assert "<html" not in fragments[0]
    assert "imported 600 item(s) (single 600)" in fragments[-1]
    assert Question.objects.count() == 600


def test_a_large_import_waits_for_the_worker_when_the_queue_is_down(exam, instructor, instructor_client, settings):
    from apps.questions.interchange.importing import question_import_stage
    from tests.conftest import celery_broker

    job = question_import_stage(
        data=_document([_good_item(n) for n in range(1, 202)]), filename="big.json", exam=exam, user=instructor
    )
    url = reverse("admin:questions_question_import_detail", args=[job.pk])
    with celery_broker("redis://127.0.0.1:1/0"):  # nothing listens there
        response = instructor_client.post(url, follow=True)

    assert "The background worker cannot be reached, so nothing was imported" in response.content.decode()
    job.refresh_from_db()
    assert job.state == "previewed"
    assert Question.objects.count() == 0


def test_instructors_map_unmapped_drafts_to_a_task_in_bulk(exam, instructor_client):
    questions_import(data=(SAMPLES / "aiken" / "questions.txt").read_bytes(), filename="q.txt", exam=exam)
    changelist = reverse("admin:questions_question_changelist")
    ids = [str(pk) for pk in Question.objects.values_list("pk", flat=True)]

    listed = instructor_client.get(changelist, {"task__isnull": "True"}).content.decode()
    assert listed.count('name="_selected_action"') == 3
    confirm = instructor_client.post(changelist, {"action": "map_task", "_selected_action": ids})
    assert "Choose the task for these 3 item(s)" in confirm.content.decode()

    task = Task.objects.get(domain__exam=exam, code="2.1")
    instructor_client.post(changelist, {"action": "map_task", "_selected_action": ids, "task": str(task.pk)})

    assert set(Question.objects.values_list("task__code", flat=True)) == {"2.1"}


def test_a_file_with_an_error_leaves_no_case_study_behind(exam):
    document = json.loads(NATIVE)
    document["case_studies"][0]["items"][0]["options"][0]["text"] = ""  # an empty option: a structural error

    report = questions_import(data=json.dumps(document).encode(), filename="bad.json", exam=exam, status="keep")

    assert report.errors
    assert CaseStudy.objects.count() == 0
    assert Question.objects.count() == 0


def test_options_in_any_script_are_not_repeats_and_questions_are_not_duplicates(exam):
    # given options in Hebrew, Greek, Russian and Chinese (an ASCII-only rule saw them all as empty, hence equal)
    data = (SAMPLES / "gift" / "scripts.gift").read_bytes()

    # when
    report = questions_import(data=data, filename="scripts.gift", exam=exam)

    # then all four arrive, and no option is called a repeat of another
    assert report.errors == []
    assert report.skipped == []
    assert not any("repeats" in warning for warning in report.warnings), report.warnings
    assert Question.objects.count() == 4
    chinese = Question.objects.get(stem__startswith="哪种方法")
    assert sorted(c.text for c in chinese.choices.all()) == sorted(
        ["正则化", "提高学习率", "删除验证集", "只用一个样本训练"]
    )


def test_items_that_differ_in_a_symbol_or_a_key_are_kept_with_a_warning_naming_both(exam):
    # given "3 + 2" and "3 - 2", "a < b" and "a > b", and an item that repeats "a > b" with another key
    data = (SAMPLES / "gift" / "operators.gift").read_bytes()

    # when
    report = questions_import(data=data, filename="operators.gift", exam=exam)

    # then nothing is skipped: each pair differs in what it asks or in its key
    assert report.errors == []
    assert report.skipped == []
    assert Question.objects.count() == 5
    # and the near duplicates are named, each with the item it resembles
    rekeyed = [w for w in report.warnings if "the same stem and options with a different key" in w]
    assert len(rekeyed) == 1, report.warnings
    assert "rekeyed" in rekeyed[0]
    assert "in this file" in rekeyed[0]
    symbols = [w for w in report.warnings if "differ only in symbols" in w]
    assert any("minus" in w for w in symbols), report.warnings
    assert any("greater" in w for w in symbols), report.warnings


def test_the_same_item_twice_is_a_duplicate_only_when_its_key_is_the_same_too(exam):
    questions_import(data=(SAMPLES / "gift" / "operators.gift").read_bytes(), filename="first.gift", exam=exam)

    again = questions_import(data=(SAMPLES / "gift" / "operators.gift").read_bytes(), filename="again.gift", exam=exam)

    assert Question.objects.count() == 5
    assert len(again.skipped) == 5
    assert all("same stem, options and key as" in line and "in the bank" in line for line in again.skipped)


def test_the_command_prints_one_message_per_line_each_once_with_the_file_named_once(exam):
    out = StringIO()
    for sample in ("moodlexml/images.xml", "qti/images.xml"):
        call_command("import_questions", str(SAMPLES / sample), "--dry-run", stdout=out)

    lines = out.getvalue().splitlines()
    warnings = [line for line in lines if line.startswith("  ")]
    assert "Warnings:" in lines
    assert len(warnings) == len(set(warnings)) == 6, lines
    assert not any("images.xml: images.xml:" in line for line in lines)
    assert sum("recall-notes.pdf was not imported" in line for line in warnings) == 1
    assert lines[-1].startswith("images.xml (qti): would import 1 item(s)")
