"""The REST API, version 1. Session or token authentication; errors all look like {"error": {...}}."""

from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from apps.cohorts.api import CohortAnalyticsApi
from apps.exams.api import AttemptAnswerApi, AttemptDetailApi, AttemptItemApi, AttemptListApi, AttemptSubmitApi
from apps.questions.api import QuestionDetailApi, QuestionListApi, QuestionStatusApi
from apps.scoring.api import AttemptResultApi, OutcomeDetailApi, OutcomeListApi
from apps.syllabus.api import ExamDetailApi, ExamListApi

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view serves Swagger UI's start-up script as a file, so the page needs no inline script (CSP).
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    path("v1/exams/", ExamListApi.as_view(), name="api-exams"),
    path("v1/exams/<slug:code>/", ExamDetailApi.as_view(), name="api-exam"),
    path("v1/questions/", QuestionListApi.as_view(), name="api-questions"),
    path("v1/questions/<id:pk>/", QuestionDetailApi.as_view(), name="api-question"),
    path("v1/questions/<id:pk>/status/", QuestionStatusApi.as_view(), name="api-question-status"),
    path("v1/attempts/", AttemptListApi.as_view(), name="api-attempts"),
    path("v1/attempts/<id:attempt_id>/", AttemptDetailApi.as_view(), name="api-attempt"),
    path("v1/attempts/<id:attempt_id>/items/<position:position>/", AttemptItemApi.as_view(), name="api-attempt-item"),
    path(
        "v1/attempts/<id:attempt_id>/items/<position:position>/answer/",
        AttemptAnswerApi.as_view(),
        name="api-attempt-answer",
    ),
    path("v1/attempts/<id:attempt_id>/submit/", AttemptSubmitApi.as_view(), name="api-attempt-submit"),
    path("v1/attempts/<id:attempt_id>/result/", AttemptResultApi.as_view(), name="api-attempt-result"),
    path("v1/outcomes/", OutcomeListApi.as_view(), name="api-outcomes"),
    path("v1/outcomes/<id:outcome_id>/", OutcomeDetailApi.as_view(), name="api-outcome"),
    path("v1/cohorts/<id:cohort_id>/analytics/", CohortAnalyticsApi.as_view(), name="api-cohort-analytics"),
]
