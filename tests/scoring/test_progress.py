import itertools
import re
from datetime import timedelta
from xml.etree.ElementTree import Element

from defusedxml.ElementTree import fromstring
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone

from apps.exams.models import Attempt, AttemptMode
from apps.exams.services import attempt_start_mock
from apps.questions.models import Question
from apps.scoring import irt
from apps.scoring.models import ReviewCard, StudyRule
from apps.scoring.progress import progress_for, score_band
from tests.scoring.factories import scored_mock

SVG = "{http://www.w3.org/2000/svg}"


def test_progress_after_a_mock(client, bank, candidate, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        attempt = scored_mock(exam=bank, candidate=candidate, ability=0.5, seed=1)
    client.force_login(candidate)

    body = client.get(reverse("scoring:progress")).content.decode()

    assert 'id="readiness-scaled"' in body
    assert f"{attempt.result.scaled_score}" in body
    assert "Task mastery" in body
    missed = attempt.items.filter(is_correct=False).count()
    assert ReviewCard.objects.filter(candidate=candidate).count() == missed > 0


def test_due_items_start_a_review_set(client, bank, candidate, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        scored_mock(exam=bank, candidate=candidate, ability=0.4, seed=2)
    ReviewCard.objects.update(due="2000-01-01T00:00:00Z")
    client.force_login(candidate)

    response = client.post(reverse("scoring:review-due"))

    review = Attempt.objects.get(mode=AttemptMode.REVIEW)
    assert response.url == reverse("exams:question", args=[review.pk, 1])
    assert review.feedback == "immediate"
    assert 0 < review.item_count <= ReviewCard.objects.count()


def test_the_due_set_leaves_out_the_running_mock_and_says_so_when_nothing_else_is_due(
    client, bank, candidate, django_capture_on_commit_callbacks
):
    # given: a scored mock with misses, a new mock running that repeats some, and misses of both kinds due
    with django_capture_on_commit_callbacks(execute=True):
        scored_mock(exam=bank, candidate=candidate, ability=0.0, seed=2)
    running = attempt_start_mock(candidate=candidate, exam=bank, seed=5)
    in_mock = set(running.items.values_list("question__family", flat=True))
    published = Question.objects.filter(status="published").values_list("family", flat=True)
    cards = ReviewCard.objects.filter(family__in=published)
    due = set(cards.filter(family__in=in_mock).values_list("family", flat=True)[:5])
    due |= set(cards.exclude(family__in=in_mock).values_list("family", flat=True)[:5])
    ReviewCard.objects.update(due="2100-01-01T00:00:00Z")
    ReviewCard.objects.filter(family__in=due).update(due="2000-01-01T00:00:00Z")
    assert len(due & in_mock) == len(due - in_mock) == 5
    client.force_login(candidate)

    # when
    client.post(reverse("scoring:review-due"))

    # then
    review = Attempt.objects.get(mode=AttemptMode.REVIEW)
    assert set(review.items.values_list("question__family", flat=True)) == due - in_mock

    # when only items of the running mock are due, the progress page says why there is no set
    ReviewCard.objects.filter(family__in=due - in_mock).update(due="2100-01-01T00:00:00Z")
    response = client.post(reverse("scoring:review-due"), follow=True)

    assert response.redirect_chain[-1][0] == reverse("scoring:progress")
    assert (
        "Nothing to review right now: the items due for review are in your unfinished mock exam; finish it first."
        in response.content.decode()
    )
    assert Attempt.objects.filter(mode=AttemptMode.REVIEW).count() == 1


def test_rules_notebook_add_edit_delete_export(client, exam, candidate):
    client.force_login(candidate)
    url = reverse("scoring:rule-save")

    client.post(url, {"task": "1.1", "text": "  Ordered events per key: Kinesis,   not SQS standard. "})
    rule = StudyRule.objects.get()
    assert rule.text == "Ordered events per key: Kinesis, not SQS standard."
    client.post(url, {"task": "1.1", "rule": rule.pk, "text": "Kinesis keeps order per shard."})
    client.post(url, {"task": "2.2", "text": "Spot for training: checkpoint to S3."})
    export = client.get(reverse("scoring:rules-markdown"))

    assert export["Content-Type"] == "text/markdown"
    text = export.content.decode()
    assert "## 1.1 Ingest and store data\n\n- Kinesis keeps order per shard." in text
    assert "- Spot for training: checkpoint to S3." in text
    client.post(url, {"task": "1.1", "rule": rule.pk, "delete": "1"})
    assert StudyRule.objects.count() == 1


def test_rules_of_others_cannot_be_touched(client, exam, candidate):
    other = get_user_model().objects.create_user("other")
    rule = StudyRule.objects.create(candidate=other, task_id=exam.domains.first().tasks.first().pk, text="Mine")
    client.force_login(candidate)

    response = client.post(reverse("scoring:rule-save"), {"task": "1.1", "rule": rule.pk, "text": "Hacked"})

    assert response.status_code == 404
    assert StudyRule.objects.get(pk=rule.pk).text == "Mine"


def test_results_invite_rules_for_tasks_with_misses(client, bank, candidate, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        attempt = scored_mock(exam=bank, candidate=candidate, ability=0.3, seed=3)
    client.force_login(candidate)

    body = client.get(reverse("scoring:results", args=[attempt.pk])).content.decode()

    assert "Write your rules" in body
    assert "#rules-" in body


def chart_of(body: str) -> Element:
    """The score history chart's SVG element, parsed from the page."""
    (markup,) = re.findall(r'<svg xmlns="http://www.w3.org/2000/svg" class="chart-svg".*?</svg>', body, re.DOTALL)
    return fromstring(markup)


def chart_points(svg: Element) -> list[Element]:
    return [path for path in svg.iter(f"{SVG}path") if "chart-point" in path.get("class", "")]


def test_progress_without_mocks_says_so_and_draws_no_chart(client, exam, candidate):
    client.force_login(candidate)

    body = client.get(reverse("scoring:progress")).content.decode()

    assert "No mock exams yet." in body
    assert "chart-svg" not in body


def test_one_mock_is_one_centred_point_with_its_band(client, bank, candidate, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        attempt = scored_mock(exam=bank, candidate=candidate, ability=0.6, seed=4)
    result = attempt.result
    client.force_login(candidate)

    body = client.get(reverse("scoring:progress")).content.decode()
    progress = progress_for(candidate=candidate, exam=bank)

    svg = chart_of(body)
    assert svg.get("role") == "img"
    assert svg.find(f"{SVG}title").text.startswith("Scaled scores of your mock exams")
    assert svg.find(f"{SVG}desc").text.startswith("One mock exam, on ")
    (point,) = chart_points(svg)
    (score,) = progress.history
    band = f"{score.band_low}–{score.band_high}"
    assert point.find(f"{SVG}title").text.endswith(
        f": {result.scaled_score} (band {band}), " + ("passed" if result.passed else "below the pass mark of 720")
    )
    assert len([p for p in svg.iter(f"{SVG}path") if p.get("class") == "chart-band"]) == 1
    frame = progress.history_chart.frame
    assert progress.history_chart.points[0].x == (frame.plot_left + frame.plot_right) / 2
    assert '<th scope="col">Band</th>' in body
    assert (score.band_low, score.band_high) == irt.Scale(cut=result.cut_theta).band(result.theta, result.theta_se)
    assert f"<td>{band}</td>" in body
    assert " style=" not in body.split('id="history-heading"')[1].split("</section>")[0]


def test_three_mocks_are_drawn_oldest_first_each_with_its_band(
    client, bank, candidate, django_capture_on_commit_callbacks
):
    # given three mocks, a week apart, entered out of order
    with django_capture_on_commit_callbacks(execute=True):
        attempts = [
            scored_mock(exam=bank, candidate=candidate, ability=a, seed=s) for s, a in ((5, 0.9), (6, 0.3), (7, 0.6))
        ]
    for weeks_ago, attempt in zip((1, 3, 2), attempts, strict=True):
        Attempt.objects.filter(pk=attempt.pk).update(started_at=timezone.now() - timedelta(weeks=weeks_ago))
    oldest_first = [attempts[1], attempts[2], attempts[0]]
    client.force_login(candidate)

    # when
    body = client.get(reverse("scoring:progress")).content.decode()

    # then
    svg = chart_of(body)
    points = chart_points(svg)
    assert [int(p.find(f"{SVG}title").text.split(": ")[1].split()[0]) for p in points] == [
        a.result.scaled_score for a in oldest_first
    ]
    assert [p.get("class").split()[-1] for p in points] == [
        "chart-pass" if a.result.passed else "chart-fail" for a in oldest_first
    ]
    assert len([p for p in svg.iter(f"{SVG}path") if p.get("class") == "chart-band"]) == 3
    assert svg.find(f".//{SVG}path[@class='chart-line']") is not None
    desc = svg.find(f"{SVG}desc").text
    assert desc.startswith("3 mock exams from ")
    assert f"Latest score {attempts[0].result.scaled_score} " in desc
    assert body.count("<td>") >= 3 * 4  # the table lists every score: the chart's full text alternative
    chart = progress_for(candidate=candidate, exam=bank).history_chart
    scores = [a.result.scaled_score for a in oldest_first]
    ys = [p.y for p in chart.points]
    for (score_a, y_a), (score_b, y_b) in itertools.combinations(zip(scores, ys, strict=True), 2):
        assert (score_a > score_b) == (y_a < y_b) or score_a == score_b


def test_score_band_is_95_percent_around_the_score_and_clipped_to_the_scale(
    bank, candidate, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        attempt = scored_mock(exam=bank, candidate=candidate, ability=0.6, seed=8)
    result = attempt.result

    low, high = score_band(result=result, exam=bank)
    result.theta_se *= 2
    wider = score_band(result=result, exam=bank)
    result.theta_se = 50.0
    everything = score_band(result=result, exam=bank)

    assert low < result.scaled_score < high
    assert wider[0] < low
    assert wider[1] > high
    assert everything == (100, 1000)
