from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.generics import get_object_or_404
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.syllabus.models import Exam


class ObjectiveOutput(serializers.Serializer):
    code = serializers.CharField()
    statement = serializers.CharField()


class TaskOutput(serializers.Serializer):
    code = serializers.CharField()
    title = serializers.CharField()
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


class ExamDetailOutput(ExamOutput):
    domains = DomainOutput(many=True, source="domains.all")


class ExamListApi(APIView):
    @extend_schema(responses=ExamOutput(many=True), summary="List exams", operation_id="v1_exams_list")
    def get(self, request):
        return Response(ExamOutput(Exam.objects.filter(is_active=True), many=True).data)


class ExamDetailApi(APIView):
    @extend_schema(responses=ExamDetailOutput, summary="An exam's blueprint: domains, tasks and objectives")
    def get(self, request, code: str):
        exam = get_object_or_404(
            Exam.objects.prefetch_related("domains__tasks__objectives__task"), code=code, is_active=True
        )
        return Response(ExamDetailOutput(exam).data)
