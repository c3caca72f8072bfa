"""Cohorts over HTTP: thin views over the services and selectors; leads see only their cohorts."""

from __future__ import annotations

import csv
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers

from apps.cohorts.charts import dashboard_charts, member_score_chart
from apps.cohorts.forms import AssignmentForm, CohortForm, JoinForm, RosterForm
from apps.cohorts.models import Assignment, Cohort, Membership, Role
from apps.cohorts.selectors import (
    MIN_SEEN,
    PAGE_SIZE,
    Dashboard,
    assignment_for_lead,
    assignments_for_member,
    can_create_cohorts,
    cohort_dashboard,
    cohort_for_lead,
    cohort_member_profile,
    cohort_onboarding,
    cohorts_led_by,
    cohorts_of_member,
    dashboard_filter_parse,
    digest_cohort_ids,
    member_sort_parse,
)
from apps.cohorts.services import (
    CohortError,
    assignment_create,
    assignment_delete,
    assignment_start,
    assignment_update,
    cohort_create,
    cohort_join,
    digest_subscribe,
    digest_subscription_from_token,
    digest_unsubscribe,
    roster_import,
)
from apps.core.converters import number_param
from apps.exams.assembly import FormAssemblyError
from apps.exams.selectors import mock_briefing
from apps.syllabus.selectors import exam_default


@login_required
@require_GET
def cohorts_home(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "cohorts/home.html",
        {
            "led": cohorts_led_by(user=request.user),
            "digest_ids": digest_cohort_ids(user=request.user),
            "member_of": cohorts_of_member(user=request.user),
            "assignments": assignments_for_member(user=request.user),
            "can_create": can_create_cohorts(request.user),
            "form": CohortForm(),
            "join_form": JoinForm(),
        },
    )


@login_required
@require_POST
def cohort_new(request: HttpRequest) -> HttpResponse:
    form = CohortForm(request.POST)
    membership = Membership.objects.filter(user=request.user, role__in=[Role.ADMIN, Role.LEAD]).first()
    if membership is None:
        raise Http404("You do not lead teams in any organisation.")
    if not form.is_valid():
        messages.error(
            request, "Give the cohort a name." if "name" in form.errors else "Choose an exam version offered."
        )
        return redirect("cohorts:home")
    try:
        cohort = cohort_create(
            organisation=membership.organisation,
            exam=form.cleaned_data["exam"] or exam_default(),
            name=form.cleaned_data["name"],
            by=request.user,
        )
    except CohortError as exc:
        messages.error(request, str(exc))
        return redirect("cohorts:home")
    return redirect("cohorts:dashboard", cohort.pk)


@login_required
@require_POST
def join_by_code(request: HttpRequest) -> HttpResponse:
    form = JoinForm(request.POST)
    try:
        cohort = cohort_join(user=request.user, code=form.data.get("code", ""))
    except CohortError as exc:
        messages.error(request, str(exc))
        return redirect("cohorts:home")
    messages.success(request, f"You joined {cohort.name}.")
    return redirect("cohorts:home")


@login_required
@require_http_methods(["GET", "POST"])
def join_by_invite(request: HttpRequest, token: str) -> HttpResponse:
    cohort = Cohort.objects.filter(invite_token=token).first() if _is_uuid(token) else None
    if cohort is None:
        raise Http404("This invite link is not valid.")
    if request.method == "POST":
        cohort_join(user=request.user, token=token)
        messages.success(request, f"You joined {cohort.name}.")
        return redirect("cohorts:home")
    return render(request, "cohorts/join.html", {"cohort": cohort})


def _page(value: str | None) -> int:
    return number_param(value, digits=6) or 1


def _is_uuid(value: str) -> bool:
    import uuid

    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def _dashboard_read(
    request: HttpRequest, cohort: Cohort, *, page_size: int = PAGE_SIZE, item_rows: int = 10
) -> Dashboard:
    """The dashboard as the request's GET parameters filter, search, sort and page it (the page's URL is
    shareable, and each CSV link carries the same parameters)."""
    return cohort_dashboard(
        cohort=cohort,
        flt=dashboard_filter_parse(cohort=cohort, params=request.GET),
        q=request.GET.get("q", ""),
        sort=member_sort_parse(request.GET.get("sort")),
        page=_page(request.GET.get("page")),
        page_size=page_size,
        item_rows=item_rows,
    )


def _sort_links(data: Dashboard) -> list[dict]:
    """The members table's column headers: each a link sorting by it (a second click reverses), with aria-sort."""
    columns = [
        ("name", "Member"),
        ("latest", "Latest"),
        ("best", "Best"),
        ("chance", "Chance of passing standard"),
        ("attempts", "Attempts"),
        ("active", "Last active"),
    ]
    base = {**data.filter.params(), **({"q": data.q} if data.q else {})}
    current, descending = data.sort.lstrip("-"), data.sort.startswith("-")
    links = []
    for key, label in columns:
        if key == current:
            aria, target = ("descending" if descending else "ascending"), (key if descending else f"-{key}")
        else:
            # Scores and dates read best from the top; names from A.
            aria, target = "", (key if key == "name" else f"-{key}")
        links.append({"label": label, "aria_sort": aria, "query": urlencode({**base, "sort": target})})
    return links


@login_required
@require_GET
@vary_on_headers("HX-Request")
def dashboard(request: HttpRequest, cohort_id: int) -> HttpResponse:
    cohort = cohort_for_lead(user=request.user, cohort_id=cohort_id)
    data = _dashboard_read(request, cohort)
    listing = {**data.filter.params(), **({"q": data.q} if data.q else {}), "sort": data.sort}
    onboarding = cohort_onboarding(
        cohort=cohort,
        members=data.headline.members,  # everyone in the cohort, whatever the filter
        assignments=[row["assignment"] for row in data.assignments],
    )
    context = {
        "data": data,
        "charts": dashboard_charts(data),
        "sort_links": _sort_links(data),
        "filter_query": data.filter.query,
        "listing_query": urlencode(listing),
        "min_seen": MIN_SEEN,
        "can_open_items": request.user.is_staff and request.user.has_perm("questions.view_question"),
        "cohort": cohort,
        "roster_form": RosterForm(),
        "assignment_form": AssignmentForm(exam=cohort.exam),
        "invite_url": request.build_absolute_uri(f"/cohorts/join/{cohort.invite_token}/"),
        "onboarding": onboarding,
    }
    if request.htmx:
        return render(request, "cohorts/dashboard.html#dashboard-body", context)
    return render(request, "cohorts/dashboard.html", context)


ROSTER_ERRORS_SHOWN = 20


@login_required
@require_GET
def member_detail(request: HttpRequest, cohort_id: int, user_id: int) -> HttpResponse:
    cohort = cohort_for_lead(user=request.user, cohort_id=cohort_id)
    profile = cohort_member_profile(cohort=cohort, user_id=user_id)
    return render(
        request,
        "cohorts/member.html",
        {
            "cohort": cohort,
            "profile": profile,
            "chart": member_score_chart(exam=cohort.exam, results=profile.mocks),
        },
    )


@login_required
@require_POST
def roster_upload(request: HttpRequest, cohort_id: int) -> HttpResponse:
    cohort = cohort_for_lead(user=request.user, cohort_id=cohort_id)
    form = RosterForm(request.POST, request.FILES)
    if not form.is_valid():
        for error in form.errors.get("roster", []):
            messages.error(request, error)
        return redirect("cohorts:dashboard", cohort.pk)
    result = roster_import(
        cohort=cohort,
        text=form.cleaned_data["roster"],
        filename=request.FILES["roster"].name,
        site_url=request.build_absolute_uri("/"),
    )
    if result.errors:
        # One message per error, each naming its line, so a long list can be read and fixed line by line.
        shown = result.errors[:ROSTER_ERRORS_SHOWN]
        more = len(result.errors) - len(shown)
        messages.error(request, f"Nothing was imported: the roster has {len(result.errors)} problem(s) to fix.")
        for error in shown:
            messages.error(request, error)
        if more:
            messages.error(request, f"… and {more} more.")
    else:
        text = f"Roster imported: {result.added} added ({result.created} new accounts), {result.already} already in."
        if result.created:
            text += f" {result.invited} new people were emailed a link to choose their password."
        if result.created > result.invited:
            text += (
                f" {result.created - result.invited} new accounts have no email address: they cannot log in until"
                " staff add one and send them a password link (admin, Users)."
            )
        messages.success(request, text)
    return redirect("cohorts:dashboard", cohort.pk)


def _assignment_fields(form: AssignmentForm) -> dict:
    """What the assignment services take, from a valid form (new or edited)."""
    data = form.cleaned_data
    return {
        "kind": data["kind"],
        "title": data["title"],
        "due_at": data["due_at"],
        "task_ids": [task.pk for task in data["tasks"]],
        "size": data["size"] or 20,
    }


@login_required
@require_POST
def assignment_new(request: HttpRequest, cohort_id: int) -> HttpResponse:
    cohort = cohort_for_lead(user=request.user, cohort_id=cohort_id)
    form = AssignmentForm(request.POST, exam=cohort.exam)
    if not form.is_valid():
        messages.error(
            request, "Check the assignment: " + "; ".join(f"{k}: {' '.join(v)}" for k, v in form.errors.items())
        )
        return redirect("cohorts:dashboard", cohort.pk)
    try:
        assignment_create(cohort=cohort, by=request.user, **_assignment_fields(form))
    except CohortError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, "Assigned.")
    return redirect("cohorts:dashboard", cohort.pk)


@login_required
@require_http_methods(["GET", "POST"])
def assignment_edit(request: HttpRequest, assignment_id: int) -> HttpResponse:
    assignment = assignment_for_lead(user=request.user, assignment_id=assignment_id)
    cohort = assignment.cohort
    initial = {
        "title": assignment.title,
        "kind": assignment.kind,
        "due_at": assignment.due_at,
        "size": assignment.size,
        "tasks": list(assignment.tasks.all()),
    }
    form = AssignmentForm(request.POST or None, initial=initial, exam=cohort.exam)
    if request.method == "POST" and form.is_valid():
        try:
            assignment_update(assignment=assignment, by=request.user, **_assignment_fields(form))
        except CohortError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, f"Saved {assignment.title}.")
            return redirect("cohorts:dashboard", cohort.pk)
    return render(request, "cohorts/assignment_edit.html", {"assignment": assignment, "cohort": cohort, "form": form})


@login_required
@require_http_methods(["GET", "POST"])
def assignment_remove(request: HttpRequest, assignment_id: int) -> HttpResponse:
    """GET asks for confirmation, saying what happens to attempts already started; POST deletes."""
    assignment = assignment_for_lead(user=request.user, assignment_id=assignment_id)
    cohort = assignment.cohort
    if request.method == "POST":
        try:
            unlinked = assignment_delete(assignment=assignment, by=request.user)
        except CohortError as exc:
            messages.error(request, str(exc))
            return redirect("cohorts:dashboard", cohort.pk)
        text = f"Deleted {assignment.title}."
        if unlinked:
            text += f" The {unlinked} attempt(s) already started are kept in those members' history."
        messages.success(request, text)
        return redirect("cohorts:dashboard", cohort.pk)
    started = assignment.attempts.count()
    return render(
        request, "cohorts/assignment_delete.html", {"assignment": assignment, "cohort": cohort, "started": started}
    )


@login_required
@require_http_methods(["GET", "POST"])
def assignment_begin(request: HttpRequest, assignment_id: int) -> HttpResponse:
    """POST starts (or resumes) the member's attempt. GET, for a mock not started yet, shows the mock's
    instructions first, whose Begin posts here: the clock starts then, as for any mock."""
    assignment = get_object_or_404(
        Assignment.objects.filter(cohort__members__user=request.user).select_related("cohort__exam"), pk=assignment_id
    )
    if request.method == "GET":
        if assignment.kind != Assignment.Kind.MOCK:
            return redirect("cohorts:home")
        briefing = mock_briefing(candidate=request.user, exam=assignment.cohort.exam)
        begin = reverse("cohorts:assignment-start", args=[assignment.pk])
        return render(request, "exams/instructions.html", {"briefing": briefing, "begin_url": begin})
    try:
        attempt = assignment_start(assignment=assignment, user=request.user)
    except (CohortError, FormAssemblyError) as exc:
        messages.error(request, str(exc))
        return redirect("cohorts:home")
    return redirect("exams:open", attempt.pk)


@login_required
@require_POST
def digest_toggle(request: HttpRequest, cohort_id: int) -> HttpResponse:
    cohort = cohort_for_lead(user=request.user, cohort_id=cohort_id)
    if request.POST.get("digest") == "on":
        try:
            digest_subscribe(cohort=cohort, lead=request.user, site_url=request.build_absolute_uri("/"))
        except CohortError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(
                request, f"The weekly digest of {cohort.name} is on: it comes on Mondays to {request.user.email}."
            )
    else:
        digest_unsubscribe(cohort=cohort, lead=request.user)
        messages.success(request, f"The weekly digest of {cohort.name} is off.")
    return redirect("cohorts:home")


@require_http_methods(["GET", "POST"])
def digest_off(request: HttpRequest, token: str) -> HttpResponse:
    """The email's turn-off link. It works without logging in (the signed token is the proof), and only a POST
    turns the digest off, so a mail scanner following links changes nothing."""
    subscription = digest_subscription_from_token(token)
    if request.method == "POST":
        if subscription is not None:
            subscription.delete()
        return render(request, "cohorts/digest_off.html", {"done": True, "subscription": subscription})
    return render(request, "cohorts/digest_off.html", {"subscription": subscription})


EXPORTS = {"members", "objectives", "items", "weeks"}


@login_required
@require_GET
def export_csv(request: HttpRequest, cohort_id: int, table: str) -> HttpResponse:
    cohort = cohort_for_lead(user=request.user, cohort_id=cohort_id)
    if table not in EXPORTS:
        raise Http404("No such table.")
    data = _dashboard_read(request, cohort, page_size=1_000_000, item_rows=1_000_000)
    response = HttpResponse(content_type="text/csv")
    response["Content-Disposition"] = f'attachment; filename="cohort-{cohort.pk}-{table}.csv"'
    writer = csv.writer(response)
    if table == "members":
        writer.writerow(
            [
                "username",
                "latest",
                "best",
                "pass_probability",
                "attempts",
                "last_active",
                "trend",
                *[t.code for t in data.tasks],
            ]
        )
        for row in data.members:
            stat = row["stat"]
            tasks = stat.tasks if stat else {}
            writer.writerow(
                [
                    _safe(row["user"].username),
                    *(
                        [
                            stat.latest_scaled,
                            stat.best_scaled,
                            _round(stat.pass_probability),
                            stat.attempts,
                            stat.last_active.isoformat() if stat.last_active else "",
                            stat.trend,
                        ]
                        if stat
                        else ["", "", "", 0, "", ""]
                    ),
                    *[_percent(tasks.get(t.code)) for t in data.tasks],
                ]
            )
    elif table == "objectives":
        writer.writerow(["objective", "statement", "correct", "total"])
        for row in data.objectives:
            writer.writerow([row.code, _safe(row.statement), row.correct, row.total])
    elif table == "items":
        writer.writerow(["item", "task", "stem", "missed", "seen", "miss_rate"])
        for row in data.items:
            writer.writerow(
                [row.question_id, row.task_code, _safe(row.excerpt), row.missed, row.seen, _round(row.rate)]
            )
    else:
        writer.writerow(["week", "active", "ready", "mean_scaled"])
        for week in data.weeks:
            writer.writerow([week.week.isoformat(), week.active, week.ready, _round(week.mean_scaled)])
    return response


def _safe(text: str) -> str:
    """Neutralise spreadsheet formulas (CSV injection) in user-written text."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _round(value):
    return "" if value is None else round(value, 3)


def _percent(pair):
    return "" if not pair or not pair[1] else round(100 * pair[0] / pair[1])
