from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers

from apps.accounts.selectors import exam_chosen
from apps.core.converters import id_param, number_param
from apps.exams.assembly import FormAssemblyError
from apps.exams.models import AttemptState
from apps.exams.selectors import attempt_for_candidate
from apps.exams.services import attempt_expire_if_due, attempt_start_review
from apps.questions.models import QuestionReport
from apps.questions.services import question_report_submit
from apps.scoring.forms import ExamOutcomeForm, QuestionReportForm
from apps.scoring.models import AttemptResult, ExamOutcome, StudyRule
from apps.scoring.outcomes import OutcomeInvalidError, exam_outcome_delete, exam_outcome_save, outcomes_of
from apps.scoring.progress import (
    MIN_ITEMS_FOR_CHANCE,
    missed_task_codes,
    progress_for,
    review_due_families,
    score_band,
    study_rule_save,
    study_rules_markdown,
)
from apps.scoring.selectors import (
    REVIEW_FILTERS,
    attempt_review_rows,
    attempt_reviewable,
    attempt_reviewed_item,
    weak_task_codes,
)
from apps.scoring.services import attempt_score_recover
from apps.syllabus.models import Task
from apps.syllabus.selectors import exam_versions


@login_required
@require_GET
@vary_on_headers("HX-Request")
def attempt_results(request: HttpRequest, attempt_id: int) -> HttpResponse:
    attempt = attempt_for_candidate(candidate=request.user, attempt_id=attempt_id)
    attempt_expire_if_due(attempt=attempt)
    attempt.refresh_from_db()
    if attempt.state == AttemptState.IN_PROGRESS:
        return redirect("exams:open", attempt.pk)
    result = AttemptResult.objects.filter(attempt=attempt).first() or attempt_score_recover(attempt=attempt)
    if result is None:
        if request.htmx:
            return HttpResponse(status=204)  # still scoring: htmx keeps polling
        return render(request, "scoring/pending.html", {"attempt": attempt})
    if request.htmx and request.headers.get("HX-Target") == "results-pending":
        response = HttpResponse(status=204)
        response["HX-Refresh"] = "true"
        return response
    show = _review_filter(request)
    rows = attempt_review_rows(attempt=attempt, show=show)
    # Each item's review loads when its details open; without JavaScript, ?open=N brings item N's inline.
    open_position = number_param(request.GET.get("open"), digits=5)
    opened = None
    if any(row.position == open_position for row in rows):
        opened = attempt_reviewed_item(attempt=attempt, position=open_position)
    context = {
        "attempt": attempt,
        "result": result,
        "rows": rows,
        "opened": opened,
        "show": show,
        "weak_tasks": weak_task_codes(result),
        "missed_tasks": missed_task_codes(attempt=attempt),
        "filters": [("all", "All"), ("wrong", "Wrong or unanswered"), ("flagged", "Flagged")],
        "report_reasons": QuestionReport.Reason.choices,
        "band": score_band(result=result, exam=attempt.exam),
        "min_items_for_chance": MIN_ITEMS_FOR_CHANCE,
    }
    if request.htmx:
        return render(request, "scoring/results.html#item-review", context)
    return render(request, "scoring/results.html", context)


def _review_filter(request: HttpRequest) -> str:
    show = request.GET.get("show", "all")
    return show if show in REVIEW_FILTERS else "all"


@login_required
@require_GET
@vary_on_headers("HX-Request")
def attempt_item_review(request: HttpRequest, attempt_id: int, position: int) -> HttpResponse:
    """One item's review (stem, key, rationales, explanation, report form), which the results page loads when its
    details open. A plain request is sent to the results page with that item open."""
    attempt = attempt_reviewable(candidate=request.user, attempt_id=attempt_id)
    reviewed = attempt_reviewed_item(attempt=attempt, position=position)
    if not request.htmx:
        query = urlencode({"show": _review_filter(request), "open": position})
        return redirect(f"{reverse('scoring:results', args=[attempt.pk])}?{query}#reviewed-{position}")
    return render(
        request,
        "scoring/results.html#item-detail",
        {"attempt": attempt, "reviewed": reviewed, "report_reasons": QuestionReport.Reason.choices},
    )


def _progress_page(request: HttpRequest, *, outcome_form: ExamOutcomeForm | None = None, status: int = 200):
    exam = exam_chosen(user=request.user)
    if exam is None:
        raise Http404("No exam is loaded.")
    from apps.cohorts.selectors import cohorts_of_member, member_percentile  # cohorts builds on scoring

    ranks = [
        (cohort.name, rank)
        for cohort in cohorts_of_member(user=request.user)
        if (rank := member_percentile(cohort=cohort, user=request.user)) is not None
    ]
    return render(
        request,
        "scoring/progress.html",
        {
            "exam": exam,
            "progress": progress_for(candidate=request.user, exam=exam),
            "ranks": ranks,
            "versions": exam_versions(),
            "min_items_for_chance": MIN_ITEMS_FOR_CHANCE,
            "outcome_form": outcome_form or ExamOutcomeForm(initial={"exam": exam}),
            "outcomes": outcomes_of(candidate=request.user),
        },
        status=status,
    )


@login_required
@require_GET
def progress(request: HttpRequest) -> HttpResponse:
    return _progress_page(request)


def _outcome_submit(request: HttpRequest, form: ExamOutcomeForm, outcome_id: int | None = None) -> bool:
    """Save the report the form carries; False (with the problems on the form) when it breaks a rule."""
    if not form.is_valid():
        return False
    data = form.cleaned_data
    try:
        outcome = exam_outcome_save(
            candidate=request.user,
            exam=data["exam"],
            sat_on=data["sat_on"],
            passed=data["result"] == "pass",
            scaled_score=data["scaled_score"],
            outcome_id=outcome_id,
            today=form.today,
        )
    except OutcomeInvalidError as exc:
        form.add_problems(exc.problems)
        return False
    except ExamOutcome.DoesNotExist:
        raise Http404("No such report.") from None
    verb = "updated" if outcome_id else "saved"
    messages.success(request, f"Your {outcome.exam.code} result of {outcome.sat_on:%Y-%m-%d} is {verb}. Thank you.")
    return True


@login_required
@require_POST
def outcome_create(request: HttpRequest) -> HttpResponse:
    form = ExamOutcomeForm(request.POST)
    if _outcome_submit(request, form):
        return redirect(f"{reverse('scoring:progress')}#outcomes-heading")
    return _progress_page(request, outcome_form=form, status=400)


@login_required
@require_http_methods(["GET", "POST"])
def outcome_edit(request: HttpRequest, outcome_id: int) -> HttpResponse:
    outcome = get_object_or_404(ExamOutcome.objects.select_related("exam"), pk=outcome_id, candidate=request.user)
    if request.method == "POST":
        form = ExamOutcomeForm(request.POST)
        if _outcome_submit(request, form, outcome_id=outcome.pk):
            return redirect(f"{reverse('scoring:progress')}#outcomes-heading")
        status = 400
    else:
        form, status = ExamOutcomeForm.for_outcome(outcome), 200
    return render(request, "scoring/outcome_edit.html", {"outcome": outcome, "form": form}, status=status)


@login_required
@require_POST
def outcome_delete(request: HttpRequest, outcome_id: int) -> HttpResponse:
    try:
        exam_outcome_delete(candidate=request.user, outcome_id=outcome_id)
    except ExamOutcome.DoesNotExist:
        raise Http404("No such report.") from None
    messages.success(request, "Your report is deleted.")
    return redirect(f"{reverse('scoring:progress')}#outcomes-heading")


@login_required
@require_POST
def rule_save(request: HttpRequest) -> HttpResponse:
    exam = exam_chosen(user=request.user)
    task = Task.objects.filter(domain__exam=exam, code=request.POST.get("task", "")).first()
    rule_id = request.POST.get("rule", "")
    if task is None:
        messages.error(request, "Choose the task the rule belongs to.")
        return redirect("scoring:progress")
    try:
        if request.POST.get("delete") and id_param(rule_id) is not None:
            StudyRule.objects.filter(pk=id_param(rule_id), candidate=request.user).delete()
        else:
            study_rule_save(
                candidate=request.user,
                task=task,
                text=request.POST.get("text", ""),
                rule_id=id_param(rule_id),
            )
    except ValueError as exc:
        messages.error(request, str(exc))
    except StudyRule.DoesNotExist:
        raise Http404("No such rule.") from None
    return redirect(f"{reverse('scoring:progress')}#rules-{task.code}")


@login_required
@require_GET
def rules_markdown(request: HttpRequest) -> HttpResponse:
    exam = exam_chosen(user=request.user)
    if exam is None:
        raise Http404("No exam is loaded.")
    response = HttpResponse(study_rules_markdown(candidate=request.user, exam=exam), content_type="text/markdown")
    response["Content-Disposition"] = f'attachment; filename="{exam.code.lower()}-rules.md"'
    return response


@login_required
@require_POST
def review_due_start(request: HttpRequest) -> HttpResponse:
    exam = exam_chosen(user=request.user)
    if exam is None:
        raise Http404("No exam is loaded.")
    families = review_due_families(candidate=request.user, exam=exam)
    try:
        attempt = attempt_start_review(candidate=request.user, exam=exam, families=families, count=len(families) or 1)
    except FormAssemblyError as exc:
        messages.info(request, str(exc))
        return redirect("scoring:progress")
    return redirect("exams:question", attempt.pk, 1)


@login_required
@require_POST
def question_report(request: HttpRequest, attempt_id: int, position: int) -> HttpResponse:
    """A candidate reports a problem with an item of their finished attempt (never before its key is shown)."""
    attempt = attempt_reviewable(candidate=request.user, attempt_id=attempt_id)
    item = get_object_or_404(attempt.items.select_related("question"), position=position)
    form = QuestionReportForm(request.POST)
    report = None
    if form.is_valid():
        report = question_report_submit(
            question=item.question,
            reporter=request.user,
            reason=form.cleaned_data["reason"],
            comment=form.cleaned_data["comment"],
        )
    if request.htmx:
        return render(
            request,
            "scoring/_report.html",
            {
                "attempt": attempt,
                "item": item,
                "report": report,
                "form": form,
                "just_sent": report is not None,
                "report_reasons": QuestionReport.Reason.choices,
            },
            status=200 if report else 400,  # htmx swaps a 400 in, so the errors show
        )
    if report:
        messages.success(request, f"Thank you: question {position} is reported; an instructor will review it.")
    else:
        messages.error(
            request,
            f"Question {position} was not reported: "
            + " ".join(form.errors.get("reason", []) + form.errors.get("comment", [])),
        )
    return redirect(f"{reverse('scoring:results', args=[attempt.pk])}?open={position}#reviewed-{position}")
