from django.contrib.auth import get_user_model
from django.urls import reverse

from apps.exams.models import Attempt, AttemptMode
from apps.exams.services import attempt_start_mock
from apps.questions.models import Question
from apps.scoring.models import ReviewCard, StudyRule
from tests.scoring.factories import scored_mock


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
