"""Authoring through Django admin, as the demo instructor would."""

import html
import re

import pytest
from django.urls import reverse

from apps.questions.models import Question, QuestionStatus
from apps.syllabus.models import Objective, Task
from tests.questions.factories import QuestionFactory

ADD_URL = reverse("admin:questions_question_add")


def management(prefix: str, total: int, initial: int = 0) -> dict[str, str]:
    return {
        f"{prefix}-TOTAL_FORMS": str(total),
        f"{prefix}-INITIAL_FORMS": str(initial),
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
    }


def base_fields(exam, stem: str) -> dict[str, str]:
    task = Task.objects.get(domain__exam=exam, code="1.1")
    objective = Objective.objects.get(task=task, order=4)
    return {
        "ref": "",
        "task": str(task.pk),
        "objectives": [str(objective.pk)],
        "case_study": "",
        "case_order": "0",
        "stem": stem,
        "explanation": "Why the key wins. Rule: remember it.",
        "references": "https://docs.aws.amazon.com/streams/latest/dev/introduction.html",
        "difficulty": "medium",
        "angoff": "0.6",
    }


def choice_rows(rows: list[tuple[str, bool, str]]) -> dict[str, str]:
    data = management("choices", len(rows))
    for index, (text, correct, rationale) in enumerate(rows):
        data[f"choices-{index}-order"] = str(index + 1)
        data[f"choices-{index}-text"] = text
        data[f"choices-{index}-rationale"] = rationale
        if correct:
            data[f"choices-{index}-is_correct"] = "on"
    return data


FIVE = [
    ("Amazon Kinesis Data Streams", True, "Ordered shards."),
    ("Amazon Data Firehose", True, "Managed delivery."),
    ("Amazon SQS standard queue", False, "No ordering."),
    ("Amazon SNS", False, "Fan-out only."),
    ("AWS Batch", False, "Not streaming."),
]


@pytest.mark.parametrize(
    ("kind", "extra"),
    [
        ("single", choice_rows([(t, i == 0, r) for i, (t, _, r) in enumerate(FIVE[:4])])),
        ("multiple", choice_rows(FIVE)),
        (
            "ordering",
            {
                **management("steps", 3),
                **{f"steps-{i}-position": str(i + 1) for i in range(3)},
                **{f"steps-{i}-text": f"Step {i + 1}" for i in range(3)},
                **{f"steps-{i}-rationale": "Because." for i in range(3)},
            },
        ),
        (
            "matching",
            {
                **management("pairs", 4),
                **{f"pairs-{i}-order": str(i + 1) for i in range(4)},
                **{f"pairs-{i}-prompt": p for i, p in enumerate(["Ordered events", "Files to S3", "Alerts", ""])},
                **{f"pairs-{i}-response": r for i, r in enumerate(["Kinesis", "Firehose", "SNS", "AWS Batch"])},
                **{f"pairs-{i}-rationale": "Because." for i in range(4)},
            },
        ),
    ],
)
def test_instructor_authors_one_item_of_each_type(exam, instructor, instructor_client, kind, extra):
    stem = "Which services fit? (Choose two.)" if kind == "multiple" else f"A {kind} scenario stem?"

    response = instructor_client.post(f"{ADD_URL}?type={kind}", {**base_fields(exam, stem), **extra})

    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else ""
    question = Question.objects.get()
    assert (question.type, question.status, question.author) == (kind, QuestionStatus.DRAFT, instructor)
    assert question.content_hash


def test_multiple_response_with_one_key_is_refused_and_nothing_saved(exam, instructor_client):
    rows = [(t, i == 0, r) for i, (t, _, r) in enumerate(FIVE)]

    response = instructor_client.post(
        f"{ADD_URL}?type=multiple", {**base_fields(exam, "Which two? (Choose two.)"), **choice_rows(rows)}
    )

    assert response.status_code == 200
    assert "needs at least two correct options" in response.content.decode()
    assert Question.objects.count() == 0


def test_choose_two_with_three_keys_is_refused_on_the_stem_field(exam, instructor_client):
    rows = [(t, i < 3, r) for i, (t, _, r) in enumerate(FIVE)]

    response = instructor_client.post(
        f"{ADD_URL}?type=multiple", {**base_fields(exam, "Which two? (Choose two.)"), **choice_rows(rows)}
    )

    assert response.status_code == 200
    form = response.context["adminform"].form
    assert form.errors["stem"] == ['The stem says "Choose two" but 3 options are marked correct.']
    assert Question.objects.count() == 0


def test_objective_of_another_task_is_refused(exam, instructor_client):
    data = {**base_fields(exam, "Which?"), **choice_rows([(t, i == 0, r) for i, (t, _, r) in enumerate(FIVE[:4])])}
    data["objectives"] = [str(Objective.objects.get(task__code="4.3", order=1).pk)]

    response = instructor_client.post(f"{ADD_URL}?type=single", data)

    assert "is not part of task 1.1" in response.content.decode()
    assert Question.objects.count() == 0


def test_add_without_type_offers_a_type_chooser(instructor_client, exam):
    response = instructor_client.get(ADD_URL)
    body = response.content.decode()
    for kind in ("single", "multiple", "ordering", "matching"):
        assert f"?type={kind}" in body


def test_published_item_is_read_only_and_offers_a_new_version(exam, instructor_client):
    question = QuestionFactory(exam=exam, status="published")
    url = reverse("admin:questions_question_change", args=[question.pk])

    page = instructor_client.get(url).content.decode()
    assert "Create new version to edit" in page
    assert 'name="stem"' not in page

    instructor_client.post(url, {"stem": "tampered"})
    assert Question.objects.get(pk=question.pk).stem == question.stem

    response = instructor_client.post(reverse("admin:questions_question_new_version", args=[question.pk]))
    draft = Question.objects.get(family=question.family, version=2)
    assert response.url == reverse("admin:questions_question_change", args=[draft.pk])


def test_preview_shows_the_item_as_a_candidate_would_and_the_key_separately(exam, instructor_client):
    question = QuestionFactory(exam=exam, type="matching", status="draft")

    page = instructor_client.get(reverse("admin:questions_question_preview", args=[question.pk])).content.decode()

    assert question.stem in page
    assert "Choose a response" in page
    assert "Key, rationales and explanation" in page


def test_bulk_publish_asks_for_confirmation_then_publishes(exam, instructor_client):
    questions = [QuestionFactory(exam=exam, status="draft") for _ in range(2)]
    changelist = reverse("admin:questions_question_changelist")
    data = {"action": "publish", "_selected_action": [str(q.pk) for q in questions]}

    confirm = instructor_client.post(changelist, data)
    assert "please confirm" in confirm.content.decode()
    assert Question.objects.filter(status="published").count() == 0

    instructor_client.post(changelist, {**data, "confirm": "yes"})
    assert Question.objects.filter(status="published").count() == 2


def test_changelist_filters_and_search(exam, instructor_client):
    QuestionFactory(exam=exam, type="ordering", status="published", task="2.1", stem="Unique ordering stem?")
    QuestionFactory(exam=exam, type="single", status="draft")
    changelist = reverse("admin:questions_question_changelist")

    by_type = instructor_client.get(changelist, {"type__exact": "ordering"})
    assert by_type.context["cl"].result_count == 1
    by_search = instructor_client.get(changelist, {"q": "Unique ordering"})
    assert by_search.context["cl"].result_count == 1
    by_domain = instructor_client.get(changelist, {"domain": str(Task.objects.get(code="2.1").domain_id)})
    assert by_domain.context["cl"].result_count == 1


def test_coverage_page_counts(exam, instructor_client):
    QuestionFactory(exam=exam, type="single", status="published", task="1.1")
    QuestionFactory(exam=exam, type="matching", status="published", task="1.1")
    QuestionFactory(exam=exam, type="single", status="pretest", task="3.2")
    QuestionFactory(exam=exam, type="single", status="draft", task="4.1")

    response = instructor_client.get(reverse("admin:questions_question_coverage"))

    coverage = response.context["coverage"]
    assert len(coverage.domains) == 4
    assert coverage.task_count == 12
    assert coverage.objectives == 192
    assert (coverage.published, coverage.pretest) == (2, 1)
    assert coverage.objectives_uncovered == 191  # the factory tags objective 1.1.1 only
    task = coverage.domains[0].tasks[0]
    assert (task.code, task.published, task.by_type["matching"]) == ("1.1", 2, 1)
    body = response.content.decode()
    assert "<strong>4</strong> domains" in body
    assert "<strong>12</strong> tasks" in body
    assert "<strong>192</strong> objectives" in body


def test_each_coverage_count_opens_the_list_of_exactly_those_items(exam, exam_c02, instructor_client):
    # given: C01 items carried over to MLA-C02, C02's own items, and a draft that no cell counts
    from apps.questions.placements import bank_carry_over
    from tests.exams.factories import bank_build

    bank_build(exam, per_task=4, pretest_per_task=1, case_study=False)
    bank_carry_over(target=exam_c02)
    QuestionFactory(exam=exam_c02, type="single", status="published", task="1.1")
    QuestionFactory(exam=exam_c02, type="multiple", status="pretest", task="1.1")
    QuestionFactory(exam=exam_c02, type="single", status="draft", task="1.1")

    # when
    page = instructor_client.get(reverse("admin:questions_question_coverage"), {"exam": "MLA-C02"})

    # then: every count is a link, named after what it counts, to a question list of that many items
    links = re.findall(r'<a href="([^"]+)" aria-label="(\d+) ([^"]+)">(\d+)</a>', page.content.decode())
    coverage = page.context["coverage"]
    assert len(links) == len(coverage.domains) + coverage.task_count * (2 + len(coverage.types))
    assert sum(int(count) for _, count, name, _ in links if name.startswith("published items in task")) == (
        coverage.published
    )
    for href, count, name, shown in links:
        assert count == shown
        listed = instructor_client.get(html.unescape(href))
        assert listed.status_code == 200, name
        assert listed.context["cl"].result_count == int(count), name
    task_1_1 = next(href for href, _, name, _ in links if name == "pretest items in task 1.1")
    listed = instructor_client.get(html.unescape(task_1_1))
    assert {q.task.domain.exam.code for q in listed.context["cl"].result_list} == {"MLA-C01", "MLA-C02"}


def test_a_blueprint_filter_naming_no_task_lists_nothing(exam, instructor_client):
    QuestionFactory(exam=exam, type="single", status="published", task="1.1")
    changelist = reverse("admin:questions_question_changelist")

    for parameter in ("blueprint_task", "blueprint_domain"):
        response = instructor_client.get(changelist, {parameter: "999999"})

        assert response.status_code == 200
        assert response.context["cl"].result_count == 0


def test_question_list_shows_a_stem_excerpt_and_discrimination_as_a_correlation(exam, instructor_client):
    # given: a long stem, and statistics with a discrimination index of 48.3 (100 × r)
    from apps.scoring.models import ItemStatistic

    stem = "A retailer streams clickstream events into Amazon Kinesis " * 4 + "Which service should it use?"
    question = QuestionFactory(exam=exam, type="single", status="published", task="1.1", stem=stem)
    ItemStatistic.objects.create(question=question, responses=80, correct=50, facility=0.625, discrimination=48.3)

    # when
    body = instructor_client.get(reverse("admin:questions_question_changelist")).content.decode()

    # then: the first words with the whole stem in the tooltip, the facility with its count, r as 0.48
    row = re.search(r"<tbody>.*?</tr>", body[body.index('id="result_list"') :], re.S).group(0)
    assert f'title="{stem}"' in row
    assert ">A retailer streams clickstream events into Amazon Kinesis A retailer streams clickstream events…<" in row
    assert '0.62 <span class="count">(50 of 80)</span>' in row
    assert '<td class="field-discrimination">0.48</td>' in row
    assert "48" not in row.replace("0.48", "")


def test_candidates_cannot_reach_admin(client, candidate):
    client.force_login(candidate)
    response = client.get(reverse("admin:questions_question_changelist"))
    assert response.status_code == 302
    assert "/admin/login/" in response.url


def test_instructors_have_exactly_authoring_permissions(instructor):
    assert instructor.has_perm("questions.add_question")
    assert instructor.has_perm("questions.publish_question")
    assert instructor.has_perm("syllabus.view_task")
    assert not instructor.has_perm("syllabus.change_task")
    assert not instructor.has_perm("auth.change_user")


@pytest.mark.parametrize("kind", ["single", "multiple", "ordering", "matching"])
def test_add_page_shows_the_inline_of_its_type(instructor_client, exam, kind):
    body = instructor_client.get(f"{ADD_URL}?type={kind}").content.decode()
    prefix = {"single": "choices", "multiple": "choices", "ordering": "steps", "matching": "pairs"}[kind]
    assert f'name="{prefix}-TOTAL_FORMS"' in body
    for other in {"choices", "steps", "pairs"} - {prefix}:
        assert f'name="{other}-TOTAL_FORMS"' not in body


def test_draft_change_page_is_editable(instructor_client, exam):
    question = QuestionFactory(exam=exam, type="ordering", status="draft")
    body = instructor_client.get(reverse("admin:questions_question_change", args=[question.pk])).content.decode()
    assert 'name="stem"' in body
    assert 'name="steps-0-text"' in body
