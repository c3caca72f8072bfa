from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.test import TestCase
from django.urls import reverse
from django.utils import timezone

from apps.exams.models import Attempt, AttemptItem, AttemptState
from apps.exams.services import attempt_start_mock, attempt_submit
from apps.questions.models import Question
from apps.scoring.analysis import attempts_unscored, item_statistics_compute, items_calibrate
from apps.scoring.models import AttemptResult, ExamReliability, ItemParameter, ItemStatistic
from apps.scoring.services import attempt_score_compute
from apps.syllabus.services import syllabus_load
from tests.conftest import SYLLABUS, data_for_a_class
from tests.exams.factories import bank_build
from tests.scoring.factories import scored_mock


@pytest.fixture(scope="class")
def scored_bank(django_db_setup, django_db_blocker):
    """24 candidates' scored mocks on a bank of 5 published and 2 pretest items per task, with one item everyone
    gets right. Building and scoring them takes a while, so the tests of one class share them."""
    with data_for_a_class(django_db_blocker):
        exam = syllabus_load(path=SYLLABUS).exam
        bank_build(exam, per_task=5, pretest_per_task=2, case_study=False)
        easy = Question.objects.filter(status="published", type="single").first()
        users = get_user_model()
        with TestCase.captureOnCommitCallbacks(execute=True):
            for n in range(24):
                candidate = users.objects.create_user(f"sim{n}")
                scored_mock(exam=exam, candidate=candidate, ability=0.3 + n / 40, seed=n, always_right={easy.pk})
        yield exam, easy


@pytest.mark.django_db  # each test in a savepoint of its own, so none sees what another wrote
class TestOneScoredBank:
    """The tests that share the scored mocks."""

    def test_item_statistics_on_first_attempts(self, scored_bank):
        exam, easy = scored_bank

        analysed = item_statistics_compute(exam=exam)

        assert analysed == ItemStatistic.objects.count() > 60
        stats = ItemStatistic.objects.get(question=easy)
        assert stats.facility == 1.0
        assert stats.correct == stats.responses <= 24
        assert stats.flags == []  # under 50 first attempts: no flag, however extreme
        key = next(option for option in stats.options if option["correct"])
        assert key["chosen"] == stats.responses
        assert {"text", "correct", "chosen", "share", "point_biserial", "problem"} <= set(stats.options[0])
        reliability = ExamReliability.objects.get(exam=exam)
        assert reliability.attempts == 24
        assert reliability.alpha is not None
        assert reliability.sem is not None

    def test_calibration_stores_parameters_for_items_with_enough_responses(self, scored_bank):
        exam, _ = scored_bank

        stored = items_calibrate(exam=exam, min_responses=10)

        assert stored == ItemParameter.objects.count() > 0
        assert ItemParameter.objects.filter(responses__lt=10).count() == 0
        assert items_calibrate(exam=exam) == 0  # nothing reaches 200 responses here

    def test_option_shares_are_left_out_when_answers_do_not_say_what_was_chosen(self, scored_bank):
        exam, easy = scored_bank
        AttemptItem.objects.filter(question=easy).update(answer={"simulated": True})  # marked, but no choice stored

        item_statistics_compute(exam=exam)

        stats = ItemStatistic.objects.get(question=easy)
        assert stats.facility == 1.0
        assert stats.options == []  # rather than "chosen by 0%" next to a key everyone got right
        assert ItemStatistic.objects.exclude(question=easy).filter(question__type="single").exclude(options=[]).exists()

    def test_admin_shows_counts_and_why_there_are_no_flags_yet(self, scored_bank, instructor_client):
        exam, easy = scored_bank
        item_statistics_compute(exam=exam)
        stats = ItemStatistic.objects.get(question=easy)
        changelist = reverse("admin:questions_question_changelist")

        listed = instructor_client.get(changelist, {"flag": "easy"})
        page = instructor_client.get(reverse("admin:questions_question_change", args=[easy.pk])).content.decode()

        assert easy not in listed.context["cl"].result_list
        assert "Item statistics (first attempts)" in page
        assert f"{stats.responses} of {stats.responses} first attempts" in page
        assert f"100% ({stats.responses} of {stats.responses})" in page  # the key, out of the same denominator
        assert f"No flags before 50 first attempts ({stats.responses} so far)" in page
        assert instructor_client.get(changelist, {"o": "6"}).status_code == 200  # sortable by facility

    def test_pretest_items_are_promoted_only_once_calibrated(self, scored_bank, instructor_client):
        pretest = list(Question.objects.filter(status="pretest")[:2])
        ItemParameter.objects.create(question=pretest[0], b=0.1, b_se=0.1, responses=250)
        changelist = reverse("admin:questions_question_changelist")

        instructor_client.post(
            changelist, {"action": "promote_calibrated", "_selected_action": [str(q.pk) for q in pretest]}
        )

        assert Question.objects.get(pk=pretest[0].pk).status == "published"
        assert Question.objects.get(pk=pretest[1].pk).status == "pretest"


def test_lost_scoring_messages_are_found_after_two_minutes(bank, candidate):
    attempt = attempt_start_mock(candidate=candidate, exam=bank, seed=1)
    attempt_submit(attempt=attempt)  # on_commit never runs here: as if the broker lost the message

    assert attempts_unscored() == []
    assert attempts_unscored(now=timezone.now() + timedelta(minutes=3)) == [attempt.pk]

    attempt_score_compute(attempt_id=attempt.pk)
    attempt_score_compute(attempt_id=attempt.pk)
    assert AttemptResult.objects.filter(attempt=attempt).count() == 1
    assert Attempt.objects.get(pk=attempt.pk).state == AttemptState.SCORED
    assert attempts_unscored(now=timezone.now() + timedelta(minutes=3)) == []


def test_calibrated_difficulty_is_used_for_scoring(bank, candidate):
    attempt = attempt_start_mock(candidate=candidate, exam=bank, seed=2)
    scored = attempt.items.filter(scored=True).values_list("question_id", flat=True)
    for question_id in scored:
        ItemParameter.objects.create(question_id=question_id, b=2.5, b_se=0.1, responses=300)
    attempt_submit(attempt=attempt)

    result = attempt_score_compute(attempt_id=attempt.pk)

    assert result.theta < 0  # all wrong on items calibrated as hard


def test_item_report_reads_discrimination_as_a_correlation_and_adds_up_to_the_facility():
    # given: a multiple-response item (two keys) answered on 60 first attempts, 27 of them right
    from apps.scoring.selectors import item_statistics_report

    options = [
        {"text": "Key A", "correct": True, "chosen": 41, "share": 41 / 60, "point_biserial": 0.31, "problem": None},
        {"text": "Key B", "correct": True, "chosen": 35, "share": 35 / 60, "point_biserial": 0.22, "problem": None},
        {"text": "Wrong", "correct": False, "chosen": 20, "share": 20 / 60, "point_biserial": -0.3, "problem": None},
    ]
    statistic = ItemStatistic(
        responses=60, correct=27, unanswered=2, versions=["MLA-C02"], facility=0.45, discrimination=-12.4,
        efficiency=40.0, options=options, flag_miskey=True,
    )  # fmt: skip

    # when
    report = item_statistics_report(statistic=statistic, parameter=None)

    # then: r as a correlation with its range, each figure with its count, and the right answers' row
    rows = {row.label: row for row in report.rows}
    assert rows["Discrimination (r)"].value == "−0.12 (correlation, from −1 to 1)"
    assert rows["Discrimination (r)"].basis == "60 first attempts"
    assert rows["Facility (share right)"].basis == "27 of 60 first attempts"
    assert [option.chosen for option in report.options] == ["68% (41 of 60)", "58% (35 of 60)", "33% (20 of 60)"]
    assert report.all_keys == "45% (27 of 60)"  # the facility's count, which the keys' counts exceed
    assert report.flags == ["Possible miskey: the discrimination index is negative (r = −0.12) over 60 first attempts."]


def test_single_answer_report_needs_no_separate_right_row():
    from apps.scoring.selectors import item_statistics_report

    options = [
        {"text": "Key", "correct": True, "chosen": 30, "share": 0.5, "point_biserial": 0.4, "problem": None},
        {"text": "Wrong", "correct": False, "chosen": 30, "share": 0.5, "point_biserial": -0.4, "problem": None},
    ]
    statistic = ItemStatistic(responses=60, correct=30, facility=0.5, discrimination=48.3, options=options)

    report = item_statistics_report(statistic=statistic, parameter=None)

    assert report.options[0].chosen == "50% (30 of 60)"  # the key's count is the facility's
    assert report.all_keys == ""
    assert {row.label: row.value for row in report.rows}["Discrimination (r)"].startswith("0.48 ")
