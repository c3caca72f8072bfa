from django.contrib.auth.decorators import login_required
from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.views import defaults
from django.views.decorators.http import require_http_methods
from rest_framework.exceptions import NotFound

from apps.accounts.selectors import exam_chosen
from apps.core.health import celery_check, database_check, redis_check
from apps.questions.models import QuestionStatus
from apps.questions.selectors import questions_of_exam
from apps.syllabus.models import Task
from apps.syllabus.selectors import exam_default, exam_versions


def home(request: HttpRequest) -> HttpResponse:
    """The versions offered, and the blueprint of the one the visitor practises for (the current one for
    newcomers)."""
    exam = exam_chosen(user=request.user) if request.user.is_authenticated else exam_default()
    domains = []
    published = 0
    if exam is not None:
        domains = exam.domains.prefetch_related(Prefetch("tasks", queryset=Task.objects.order_by("code")))
        published = questions_of_exam(exam=exam).filter(status=QuestionStatus.PUBLISHED).count()
    return render(
        request,
        "core/home.html",
        {"exam": exam, "domains": domains, "published": published, "versions": exam_versions()},
    )


@require_http_methods(["GET", "HEAD"])
def favicon(request: HttpRequest) -> HttpResponse:
    """Browsers ask for /favicon.ico on pages that name no icon (the admin's): our SVG icon. Not a permanent
    redirect, since its URL changes with its content."""
    return redirect(static("favicon.svg"))


def healthz(request: HttpRequest) -> JsonResponse:
    """Readiness for load balancers and compose: 503 when the database fails. A dead Redis or a missing Celery
    worker is reported as "degraded" with 200: exams keep working (the cache falls back to the database, and
    scoring waits for the broker and a worker), so web nodes must not be taken out of service for them."""
    checks = {"database": database_check(), "redis": redis_check(), "celery": celery_check()}
    critical = checks["database"] is None
    state = "ok" if all(problem is None for problem in checks.values()) else "degraded" if critical else "fail"
    body = {"status": state, "checks": {k: v or "ok" for k, v in checks.items()}}
    return JsonResponse(body, status=200 if critical else 503)


@login_required
@require_http_methods(["GET", "POST"])
def ping(request: HttpRequest) -> HttpResponse:
    """An authenticated no-op: lets a client check its session and connection, and is the baseline the
    benchmarks compare real views with (same middleware stack, no work)."""
    return HttpResponse(status=204)


def not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """404 for a URL that matches nothing (an id too large for the database, say): in the API's error format
    under /api/, Django's page elsewhere."""
    if request.path_info.startswith("/api/"):
        error = {"code": NotFound.default_code, "message": str(NotFound.default_detail), "fields": {}}
        return JsonResponse({"error": error}, status=404)
    return defaults.page_not_found(request, exception)
