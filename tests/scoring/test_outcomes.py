"""Real exam outcomes: candidates' reports and their rules, the prediction snapshot, and the instructors'
calibration (Brier score, reliability bins, the pass line re-estimated by logistic regression)."""

import datetime
import math
import re

import numpy as np
import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.urls import reverse
from rest_framework.test import APIClient

from apps.exams.models import Attempt, AttemptItem
from apps.scoring import irt
from apps.scoring.models import ExamOutcome
from apps.scoring.outcomes import (
    CUT_MINIMUM_REPORTS,
    OutcomeInvalidError,
    brier_score,
    calibration_for,
    cut_from_outcomes,
    day_start,
    exam_outcome_save,
    logistic_fit,
    outcome_problems,
    reliability_bins,
)
from apps.scoring.progress import readiness_for
from tests.scoring.factories import scored_mock

TODAY = datetime.date(2026, 12, 6)
NOW = datetime.datetime(2026, 12, 6, 12, 0, tzinfo=datetime.UTC)


@pytest.fixture
def other(db):
    return get_user_model().objects.create_user("other", password="pw-other-123")


def _report(**overrides) -> dict:
    data = {"exam": "MLA-C01", "sat_on": "2026-11-20", "result": "pass", "scaled_score": "781"}
    data.update(overrides)
    return data


def _outcome(candidate, exam, **fields) -> ExamOutcome:
    values = {"sat_on": datetime.date(2026, 11, 1), "passed": True}
    values.update(fields)
    return ExamOutcome.objects.create(candidate=candidate, exam=exam, **values)


# --- the rules of a report --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sat_on", "passed", "score", "field", "message"),
    [
        (datetime.date(2026, 12, 7), True, None, "sat_on", "cannot be in the future"),
        (datetime.date(2023, 12, 31), True, None, "sat_on", "cannot be before 1 January 2024"),
        (datetime.date(2026, 11, 2), False, 750, "scaled_score", "750 reaches the pass mark of 720, so it is a pass"),
        (datetime.date(2026, 11, 2), True, 719, "scaled_score", "719 is below the pass mark of 720, so it is a fail"),
        (datetime.date(2026, 11, 2), True, 1001, "scaled_score", "runs from 100 to 1000; 1001 is off the scale"),
        (datetime.date(2026, 11, 2), False, 99, "scaled_score", "runs from 100 to 1000; 99 is off the scale"),
    ],
)
def test_a_report_that_breaks_a_rule_is_refused_with_the_field_named(exam, sat_on, passed, score, field, message):
    problems = outcome_problems(exam=exam, sat_on=sat_on, passed=passed, scaled_score=score, today=TODAY)

    assert list(problems) == [field]
    assert message in problems[field]


def test_reports_that_keep_the_rules_pass(exam):
    for sat_on, passed, score in [
        (TODAY, True, 720),
        (datetime.date(2024, 1, 1), False, 719),
        (datetime.date(2025, 5, 5), True, None),
        (datetime.date(2025, 5, 5), False, 100),
        (datetime.date(2025, 5, 5), True, 1000),
    ]:
        assert outcome_problems(exam=exam, sat_on=sat_on, passed=passed, scaled_score=score, today=TODAY) == {}


def test_a_version_cannot_have_been_sat_before_it_was_offered(exam_c02):
    problems = outcome_problems(
        exam=exam_c02, sat_on=datetime.date(2026, 9, 28), passed=True, scaled_score=None, today=TODAY
    )

    assert problems == {
        "sat_on": "The date of the exam cannot be before 29 September 2026, when MLA-C02 was first offered."
    }


def test_one_report_per_version_and_day(exam, candidate):
    exam_outcome_save(candidate=candidate, exam=exam, sat_on=datetime.date(2026, 11, 2), passed=False, today=TODAY)

    with pytest.raises(OutcomeInvalidError) as refused:
        exam_outcome_save(candidate=candidate, exam=exam, sat_on=datetime.date(2026, 11, 2), passed=True, today=TODAY)

    assert "already reported a MLA-C01 result for 2 November 2026" in refused.value.problems["sat_on"]
    assert ExamOutcome.objects.count() == 1


@time_machine.travel(NOW, tick=False)
@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"scaled_score": "750", "result": "fail"}, "scaled_score", "so it is a pass"),
        ({"scaled_score": "600"}, "scaled_score", "so it is a fail"),
        ({"scaled_score": "1200"}, "scaled_score", "off the scale"),
        ({"scaled_score": "seven hundred"}, "scaled_score", "a whole number from 100 to 1000"),
        ({"sat_on": "2026-12-07"}, "sat_on", "cannot be in the future"),
        ({"sat_on": "2019-05-01"}, "sat_on", "cannot be before 1 January 2024"),
        ({"sat_on": "yesterday"}, "sat_on", "as a date, e.g. 2026-10-14"),
        ({"sat_on": ""}, "sat_on", "Give the date you sat the exam."),
        ({"result": ""}, "result", "Choose the result: pass or fail."),
        ({"result": "maybe"}, "result", "Choose pass or fail."),
        ({"exam": "MLA-X99"}, "exam", "Choose one of the listed exam versions."),
    ],
)
def test_the_progress_form_names_the_field_of_each_problem(client, bank, candidate, overrides, field, message):
    client.force_login(candidate)

    response = client.post(reverse("scoring:outcome-create"), _report(**overrides))

    assert response.status_code == 400
    body = response.content.decode()
    assert message in body
    assert response.context["outcome_form"].errors.keys() == {field}
    assert not ExamOutcome.objects.exists()


@time_machine.travel(NOW, tick=False)
def test_a_candidate_reports_a_result_and_sees_the_prediction(
    client, bank, candidate, django_capture_on_commit_callbacks
):
    # given: a scored mock finished a week before the exam
    with django_capture_on_commit_callbacks(execute=True):
        attempt = scored_mock(exam=bank, candidate=candidate, ability=0.7, seed=3)
    Attempt.objects.filter(pk=attempt.pk).update(submitted_at=NOW - datetime.timedelta(days=20))
    client.force_login(candidate)

    # when
    response = client.post(reverse("scoring:outcome-create"), _report(), follow=True)

    # then
    outcome = ExamOutcome.objects.get()
    assert (outcome.passed, outcome.scaled_score, outcome.sat_on) == (True, 781, datetime.date(2026, 11, 20))
    assert outcome.predicted_responses == attempt.items.filter(scored=True).count() > 0
    body = response.content.decode()
    assert "Your MLA-C01 result of 2026-11-20 is saved." in body
    shown = re.search(r"We gave you (\d+)% based on (\d+) scored items", body)
    assert shown is not None
    assert int(shown[1]) == round(100 * outcome.predicted_pass_probability)
    assert int(shown[2]) == outcome.predicted_responses


# --- the prediction snapshot ------------------------------------------------------------------------------------


def test_the_snapshot_uses_only_evidence_from_before_the_day(bank, candidate, django_capture_on_commit_callbacks):
    # given: one mock finished before the exam day, one on the day itself and one after it
    exam_day = datetime.date(2026, 11, 10)
    with django_capture_on_commit_callbacks(execute=True):
        before = scored_mock(exam=bank, candidate=candidate, ability=0.9, seed=4)
        same_day = scored_mock(exam=bank, candidate=candidate, ability=0.1, seed=5)
        after = scored_mock(exam=bank, candidate=candidate, ability=0.1, seed=6)
    moments = {before: -3, same_day: 0, after: 2}
    for attempt, days in moments.items():
        submitted = day_start(exam_day) + datetime.timedelta(days=days, hours=9)
        Attempt.objects.filter(pk=attempt.pk).update(submitted_at=submitted)

    # when
    outcome = exam_outcome_save(candidate=candidate, exam=bank, sat_on=exam_day, passed=True, today=TODAY)

    # then: only the first mock counts, and it gives what readiness from that mock alone gives
    expected = readiness_for(candidate=candidate, exam=bank, before=day_start(exam_day))
    everything = readiness_for(candidate=candidate, exam=bank)
    assert outcome.predicted_responses == before.items.filter(scored=True).count() == expected.responses
    # readiness counts each item family once, at its first answer (later mocks repeat some of them)
    seen, first = set(), 0
    rows = AttemptItem.objects.filter(attempt__in=[before, same_day, after]).order_by("attempt__started_at", "position")
    for family, scored in rows.values_list("question__family", "scored"):
        if family not in seen:
            seen.add(family)
            first += scored
    assert expected.responses < everything.responses == first
    assert outcome.predicted_theta == pytest.approx(expected.theta)
    assert outcome.predicted_theta_se == pytest.approx(expected.se)
    assert outcome.predicted_pass_probability == pytest.approx(expected.pass_probability)
    assert outcome.predicted_cut_theta == pytest.approx(expected.cut_theta)
    assert outcome.predicted_theta > everything.theta  # the later, weaker mocks did not pull it down

    # when the date moves to before any evidence, the prediction is taken again: there is none
    moved = exam_outcome_save(
        candidate=candidate,
        exam=bank,
        sat_on=exam_day - datetime.timedelta(days=5),
        passed=True,
        outcome_id=outcome.pk,
        today=TODAY,
    )
    assert moved.pk == outcome.pk
    assert not moved.has_prediction
    assert (moved.predicted_theta, moved.predicted_cut_theta, moved.predicted_responses) == (None, None, 0)


def test_correcting_the_result_keeps_the_prediction(bank, candidate, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        attempt = scored_mock(exam=bank, candidate=candidate, ability=0.6, seed=7)
    Attempt.objects.filter(pk=attempt.pk).update(submitted_at=NOW - datetime.timedelta(days=30))
    outcome = exam_outcome_save(
        candidate=candidate, exam=bank, sat_on=datetime.date(2026, 11, 20), passed=True, today=TODAY
    )
    snapshot = outcome.predicted_pass_probability

    # when later evidence arrives and the candidate corrects the result, the prediction stays as it was
    with django_capture_on_commit_callbacks(execute=True):
        scored_mock(exam=bank, candidate=candidate, ability=0.1, seed=8)
    corrected = exam_outcome_save(
        candidate=candidate,
        exam=bank,
        sat_on=datetime.date(2026, 11, 20),
        passed=False,
        scaled_score=690,
        outcome_id=outcome.pk,
        today=TODAY,
    )

    assert corrected.predicted_pass_probability == snapshot is not None
    assert (corrected.passed, corrected.scaled_score) == (False, 690)


# --- calibration: Brier score and bins --------------------------------------------------------------------------


def test_brier_score_on_known_numbers():
    # (0.9-1)² + (0.2-0)² + (0.6-0)² + (0.5-1)² = 0.01 + 0.04 + 0.36 + 0.25 = 0.66, over 4
    assert brier_score([0.9, 0.2, 0.6, 0.5], [True, False, False, True]) == pytest.approx(0.165)
    assert brier_score([1.0, 0.0], [True, False]) == 0.0


def test_reliability_bins_on_known_numbers():
    predicted = [0.05, 0.1, 0.15, 0.62, 0.64, 0.66, 0.68, 0.95, 1.0]
    passed = [False, False, True, True, True, False, True, True, True]

    bins = reliability_bins(predicted, passed)

    assert [b.label for b in bins][:2] == ["0–10%", "10–20%"]
    assert bins[-1].label == "90–100%"
    assert [b.n for b in bins] == [1, 2, 0, 0, 0, 0, 4, 0, 0, 2]  # 0.1 opens the second bin, 1.0 closes the last
    sixty = bins[6]
    assert (sixty.passes, sixty.observed) == (3, 0.75)
    assert sixty.mean_predicted == pytest.approx(0.65)
    assert (sixty.wilson_low, sixty.wilson_high) == pytest.approx(irt.wilson_interval(3, 4))
    assert sixty.wilson_low == pytest.approx(0.3006, abs=1e-3)
    assert sixty.wilson_high == pytest.approx(0.9544, abs=1e-3)
    empty = bins[3]
    assert (empty.observed, empty.mean_predicted, empty.wilson_low) == (None, None, None)


# --- the pass line from outcomes --------------------------------------------------------------------------------


def _simulated(n: int, *, cut: float, slope: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    theta = rng.normal(0.3, 1.0, n)
    passed = rng.random(n) < 1 / (1 + np.exp(-slope * (theta - cut)))
    return theta, passed


def test_the_logistic_fit_recovers_a_known_cut():
    theta, passed = _simulated(2000, cut=0.4, slope=2.5, seed=11)

    fit = logistic_fit(theta, passed)
    estimate = cut_from_outcomes(theta, passed, current_cut=0.3)

    assert fit.beta1 == pytest.approx(2.5, rel=0.15)
    assert estimate.available
    assert estimate.theta == pytest.approx(0.4, abs=0.08)
    assert estimate.low < 0.4 < estimate.high
    assert 0.02 < estimate.high - estimate.low < 0.3
    assert estimate.current_cut == 0.3


def test_the_delta_interval_covers_the_true_cut_about_95_times_in_100():
    covered = 0
    for seed in range(200):
        theta, passed = _simulated(150, cut=0.2, slope=2.0, seed=100 + seed)
        estimate = cut_from_outcomes(theta, passed, current_cut=0.0)
        covered += estimate.available and estimate.low <= 0.2 <= estimate.high
    assert 0.90 * 200 <= covered <= 0.99 * 200


@pytest.mark.parametrize(
    ("theta", "passed", "reason"),
    [
        (np.linspace(-2, 2, 120), [True] * 120, "every report is a pass"),
        (np.linspace(-2, 2, 120), [False] * 120, "every report is a fail"),
        (np.linspace(-2, 2, 120), list(np.linspace(-2, 2, 120) > 0.5), "perfectly separated"),
        (np.linspace(-2, 2, 120), list(np.linspace(-2, 2, 120) < 0.5), "every fail had a higher θ"),
        ([0.7] * 120, [i % 3 == 0 for i in range(120)], "every report has the same θ"),
    ],
    ids=["all-pass", "all-fail", "separated", "reversed", "one-theta"],
)
def test_degenerate_outcomes_give_no_estimate_and_say_why(theta, passed, reason):
    estimate = cut_from_outcomes(theta, passed, current_cut=0.3)

    assert not estimate.available
    assert reason in estimate.reason
    assert estimate.needed == 0


def test_a_falling_curve_gives_no_estimate():
    # given: overlapping data where passing becomes less likely as θ grows
    theta, passed = _simulated(400, cut=0.0, slope=-1.5, seed=5)

    estimate = cut_from_outcomes(theta, passed, current_cut=0.3)

    assert not estimate.available
    assert estimate.beta1 < 0
    assert "a higher θ did not go with passing more" in estimate.reason


def test_below_a_hundred_reports_it_says_how_many_more():
    theta, passed = _simulated(CUT_MINIMUM_REPORTS - 37, cut=0.0, slope=2.0, seed=1)

    estimate = cut_from_outcomes(theta, passed, current_cut=0.3)

    assert not estimate.available
    assert estimate.needed == 37
    assert "37 more reports with a prediction are needed" in estimate.reason


# --- permissions ------------------------------------------------------------------------------------------------


@time_machine.travel(NOW, tick=False)
def test_a_candidate_cannot_see_edit_or_delete_anothers_report(client, exam, candidate, other):
    theirs = _outcome(other, exam, scaled_score=800)
    client.force_login(candidate)

    assert "800" not in client.get(reverse("scoring:progress")).content.decode()
    assert client.get(reverse("scoring:outcome-edit", args=[theirs.pk])).status_code == 404
    edit = client.post(reverse("scoring:outcome-edit", args=[theirs.pk]), _report(result="fail", scaled_score=""))
    assert edit.status_code == 404
    assert client.post(reverse("scoring:outcome-delete", args=[theirs.pk])).status_code == 404
    for tampered in (theirs.pk + 1000, 2**31 + 5):
        assert client.get(f"/progress/outcomes/{tampered}/").status_code == 404
        assert client.post(f"/progress/outcomes/{tampered}/delete/").status_code == 404
    theirs.refresh_from_db()
    assert (theirs.passed, theirs.scaled_score) == (True, 800)


@time_machine.travel(NOW, tick=False)
def test_a_candidate_edits_and_deletes_their_own_report(client, exam, candidate):
    mine = _outcome(candidate, exam, scaled_score=790)
    client.force_login(candidate)

    page = client.get(reverse("scoring:outcome-edit", args=[mine.pk]))
    assert page.status_code == 200
    assert 'value="790"' in page.content.decode()
    refused = client.post(reverse("scoring:outcome-edit", args=[mine.pk]), _report(sat_on="2026-11-01", result="fail"))
    assert refused.status_code == 400
    assert "781 reaches the pass mark of 720, so it is a pass" in refused.content.decode()
    saved = client.post(
        reverse("scoring:outcome-edit", args=[mine.pk]), _report(sat_on="2026-11-01", result="fail", scaled_score="702")
    )
    assert saved.status_code == 302
    mine.refresh_from_db()
    assert (mine.passed, mine.scaled_score) == (False, 702)

    client.post(reverse("scoring:outcome-delete", args=[mine.pk]))

    assert not ExamOutcome.objects.exists()


def test_only_staff_with_the_permission_see_the_calibration_page(client, exam, candidate, instructor):
    url = reverse("admin:scoring_examoutcome_calibration")
    client.force_login(candidate)
    assert client.get(url).status_code == 302  # to the admin's login

    client.force_login(instructor)
    response = client.get(url, {"exam": exam.code})
    assert response.status_code == 200
    assert "No reports with a prediction yet for MLA-C01." in response.content.decode()


# --- the calibration page ---------------------------------------------------------------------------------------


def test_the_calibration_page_shows_brier_bins_chart_and_the_cut(client, exam, instructor):
    # given: 150 reports with a prediction, simulated from a known pass line, and 4 without one
    theta, passed = _simulated(150, cut=0.3, slope=2.0, seed=21)
    user_model = get_user_model()
    people = user_model.objects.bulk_create([user_model(username=f"c{i}") for i in range(154)])
    predictions = [0.5 * (1 + math.erf(t - 0.3)) for t in theta]
    ExamOutcome.objects.bulk_create(
        [
            ExamOutcome(
                candidate=person,
                exam=exam,
                sat_on=datetime.date(2026, 10, 1),
                passed=bool(y),
                predicted_theta=float(t),
                predicted_theta_se=0.4,
                predicted_pass_probability=p,
                predicted_responses=50,
                predicted_cut_theta=0.3,
            )
            for person, t, y, p in zip(people, theta, passed, predictions, strict=False)
        ]
        + [
            ExamOutcome(candidate=person, exam=exam, sat_on=datetime.date(2026, 10, 1), passed=True)
            for person in people[150:]
        ]
    )
    client.force_login(instructor)

    # when
    response = client.get(reverse("admin:scoring_examoutcome_calibration"), {"exam": exam.code})

    # then
    body = response.content.decode()
    calibration = calibration_for(exam=exam)
    assert (calibration.reports, calibration.predicted) == (154, 150)
    assert calibration.brier == pytest.approx(brier_score(predictions, passed))
    assert calibration.base_rate == pytest.approx(passed.mean())
    assert f"{calibration.brier:.3f}" in body
    assert "154, of which <strong>150</strong> with a prediction" in body
    assert body.count('role="img"') == 1
    assert '<title id="reliability-mla-c01-title">' in body
    filled = [b for b in calibration.bins if b.n]
    assert body.count("<title>Predicted ") == len(filled)
    assert body.count('<th scope="row">') == 10
    assert "θ = 0.30" in body or "θ = 0.3" in body  # the current cut
    assert calibration.cut.available
    assert calibration.cut.theta == pytest.approx(0.3, abs=0.35)
    assert f"θ = {calibration.cut.theta:.2f}</strong>" in body


def test_the_calibration_page_says_how_many_reports_the_cut_still_needs(client, exam, instructor, candidate):
    _outcome(candidate, exam, predicted_theta=0.5, predicted_theta_se=0.3, predicted_pass_probability=0.7)
    client.force_login(instructor)

    body = client.get(reverse("admin:scoring_examoutcome_calibration")).content.decode()

    assert "Not yet: 1 reports with a prediction; 99 more are needed (the estimate starts at 100)." in body


# --- API --------------------------------------------------------------------------------------------------------


@time_machine.travel(NOW, tick=False)
def test_the_api_lists_creates_and_deletes_own_reports(exam, candidate, other):
    api = APIClient()
    api.force_authenticate(candidate)
    theirs = _outcome(other, exam)

    created = api.post(
        "/api/v1/outcomes/",
        {"exam": "MLA-C01", "sat_on": "2026-11-20", "passed": False, "scaled_score": 650},
        format="json",
    )
    assert created.status_code == 201, created.json()
    body = created.json()
    assert (body["exam"], body["passed"], body["scaled_score"], body["predicted_pass_probability"]) == (
        "MLA-C01",
        False,
        650,
        None,
    )
    duplicate = api.post(
        "/api/v1/outcomes/", {"exam": "MLA-C01", "sat_on": "2026-11-20", "passed": False}, format="json"
    )
    assert duplicate.status_code == 409
    assert "already reported" in duplicate.json()["error"]["fields"]["sat_on"][0]
    wrong = api.post("/api/v1/outcomes/", {"sat_on": "2026-11-21", "passed": False, "scaled_score": 730}, format="json")
    assert wrong.status_code == 400
    assert "730 reaches the pass mark" in wrong.json()["error"]["fields"]["scaled_score"][0]

    listed = api.get("/api/v1/outcomes/").json()
    assert [row["id"] for row in listed["results"]] == [body["id"]]
    assert api.get(f"/api/v1/outcomes/{theirs.pk}/").status_code == 404
    assert api.delete(f"/api/v1/outcomes/{theirs.pk}/").status_code == 404
    assert api.delete(f"/api/v1/outcomes/{body['id']}/").status_code == 204
    assert list(ExamOutcome.objects.values_list("candidate__username", flat=True)) == ["other"]


def test_the_schema_describes_the_outcome_endpoints(client):
    schema = client.get("/api/schema/").content.decode()

    assert "/api/v1/outcomes/{outcome_id}/" in schema
    assert "v1_outcomes_create" in schema
