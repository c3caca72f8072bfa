"""What a candidate is told: bands, a chance of passing that never reads as certainty, readiness from first answers
only, and domain labels decided about the cut (issue: scores candidates can trust)."""

import numpy as np
import pytest
from django.urls import reverse

from apps.core.templatetags.display import chance
from apps.exams.models import AttemptItem
from apps.exams.services import attempt_start_practice, attempt_start_review, attempt_submit
from apps.scoring import irt, services
from apps.scoring.analysis import items_calibrate
from apps.scoring.irt import CLASSIFY_CONFIDENCE
from apps.scoring.models import CalibrationRun, ItemParameter
from apps.scoring.progress import MIN_ITEMS_FOR_CHANCE, readiness_for
from apps.scoring.services import exam_cut_theta, item_model
from apps.syllabus.models import Task
from tests.scoring.factories import answer_for, scored_mock


@pytest.mark.parametrize(
    ("value", "shown"), [(0.0, "<1%"), (0.004, "<1%"), (0.005, "0%"), (0.42, "42%"), (0.996, ">99%"), (1.0, ">99%")]
)
def test_a_chance_never_reads_as_certainty(value, shown):
    assert chance(value) == shown


def test_results_show_a_band_and_what_the_chance_rests_on(client, bank, candidate, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        attempt = scored_mock(exam=bank, candidate=candidate, ability=0.7, seed=3)
    result = attempt.result
    client.force_login(candidate)

    body = client.get(reverse("scoring:results", args=[attempt.pk])).content.decode()

    low, high = irt.Scale(cut=result.cut_theta).band(result.theta, result.theta_se)
    assert low < result.scaled_score < high
    assert f'<span id="score-band">{low} and {high}</span>' in body
    assert f"based on {result.raw_scored} scored questions" in body
    assert result.method == "3pl-eap"


def _practice(exam, candidate, count, right: bool):
    tasks = list(Task.objects.filter(domain__exam=exam).values_list("pk", flat=True))
    attempt = attempt_start_practice(
        candidate=candidate, exam=exam, task_ids=tasks, count=count, timed=False, feedback="end", seed=count
    )
    items = list(AttemptItem.objects.filter(attempt=attempt).select_related("question"))
    for item in items:
        item.answer = answer_for(item.question, right=right)
    AttemptItem.objects.bulk_update(items, ["answer"])
    attempt_submit(attempt=attempt)
    return attempt


def test_no_chance_of_passing_from_a_handful_of_questions(client, bank, candidate, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        _practice(bank, candidate, 10, right=True)
    client.force_login(candidate)

    body = client.get(reverse("scoring:progress")).content.decode()

    readiness = readiness_for(candidate=candidate, exam=bank)
    assert readiness.responses == 10 < MIN_ITEMS_FOR_CHANCE
    assert 'id="readiness-chance"' not in body
    assert f"Answer at least {MIN_ITEMS_FOR_CHANCE} new questions" in body
    assert f"likely between {readiness.band_low} and {readiness.band_high}" in body


def test_readiness_counts_each_item_once_from_its_first_answer(bank, candidate, django_capture_on_commit_callbacks):
    # given a mock with misses, then a review set of those very items answered right (their keys now seen)
    with django_capture_on_commit_callbacks(execute=True):
        scored_mock(exam=bank, candidate=candidate, ability=0.3, seed=8)
    before = readiness_for(candidate=candidate, exam=bank)
    with django_capture_on_commit_callbacks(execute=True):
        review = attempt_start_review(candidate=candidate, exam=bank, count=20, seed=1)
        items = list(AttemptItem.objects.filter(attempt=review).select_related("question"))
        assert items
        for item in items:
            item.answer = answer_for(item.question, right=True)
        AttemptItem.objects.bulk_update(items, ["answer"])
        attempt_submit(attempt=review)

    after = readiness_for(candidate=candidate, exam=bank)

    # then the review set adds no evidence: the estimate is the mock's alone
    assert after.responses == before.responses
    assert after.theta == pytest.approx(before.theta)


def test_domain_labels_follow_the_sub_score_about_the_cut(bank, candidate, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        attempt = scored_mock(exam=bank, candidate=candidate, ability=0.5, seed=12)
    result = attempt.result

    for row in result.by_domain + result.by_task:
        expected = irt.pass_probability(row["theta"], row["se"], result.cut_theta)
        assert row["chance"] == pytest.approx(expected, abs=1e-3)
        if row["chance"] >= CLASSIFY_CONFIDENCE:
            assert row["classification"] == "meets"
        elif row["chance"] <= 1 - CLASSIFY_CONFIDENCE:
            assert row["classification"] == "needs"
        else:
            assert row["classification"] == "unsure"
    assert sum(row["total"] for row in result.by_domain) == result.raw_scored


def test_calibration_stores_3pl_parameters_and_the_prior_it_learned(bank, django_capture_on_commit_callbacks):
    from django.contrib.auth import get_user_model

    users = get_user_model()
    rng = np.random.default_rng(1)
    with django_capture_on_commit_callbacks(execute=True):
        for n in range(40):
            scored_mock(
                exam=bank, candidate=users.objects.create_user(f"cal{n}"), ability=float(rng.uniform(0.2, 0.9)), seed=n
            )
    cut_before = exam_cut_theta(exam=bank)

    stored = items_calibrate(exam=bank, min_responses=10)
    services._CALIBRATED_LOCAL.clear()  # workers re-read it within a minute
    services._CUT_LOCAL.clear()

    run = CalibrationRun.objects.get(exam=bank)
    assert stored == run.items_stored == ItemParameter.objects.count() > 0
    assert len(run.prior_beta) == 4
    assert run.prior_tau >= 0.3
    assert run.persons == 40
    for a, c in ItemParameter.objects.values_list("a", "c"):
        assert 0.25 <= a <= 4
        assert 0 < c < 0.5
    model = item_model(exam=bank)
    assert set(model.calibrated) == set(ItemParameter.objects.values_list("question_id", flat=True))
    assert model.prior.tau == pytest.approx(run.prior_tau)
    assert exam_cut_theta(exam=bank) != cut_before or stored == 0  # the cut is re-solved on the new parameters
