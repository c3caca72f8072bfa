from django.contrib.auth import get_user_model
from django.urls import reverse

from apps.exams.models import Attempt, AttemptMode
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
