from __future__ import annotations

from dataclasses import dataclass

from apps.exams.models import Attempt, AttemptItem
from apps.exams.presentation import ItemReview, item_review
from apps.questions.models import Question, QuestionReport
from apps.questions.selectors import questions_with_parts
from apps.scoring.models import AttemptResult, Classification


@dataclass
class ReviewedItem:
    item: AttemptItem
    question: Question
    review: ItemReview  # the answer next to the key, with the letters the candidate saw
    report: QuestionReport | None = None  # the candidate's open report on this item, if any


REVIEW_FILTERS = {"all", "wrong", "flagged"}


def attempt_reviewed_items(*, attempt: Attempt, show: str = "all") -> list[ReviewedItem]:
    """Every item of a finished attempt with what the candidate answered, in a fixed number of queries."""
    items = AttemptItem.objects.filter(attempt=attempt).order_by("position")
    if show == "wrong":
        items = items.filter(is_correct=False)
    elif show == "flagged":
        items = items.filter(flagged=True)
    items = list(items)
    questions = questions_with_parts().in_bulk([item.question_id for item in items])
    reports = {
        report.question_id: report
        for report in QuestionReport.objects.filter(
            reporter_id=attempt.candidate_id, question_id__in=questions, status=QuestionReport.Status.OPEN
        )
    }
    return [
        ReviewedItem(
            item,
            questions[item.question_id],
            item_review(questions[item.question_id], item.presentation, item.answer),
            reports.get(item.question_id),
        )
        for item in items
    ]


def weak_task_codes(result: AttemptResult) -> list[str]:
    """Tasks to drill: those that need improvement, else those without enough evidence and under 70%."""
    needs = [row["code"] for row in result.by_task if row["classification"] == Classification.NEEDS]
    if needs:
        return needs
    return [
        row["code"] for row in result.by_task if row["classification"] == Classification.UNSURE and row["percent"] < 70
    ]
