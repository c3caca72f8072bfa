"""An instructor writes items of every type in the admin, in a real browser (under the real CSP): the broken
rules first, each said once in words next to its field, then a draft, review, publication and a new version."""

import re

import pytest
from playwright.sync_api import expect

from apps.questions.models import Question, QuestionStatus
from apps.syllabus.models import Objective, Task
from tests.browser.conftest import axe_violations, horizontal_overflow, login
from tests.questions.factories import QuestionFactory

pytestmark = pytest.mark.browser

ADD = "/admin/questions/question/add/"
LINK = "https://docs.aws.amazon.com/sagemaker/latest/dg/whatis.html"


def sign_in(page, instructor) -> None:
    instructor.set_password("pw-inst-123")
    instructor.save()
    login(page, "inst", "pw-inst-123")


def fill_item(page, *, ref: str, stem: str, task_code: str = "1.1", objective: int = 4) -> None:
    """The item's own fields; the objective is found by searching the chosen task's objectives."""
    task = Task.objects.select_related("domain__exam").get(domain__exam__code="MLA-C01", code=task_code)
    statement = Objective.objects.get(task=task, order=objective).statement
    page.get_by_label("Ref:").fill(ref)
    page.get_by_label("Task:").select_option(label=f"MLA-C01 {task.code} {task.title}")
    page.get_by_role("searchbox", name="Search the chosen task's objectives").fill(statement.split()[0])
    page.get_by_role("option", name=re.compile(rf"^{re.escape(task.code)}\.{objective} ")).click()
    page.get_by_label("Stem:").fill(stem)
    page.get_by_label("Explanation:").fill("Why the key wins. Rule: remember it.")
    page.get_by_label("References:").fill(LINK)


def fill_rows(page, label: str, values: list[str]) -> None:
    for index, value in enumerate(values):
        page.get_by_label(label, exact=True).nth(index).fill(value)


def save(page, button: str = "Save and continue editing") -> None:
    page.get_by_role("button", name=button, exact=True).click()
    page.wait_for_load_state()


def said_once(page, text: str) -> None:
    expect(page.get_by_text(text, exact=False)).to_have_count(1)


def test_single_answer_from_broken_to_published_and_a_new_version(page, exam, instructor):
    sign_in(page, instructor)
    page.goto(ADD)
    page.get_by_role("link", name="Single answer").click()
    expect(page.get_by_role("heading", name="Options")).to_be_visible()
    assert axe_violations(page) == []

    # no key: refused, said once, nothing saved
    fill_item(page, ref="ux-single-1", stem="Which storage keeps 5 TB of training data cheapest?")
    fill_rows(page, "Text:", ["Amazon S3", "Amazon EBS io2", "Amazon EFS", "Amazon FSx for Lustre"])
    save(page)
    said_once(page, "A single-answer item needs exactly one correct option, has 0.")
    assert Question.objects.count() == 0

    # a draft may wait for its rationales; the page says what review will need
    page.get_by_label("Is correct").first.check()
    save(page)
    expect(page.get_by_text("Saved as a draft. Before it can go to review:")).to_be_visible()
    said_once(page, "Option A needs a rationale saying why it is right or wrong.")
    question = Question.objects.get()
    assert question.status == QuestionStatus.DRAFT
    assert list(question.choices.values_list("order", flat=True)) == [1, 2, 3, 4]  # their rows' places

    # review needs them: each missing one is named on its option
    save(page, "Send to review")
    for letter in "ABCD":
        said_once(page, f"Option {letter} needs a rationale saying why it is right or wrong.")
    assert Question.objects.get().status == QuestionStatus.DRAFT
    assert axe_violations(page) == []

    fill_rows(page, "Rationale:", ["Cheapest durable store.", "Block storage.", "File storage.", "Costly to run."])
    save(page, "Send to review")
    expect(page.get_by_text("Sent to review.")).to_be_visible()
    expect(page.get_by_role("button", name="Send to review")).to_have_count(0)

    save(page, "Publish")
    expect(page.get_by_text("Published. This version is frozen now")).to_be_visible()
    assert Question.objects.get().status == QuestionStatus.PUBLISHED
    assert axe_violations(page) == []

    page.get_by_role("button", name="Create new version to edit").click()
    expect(page.get_by_text("Version 2 of ux-single-1 is an editable draft.")).to_be_visible()
    assert Question.objects.get(version=2).status == QuestionStatus.DRAFT


def test_multiple_response_says_a_wrong_choose_count_once(page, exam, instructor):
    sign_in(page, instructor)
    page.goto(f"{ADD}?type=multiple")
    fill_item(page, ref="ux-multi-1", stem="Which two formats are columnar? (Choose two.)")
    page.get_by_role("button", name="Add another Option").click()  # four rows are shown; this item needs five
    fill_rows(page, "Text:", ["Apache Parquet", "Apache ORC", "CSV", "JSON Lines", "Apache Avro"])
    fill_rows(page, "Rationale:", ["Columnar.", "Columnar.", "Row text.", "Row text.", "Row-based binary."])
    for index in range(3):
        page.get_by_label("Is correct").nth(index).check()

    save(page)
    said_once(page, 'The stem says "Choose two" but 3 options are marked correct.')
    assert Question.objects.count() == 0

    page.get_by_label("Is correct").nth(2).uncheck()
    save(page, "Save")
    expect(page.get_by_text("was added successfully")).to_be_visible()
    question = Question.objects.get()
    assert list(question.choices.values_list("order", flat=True)) == [1, 2, 3, 4, 5]  # the added row included


def test_ordering_with_one_step_gets_one_message(page, exam, instructor):
    sign_in(page, instructor)
    page.goto(f"{ADD}?type=ordering")
    expect(page.get_by_role("heading", name="Steps, each at its position in the correct order")).to_be_visible()
    fill_item(page, ref="ux-order-1", stem="Put the steps of a training pipeline in order.")
    fill_rows(page, "Text:", ["Process the data"])
    fill_rows(page, "Rationale:", ["Data comes first."])

    save(page)
    said_once(page, "An ordering item needs 3 to 5 steps, has 1.")
    expect(page.get_by_text("This field is required.")).to_have_count(0)
    assert Question.objects.count() == 0

    fill_rows(page, "Text:", ["Process the data", "Train the model", "Evaluate the model"])
    fill_rows(page, "Rationale:", ["Data comes first.", "Needs processed data.", "Needs a trained model."])
    save(page, "Send to review")  # every rule met: straight to review
    expect(page.get_by_text("Sent to review.")).to_be_visible()
    assert list(Question.objects.get().steps.values_list("position", "text")) == [
        (1, "Process the data"),
        (2, "Train the model"),
        (3, "Evaluate the model"),
    ]


def test_matching_in_a_case_study(page, exam, instructor):
    sign_in(page, instructor)
    page.goto("/admin/questions/casestudy/add/")
    page.get_by_label("Title:").fill("Fraud detection at a retailer")
    page.get_by_label("Scenario:").fill("A retailer streams card payments and wants to flag fraud within a second.")
    save(page)
    page.get_by_role("link", name="Add an item to this case study").click()
    page.get_by_role("link", name="Matching").click()
    expect(page.get_by_label("Case study:")).to_have_value(re.compile(r"\d+"))

    fill_item(page, ref="ux-match-1", stem="Match each need with the SageMaker AI inference option.")
    fill_rows(page, "Prompt:", ["Payloads up to 1 GB", "Score a dataset nightly"])
    fill_rows(page, "Response:", ["Asynchronous inference", "Batch transform"])
    save(page)
    said_once(page, "A matching item needs 3 to 7 prompts, has 2.")

    fill_rows(page, "Prompt:", ["Payloads up to 1 GB", "Score a dataset nightly", "Millisecond responses"])
    fill_rows(page, "Response:", ["Asynchronous inference", "Batch transform", "Real-time endpoint"])
    save(page)
    expect(page.get_by_text("Saved as a draft. Before it can go to review:")).to_be_visible()
    said_once(page, "Pair 3 needs a rationale saying why it is right or wrong.")
    question = Question.objects.get()
    assert (question.type, question.case_study.title) == ("matching", "Fraud detection at a retailer")


@pytest.mark.django_db(transaction=True)  # the tab is looked up at run time: the live server needs committed rows
@pytest.mark.parametrize("tab", ["page", "phone"])
def test_the_change_form_is_accessible_and_fits_a_phone(request, tab, exam, instructor):
    question = QuestionFactory(exam=exam, type="multiple", status=QuestionStatus.DRAFT)
    page = request.getfixturevalue(tab)
    sign_in(page, instructor)

    page.goto(f"/admin/questions/question/{question.pk}/change/")
    expect(page.get_by_role("button", name="Publish")).to_be_visible()
    assert axe_violations(page) == []
    assert horizontal_overflow(page) == 0
