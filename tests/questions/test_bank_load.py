from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from apps.questions.interchange.importing import BankLoadError, bank_load
from apps.questions.models import CaseStudy, Question, QuestionStatus

ITEM = """
  - ref: {ref}
    type: single
    status: {status}
    difficulty: medium
    angoff: 0.6
    objectives: ["1.1.2"]
    stem: |
      {stem}
    options:
      - {{text: Amazon S3, correct: true, rationale: Cheapest durable store.}}
      - {{text: Amazon EFS, rationale: Costs more per GB.}}
      - {{text: Amazon EBS, rationale: Block storage for one instance.}}
      - {{text: Amazon FSx for Lustre, rationale: Fast but costly.}}
    explanation: S3 wins on cost. Rule - start with S3.
    references: [https://docs.aws.amazon.com/AmazonS3/latest/userguide/Welcome.html]
"""


def document(*items: str, cases: str = "") -> str:
    return 'task: "1.1"\nitems:' + "".join(items) + cases


def item(ref: str, stem: str = "Where should the data live to keep costs lowest?", status: str = "published"):
    return ITEM.format(ref=ref, stem=stem, status=status)


def test_loading_twice_changes_nothing(exam):
    text = document(item("a-1"), item("a-2", "Which store suits a 10 TB archive read once a month?"))

    first = bank_load(text=text, filename="t.yaml", exam=exam)
    second = bank_load(text=text, filename="t.yaml", exam=exam)

    assert (first.created, second.created, second.unchanged) == (2, 0, 2)
    assert Question.objects.filter(status=QuestionStatus.PUBLISHED).count() == 2


def test_a_changed_published_item_gets_a_new_version(exam):
    bank_load(text=document(item("a-1")), filename="t.yaml", exam=exam)

    result = bank_load(text=document(item("a-1", "A reworded stem about storage costs?")), filename="t.yaml", exam=exam)

    assert result.new_versions == 1
    versions = Question.objects.filter(ref="a-1").order_by("version")
    assert [(q.version, q.status) for q in versions] == [(1, "retired"), (2, "published")]


def test_instructor_changes_survive_a_reload(exam):
    bank_load(text=document(item("a-1")), filename="t.yaml", exam=exam)
    Question.objects.filter(ref="a-1").update(status=QuestionStatus.RETIRED)

    bank_load(text=document(item("a-1")), filename="t.yaml", exam=exam)

    assert Question.objects.get(ref="a-1").status == QuestionStatus.RETIRED


def test_one_bad_item_loads_nothing_and_names_its_line(exam):
    bad = item("a-40").replace("correct: true", "correct: false")
    text = document(*(item(f"a-{n}", f"Storage question number {n} about cost?") for n in range(39)), bad)

    with pytest.raises(BankLoadError) as excinfo:
        bank_load(text=text, filename="bank.yaml", exam=exam)

    message = excinfo.value.messages[0]
    assert message.startswith("bank.yaml: line ")
    assert "(a-40)" in message
    assert "exactly one correct option" in message
    assert Question.objects.count() == 0


def test_case_studies_keep_their_items_together(exam):
    cases = (
        """
case_studies:
  - ref: cs-1
    title: A retailer
    scenario: |
      A retailer streams clicks and wants daily training data.
    items:"""
        + item("cs-1-1").replace("\n  ", "\n      ")
        + item("cs-1-2", "Second question?").replace("\n  ", "\n      ")
    )

    bank_load(text=document(item("a-1"), cases=cases), filename="t.yaml", exam=exam)

    case = CaseStudy.objects.get(ref="cs-1")
    assert list(case.questions.order_by("case_order").values_list("ref", "case_order")) == [
        ("cs-1-1", 1),
        ("cs-1-2", 2),
    ]


def test_load_bank_command_reports_errors_without_a_traceback(exam, tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text("items: [ {ref: x, type: essay} ]")

    with pytest.raises(CommandError, match="Nothing was loaded"):
        call_command("load_bank", str(path))


def test_a_bank_file_names_the_exam_version_its_items_are_written_for(exam, exam_c02, tmp_path):
    c01 = tmp_path / "c01.yaml"
    c01.write_text(document(item("v-1")))
    c02 = tmp_path / "c02.yaml"
    c02.write_text(
        "exam: MLA-C02\n" + document(item("v-2", "Which store keeps 5 TB of embeddings source files cheapest?"))
    )

    call_command("load_bank", str(c01), str(c02), stdout=StringIO())

    assert Question.objects.get(ref="v-1").task.domain.exam == exam
    assert Question.objects.get(ref="v-2").task.domain.exam == exam_c02


def test_a_bank_file_for_a_version_not_loaded_is_refused_by_name(exam, tmp_path):
    path = tmp_path / "c09.yaml"
    path.write_text("exam: MLA-C09\n" + document(item("v-9")))

    with pytest.raises(CommandError, match=r"Nothing was loaded: c09\.yaml: exam MLA-C09 is not loaded"):
        call_command("load_bank", str(path))
    assert not Question.objects.exists()
