"""Instructor API over the same services as the admin: the same rules, and edits of frozen items make versions."""

from __future__ import annotations

from django.db.models import Prefetch
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.generics import get_object_or_404
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.api import IsInstructor, paginated
from apps.questions.models import Placement, Question, QuestionStatus, QuestionType
from apps.questions.rules import ChoiceDraft, PairDraft, QuestionDraft, StepDraft
from apps.questions.selectors import questions_of_exam, questions_with_parts
from apps.questions.services import (
    QuestionInvalidError,
    question_create,
    question_new_version,
    question_set_status,
    question_update,
)
from apps.syllabus.api import exam_version_field
from apps.syllabus.models import Exam
from apps.syllabus.selectors import exam_default


class OptionSerializer(serializers.Serializer):
    text = serializers.CharField(max_length=1000)
    correct = serializers.BooleanField(default=False)
    rationale = serializers.CharField(max_length=4000)


class StepSerializer(serializers.Serializer):
    text = serializers.CharField(max_length=1000)
    rationale = serializers.CharField(max_length=4000)


class PairSerializer(serializers.Serializer):
    prompt = serializers.CharField(max_length=1000, allow_null=True, allow_blank=True, required=False)
    response = serializers.CharField(max_length=1000)
    rationale = serializers.CharField(max_length=4000)


class QuestionInput(serializers.Serializer):
    exam = exam_version_field(
        queryset=Exam.objects.filter(is_active=True),
        help_text="the exam version the item is written for, e.g. MLA-C02 (default: the current one)",
    )
    ref = serializers.CharField(max_length=40, required=False, allow_blank=True, default="")
    type = serializers.ChoiceField(choices=QuestionType.choices)
    status = serializers.ChoiceField(
        choices=[(QuestionStatus.DRAFT, "Draft"), (QuestionStatus.IN_REVIEW, "In review")], default=QuestionStatus.DRAFT
    )
    task = serializers.CharField(max_length=10)
    objectives = serializers.ListField(child=serializers.CharField(max_length=16), max_length=20)
    stem = serializers.CharField(max_length=6000)
    explanation = serializers.CharField(max_length=8000)
    references = serializers.ListField(child=serializers.URLField(max_length=500), max_length=10, default=list)
    difficulty = serializers.ChoiceField(choices=["easy", "medium", "hard"], default="medium")
    angoff = serializers.FloatField(min_value=0.01, max_value=0.99, required=False, allow_null=True)
    concept = serializers.SlugField(
        max_length=60, required=False, default="", allow_blank=True, help_text="items sharing one never meet on a form"
    )
    options = OptionSerializer(many=True, required=False, default=list)
    steps = StepSerializer(many=True, required=False, default=list)
    pairs = PairSerializer(many=True, required=False, default=list)

    def to_draft(self) -> QuestionDraft:
        data = self.validated_data
        return QuestionDraft(
            type=data["type"],
            stem=data["stem"],
            explanation=data["explanation"],
            task=data["task"],
            objectives=data["objectives"],
            difficulty=data["difficulty"],
            angoff=data.get("angoff"),
            references=data["references"],
            status=data["status"],
            concept=data["concept"],
            choices=[ChoiceDraft(o["text"], o["rationale"], o["correct"]) for o in data["options"]],
            steps=[StepDraft(s["text"], s["rationale"]) for s in data["steps"]],
            pairs=[PairDraft(p.get("prompt") or None, p["response"], p["rationale"]) for p in data["pairs"]],
        )


class PlacementOutput(serializers.Serializer):
    exam = serializers.CharField(source="exam.code")
    task = serializers.CharField(source="task.code")
    objectives = serializers.SerializerMethodField()

    def get_objectives(self, obj: Placement) -> list[str]:
        return [objective.code for objective in obj.objectives.all()]


class QuestionOutput(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    family = serializers.UUIDField()
    version = serializers.IntegerField()
    ref = serializers.CharField()
    type = serializers.CharField()
    status = serializers.CharField()
    exam = serializers.CharField(
        source="task.domain.exam.code", allow_null=True, help_text="the version it is written for"
    )
    task = serializers.CharField(source="task.code")
    placements = PlacementOutput(
        many=True, help_text="the other exam versions it serves (carried over), with its task and skills there"
    )
    objectives = serializers.SerializerMethodField()
    stem = serializers.CharField()
    explanation = serializers.CharField()
    references = serializers.ListField(child=serializers.CharField(), source="reference_list")
    difficulty = serializers.CharField()
    angoff = serializers.FloatField(allow_null=True)
    concept = serializers.CharField()
    options = serializers.SerializerMethodField()
    steps = serializers.SerializerMethodField()
    pairs = serializers.SerializerMethodField()

    def get_objectives(self, obj: Question) -> list[str]:
        return [objective.code for objective in obj.objectives.all()]

    def get_options(self, obj: Question) -> list[dict]:
        return [{"text": c.text, "correct": c.is_correct, "rationale": c.rationale} for c in obj.choices.all()]

    def get_steps(self, obj: Question) -> list[dict]:
        return [{"text": s.text, "rationale": s.rationale} for s in obj.steps.all()]

    def get_pairs(self, obj: Question) -> list[dict]:
        return [{"prompt": p.prompt or None, "response": p.response, "rationale": p.rationale} for p in obj.pairs.all()]


class StatusInput(serializers.Serializer):
    status = serializers.ChoiceField(choices=QuestionStatus.choices)


def _invalid(exc: QuestionInvalidError) -> ValidationError:
    fields: dict[str, list[str]] = {}
    for error in exc.errors:
        fields.setdefault(error.field, []).append(error.message)
    return ValidationError(fields)


def _exam(serializer: QuestionInput, question: Question | None = None) -> Exam:
    """The version an item is written for: the one named, else an existing item's own, else the current one."""
    exam = serializer.validated_data.get("exam")
    if exam is None and question is not None and question.task_id:
        exam = question.task.domain.exam
    exam = exam or exam_default()
    if exam is None:
        raise ValidationError({"exam": ["No exam is loaded."]})
    return exam


def _with_placements(queryset=None):
    return (
        questions_with_parts(queryset)
        .select_related("task__domain__exam")
        .prefetch_related(
            Prefetch(
                "placements", queryset=Placement.objects.select_related("exam", "task").prefetch_related("objectives")
            )
        )
    )


class QuestionListApi(APIView):
    permission_classes = [IsInstructor]

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "exam", str, description="versions an exam version can use: written for it or placed in it"
            ),
            OpenApiParameter("task", str),
            OpenApiParameter("status", str),
            OpenApiParameter("type", str),
        ],
        responses=paginated(QuestionOutput, "QuestionPage"),
        summary="List question versions",
        operation_id="v1_questions_list",
    )
    def get(self, request):
        queryset = _with_placements().order_by("pk")
        code = request.query_params.get("exam")
        if code:
            exam = Exam.objects.filter(code=code[:20]).first()
            if exam is None:
                raise ValidationError({"exam": [f"No exam version {code[:20]!r}."]})
            queryset = queryset.filter(pk__in=questions_of_exam(exam=exam).values("pk"))
        for name, lookup in (("task", "task__code"), ("status", "status"), ("type", "type")):
            value = request.query_params.get(name)
            if value:
                queryset = queryset.filter(**{lookup: value[:20]})
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(queryset, request, view=self)
        return paginator.get_paginated_response(QuestionOutput(page, many=True).data)

    @extend_schema(request=QuestionInput, responses={201: QuestionOutput}, summary="Create a draft question")
    def post(self, request):
        serializer = QuestionInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            question = question_create(
                draft=serializer.to_draft(),
                exam=_exam(serializer),
                author=request.user,
                ref=serializer.validated_data["ref"],
            )
        except QuestionInvalidError as exc:
            raise _invalid(exc) from None
        return Response(QuestionOutput(_with_placements().get(pk=question.pk)).data, status=status.HTTP_201_CREATED)


class QuestionDetailApi(APIView):
    permission_classes = [IsInstructor]

    @extend_schema(responses=QuestionOutput, summary="One question version, with its key")
    def get(self, request, pk: int):
        return Response(QuestionOutput(get_object_or_404(_with_placements(), pk=pk)).data)

    @extend_schema(
        request=QuestionInput,
        responses={200: QuestionOutput, 201: QuestionOutput},
        summary="Edit a question: drafts change in place, published versions get a new draft version (201)",
    )
    def put(self, request, pk: int):
        question = get_object_or_404(Question, pk=pk)
        serializer = QuestionInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        created = question.is_locked
        try:
            target = question_new_version(question=question, author=request.user) if created else question
            target = question_update(question=target, draft=serializer.to_draft(), exam=_exam(serializer, question))
        except QuestionInvalidError as exc:
            raise _invalid(exc) from None
        return Response(
            QuestionOutput(_with_placements().get(pk=target.pk)).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )

    @extend_schema(responses={204: None}, summary="Delete a draft (published versions are retired instead)")
    def delete(self, request, pk: int):
        question = get_object_or_404(Question, pk=pk)
        if question.is_locked:
            raise ValidationError({"status": [f"{question} is {question.status}; retire it instead."]})
        question.delete()
        return Response(status=status.HTTP_204_NO_CONTENT)


class QuestionStatusApi(APIView):
    permission_classes = [IsInstructor]

    @extend_schema(request=StatusInput, responses=QuestionOutput, summary="Move a version along its status flow")
    def post(self, request, pk: int):
        if not request.user.has_perm("questions.publish_question"):
            raise ValidationError({"status": ["You cannot change the status of questions."]})
        question = get_object_or_404(Question, pk=pk)
        serializer = StatusInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            question_set_status(question=question, status=serializer.validated_data["status"])
        except QuestionInvalidError as exc:
            raise _invalid(exc) from None
        return Response(QuestionOutput(_with_placements().get(pk=pk)).data)
