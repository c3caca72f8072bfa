"""Candidate API for attempts: the same services and integrity rules as the HTML exam (no keys before
submission, the server's deadline, scoped to the candidate)."""

from __future__ import annotations

from django.http import QueryDict
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.accounts.selectors import exam_chosen
from apps.core.api import paginated
from apps.exams.assembly import FormAssemblyError
from apps.exams.models import AnswerState, Attempt, AttemptItem, AttemptMode, Feedback
from apps.exams.presentation import AnswerFormatError, item_display
from apps.exams.selectors import (
    attempt_for_candidate,
    attempt_item_at,
    attempt_remaining_seconds,
    attempts_of,
)
from apps.exams.services import (
    AttemptClosedError,
    attempt_answer_save,
    attempt_expire_if_due,
    attempt_start_mock,
    attempt_start_practice,
    attempt_submit,
)
from apps.syllabus.api import exam_version_field
from apps.syllabus.models import Exam, Task
from apps.syllabus.selectors import exam_versions


class ConflictError(ValidationError):
    """409: the request is well formed, but the state of things refuses it. ``summary`` becomes the error's
    message (otherwise the generic "Some fields are not valid.")."""

    status_code = status.HTTP_409_CONFLICT
    default_code = "conflict"

    def __init__(self, detail=None, *, summary: str | None = None) -> None:
        super().__init__(detail)
        self.summary = summary


class AttemptOutput(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    exam = serializers.CharField(source="exam.code", help_text="the exam version the attempt was taken on")
    mode = serializers.CharField()
    state = serializers.CharField()
    feedback = serializers.CharField()
    item_count = serializers.IntegerField()
    started_at = serializers.DateTimeField()
    deadline = serializers.DateTimeField(allow_null=True)
    submitted_at = serializers.DateTimeField(allow_null=True)
    remaining_seconds = serializers.SerializerMethodField()

    def get_remaining_seconds(self, obj: Attempt) -> int | None:
        return attempt_remaining_seconds(attempt=obj)


class AttemptListQuery(serializers.Serializer):
    exam = exam_version_field(queryset=Exam.objects.all(), help_text="only attempts on this exam version, e.g. MLA-C02")


class StartInput(serializers.Serializer):
    exam = exam_version_field(
        queryset=exam_versions(),
        help_text="the exam version, e.g. MLA-C02 (default: the one you practise for, else the current one)",
    )
    mode = serializers.ChoiceField(
        choices=[AttemptMode.MOCK, AttemptMode.BETA, AttemptMode.PRACTICE],
        help_text="beta: the version's beta form, where it has one (MLA-C02: 85 questions in 170 minutes)",
    )
    tasks = serializers.ListField(
        child=serializers.CharField(max_length=10), required=False, default=list, max_length=20
    )
    count = serializers.IntegerField(min_value=1, max_value=65, default=10)
    timed = serializers.BooleanField(default=True)
    feedback = serializers.ChoiceField(choices=Feedback.choices, default=Feedback.END)


class PartOutput(serializers.Serializer):
    number = serializers.IntegerField()
    text = serializers.CharField()
    selected = serializers.JSONField(allow_null=True)


class ItemOutput(serializers.Serializer):
    """An item as the candidate sees it: display numbers and texts, never a key, rationale or explanation."""

    position = serializers.IntegerField()
    type = serializers.CharField()
    state = serializers.ChoiceField(
        choices=AnswerState.choices, help_text="answered, incomplete (fewer or more parts than asked) or unanswered"
    )
    case_study = serializers.CharField(allow_null=True)
    stem = serializers.CharField()
    flagged = serializers.BooleanField()
    options = PartOutput(many=True)
    steps = PartOutput(many=True)
    prompts = PartOutput(many=True)
    responses = PartOutput(many=True)


class AnswerInput(serializers.Serializer):
    choices = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=20), required=False, max_length=20
    )
    steps = serializers.DictField(child=serializers.IntegerField(min_value=1, max_value=20), required=False)
    prompts = serializers.DictField(child=serializers.IntegerField(min_value=1, max_value=20), required=False)
    seq = serializers.IntegerField(min_value=1, max_value=2**31 - 1, required=False)

    def as_post(self) -> QueryDict:
        data = QueryDict(mutable=True)
        data.setlist("choice", [str(n) for n in self.validated_data.get("choices", [])])
        for key, value in self.validated_data.get("steps", {}).items():
            data[f"step-{key}"] = str(value)
        for key, value in self.validated_data.get("prompts", {}).items():
            data[f"prompt-{key}"] = str(value)
        return data


class SavedOutput(serializers.Serializer):
    saved_at = serializers.DateTimeField()
    seq = serializers.IntegerField()
    applied = serializers.BooleanField()
    state = serializers.ChoiceField(choices=AnswerState.choices, help_text="of the stored answer, when applied")
    gap = serializers.CharField(help_text='what an incomplete answer lacks, e.g. "choose two options; one is chosen."')


def _own(request, attempt_id: int) -> Attempt:
    attempt = attempt_for_candidate(candidate=request.user, attempt_id=attempt_id)
    if attempt_expire_if_due(attempt=attempt):
        attempt.refresh_from_db()
    return attempt


class AttemptListApi(APIView):
    @extend_schema(
        parameters=[AttemptListQuery],
        responses=paginated(AttemptOutput, "AttemptPage"),
        summary="Your attempts",
        operation_id="v1_attempts_list",
    )
    def get(self, request):
        query = AttemptListQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        attempts = attempts_of(candidate=request.user).select_related("exam").order_by("-started_at")
        if "exam" in query.validated_data:
            attempts = attempts.filter(exam=query.validated_data["exam"])
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(attempts, request, view=self)
        return paginator.get_paginated_response(AttemptOutput(page, many=True).data)

    @extend_schema(
        request=StartInput, responses={201: AttemptOutput}, summary="Start a full mock, the beta form or a practice set"
    )
    def post(self, request):
        serializer = StartInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        exam = data.get("exam") or exam_chosen(user=request.user)
        if exam is None:
            raise NotFound("No exam is loaded.")
        try:
            if data["mode"] in (AttemptMode.MOCK, AttemptMode.BETA):
                beta = data["mode"] == AttemptMode.BETA
                attempt = attempt_start_mock(candidate=request.user, exam=exam, beta=beta)
            else:
                tasks = list(
                    Task.objects.filter(domain__exam=exam, code__in=data["tasks"]).values_list("pk", flat=True)
                )
                if not tasks:
                    raise ValidationError({"tasks": ["Name at least one task of the exam, e.g. 1.1."]})
                attempt = attempt_start_practice(
                    candidate=request.user,
                    exam=exam,
                    task_ids=tasks,
                    count=data["count"],
                    timed=data["timed"],
                    feedback=data["feedback"],
                )
        except FormAssemblyError as exc:
            raise ConflictError({"mode": [str(exc)]}, summary=str(exc)) from None
        return Response(AttemptOutput(attempt).data, status=status.HTTP_201_CREATED)


class AttemptDetailApi(APIView):
    @extend_schema(responses=AttemptOutput, summary="One of your attempts")
    def get(self, request, attempt_id: int):
        return Response(AttemptOutput(_own(request, attempt_id)).data)


class AttemptItemApi(APIView):
    @extend_schema(responses=ItemOutput, summary="An item as shown to you, with your saved answer")
    def get(self, request, attempt_id: int, position: int):
        attempt = _own(request, attempt_id)
        item = attempt_item_at(attempt=attempt, position=position)
        shown = item_display(item.question, item.presentation, item.answer, item.eliminated)
        question = item.question
        return Response(
            ItemOutput(
                {
                    "position": item.position,
                    "type": question.type,
                    "state": item.answer_state,
                    "stem": question.stem,
                    "flagged": item.flagged,
                    "case_study": question.case_study.scenario if question.case_study else None,
                    "options": shown.choices,
                    "steps": shown.steps,
                    "prompts": shown.prompts,
                    "responses": shown.responses,
                }
            ).data
        )


class AttemptAnswerApi(APIView):
    @extend_schema(request=AnswerInput, responses=SavedOutput, summary="Save your answer to an item (idempotent)")
    def post(self, request, attempt_id: int, position: int):
        serializer = AnswerInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            result = attempt_answer_save(
                candidate=request.user,
                attempt_id=attempt_id,
                position=position,
                data=serializer.as_post(),
                seq=serializer.validated_data.get("seq"),
            )
        except (Attempt.DoesNotExist, AttemptItem.DoesNotExist):
            raise NotFound("No such item in your attempts.") from None
        except AnswerFormatError as exc:
            raise ValidationError({"answer": [str(exc)]}) from None
        except AttemptClosedError as exc:
            raise ConflictError({"attempt": [exc.reason]}) from None
        return Response(SavedOutput(result).data)


class AttemptSubmitApi(APIView):
    @extend_schema(
        request=None, responses=AttemptOutput, summary="Submit the attempt (a second submit changes nothing)"
    )
    def post(self, request, attempt_id: int):
        attempt = _own(request, attempt_id)
        attempt_submit(attempt=attempt)
        attempt.refresh_from_db()
        return Response(AttemptOutput(attempt).data)
