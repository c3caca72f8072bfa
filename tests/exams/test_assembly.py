import random
from collections import Counter

import pytest
from django.core.management import call_command

from apps.exams.assembly import FormAssemblyError, PlannedItem, form_assemble, largest_remainder, practice_assemble
from apps.exams.services import attempt_start_mock, attempt_submit
from apps.questions.models import CaseStudy, Question
from apps.syllabus.models import Task
from tests.exams.factories import bank_build
from tests.questions.factories import QuestionFactory

BLUEPRINT = {1: 14, 2: 13, 3: 11, 4: 12}


def case_studies_on(planned: list[PlannedItem]) -> dict[int, list[int]]:
    """Case study id -> the positions (0-based) of its items on the form."""
    found: dict[int, list[int]] = {}
    for position, item in enumerate(planned):
        if item.question.case_study_id:
            found.setdefault(item.question.case_study_id, []).append(position)
    return found


def case_build(exam, *, ref: str, task: str, statuses=("published", "published", "published")) -> CaseStudy:
    case = CaseStudy.objects.create(ref=ref, title=f"Case {ref}", scenario=f"The scenario of {ref}.")
    for order, status in enumerate(statuses, start=1):
        QuestionFactory(
            exam=exam, task=task, status=status, case_study=case, case_order=order, stem=f"{ref} item {order}?"
        )
    return case


def test_largest_remainder_splits_fifty_by_the_blueprint():
    assert largest_remainder(50, {1: 28, 2: 26, 3: 22, 4: 24}) == {1: 14, 2: 13, 3: 11, 4: 12}
    assert sum(largest_remainder(7, {"a": 1, "b": 1, "c": 1}).values()) == 7


@pytest.mark.parametrize("seed", range(8))
def test_every_form_holds_the_blueprint(bank, candidate, seed):
    planned = form_assemble(exam=bank, candidate=candidate, rng=random.Random(seed))

    scored = [p.question for p in planned if p.scored]
    unscored = [p.question for p in planned if not p.scored]
    assert (len(scored), len(unscored)) == (50, 15)
    assert Counter(q.task.domain.number for q in scored) == BLUEPRINT
    per_task = Counter(q.task_id for q in scored)
    assert len(per_task) == 12  # every task is represented
    assert max(per_task.values()) - min(per_task.values()) <= 3
    assert all(q.status == "pretest" for q in unscored)
    assert len({q.pk for q in scored + unscored}) == 65


def test_case_study_items_stay_together_in_order(bank, candidate):
    for seed in range(20):
        planned = form_assemble(exam=bank, candidate=candidate, rng=random.Random(seed))
        positions = [i for i, p in enumerate(planned) if p.question.case_study_id]
        assert positions == list(range(positions[0], positions[0] + 3))
        assert [planned[i].question.case_order for i in positions] == [1, 2, 3]


def test_every_mock_from_the_shipped_bank_carries_one_case_study(exam, candidate):
    call_command("load_bank")
    assert CaseStudy.objects.count() == 8
    drawn = set()

    for seed in range(40):
        planned = form_assemble(exam=exam, candidate=candidate, rng=random.Random(seed))

        scored = [p.question for p in planned if p.scored]
        assert Counter(q.task.domain.number for q in scored) == BLUEPRINT, seed
        cases = case_studies_on(planned)
        assert len(cases) == 1, seed
        (case_id, positions), *_ = cases.items()
        assert positions == list(range(positions[0], positions[0] + 3)), seed
        items = [planned[i] for i in positions]
        assert [p.question.case_order for p in items] == [1, 2, 3]
        assert all(p.scored and p.question.status == "published" for p in items)
        drawn.add(case_id)
    assert len(drawn) >= 4  # chosen at random, not always the same one


def test_no_case_study_when_the_exam_sets_none(bank, candidate):
    bank.case_studies_per_form = 0
    bank.save()

    for seed in range(20):
        planned = form_assemble(exam=bank, candidate=candidate, rng=random.Random(seed))

        assert case_studies_on(planned) == {}
        assert Counter(p.question.task.domain.number for p in planned if p.scored) == BLUEPRINT


def test_a_bank_without_case_studies_still_builds_forms(exam, candidate):
    bank_build(exam, case_study=False)

    planned = form_assemble(exam=exam, candidate=candidate, rng=random.Random(0))

    assert case_studies_on(planned) == {}
    assert Counter(p.question.task.domain.number for p in planned if p.scored) == BLUEPRINT


def test_a_case_study_with_an_unpublished_item_is_never_drawn(bank, candidate):
    complete = CaseStudy.objects.get(ref="cs-t")
    unfinished = case_build(bank, ref="cs-draft", task="3.1", statuses=("published", "draft", "published"))

    for seed in range(15):
        planned = form_assemble(exam=bank, candidate=candidate, rng=random.Random(seed))

        assert list(case_studies_on(planned)) == [complete.pk]
    assert Question.objects.filter(case_study=unfinished, status="published").count() == 2


def test_the_case_study_seen_last_time_waits_for_the_others(bank, candidate):
    case_build(bank, ref="cs-b", task="4.1")
    first = attempt_start_mock(candidate=candidate, exam=bank, seed=3)
    attempt_submit(attempt=first)
    seen = set(first.items.filter(question__case_study__isnull=False).values_list("question__case_study", flat=True))
    assert len(seen) == 1

    for seed in range(10):
        planned = form_assemble(exam=bank, candidate=candidate, rng=random.Random(seed))

        assert len(case_studies_on(planned)) == 1
        assert not seen & set(case_studies_on(planned))


def test_recently_seen_items_are_avoided_while_the_bank_allows(exam, candidate):
    bank_build(exam, per_task=10, pretest_per_task=3, case_study=False)
    first = attempt_start_mock(candidate=candidate, exam=exam, seed=1)
    attempt_submit(attempt=first)
    seen = set(first.items.values_list("question__family", flat=True))

    second = form_assemble(exam=exam, candidate=candidate, rng=random.Random(2))

    overlap = [p for p in second if p.question.family in seen]
    # 120 published items for 50 slots: at most the thinnest task could force a repeat.
    assert len(overlap) <= 5


def test_a_thin_bank_is_refused_with_a_reason(exam, candidate):
    bank_build(exam, per_task=1, pretest_per_task=0, case_study=False)
    with pytest.raises(FormAssemblyError, match="Domain 1 needs 14 published items"):
        form_assemble(exam=exam, candidate=candidate, rng=random.Random(0))


def test_practice_sets_spread_over_the_chosen_tasks(bank, candidate):
    tasks = list(Task.objects.filter(code__in=["1.1", "3.2"]).values_list("pk", flat=True))

    planned = practice_assemble(exam=bank, candidate=candidate, task_ids=tasks, count=8, rng=random.Random(0))

    assert Counter(p.question.task.code for p in planned) == {"1.1": 4, "3.2": 4}
    assert all(p.question.status == "published" for p in planned)
