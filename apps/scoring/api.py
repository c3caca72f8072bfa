from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.accounts.selectors import exam_chosen
from apps.core.api import paginated
from apps.exams.api import ConflictError, _own
from apps.exams.models import AttemptState
from apps.scoring.models import AttemptResult, ExamOutcome
from apps.scoring.outcomes import (
    OutcomeInvalidError,
    exam_outcome_delete,
    exam_outcome_save,
    outcome_problems,
    outcomes_of,
)
from apps.scoring.selectors import attempt_reviewed_items
from apps.scoring.services import attempt_score_recover
from apps.syllabus.api import exam_version_field
from apps.syllabus.models import Exam


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


class OutcomeInput(serializers.Serializer):
    exam = exam_version_field(
        queryset=Exam.objects.filter(is_active=True),
        help_text="the exam version you sat, e.g. MLA-C02 (default: the one you practise for)",
    )
    sat_on = serializers.DateField(help_text="the day you sat it: not in the future, not before 2024-01-01")
    passed = serializers.BooleanField()
    scaled_score = serializers.IntegerField(
        required=False, allow_null=True, default=None, help_text="from your score report, 100-1000 (pass from 720)"
    )

    def validate(self, data: dict) -> dict:
        exam = data.get("exam") or exam_chosen(user=self.context["request"].user)
        if exam is None:
            raise serializers.ValidationError({"exam": ["Name the exam version you sat, e.g. MLA-C02."]})
        data["exam"] = exam
        problems = outcome_problems(
            exam=exam,
            sat_on=data["sat_on"],
            passed=data["passed"],
            scaled_score=data["scaled_score"],
            today=timezone.localdate(),
        )
        if problems:
            raise serializers.ValidationError({name: [message] for name, message in problems.items()})
        return data


class OutcomeOutput(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    exam = serializers.CharField(source="exam.code")
    sat_on = serializers.DateField()
    passed = serializers.BooleanField()
    scaled_score = serializers.IntegerField(allow_null=True)
    predicted_pass_probability = serializers.FloatField(
        allow_null=True, help_text="our estimate of your chance of passing before that day; null without evidence"
    )
    predicted_theta = serializers.FloatField(allow_null=True)
    predicted_theta_se = serializers.FloatField(allow_null=True)
    predicted_responses = serializers.IntegerField(help_text="scored items the estimate was based on")
    predicted_cut_theta = serializers.FloatField(allow_null=True)
    created_at = serializers.DateTimeField()


class OutcomeListApi(APIView):
    @extend_schema(
        responses=paginated(OutcomeOutput, "OutcomePage"),
        summary="Your reported real exam results",
        operation_id="v1_outcomes_list",
    )
    def get(self, request):
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(outcomes_of(candidate=request.user), request, view=self)
        return paginator.get_paginated_response(OutcomeOutput(page, many=True).data)

    @extend_schema(
        request=OutcomeInput,
        responses={201: OutcomeOutput},
        summary="Report a real exam result; the prediction we had before that day is stored with it",
    )
    def post(self, request):
        serializer = OutcomeInput(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        try:
            outcome = exam_outcome_save(
                candidate=request.user,
                exam=data["exam"],
                sat_on=data["sat_on"],
                passed=data["passed"],
                scaled_score=data["scaled_score"],
            )
        except OutcomeInvalidError as exc:  # the rules passed above, so this is a report for the same day
            raise ConflictError({name: [message] for name, message in exc.problems.items()}, summary=str(exc)) from None
        return Response(OutcomeOutput(outcome).data, status=status.HTTP_201_CREATED)


class OutcomeDetailApi(APIView):
    @extend_schema(responses=OutcomeOutput, summary="One of your reported results")
    def get(self, request, outcome_id: int):
        outcome = outcomes_of(candidate=request.user).filter(pk=outcome_id).first()
        if outcome is None:
            raise NotFound("No such report among yours.")
        return Response(OutcomeOutput(outcome).data)

    @extend_schema(responses={204: None}, summary="Delete one of your reported results")
    def delete(self, request, outcome_id: int):
        try:
            exam_outcome_delete(candidate=request.user, outcome_id=outcome_id)
        except ExamOutcome.DoesNotExist:
            raise NotFound("No such report among yours.") from None
        return Response(status=status.HTTP_204_NO_CONTENT)
