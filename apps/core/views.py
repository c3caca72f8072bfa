from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from apps.questions.models import Question, QuestionStatus
from apps.syllabus.models import Task
from apps.syllabus.selectors import exam_default


def home(request: HttpRequest) -> HttpResponse:
    exam = exam_default()
    domains = []
    published = 0
    if exam is not None:
        domains = exam.domains.prefetch_related(Prefetch("tasks", queryset=Task.objects.order_by("code")))
        published = Question.objects.filter(task__domain__exam=exam, status=QuestionStatus.PUBLISHED).count()
    return render(request, "core/home.html", {"exam": exam, "domains": domains, "published": published})
