from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.cohorts.selectors import cohort_dashboard, cohort_for_lead
from apps.core.converters import number_param


class MemberOutput(serializers.Serializer):
    username = serializers.CharField()
    latest_scaled = serializers.IntegerField(allow_null=True)
    best_scaled = serializers.IntegerField(allow_null=True)
    pass_probability = serializers.FloatField(allow_null=True)
    attempts = serializers.IntegerField()
    last_active = serializers.DateTimeField(allow_null=True)
    trend = serializers.IntegerField(allow_null=True)
    tasks = serializers.DictField(child=serializers.ListField(child=serializers.IntegerField()))


class WeekOutput(serializers.Serializer):
    week = serializers.DateField()
    active = serializers.IntegerField()
    ready = serializers.IntegerField()
    mean_scaled = serializers.FloatField(allow_null=True)


class AnalyticsOutput(serializers.Serializer):
    cohort = serializers.CharField()
    exam = serializers.CharField(help_text="the cohort's exam version: every figure counts its attempts only")
    member_count = serializers.IntegerField()
    page = serializers.IntegerField()
    pages = serializers.IntegerField()
    members = MemberOutput(many=True)
    weeks = WeekOutput(many=True)
    weakest_objectives = serializers.ListField(child=serializers.DictField())


class CohortAnalyticsApi(APIView):
    @extend_schema(
        parameters=[OpenApiParameter("page", int, description="Members come 50 to a page.")],
        responses=AnalyticsOutput,
        summary="A cohort's analytics (its leads only)",
    )
    def get(self, request, cohort_id: int):
        cohort = cohort_for_lead(user=request.user, cohort_id=cohort_id)
        page = request.query_params.get("page", "1")
        data = cohort_dashboard(cohort=cohort, page=number_param(page, digits=6) or 1)
        members = []
        for row in data.members:
            stat = row["stat"]
            members.append(
                {
                    "username": row["user"].get_username(),
                    "latest_scaled": stat.latest_scaled if stat else None,
                    "best_scaled": stat.best_scaled if stat else None,
                    "pass_probability": stat.pass_probability if stat else None,
                    "attempts": stat.attempts if stat else 0,
                    "last_active": stat.last_active if stat else None,
                    "trend": stat.trend if stat else None,
                    "tasks": stat.tasks if stat else {},
                }
            )
        return Response(
            AnalyticsOutput(
                {
                    "cohort": cohort.name,
                    "exam": cohort.exam.code,
                    "member_count": data.member_count,
                    "page": data.page,
                    "pages": data.pages,
                    "members": members,
                    "weeks": list(reversed(data.weeks)),  # newest first, as this API has always listed them
                    "weakest_objectives": [
                        {"objective": row.code, "correct": row.correct, "total": row.total}
                        for row in data.weakest_objectives
                    ],
                }
            ).data
        )
