"""Exam delivery views: thin HTTP over the services. One URL serves the full page, or just the exam panel
when htmx asks (``request.htmx``); every htmx action is also a plain form post, so the exam works without
JavaScript (except the live countdown)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import HttpResponseClientRedirect

from apps.accounts.selectors import exam_chosen
from apps.accounts.services import preference_exam_set
from apps.core.converters import number_param
from apps.core.reversing import int_reverse
from apps.exams.assembly import FormAssemblyError
from apps.exams.forms import PracticeForm
from apps.exams.models import Attempt, AttemptItem, AttemptState, Feedback
from apps.exams.presentation import AnswerFormatError, answer_gap, item_display, item_review
from apps.exams.selectors import (
    REVIEW_FILTERS,
    ItemCell,
    QuestionScreen,
    attempt_for_candidate,
    attempt_item_at,
    attempt_progress,
    attempt_remaining_ms,
    attempt_remaining_seconds,
    attempt_review_rows,
    candidate_attempts,
    mock_briefing,
    mock_in_progress,
)
from apps.exams.services import (
    AnswerLockedError,
    AttemptClosedError,
    attempt_answer_save,
    attempt_eliminate_set,
    attempt_expire_if_due,
    attempt_flag_set,
    attempt_item_reveal,
    attempt_pause,
    attempt_question_open,
    attempt_resume,
    attempt_scratchpad_save,
    attempt_start_mock,
    attempt_start_practice,
    attempt_start_review,
    attempt_submit,
)
from apps.syllabus.models import Exam, Task
from apps.syllabus.selectors import exam_by_code, exam_versions

NAV = {"next": 1, "prev": -1}
REMAINING_HEADER = "X-Exam-Remaining-Ms"


def _exam_or_404(request: HttpRequest) -> Exam:
    """The exam version the candidate practises for (their choice, else the current one)."""
    exam = exam_chosen(user=request.user)
    if exam is None:
        raise Http404("No exam is loaded.")
    return exam


def _question_url(attempt: Attempt, position: int) -> str:
    return int_reverse("exams:question", attempt.pk, position)


def _results_url(attempt: Attempt) -> str:
    return reverse("scoring:results", args=[attempt.pk])


def _with_clock(response: HttpResponse, attempt_id: int, candidate) -> HttpResponse:
    """Tell the live countdown the server's remaining time with every exam fragment, so it follows the server's
    deadline; the fragments themselves never carry (possibly stale) timer values."""
    attempt = Attempt.objects.filter(pk=attempt_id, candidate=candidate).only("deadline", "paused_at").first()
    remaining = attempt_remaining_ms(attempt=attempt) if attempt is not None else None
    if remaining is not None:
        response[REMAINING_HEADER] = str(remaining)
    return response


def _exam_context(attempt: Attempt, **extra) -> dict:
    """What every screen of a running attempt shows in its header: the kind of attempt and the countdown."""
    return {
        "attempt": attempt,
        "mode_label": attempt.get_mode_display(),  # once: the page names it three times
        "remaining": attempt_remaining_seconds(attempt=attempt),
        "remaining_ms": attempt_remaining_ms(attempt=attempt),
        **extra,
    }


@login_required
@require_GET
def exams_home(request: HttpRequest) -> HttpResponse:
    exam = _exam_or_404(request)
    return render(
        request,
        "exams/home.html",
        {
            "exam": exam,
            "attempts": candidate_attempts(candidate=request.user),
            "running_mock": mock_in_progress(candidate=request.user, exam=exam),
            "running_beta": mock_in_progress(candidate=request.user, exam=exam, beta=True),
            "form": PracticeForm(exam=exam),
            "versions": exam_versions(),
        },
    )


@login_required
@require_POST
def exam_version_choose(request: HttpRequest) -> HttpResponse:
    """Practise for another exam version; the page the candidate came from shows it at once."""
    exam = exam_by_code(request.POST.get("exam", ""))
    if exam is None or exam not in exam_versions():
        messages.error(request, "Choose one of the exam versions offered.")
    else:
        preference_exam_set(user=request.user, exam=exam)
        messages.info(request, f"You now practise for {exam.code}.")
    back = request.POST.get("back", "")
    if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}) or not back.startswith("/"):
        back = reverse("exams:home")
    return redirect(back)


@login_required
@require_GET
def mock_instructions(request: HttpRequest) -> HttpResponse:
    """Before a full mock (or the version's beta form, ``?form=beta``), as before the real exam: the format, the
    tools and the time. The clock starts only when the candidate presses Begin."""
    exam = _exam_or_404(request)
    beta = request.GET.get("form") == "beta" and exam.has_beta
    briefing = mock_briefing(candidate=request.user, exam=exam, beta=beta)
    return render(request, "exams/instructions.html", {"briefing": briefing, "begin_url": reverse("exams:mock-start")})


@login_required
@require_POST
def mock_start(request: HttpRequest) -> HttpResponse:
    beta = request.POST.get("form") == "beta"
    try:
        attempt = attempt_start_mock(candidate=request.user, exam=_exam_or_404(request), beta=beta)
    except FormAssemblyError as exc:
        messages.error(request, f"A full mock cannot be built yet: {exc}")
        return redirect("exams:home")
    return redirect(_question_url(attempt, attempt.last_position))


@login_required
@require_http_methods(["GET", "POST"])
def practice_new(request: HttpRequest) -> HttpResponse:
    exam = _exam_or_404(request)
    form = PracticeForm(request.POST or None, exam=exam, initial=_practice_initial(request, exam))
    if request.method == "POST" and form.is_valid():
        try:
            attempt = attempt_start_practice(
                candidate=request.user,
                exam=exam,
                task_ids=[task.pk for task in form.cleaned_data["tasks"]],
                count=form.cleaned_data["count"],
                timed=form.cleaned_data["timed"],
                feedback=form.cleaned_data["feedback"],
            )
        except FormAssemblyError as exc:
            form.add_error(None, str(exc))
        else:
            return redirect(_question_url(attempt, 1))
    return render(request, "exams/practice_new.html", {"exam": exam, "form": form})


def _practice_initial(request: HttpRequest, exam: Exam) -> dict:
    """Tasks named in the address (results' "drill my weak tasks"): task codes carry across versions."""
    codes = [code for code in request.GET.getlist("task") if code]
    if not codes:
        return {}
    return {"tasks": list(Task.objects.filter(domain__exam=exam, code__in=codes).values_list("pk", flat=True))}


@login_required
@require_POST
def review_start(request: HttpRequest) -> HttpResponse:
    try:
        attempt = attempt_start_review(candidate=request.user, exam=_exam_or_404(request))
    except FormAssemblyError as exc:
        messages.info(request, str(exc))
        return redirect("exams:home")
    return redirect(_question_url(attempt, 1))


@login_required
@require_GET
def attempt_open(request: HttpRequest, attempt_id: int) -> HttpResponse:
    attempt = attempt_for_candidate(candidate=request.user, attempt_id=attempt_id)
    attempt_expire_if_due(attempt=attempt)
    attempt.refresh_from_db()
    if attempt.state != AttemptState.IN_PROGRESS:
        return redirect(_results_url(attempt))
    return redirect(_question_url(attempt, attempt.last_position))


def _full_page(request: HttpRequest, url: str) -> HttpResponse:
    """A redirect to a whole page: for htmx, one the browser itself follows (HX-Redirect), so that the page is
    not swapped into the exam panel."""
    return HttpResponseClientRedirect(url) if request.htmx else HttpResponseRedirect(url)


def _closed_redirect(request: HttpRequest, attempt: Attempt) -> HttpResponse | None:
    """Send a finished (or just expired) attempt to its results; htmx gets a full-page redirect."""
    if attempt.state == AttemptState.IN_PROGRESS and not attempt_expire_if_due(attempt=attempt):
        return None
    return _full_page(request, _results_url(attempt))


def _question_context(request: HttpRequest, screen: QuestionScreen, **extra) -> dict:
    attempt, item, progress = screen.attempt, screen.item, screen.progress
    kind = item.question.type
    remaining = attempt_remaining_seconds(attempt=attempt)
    reveal = item.revealed_at is not None
    return {
        **_exam_context(attempt),
        "item": item,
        "question": item.question,
        "shown": item_display(item.question, item.presentation, item.answer, item.eliminated),
        "progress": progress,
        "cell": progress.cells[item.position - 1],
        "gap": answer_gap(kind, item.presentation, item.answer),
        "pace_seconds": int(attempt.exam.seconds_per_question),
        "seconds_per_left": remaining // progress.to_finish if remaining is not None and progress.to_finish else None,
        "show_pacing": not request.session.get("hide_pacing", False),
        "previous": item.position - 1 if item.position > 1 else None,
        "next": item.position + 1 if item.position < attempt.item_count else None,
        "reveal": reveal,
        "review": item_review(item.question, item.presentation, item.answer) if reveal else None,
        "can_check": attempt.feedback == Feedback.IMMEDIATE and not reveal,
        "scratchpad_open": bool(attempt.scratchpad),
        **extra,
    }


def _swaps_panel(request: HttpRequest) -> bool:
    """An htmx move within the exam (Next, Previous, the grid, Save, Check): the answer form posts, htmx follows
    the redirect to the question with its headers, and this page answers with the new question's panel only.
    Going back in the browser's history reloads the whole page (see base.html's htmx config)."""
    return bool(request.htmx) and request.htmx.target == "exam-panel" and not request.htmx.history_restore_request


@login_required
@require_GET
@vary_on_headers("HX-Request", "HX-Target")
def attempt_question(request: HttpRequest, attempt_id: int, position: int) -> HttpResponse:
    screen = attempt_question_open(candidate=request.user, attempt_id=attempt_id, position=position)
    attempt = screen.attempt
    panel = _swaps_panel(request)
    if (closed := _closed_redirect(request, attempt)) is not None:
        return closed
    if attempt.paused_at is not None:  # paused in another tab: the whole page says so
        if panel:
            return _full_page(request, request.get_full_path())
        return render(request, "exams/paused.html", {"attempt": attempt})
    if screen.item is None:
        raise Http404("No such question in this attempt.")
    context = _question_context(request, screen)
    left = attempt.last_position  # the question the candidate comes from (read before the page remembered this one)
    if not panel:
        return render(request, "exams/take.html", context)
    if left != position and 1 <= left <= len(screen.progress.cells):  # its grid cell loses the current mark
        context["left_cell"] = screen.progress.cells[left - 1]
    response = render(request, "exams/take.html#question_swap", context)
    if request.htmx.current_url_abs_path != request.get_full_path():  # Save and Check stay on the same address
        response["HX-Push-Url"] = request.get_full_path()
    if context["remaining_ms"] is not None:
        response[REMAINING_HEADER] = str(context["remaining_ms"])
    return response


def _after_post(request: HttpRequest, attempt: Attempt, position: int) -> HttpResponse:
    """Where a press of Next, Previous, a question's number, Review or Finish goes after the answer is saved. A
    question: a redirect, which htmx follows to swap the panel in. Another screen: a full page, also for htmx."""
    go = request.POST.get("go", "")
    if go in ("review", "submit"):
        return _full_page(request, reverse("exams:review" if go == "review" else "exams:submit", args=[attempt.pk]))
    jump = number_param(go[2:], digits=5) if go.startswith("q-") else None  # the navigator: "q-12" goes to 12
    target = jump if jump is not None else position + NAV.get(go, 0)
    return redirect(_question_url(attempt, min(max(target, 1), attempt.item_count)))


@login_required
@require_POST
def attempt_answer(request: HttpRequest, attempt_id: int, position: int) -> HttpResponse:
    autosave = request.POST.get("go") == "autosave"
    seq = request.POST.get("seq", "")
    try:
        result = attempt_answer_save(
            candidate=request.user,
            attempt_id=attempt_id,
            position=position,
            data=request.POST,
            seq=number_param(seq, digits=11),
        )
    except (Attempt.DoesNotExist, AttemptItem.DoesNotExist):
        raise Http404("No such question in your attempts.") from None
    except AnswerLockedError as exc:
        # A checked practice item: nothing to save, and moving on (Next, a question number, Review) goes ahead.
        if autosave:
            return render(request, "exams/_save_status.html", {"error": exc.reason}, status=409)
        attempt = attempt_for_candidate(candidate=request.user, attempt_id=attempt_id)
        return _after_post(request, attempt, position)
    except AttemptClosedError as exc:
        if autosave:
            return render(request, "exams/_save_status.html", {"error": exc.reason}, status=409)
        messages.error(request, exc.reason)
        attempt = attempt_for_candidate(candidate=request.user, attempt_id=attempt_id)
        if exc.finished:
            attempt_expire_if_due(attempt=attempt)
            return _full_page(request, _results_url(attempt))
        return redirect(_question_url(attempt, position))
    except AnswerFormatError as exc:
        if autosave:
            return render(request, "exams/_save_status.html", {"error": f"Not saved: {exc}"}, status=400)
        messages.error(request, f"That answer could not be saved: {exc}")
        return redirect(reverse("exams:question", args=[attempt_id, position]))
    if autosave:
        context = {"saved_at": result.saved_at, "seq": result.seq, "gap": result.gap}
        if result.applied:  # the question's state changed: update its marks out of band
            context["cell"] = ItemCell(position, result.state, result.flagged)
        response = render(request, "exams/_save_status.html", context)
        if not result.applied:  # a stale save: read the clock on its own
            return _with_clock(response, attempt_id, request.user)
        if result.deadline is not None:  # read with the save: the countdown costs no extra query
            response[REMAINING_HEADER] = str(max(0, int((result.deadline - result.saved_at).total_seconds() * 1000)))
        return response
    attempt = attempt_for_candidate(candidate=request.user, attempt_id=attempt_id)
    return _after_post(request, attempt, position)


@login_required
@require_POST
def attempt_flag(request: HttpRequest, attempt_id: int, position: int) -> HttpResponse:
    attempt = attempt_for_candidate(candidate=request.user, attempt_id=attempt_id)
    flagged = request.POST.get("flagged") == "1"
    try:
        item = attempt_flag_set(attempt=attempt, position=position, flagged=flagged)
    except AttemptItem.DoesNotExist:
        raise Http404("No such question in this attempt.") from None
    except AttemptClosedError as exc:
        if request.htmx:
            return render(request, "exams/_save_status.html", {"error": exc.reason}, status=409)
        messages.error(request, exc.reason)
        return redirect(_question_url(attempt, position))
    if request.htmx:
        cell = ItemCell(position, item.answer_state, item.flagged)
        response = render(request, "exams/take.html#flag_button", {"attempt": attempt, "item": item, "flag_cell": cell})
        return _with_clock(response, attempt.pk, request.user)
    return redirect(_question_url(attempt, position))


@login_required
@require_POST
def attempt_eliminate(request: HttpRequest, attempt_id: int, position: int, option: int) -> HttpResponse:
    attempt = attempt_for_candidate(candidate=request.user, attempt_id=attempt_id)
    try:
        if not request.htmx:  # without JavaScript nothing was autosaved: keep the pick made before striking
            attempt_answer_save(candidate=request.user, attempt_id=attempt.pk, position=position, data=request.POST)
        attempt_eliminate_set(
            attempt=attempt, position=position, option=option, eliminated=request.POST.get("struck") == "1"
        )
    except AttemptItem.DoesNotExist:
        raise Http404("No such question in this attempt.") from None
    except (AttemptClosedError, AnswerFormatError) as exc:
        if request.htmx:
            return render(request, "exams/_save_status.html", {"error": getattr(exc, "reason", str(exc))}, status=409)
        messages.error(request, getattr(exc, "reason", str(exc)))
        return redirect(_question_url(attempt, position))
    if request.htmx:  # just the option's row: the page, its scroll position and the focus stay where they were
        item = attempt_item_at(attempt=attempt, position=position)
        shown = item_display(item.question, item.presentation, item.answer, item.eliminated)
        context = {"attempt": attempt, "item": item, "question": item.question, "part": shown.choices[option - 1]}
        return _with_clock(render(request, "questions/_option.html", context), attempt.pk, request.user)
    return redirect(f"{_question_url(attempt, position)}#option-{option}")


@login_required
@require_POST
def attempt_check(request: HttpRequest, attempt_id: int, position: int) -> HttpResponse:
    attempt = attempt_for_candidate(candidate=request.user, attempt_id=attempt_id)
    try:
        if request.POST.get("go") == "check":
            attempt_answer_save(candidate=request.user, attempt_id=attempt.pk, position=position, data=request.POST)
        attempt_item_reveal(attempt=attempt, position=position)
    except AttemptItem.DoesNotExist:
        raise Http404("No such question in this attempt.") from None
    except AnswerLockedError:
        pass  # checked already (a second tab, a double click): show the feedback
    except (AttemptClosedError, AnswerFormatError) as exc:
        messages.error(request, getattr(exc, "reason", str(exc)))
    return redirect(f"{_question_url(attempt, position)}#feedback-heading")


@login_required
@require_GET
@vary_on_headers("HX-Request")
def attempt_review(request: HttpRequest, attempt_id: int) -> HttpResponse:
    attempt = attempt_for_candidate(candidate=request.user, attempt_id=attempt_id)
    if (closed := _closed_redirect(request, attempt)) is not None:
        return closed
    show = request.GET.get("show", "all")
    show = show if show in REVIEW_FILTERS else "all"
    context = _exam_context(
        attempt,
        rows=attempt_review_rows(attempt=attempt, show=show),
        show=show,
        progress=attempt_progress(attempt=attempt),
        filters=[(value, label) for value, (label, _) in REVIEW_FILTERS.items()],
    )
    if request.htmx:
        return render(request, "exams/review.html#review-list", context)
    return render(request, "exams/review.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def attempt_submit_view(request: HttpRequest, attempt_id: int) -> HttpResponse:
    attempt = attempt_for_candidate(candidate=request.user, attempt_id=attempt_id)
    if request.method == "POST":
        attempt_submit(attempt=attempt)
        return redirect(_results_url(attempt))
    if (closed := _closed_redirect(request, attempt)) is not None:
        return closed
    return render(request, "exams/submit.html", _exam_context(attempt, progress=attempt_progress(attempt=attempt)))


@login_required
@require_GET
def attempt_exit(request: HttpRequest, attempt_id: int) -> HttpResponse:
    """The way out of a running attempt to the rest of the site: it says first what happens to the clock."""
    attempt = attempt_for_candidate(candidate=request.user, attempt_id=attempt_id)
    if (closed := _closed_redirect(request, attempt)) is not None:
        return closed
    return render(request, "exams/exit.html", _exam_context(attempt, is_mock=attempt.is_full_exam))


@login_required
@require_POST
def attempt_scratchpad(request: HttpRequest, attempt_id: int) -> HttpResponse:
    """Save the scratch pad (htmx as the candidate types, or its Save button without JavaScript)."""
    attempt = attempt_for_candidate(candidate=request.user, attempt_id=attempt_id)
    text = request.POST.get("scratchpad", "")
    back = request.POST.get("back", "")
    if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}) or not back.startswith("/"):
        back = reverse("exams:open", args=[attempt.pk])
    try:
        attempt_scratchpad_save(attempt=attempt, text=text)
    except (AttemptClosedError, AnswerFormatError) as exc:
        reason = getattr(exc, "reason", str(exc))
        if request.htmx:
            status = 409 if isinstance(exc, AttemptClosedError) else 400
            return render(request, "exams/_scratchpad.html#scratchpad_status", {"error": reason}, status=status)
        messages.error(request, f"The scratch pad was not saved: {reason}")
        return redirect(back)
    if request.htmx:
        response = render(request, "exams/_scratchpad.html#scratchpad_status", {"saved": True})
        return _with_clock(response, attempt.pk, request.user)
    messages.info(request, "Scratch pad saved.")
    return redirect(back)


@login_required
@require_POST
def attempt_pause_view(request: HttpRequest, attempt_id: int) -> HttpResponse:
    attempt = attempt_for_candidate(candidate=request.user, attempt_id=attempt_id)
    try:
        attempt_pause(attempt=attempt)
    except AttemptClosedError as exc:
        messages.error(request, exc.reason)
        return redirect(_question_url(attempt, attempt.last_position))
    messages.info(request, "Practice set paused. Its clock has stopped; resume it from here or from your exams page.")
    return redirect("exams:open", attempt.pk)


@login_required
@require_POST
def attempt_resume_view(request: HttpRequest, attempt_id: int) -> HttpResponse:
    attempt = attempt_for_candidate(candidate=request.user, attempt_id=attempt_id)
    attempt = attempt_resume(attempt=attempt)
    return redirect(_question_url(attempt, attempt.last_position))


@login_required
@require_POST
def pacing_toggle(request: HttpRequest) -> HttpResponse:
    request.session["hide_pacing"] = not request.session.get("hide_pacing", False)
    target = request.POST.get("back", "")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = reverse("exams:home")
    return redirect(target)
