from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET
from django.views.decorators.vary import vary_on_headers

from apps.exams.models import AttemptState
from apps.exams.selectors import attempt_for_candidate
from apps.exams.services import attempt_expire_if_due
from apps.scoring.models import AttemptResult
from apps.scoring.selectors import REVIEW_FILTERS, attempt_reviewed_items, weak_task_codes


@login_required
@require_GET
@vary_on_headers("HX-Request")
def attempt_results(request: HttpRequest, attempt_id: int) -> HttpResponse:
    attempt = attempt_for_candidate(candidate=request.user, attempt_id=attempt_id)
    attempt_expire_if_due(attempt=attempt)
    attempt.refresh_from_db()
    if attempt.state == AttemptState.IN_PROGRESS:
        return redirect("exams:open", attempt.pk)
    result = AttemptResult.objects.filter(attempt=attempt).first()
    if result is None:
        if request.htmx:
            return HttpResponse(status=204)  # still scoring: htmx keeps polling
        return render(request, "scoring/pending.html", {"attempt": attempt})
    if request.htmx and request.headers.get("HX-Target") == "results-pending":
        response = HttpResponse(status=204)
        response["HX-Refresh"] = "true"
        return response
    show = request.GET.get("show", "all")
    show = show if show in REVIEW_FILTERS else "all"
    context = {
        "attempt": attempt,
        "result": result,
        "reviewed": attempt_reviewed_items(attempt=attempt, show=show),
        "show": show,
        "weak_tasks": weak_task_codes(result),
        "filters": [("all", "All"), ("wrong", "Wrong or unanswered"), ("flagged", "Flagged")],
    }
    if request.htmx:
        return render(request, "scoring/results.html#item-review", context)
    return render(request, "scoring/results.html", context)
