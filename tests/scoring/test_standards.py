"""Standard setting with a modified-Angoff panel: ratings in two rounds, impact data, adoption and the cut that
scoring then uses."""

from __future__ import annotations

import html
import random
from datetime import timedelta

import numpy as np
import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone

from apps.core.roles import INSTRUCTORS, roles_ensure
from apps.exams.models import Attempt, AttemptMode, AttemptState
from apps.scoring import irt, services
from apps.scoring.models import (
    AttemptResult,
    ItemParameter,
    ItemStatistic,
    RecordedCut,
    StudyRating,
    StudyState,
)
from apps.scoring.standards import (
    RatingsInvalidError,
    StandardSettingError,
    cut_source,
    round_summary,
    study_adopt,
    study_create,
    study_questions,
    study_ratings_save,
    study_round_two_open,
)

PRIOR = irt.DIFFICULTY_PRIOR


def make_rater(username: str):
    user = get_user_model().objects.create_user(username, password=f"pw-{username}-123", is_staff=True)
    user.groups.add(roles_ensure()[INSTRUCTORS])
    return user


@pytest.fixture
def facilitator(db):
    return get_user_model().objects.create_superuser("facil", password="pw-facil-123")


@pytest.fixture
def raters(db):
    return [make_rater(name) for name in ("ana", "ben", "cho")]


@pytest.fixture
def study(bank, facilitator):
    return study_create(exam=bank, name="C01 panel", created_by=facilitator, rng=random.Random(7))


def rate_all(study, rater, round_: int, value_of) -> None:
    questions = study_questions(study=study)
    study_ratings_save(
        study=study, rater=rater, round_=round_, values={q.pk: value_of(i, q) for i, q in enumerate(questions)}
    )


def model_of(questions) -> irt.Items:
    """The items as scoring sees them now (3PL: calibrated, else the difficulty prior)."""
    return services.item_model(exam=questions[0].task.domain.exam).items(questions)


def solve(questions, ratings) -> float:
    return irt.cut_theta(model_of(questions), np.asarray(ratings, dtype=float), bounds=(-6.0, 6.0))


def test_a_study_rates_the_scored_items_of_one_form(study, bank):
    # then: the base form is a full mock's scored items, in order, each once, with its task in the version
    items = list(study.items.order_by("position"))
    assert [item.position for item in items] == list(range(1, bank.scored_count + 1))
    assert len({item.question_id for item in items}) == bank.scored_count
    assert all(item.question.status == "published" for item in items)
    assert all(item.task.domain.exam_id == bank.pk for item in items)
    assert study.state == StudyState.ROUND_1


def test_three_raters_two_rounds_then_adoption_records_cut_spread_and_raters(
    study, raters, facilitator, django_capture_on_commit_callbacks
):
    # given: round 1, three raters at different levels
    questions = study_questions(study=study)
    levels = {"ana": 0.55, "ben": 0.65, "cho": 0.75}
    for rater in raters:
        rate_all(study, rater, 1, lambda i, q, rater=rater: levels[rater.username] + (0.1 if i % 2 else 0.0))
    study_round_two_open(study=study, by=facilitator)
    # round 2: ana revises every item up, ben revises only the first item, cho revises nothing
    rate_all(study, raters[0], 2, lambda i, q: 0.6 + (0.1 if i % 2 else 0.0))
    study_ratings_save(study=study, rater=raters[1], round_=2, values={questions[0].pk: 0.85})

    # when
    with django_capture_on_commit_callbacks(execute=True):
        cut = study_adopt(study=study, by=facilitator)

    # then: final = round 2 where given, else round 1
    n = len(questions)
    final = np.array(
        [
            [0.6 + (0.1 if i % 2 else 0.0) for i in range(n)],
            [0.85] + [0.65 + (0.1 if i % 2 else 0.0) for i in range(1, n)],
            [0.75 + (0.1 if i % 2 else 0.0) for i in range(n)],
        ]
    )
    means = final.mean(axis=0)
    own = [solve(questions, row) for row in final]
    assert cut.raw_cut == pytest.approx(means.sum())
    assert cut.theta == pytest.approx(solve(questions, means))
    assert cut.raters == 3
    assert cut.items == n
    assert cut.spread_sd == pytest.approx(np.std(own, ddof=1))
    assert cut.spread_se == pytest.approx(np.std(own, ddof=1) / np.sqrt(3))
    assert cut.method == "panel"
    assert cut.decided_by == facilitator
    assert {entry["name"] for entry in cut.rater_cuts} == {"ana", "ben", "cho"}
    study.refresh_from_db()
    assert study.state == StudyState.ADOPTED
    assert study.adopted_by == facilitator
    assert study.adopted_at == cut.decided_at


def test_exam_cut_theta_switches_to_the_panel_and_re_solves_when_an_item_is_recalibrated(
    study, raters, facilitator, django_capture_on_commit_callbacks
):
    # given: the provisional seed cut
    exam = study.exam
    provisional = services.exam_cut_theta(exam=exam)
    assert cut_source(exam=exam) == ("provisional", None)
    assert provisional == pytest.approx(services.provisional_cut_theta(exam=exam))
    for rater, level in zip(raters, (0.5, 0.55, 0.6), strict=True):
        rate_all(study, rater, 1, lambda i, q, level=level: level)
    study_round_two_open(study=study, by=facilitator)

    # when: the panel is adopted
    with django_capture_on_commit_callbacks(execute=True):
        cut = study_adopt(study=study, by=facilitator)

    # then: scoring uses the panel's cut at once in this worker
    assert cut_source(exam=exam) == ("panel", study)
    assert services.exam_cut_theta(exam=exam) == pytest.approx(cut.theta)
    assert cut.theta != pytest.approx(provisional)

    # when: an item of the base form is calibrated much harder
    questions = study_questions(study=study)
    ItemParameter.objects.create(question=questions[0], b=2.5, b_se=0.1, responses=400)
    services.exam_cut_forget(exam_id=exam.pk)

    # then: θ_c is solved again on the current parameters, with the same raw cut
    assert model_of(questions).b[0] == 2.5
    expected = solve(questions, np.full(len(questions), 0.55))
    assert services.exam_cut_theta(exam=exam) == pytest.approx(expected)
    assert expected > cut.theta
    # and again when that calibration moves
    ItemParameter.objects.filter(question=questions[0]).update(b=-2.5, calibrated_at=timezone.now())
    services.exam_cut_forget(exam_id=exam.pk)
    assert model_of(questions).b[0] == -2.5
    assert services.exam_cut_theta(exam=exam) == pytest.approx(solve(questions, np.full(len(questions), 0.55)))
    assert RecordedCut.objects.get().raw_cut == pytest.approx(0.55 * len(questions))


def scored_attempt(candidate, exam, *, theta: float, days_ago: float, mode=AttemptMode.MOCK) -> Attempt:
    moment = timezone.now() - timedelta(days=days_ago)
    attempt = Attempt.objects.create(
        candidate=candidate,
        exam=exam,
        mode=mode,
        state=AttemptState.SCORED,
        item_count=65,
        started_at=moment - timedelta(hours=2),
        duration_seconds=7800,
        deadline=moment,
        submitted_at=moment,
    )
    AttemptResult.objects.create(
        attempt=attempt,
        raw_correct=30,
        raw_scored=50,
        theta=theta,
        theta_se=0.3,
        cut_theta=0.0,
        scaled_score=700,
        passed=False,
        pass_probability=0.4,
        time_used_seconds=7000,
    )
    return attempt


def test_impact_data_counts_each_recent_candidate_once_at_the_round_one_cut(study, raters, facilitator):
    # given: round-1 ratings with a known spread on item 1, and an observed facility for it
    questions = study_questions(study=study)
    for rater, value in zip(raters, (0.4, 0.5, 0.9), strict=True):
        rate_all(study, rater, 1, lambda i, q, value=value: value if i == 0 else 0.6)
    ItemStatistic.objects.create(question=questions[0], responses=250, facility=0.71)
    first = round_summary(study=study)
    cut = first.round_one.theta
    assert first.round_one.raw == pytest.approx(0.6 + 0.6 * (len(questions) - 1))
    assert cut == pytest.approx(solve(questions, [0.6] * len(questions)))

    users = get_user_model().objects
    exam = study.exam
    a, b, c, d, e = (users.create_user(name) for name in ("a", "b", "c", "d", "e"))
    scored_attempt(a, exam, theta=cut + 1.0, days_ago=60)  # a's older mock: superseded by the latest
    scored_attempt(a, exam, theta=cut - 0.5, days_ago=10)
    scored_attempt(b, exam, theta=cut + 0.5, days_ago=20)
    scored_attempt(c, exam, theta=cut + 0.01, days_ago=179)
    scored_attempt(d, exam, theta=cut + 1.0, days_ago=200)  # outside the 180 days
    scored_attempt(e, exam, theta=cut + 1.0, days_ago=5, mode=AttemptMode.PRACTICE)  # not a mock

    # when
    summary = round_summary(study=study)

    # then
    assert summary.round_one.impact.candidates == 3
    assert summary.round_one.impact.passing == 2
    assert summary.round_one.impact.share == pytest.approx(2 / 3)
    row = summary.rows[0]
    assert (row.round_one.n, row.round_one.low, row.round_one.high) == (3, 0.4, 0.9)
    assert row.round_one.mean == pytest.approx(0.6)
    assert (row.facility, row.responses) == (0.71, 250)
    assert summary.current_source == "provisional"
    assert summary.current_impact.candidates == 3


def test_ratings_outside_the_range_are_refused_and_nothing_is_saved(study, raters):
    questions = study_questions(study=study)
    with pytest.raises(RatingsInvalidError) as refused:
        study_ratings_save(study=study, rater=raters[0], round_=1, values={questions[0].pk: 0.6, questions[1].pk: 0.99})
    assert refused.value.errors == {questions[1].pk: "Item 2: enter a probability from 0.05 to 0.95."}
    assert not StudyRating.objects.exists()


def test_partial_sheets_save_and_a_blank_clears_a_rating(study, raters):
    questions = study_questions(study=study)
    assert study_ratings_save(study=study, rater=raters[0], round_=1, values={questions[0].pk: 0.6}) == 1
    assert study_ratings_save(study=study, rater=raters[0], round_=1, values={questions[1].pk: 0.7}) == 2
    assert study_ratings_save(study=study, rater=raters[0], round_=1, values={questions[0].pk: None}) == 1
    assert list(StudyRating.objects.values_list("question_id", "value")) == [(questions[1].pk, 0.7)]


def test_round_two_needs_every_item_rated_once(study, raters, facilitator):
    questions = study_questions(study=study)
    study_ratings_save(study=study, rater=raters[0], round_=1, values={q.pk: 0.6 for q in questions[:-2]})
    with pytest.raises(StandardSettingError, match=f"items {len(questions) - 1}, {len(questions)} have none"):
        study_round_two_open(study=study, by=facilitator)
    study.refresh_from_db()
    assert study.state == StudyState.ROUND_1


def test_adoption_needs_three_raters_who_rated_every_item(study, raters, facilitator):
    questions = study_questions(study=study)
    rate_all(study, raters[0], 1, lambda i, q: 0.6)
    rate_all(study, raters[1], 1, lambda i, q: 0.6)
    study_ratings_save(study=study, rater=raters[2], round_=1, values={q.pk: 0.6 for q in questions[1:]})
    with pytest.raises(StandardSettingError, match="Open round 2 first"):
        study_adopt(study=study, by=facilitator)
    study_round_two_open(study=study, by=facilitator)

    with pytest.raises(StandardSettingError) as refused:
        study_adopt(study=study, by=facilitator)

    message = str(refused.value)
    assert f"at least 3 raters who rated all {len(questions)} items; 2 have (ana, ben)" in message
    assert "cho has not rated item 1." in message
    assert not RecordedCut.objects.exists()
    # cho completes the sheet in round 2: the round-2 rating fills the gap
    study_ratings_save(study=study, rater=raters[2], round_=2, values={questions[0].pk: 0.5})
    assert study_adopt(study=study, by=facilitator).raters == 3


def test_a_cut_outside_the_range_is_refused(study, raters, facilitator):
    for rater in raters:
        rate_all(study, rater, 1, lambda i, q: 0.95)
    study_round_two_open(study=study, by=facilitator)

    with pytest.raises(StandardSettingError, match=r"outside the accepted range of ±2.5"):
        study_adopt(study=study, by=facilitator)

    study.refresh_from_db()
    assert study.state == StudyState.ROUND_2
    assert not RecordedCut.objects.exists()
    assert cut_source(exam=study.exam) == ("provisional", None)


def test_a_sheet_loaded_in_round_one_is_not_saved_into_round_two(study, raters, facilitator):
    questions = study_questions(study=study)
    for rater in raters:
        rate_all(study, rater, 1, lambda i, q: 0.6)
    study_round_two_open(study=study, by=facilitator)
    with pytest.raises(RatingsInvalidError, match="Round 2 has opened since this sheet was loaded"):
        study_ratings_save(study=study, rater=raters[0], round_=1, values={questions[0].pk: 0.9})
    assert StudyRating.objects.filter(round=2).count() == 0


def test_only_staff_sit_on_a_panel(study, candidate):
    with pytest.raises(StandardSettingError, match="Only staff"):
        study_ratings_save(study=study, rater=candidate, round_=1, values={})


# --- through the admin -----------------------------------------------------------------------------------------


def text(response) -> str:
    return html.unescape(response.content.decode())


def sheet_url(study) -> str:
    return reverse("admin:scoring_study_sheet", args=[study.pk])


def test_rater_saves_a_partial_sheet_through_the_admin(client, study, raters):
    client.force_login(raters[0])
    questions = study_questions(study=study)

    page = client.get(sheet_url(study))
    assert page.status_code == 200
    assert b"Item 1: probability that a minimally competent candidate answers correctly" in page.content
    assert b"<strong>Key:</strong>" in page.content or b"Correct order" in page.content

    response = client.post(
        sheet_url(study), {"round": "1", f"rating-{questions[0].pk}": "0.6", f"rating-{questions[1].pk}": ""}
    )
    assert response.status_code == 302
    assert list(StudyRating.objects.values_list("rater__username", "value")) == [("ana", 0.6)]
    assert "Saved: 1 of 50 items rated in round 1. 49 still to rate" in client.get(sheet_url(study)).content.decode()


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("1.2", "Item 2: enter a probability from 0.05 to 0.95."),
        ("0.01", "Item 2: enter a probability from 0.05 to 0.95."),
        ("abc", "Item 2: enter a number such as 0.65."),
        ("nan", "Item 2: enter a number such as 0.65."),
    ],
)
def test_a_bad_rating_is_named_on_the_sheet_and_nothing_saved(client, study, raters, value, message):
    client.force_login(raters[0])
    questions = study_questions(study=study)

    response = client.post(
        sheet_url(study), {"round": "1", f"rating-{questions[0].pk}": "0.6", f"rating-{questions[1].pk}": value}
    )

    assert response.status_code == 400
    assert message in text(response)
    assert not StudyRating.objects.exists()


def test_a_tampered_item_id_is_an_error_not_a_crash(client, study, raters, bank):
    client.force_login(raters[0])
    on_form = {q.pk for q in study_questions(study=study)}
    stranger = bank.domains.first().tasks.first().questions.exclude(pk__in=on_form).first()

    response = client.post(sheet_url(study), {"round": "1", f"rating-{stranger.pk}": "0.6", "rating-99999999": "0.5"})

    assert response.status_code == 400
    assert f"Item id {stranger.pk}, 99999999 is not on this study's base form" in text(response)
    assert not StudyRating.objects.exists()


def test_non_staff_are_sent_to_log_in_and_staff_without_the_role_are_refused(client, study, candidate):
    client.force_login(candidate)
    response = client.get(sheet_url(study))
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]

    staff = get_user_model().objects.create_user("clerk", is_staff=True)
    client.force_login(staff)
    assert client.get(sheet_url(study)).status_code == 403
    assert (
        client.post(reverse("admin:scoring_study_action", args=[study.pk, "adopt"]), {"confirm": "yes"}).status_code
        == 403
    )


def test_an_instructor_rates_but_cannot_open_rounds_nor_see_round_one_ratings_early(client, study, raters):
    for rater in raters:
        rate_all(study, rater, 1, lambda i, q: 0.6)
    client.force_login(raters[0])
    summary = text(client.get(reverse("admin:scoring_study_summary", args=[study.pk])))
    assert "Open my rating sheet" in summary
    assert "Open round 2" not in summary
    assert "shown when round 2 opens" in summary
    assert "From the mean round-1 ratings" not in summary
    response = client.post(reverse("admin:scoring_study_action", args=[study.pk, "open-round-2"]), {"confirm": "yes"})
    assert response.status_code == 403


def test_the_round_two_sheet_shows_the_round_one_impact(client, study, raters, facilitator):
    # given: round 1 done, and one recent candidate far above any cut
    for rater in raters:
        rate_all(study, rater, 1, lambda i, q: 0.6)
    study_round_two_open(study=study, by=facilitator)
    scored_attempt(get_user_model().objects.create_user("strong"), study.exam, theta=2.9, days_ago=3)
    client.force_login(raters[1])

    sheet = text(client.get(sheet_url(study)))

    assert "The panel's round-1 cut is a raw score of <strong>30.0</strong> of 50." in sheet
    assert "Of 1 recent candidate (latest scored full mock in the last 180 days), <strong>1</strong> (100%)" in sheet
    assert "min 0.60, mean 0.60, max 0.60 (3 raters)" in sheet


def test_facilitator_confirms_round_two_and_adoption_and_the_list_shows_the_source(
    client, study, raters, facilitator, django_capture_on_commit_callbacks
):
    for rater in raters:
        rate_all(study, rater, 1, lambda i, q: 0.6)
    client.force_login(facilitator)
    changelist = reverse("admin:scoring_standardsettingstudy_changelist")
    assert "provisional seed" in client.get(changelist).content.decode()

    # a POST without the confirmation shows what will happen, and changes nothing
    open_url = reverse("admin:scoring_study_action", args=[study.pk, "open-round-2"])
    confirm = client.post(open_url)
    assert "Round 1 closes" in confirm.content.decode()
    study.refresh_from_db()
    assert study.state == StudyState.ROUND_1
    assert client.post(open_url, {"confirm": "yes"}).status_code == 302
    study.refresh_from_db()
    assert study.state == StudyState.ROUND_2
    summary = client.get(reverse("admin:scoring_study_summary", args=[study.pk])).content.decode()
    assert "Ready to adopt" in summary
    assert "From the mean round-1 ratings: raw cut <strong>30.0</strong>" in summary

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("admin:scoring_study_action", args=[study.pk, "adopt"]), {"confirm": "yes"})
    assert response["Location"] == reverse("admin:scoring_study_cut", args=[study.pk])
    cut_page = client.get(response["Location"]).content.decode()
    assert "This is the current cut of MLA-C01" in cut_page
    assert "30.00 of 50 items" in cut_page
    listing = client.get(changelist).content.decode()
    assert "set by the panel" in listing
    assert "provisional seed" not in listing.split("Current cut of each exam version")[1].split("</ul>")[0]


def test_a_failed_adoption_shows_its_reason(client, study, raters, facilitator):
    rate_all(study, raters[0], 1, lambda i, q: 0.6)
    study_round_two_open(study=study, by=facilitator)
    client.force_login(facilitator)

    response = client.post(
        reverse("admin:scoring_study_action", args=[study.pk, "adopt"]), {"confirm": "yes"}, follow=True
    )

    assert "Adoption needs at least 3 raters who rated all 50 items; 1 has (ana)." in text(response)
    assert not RecordedCut.objects.exists()


def test_facilitator_creates_a_study_in_the_admin_and_a_thin_bank_is_explained(client, bank, exam_c02, facilitator):
    client.force_login(facilitator)
    add = reverse("admin:scoring_standardsettingstudy_add")

    missing = client.post(add, {"exam": bank.pk, "name": ""})
    assert missing.status_code == 200
    assert "This field is required." in text(missing)

    thin = client.post(add, {"exam": exam_c02.pk, "name": "C02 panel"})
    assert "No base form can be drawn for MLA-C02: Domain 1 needs" in text(thin)

    response = client.post(add, {"exam": bank.pk, "name": "C01 autumn panel"})
    study = bank.standard_studies.get()
    assert response["Location"] == reverse("admin:scoring_study_summary", args=[study.pk])
    assert study.items.count() == bank.scored_count
    assert study.created_by == facilitator
    change = client.get(reverse("admin:scoring_standardsettingstudy_change", args=[study.pk]))
    assert change["Location"] == reverse("admin:scoring_study_summary", args=[study.pk])
