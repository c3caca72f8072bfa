"""Authoring in the admin explains itself: objectives of the chosen task, drafts without rationales, one plain
message per broken rule next to its field, and status buttons on the item page."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.urls import reverse

from apps.questions.models import Question, QuestionStatus
from apps.syllabus.models import Objective, Task
from tests.questions.factories import QuestionFactory
from tests.questions.test_admin import ADD_URL, FIVE, base_fields, choice_rows, management

AUTOCOMPLETE = reverse("admin:autocomplete")


def change_url(question: Question) -> str:
    return reverse("admin:questions_question_change", args=[question.pk])


def steps(rows: list[tuple[str, str]], positions: list[str] | None = None, total: int | None = None) -> dict:
    data = management("steps", total or len(rows))
    for index, (text, rationale) in enumerate(rows):
        data[f"steps-{index}-position"] = positions[index] if positions else str(index + 1)
        data[f"steps-{index}-text"] = text
        data[f"steps-{index}-rationale"] = rationale
    return data


def objective_search(client, task: Task | None, term: str = "") -> list[str]:
    params = {"app_label": "questions", "model_name": "question", "field_name": "objectives", "term": term}
    if task is not None:
        params["task"] = str(task.pk)
    return [row["text"] for row in client.get(AUTOCOMPLETE, params).json()["results"]]


# 1. Objectives


def test_objectives_are_a_search_box_not_a_list_of_every_objective(exam, instructor_client):
    body = instructor_client.get(f"{ADD_URL}?type=single").content.decode()

    assert 'data-field-name="objectives"' in body
    assert "admin-autocomplete" in body
    assert body.count("<option") < 100  # the task list only; objectives arrive as the author types
    assert "Choose the task first, then type to search its objectives." in body
    # the script that sends the task along needs the admin's jQuery loaded before it
    assert body.index("admin/js/jquery.init.js") < body.index("js/admin-objectives.js")


def test_objective_search_offers_the_chosen_tasks_objectives_only(exam, instructor_client):
    task = Task.objects.get(domain__exam=exam, code="1.1")
    statement = Objective.objects.get(task=task, order=4).statement

    everything = objective_search(instructor_client, task)
    found = objective_search(instructor_client, task, term=statement.split()[1])

    assert len(everything) == task.objectives.count()
    assert all(text.startswith("1.1.") for text in everything)
    assert any(text.startswith("1.1.4 ") for text in found)
    assert objective_search(instructor_client, None) == []  # no task chosen yet: nothing to pick from


def test_objective_of_another_task_is_refused_in_words(exam, instructor_client):
    data = {**base_fields(exam, "Which?"), **choice_rows([(t, i == 0, r) for i, (t, _, r) in enumerate(FIVE[:4])])}
    data["objectives"] = [str(Objective.objects.get(task__code="4.3", order=1).pk)]

    response = instructor_client.post(f"{ADD_URL}?type=single", data)

    assert response.context["adminform"].form.errors["objectives"] == [
        "Objective 4.3.1 is not part of task 1.1; pick the task's own."
    ]
    assert Question.objects.count() == 0


# 2. Drafts without rationales; review and publication need everything


def test_a_draft_saves_without_rationales_and_says_what_review_needs(exam, instructor_client):
    rows = [(t, i == 0, "") for i, (t, _, _r) in enumerate(FIVE[:4])]

    response = instructor_client.post(
        f"{ADD_URL}?type=single", {**base_fields(exam, "Which?"), **choice_rows(rows)}, follow=True
    )

    question = Question.objects.get()
    assert (question.status, question.choices.count()) == (QuestionStatus.DRAFT, 4)
    body = response.content.decode()
    assert "Saved as a draft. Before it can go to review:" in body
    assert "Option A needs a rationale saying why it is right or wrong." in body
    assert "Option D needs a rationale" in body


@pytest.mark.parametrize("button", ["_review", "_publish"])
def test_review_and_publish_refuse_a_missing_rationale_on_its_option(exam, instructor_client, button):
    rows = [(t, i == 0, "" if i == 2 else r) for i, (t, _, r) in enumerate(FIVE[:4])]
    data = {**base_fields(exam, "Which?"), **choice_rows(rows), button: "1"}

    response = instructor_client.post(f"{ADD_URL}?type=single", data)

    assert response.status_code == 200
    formset = response.context["inline_admin_formsets"][0].formset
    assert formset.forms[2].errors["rationale"] == ["Option C needs a rationale saying why it is right or wrong."]
    assert not formset.forms[1].errors
    assert Question.objects.count() == 0


def test_an_item_in_review_keeps_every_rule_on_save(exam, instructor_client):
    question = QuestionFactory(exam=exam, status=QuestionStatus.IN_REVIEW)
    page = instructor_client.get(change_url(question))
    data = {**page.context["adminform"].form.initial, **_inline_data(page)}
    data["choices-1-rationale"] = ""
    data = _postable(data, question)

    response = instructor_client.post(change_url(question), data)

    assert response.status_code == 200
    assert "Option B needs a rationale" in response.content.decode()


# 3. One message per broken rule, in words, next to its field


def test_an_ordering_item_with_one_step_gets_one_message(exam, instructor_client):
    # the page shows three step rows; the author fills one
    data = {**base_fields(exam, "Put them in order."), **steps([("Only step", "Because.")], total=3)}
    for index in (1, 2):
        data[f"steps-{index}-position"] = str(index + 1)  # the rows' shown places, untouched

    response = instructor_client.post(f"{ADD_URL}?type=ordering", data)

    body = response.content.decode()
    assert "An ordering item needs 3 to 5 steps, has 1." in body
    assert body.count("An ordering item needs") == 1
    assert "This field is required." not in body
    assert Question.objects.count() == 0


def test_choose_two_with_three_keys_is_said_once_on_the_stem(exam, instructor_client):
    rows = [(t, i < 3, r) for i, (t, _, r) in enumerate(FIVE)]

    response = instructor_client.post(
        f"{ADD_URL}?type=multiple", {**base_fields(exam, "Which two? (Choose two.)"), **choice_rows(rows)}
    )

    body = response.content.decode()
    assert response.context["adminform"].form.errors["stem"] == [
        'The stem says "Choose two" but 3 options are marked correct.'
    ]
    assert body.count("but 3 options are marked correct") == 1
    assert Question.objects.count() == 0


def test_bulk_publish_lists_each_problem_in_words_and_keeps_the_ref_as_written(exam, instructor_client):
    question = QuestionFactory(exam=exam, ref="ux-multi-1", status=QuestionStatus.DRAFT)
    question.choices.filter(order=2).update(rationale="")
    changelist = reverse("admin:questions_question_changelist")

    response = instructor_client.post(
        changelist,
        {"action": "publish", "_selected_action": [str(question.pk)], "confirm": "yes"},
        follow=True,
    )

    body = response.content.decode()
    assert "Publish refused for ux-multi-1 v1:<ul><li>Option B needs a rationale" in body
    assert "options[" not in body
    assert "Ux-multi-1" not in body
    assert Question.objects.get(pk=question.pk).status == QuestionStatus.DRAFT


def test_the_new_version_message_keeps_the_ref_as_written(exam, instructor_client):
    question = QuestionFactory(exam=exam, ref="ux-multi-1", status=QuestionStatus.PUBLISHED)

    response = instructor_client.post(reverse("admin:questions_question_new_version", args=[question.pk]), follow=True)

    body = response.content.decode()
    assert "Version 2 of ux-multi-1 is an editable draft." in body
    assert "Ux-multi-1" not in body


def test_mapping_a_frozen_item_is_refused_with_its_ref_as_written(exam, instructor_client):
    question = QuestionFactory(exam=exam, ref="ux-map-1", status=QuestionStatus.PUBLISHED)
    task = Task.objects.get(domain__exam=exam, code="2.1")

    response = instructor_client.post(
        reverse("admin:questions_question_changelist"),
        {"action": "map_task", "_selected_action": [str(question.pk)], "task": str(task.pk)},
        follow=True,
    )

    body = response.content.decode()
    assert "Not mapped: ux-map-1 v1 is published; create a new version to change its task." in body
    assert "Ux-map-1" not in body


def test_part_sections_have_proper_names_and_rows_start_at_their_place(exam, instructor_client):
    ordering = instructor_client.get(f"{ADD_URL}?type=ordering").content.decode()
    matching = instructor_client.get(f"{ADD_URL}?type=matching").content.decode()
    single = instructor_client.get(f"{ADD_URL}?type=single").content.decode()

    assert "Steps, each at its position in the correct order" in ordering
    assert "position = its place" not in ordering
    assert "Prompts and their correct responses" in matching
    for index in range(3):
        assert f'name="steps-{index}-position" value="{index + 1}"' in ordering
        assert f'name="choices-{index}-order" value="{index + 1}"' in single


def test_options_saved_without_touching_their_order_keep_their_rows_order(exam, instructor_client):
    data = {**base_fields(exam, "Which?"), **choice_rows([(t, i == 0, r) for i, (t, _, r) in enumerate(FIVE[:4])])}
    for index in range(4):
        data[f"choices-{index}-order"] = ""  # rows added in the browser arrive without a place

    response = instructor_client.post(f"{ADD_URL}?type=single", data)

    assert response.status_code == 302
    question = Question.objects.get()
    assert list(question.choices.values_list("order", "text")) == [(i + 1, t) for i, (t, _, _) in enumerate(FIVE[:4])]


def test_steps_are_renumbered_in_their_order_and_a_repeated_position_is_refused(exam, instructor_client):
    rows = [("Train", "b"), ("Process", "a"), ("Evaluate", "c")]
    data = {**base_fields(exam, "Put them in order."), **steps(rows, positions=["20", "10", "30"])}

    instructor_client.post(f"{ADD_URL}?type=ordering", data)
    assert list(Question.objects.get().steps.values_list("position", "text")) == [
        (1, "Process"),
        (2, "Train"),
        (3, "Evaluate"),
    ]

    repeated = {**base_fields(exam, "Put them again."), **steps(rows, positions=["1", "2", "2"])}
    body = instructor_client.post(f"{ADD_URL}?type=ordering", repeated).content.decode()
    assert "Two steps have position 2; give each step its own place in the correct order." in body


# 4. Status buttons on the item page


def test_a_new_item_is_saved_and_sent_to_review_with_one_button(exam, instructor_client):
    data = {**base_fields(exam, "Which?"), **choice_rows([(t, i == 0, r) for i, (t, _, r) in enumerate(FIVE[:4])])}

    response = instructor_client.post(f"{ADD_URL}?type=single", {**data, "_review": "Send to review"}, follow=True)

    question = Question.objects.get()
    assert question.status == QuestionStatus.IN_REVIEW
    assert response.redirect_chain[-1][0] == change_url(question)
    body = response.content.decode()
    assert "Sent to review." in body
    assert 'name="_publish"' in body
    assert 'name="_review"' not in body


def test_publishing_needs_a_documentation_link_on_the_references_field(exam, instructor_client):
    data = {**base_fields(exam, "Which?"), **choice_rows([(t, i == 0, r) for i, (t, _, r) in enumerate(FIVE[:4])])}
    data["references"] = ""

    response = instructor_client.post(f"{ADD_URL}?type=single", {**data, "_publish": "Publish"})

    assert response.context["adminform"].form.errors["references"] == [
        "Add at least one documentation link before publishing."
    ]
    assert Question.objects.count() == 0
    assert "Publishing needs at least one." in response.content.decode()  # the field's help says so up front


def test_the_publish_button_publishes_and_freezes_the_item(exam, instructor_client):
    question = QuestionFactory(exam=exam, status=QuestionStatus.IN_REVIEW)
    page = instructor_client.get(change_url(question))
    data = _postable({**page.context["adminform"].form.initial, **_inline_data(page)}, question)

    response = instructor_client.post(change_url(question), {**data, "_publish": "Publish"}, follow=True)

    question.refresh_from_db()
    assert question.status == QuestionStatus.PUBLISHED
    body = response.content.decode()
    assert "Published. This version is frozen now" in body
    assert "Create new version to edit" in body


def test_status_buttons_need_the_publish_permission(exam, client):
    author = get_user_model().objects.create_user("writer", password="pw-writer-123", is_staff=True)
    author.user_permissions.set(
        Permission.objects.filter(
            content_type__app_label="questions", codename__in=["add_question", "change_question", "view_question"]
        )
    )
    client.force_login(author)
    question = QuestionFactory(exam=exam, status=QuestionStatus.DRAFT)

    page = client.get(change_url(question)).content.decode()
    response = client.post(change_url(question), {"_publish": "Publish"})

    assert 'name="_publish"' not in page
    assert response.status_code == 403
    assert Question.objects.get(pk=question.pk).status == QuestionStatus.DRAFT


def _inline_data(page) -> dict:
    """The inline rows (and their management forms) exactly as the change page shows them."""
    data: dict = {}
    for inline in page.context["inline_admin_formsets"]:
        formset = inline.formset
        management = formset.management_form
        data.update({management.add_prefix(name): str(value) for name, value in management.initial.items()})
        for form in formset.forms:
            for name, field in form.fields.items():
                value = form.initial.get(name, field.initial)
                if value is None or value is False:
                    continue
                data[form.add_prefix(name)] = "on" if value is True else str(getattr(value, "pk", value))
    return data


def _postable(data: dict, question: Question) -> dict:
    """The change form's values as a browser would post them."""
    data = {key: value for key, value in data.items() if value is not None and key not in {"type", "case_study"}}
    data["task"] = str(question.task_id)
    data["objectives"] = [str(pk) for pk in question.objectives.values_list("pk", flat=True)]
    return data
