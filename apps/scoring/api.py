from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.exams.api import ConflictError, _own
from apps.exams.models import AttemptState
from apps.scoring.models import AttemptResult
from apps.scoring.selectors import attempt_reviewed_items
from apps.scoring.services import attempt_score_recover


class BreakdownOutput(serializers.Serializer):
    code = serializers.CharField()
    title = serializers.CharField()
    correct = serializers.IntegerField()
    total = serializers.IntegerField()
    percent = serializers.IntegerField()
    low = serializers.IntegerField()
    high = serializers.IntegerField()
    target = serializers.IntegerField()
    classification = serializers.CharField()


class ReviewOutput(serializers.Serializer):
    position = serializers.IntegerField()
    scored = serializers.BooleanField()
    flagged = serializers.BooleanField()
    correct = serializers.BooleanField(allow_null=True)
    stem = serializers.CharField()
    explanation = serializers.CharField()
    key = serializers.JSONField()


class ResultOutput(serializers.Serializer):
    scaled_score = serializers.IntegerField()
    passed = serializers.BooleanField()
    pass_probability = serializers.FloatField()
    theta = serializers.FloatField()
    theta_se = serializers.FloatField()
    raw_correct = serializers.IntegerField()
    raw_scored = serializers.IntegerField()
    time_used_seconds = serializers.IntegerField()
    by_domain = BreakdownOutput(many=True)
    by_task = BreakdownOutput(many=True)
    items = ReviewOutput(many=True)
    disclaimer = serializers.CharField()


def _key(question) -> dict:
    return {
        "options": [
            {"text": c.text, "correct": c.is_correct, "rationale": c.rationale} for c in question.choices.all()
        ],
        "steps": [{"text": s.text, "rationale": s.rationale} for s in question.steps.all()],
        "pairs": [
            {"prompt": p.prompt or None, "response": p.response, "rationale": p.rationale} for p in question.pairs.all()
        ],
    }


class AttemptResultApi(APIView):
    @extend_schema(responses=ResultOutput, summary="The score report, with keys, once the attempt is scored")
    def get(self, request, attempt_id: int):
        attempt = _own(request, attempt_id)
        result = AttemptResult.objects.filter(attempt=attempt).first() or attempt_score_recover(attempt=attempt)
        if result is None:
            message = (
                "Still in progress." if attempt.state == AttemptState.IN_PROGRESS else "Scoring; try again shortly."
            )
            raise ConflictError({"attempt": [message]})
        items = [
            {
                "position": r.item.position,
                "scored": r.item.scored,
                "flagged": r.item.flagged,
                "correct": r.item.is_correct,
                "stem": r.question.stem,
                "explanation": r.question.explanation,
                "key": _key(r.question),
            }
            for r in attempt_reviewed_items(attempt=attempt)
        ]
        data = {
            **{
                field: getattr(result, field)
                for field in (
                    "scaled_score",
                    "passed",
                    "pass_probability",
                    "theta",
                    "theta_se",
                    "raw_correct",
                    "raw_scored",
                    "time_used_seconds",
                    "by_domain",
                    "by_task",
                )
            },
            "items": items,
            "disclaimer": "This platform's estimate, not AWS's score.",
        }
        return Response(ResultOutput(data).data)
