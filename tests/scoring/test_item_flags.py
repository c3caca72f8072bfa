"""Item flags that instructors can trust: good items are rarely flagged, planted faults are found.

Simulated candidates answer a bank of 3PL single-answer items through the real path (mock forms assembled by
the exams app, stored answers, submission and marking by scoring) before ``item_statistics_compute`` runs.
"""

from __future__ import annotations

import numpy as np
import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from apps.exams.models import AttemptItem
from apps.exams.services import attempt_start_mock, attempt_submit
from apps.questions.selectors import questions_with_parts
from apps.scoring import statistics
from apps.scoring.analysis import item_statistics_compute
from apps.scoring.marking import answer_is_correct
from apps.scoring.models import ExamReliability, ItemParameter, ItemStatistic
from apps.scoring.simulation import answer_simulate
from apps.syllabus.services import syllabus_load
from tests.conftest import SYLLABUS, data_for_a_class
from tests.exams.factories import bank_build
from tests.scoring.factories import bank_simulate

CANDIDATES = 300


@pytest.fixture(scope="class")
def simulated_bank(django_db_setup, django_db_blocker):
    """96 single-answer 3PL items answered by 300 candidates on their first mock; one published item is miskeyed
    and one has a distractor nobody finds plausible. Simulating 300 candidates through the real path takes over
    half a minute, so the tests of one class share a single bank."""
    with data_for_a_class(django_db_blocker):
        exam = syllabus_load(path=SYLLABUS).exam
        miskeyed, dead = bank_simulate(exam=exam, candidates=CANDIDATES)
        yield exam, miskeyed, dead


@pytest.mark.django_db  # each test in a savepoint of its own, so none sees what another wrote
class TestFlagsOnOneSimulatedBank:
    """The tests that share the simulated bank."""

    def test_good_items_are_rarely_flagged_and_planted_faults_are_found(self, simulated_bank):
        exam, miskeyed, dead = simulated_bank

        # when
        analysed = item_statistics_compute(exam=exam)

        # then
        stats = {row.question_id: row for row in ItemStatistic.objects.all()}
        assert analysed == len(stats) == 96
        good = [row for pk, row in stats.items() if pk not in (miskeyed, dead)]
        flagged = [row for row in good if row.flags]
        assert min(row.responses for row in good) >= statistics.MIN_RESPONSES_FOR_FLAGS
        assert len(flagged) <= 0.10 * len(good), [(row.question_id, row.flags, row.facility) for row in flagged]
        assert stats[miskeyed].flag_miskey
        assert stats[dead].flag_weak_distractor
        assert [option["problem"] for option in stats[dead].options] == [None, None, None, statistics.DISTRACTOR_RARE]
        for row in stats.values():  # one denominator: the item's first attempts
            key = next(option for option in row.options if option["correct"])
            assert key["chosen"] == row.correct  # single answer: choosing the key is getting it right
            assert sum(option["chosen"] for option in row.options) + row.unanswered == row.responses
            assert row.facility == pytest.approx(row.correct / row.responses)
            assert row.versions == [exam.code]

    def test_reliability_counts_scored_items_only(self, simulated_bank):
        exam, _, _ = simulated_bank
        item_statistics_compute(exam=exam)
        before = ExamReliability.objects.get(exam=exam)

        # when pretest answers change completely, the scored total and KR-20 must not move
        AttemptItem.objects.filter(scored=False).update(is_correct=True)
        item_statistics_compute(exam=exam)
        after = ExamReliability.objects.get(exam=exam)

        assert after.attempts == before.attempts == CANDIDATES
        assert after.alpha == pytest.approx(before.alpha)
        assert 0.6 < after.alpha < 0.95  # 50 scored 3PL items of moderate slope
        assert after.sem == pytest.approx(after.sd * np.sqrt(1 - after.alpha))

    def test_admin_explains_each_flag_with_its_counts(self, simulated_bank, instructor_client):
        exam, miskeyed, dead = simulated_bank
        item_statistics_compute(exam=exam)
        ItemParameter.objects.create(question_id=miskeyed, b=1.4, b_se=0.16, responses=612)
        stats = ItemStatistic.objects.get(question_id=miskeyed)
        n = stats.responses
        changelist = reverse("admin:questions_question_changelist")

        # when
        miskeys = instructor_client.get(changelist, {"flag": "miskey"}).context["cl"].result_list
        distractors = instructor_client.get(changelist, {"flag": "distractor"}).context["cl"].result_list
        page = instructor_client.get(reverse("admin:questions_question_change", args=[miskeyed]))

        # then
        assert miskeyed in [question.pk for question in miskeys]
        assert dead in [question.pk for question in distractors]
        html = page.content.decode()
        assert f"pooled over {exam.code}: {n} first attempts" in html
        assert f"{stats.correct} of {n} first attempts" in html
        key = next(option for option in stats.options if option["correct"])
        assert f"{key['chosen'] / n:.0%} ({key['chosen']} of {n})" in html
        assert "Possible miskey: the discrimination index is negative" in html
        assert "Not working: stronger candidates choose it more" in html  # the option that is really right
        assert "612 responses from every scored mock exam of one version, repeats included" in html


def test_simulated_answers_have_the_stored_shape_and_mark_as_intended(bank):
    rng = np.random.default_rng(1)
    for question in questions_with_parts().filter(task__domain__exam=bank):
        for right in (True, False):
            answer = answer_simulate(question, right=right, rng=rng)
            assert answer_is_correct(question, answer) is right, (question.type, answer)


def test_no_flag_below_fifty_first_attempts(exam, django_capture_on_commit_callbacks):
    # given: 20 candidates who answer nothing; from 50 on, every item would be flagged too hard
    bank_build(exam, per_task=5, pretest_per_task=0, case_study=False)
    users = get_user_model()
    with django_capture_on_commit_callbacks(execute=True):
        for n in range(20):
            attempt = attempt_start_mock(candidate=users.objects.create_user(f"few{n}"), exam=exam, seed=n)
            attempt_submit(attempt=attempt)

    # when
    item_statistics_compute(exam=exam)

    # then
    rows = ItemStatistic.objects.all()
    assert rows
    assert all(row.responses < statistics.MIN_RESPONSES_FOR_FLAGS for row in rows)
    assert all(row.facility == 0 and not row.flags for row in rows)
