import random
from collections import Counter

import pytest

from apps.exams.assembly import FormAssemblyError, form_assemble, largest_remainder, practice_assemble
from apps.exams.services import attempt_start_mock, attempt_submit
from apps.syllabus.models import Task
from tests.exams.factories import bank_build


def test_largest_remainder_splits_fifty_by_the_blueprint():
    assert largest_remainder(50, {1: 28, 2: 26, 3: 22, 4: 24}) == {1: 14, 2: 13, 3: 11, 4: 12}
    assert sum(largest_remainder(7, {"a": 1, "b": 1, "c": 1}).values()) == 7


@pytest.mark.parametrize("seed", range(8))
def test_every_form_holds_the_blueprint(bank, candidate, seed):
    planned = form_assemble(exam=bank, candidate=candidate, rng=random.Random(seed))

    scored = [p.question for p in planned if p.scored]
    unscored = [p.question for p in planned if not p.scored]
    assert (len(scored), len(unscored)) == (50, 15)
    assert Counter(q.task.domain.number for q in scored) == {1: 14, 2: 13, 3: 11, 4: 12}
    per_task = Counter(q.task_id for q in scored)
    assert len(per_task) == 12  # every task is represented
    assert max(per_task.values()) - min(per_task.values()) <= 3
    assert all(q.status == "pretest" for q in unscored)
    assert len({q.pk for q in scored + unscored}) == 65


def test_case_study_items_stay_together_in_order(bank, candidate):
    for seed in range(20):
        planned = form_assemble(exam=bank, candidate=candidate, rng=random.Random(seed))
        positions = [i for i, p in enumerate(planned) if p.question.case_study_id]
        if positions:
            assert positions == list(range(positions[0], positions[0] + 3))
            assert [planned[i].question.case_order for i in positions] == [1, 2, 3]
            return
    pytest.fail("no form in 20 drew the case study")


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
