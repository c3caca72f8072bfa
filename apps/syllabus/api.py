from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.generics import get_object_or_404
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.syllabus.models import Exam
from apps.syllabus.selectors import exam_versions


def exam_version_field(*, queryset, help_text: str) -> serializers.SlugRelatedField:
    """An optional exam version named by its code (``MLA-C02``) in API input; an unknown code is a 400."""
    return serializers.SlugRelatedField(
        slug_field="code", queryset=queryset, required=False, help_text=help_text, style={"base_template": "input.html"}
    )


class ObjectiveOutput(serializers.Serializer):
    code = serializers.CharField()
    statement = serializers.CharField()


class TaskOutput(serializers.Serializer):
    code = serializers.CharField()
    title = serializers.CharField()
    continues = serializers.CharField(
        source="continues.code",
        allow_null=True,
        help_text="the task of the version this one replaces that it continues",
    )
    objectives = ObjectiveOutput(many=True, source="objectives.all")


class DomainOutput(serializers.Serializer):
    number = serializers.IntegerField()
    title = serializers.CharField()
    weight = serializers.IntegerField()
    tasks = TaskOutput(many=True, source="tasks.all")


class ExamOutput(serializers.Serializer):
    code = serializers.CharField()
    title = serializers.CharField()
    minutes = serializers.IntegerField()
    question_count = serializers.IntegerField()
    scored_count = serializers.IntegerField()
    unscored_count = serializers.IntegerField()
    scale_min = serializers.IntegerField()
    scale_max = serializers.IntegerField()
    passing_score = serializers.IntegerField()
    case_studies_per_form = serializers.IntegerField()
    item_types = serializers.ListField(child=serializers.CharField())
    status = serializers.CharField(help_text="current, retiring or retired")
    status_note = serializers.CharField()
    languages = serializers.ListField(child=serializers.CharField())
    available_from = serializers.DateField(allow_null=True)
    replaces = serializers.CharField(source="replaces.code", allow_null=True)
    beta = serializers.SerializerMethodField(help_text="the version's beta form, where it has one")

    def get_beta(self, obj: Exam) -> dict | None:
        if not obj.has_beta:
            return None
        return {"code": obj.beta_code, "questions": obj.beta_question_count, "minutes": obj.beta_minutes}


class ExamDetailOutput(ExamOutput):
    domains = DomainOutput(many=True, source="domains.all")


class ExamListApi(APIView):
    @extend_schema(
        responses=ExamOutput(many=True),
        summary="The exam versions offered, the current one first",
        operation_id="v1_exams_list",
    )
    def get(self, request):
        return Response(ExamOutput(exam_versions().select_related("replaces"), many=True).data)


class ExamDetailApi(APIView):
    @extend_schema(responses=ExamDetailOutput, summary="An exam's blueprint: domains, tasks and objectives")
    def get(self, request, code: str):
        exam = get_object_or_404(
            Exam.objects.select_related("replaces").prefetch_related(
                "domains__tasks__objectives__task", "domains__tasks__continues"
            ),
            code=code,
            is_active=True,
        )
        return Response(ExamDetailOutput(exam).data)
