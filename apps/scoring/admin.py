"""Scoring in the admin.

Reported exam outcomes for instructors: the list of reports (read-only) and the calibration page per exam
version (Brier score, reliability diagram, the pass line the outcomes point to).

Standard setting in the admin: the study list, each rater's rating sheet, the facilitator's round summary
with impact data and its actions, and the recorded cut. The logic is in apps/scoring/standards.py.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db.models import Count, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path

from apps.scoring import standards
from apps.scoring.forms import RatingSheetForm, StudyCreateForm
from apps.scoring.models import ExamOutcome, RecordedCut, StandardSettingStudy, StudyState
from apps.scoring.outcomes import CUT_MINIMUM_REPORTS, calibration_for
from apps.scoring.services import exam_cut_theta
from apps.syllabus.models import Exam


@admin.register(ExamOutcome)
class ExamOutcomeAdmin(admin.ModelAdmin):
    list_display = ["exam", "sat_on", "passed", "scaled_score", "predicted_pass_probability", "predicted_responses"]
    list_filter = ["exam", "passed"]
    date_hierarchy = "sat_on"
    change_list_template = "admin/scoring/examoutcome/change_list.html"
    # Candidates own their reports: instructors read them without the candidate's name (the progress page
    # promises that), and only the candidate edits or deletes one.
    list_display_links = None
    exclude = ["candidate"]

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def get_urls(self):
        custom = [
            path(
                "calibration/",
                self.admin_site.admin_view(self.calibration_view),
                name="scoring_examoutcome_calibration",
            )
        ]
        return custom + super().get_urls()

    def calibration_view(self, request: HttpRequest) -> HttpResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        versions = list(Exam.objects.filter(is_active=True).order_by("-code"))
        code = request.GET.get("exam", "")
        exam = next((version for version in versions if version.code == code), versions[0] if versions else None)
        context = {
            **self.admin_site.each_context(request),
            "title": f"Calibration of the readiness estimate: {exam.code}" if exam else "Calibration",
            "calibration": calibration_for(exam=exam) if exam else None,
            "versions": versions,
            "minimum": CUT_MINIMUM_REPORTS,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/scoring/examoutcome/calibration.html", context)


RATE_PERMISSION = "scoring.rate_standardsettingstudy"

# The facilitator's actions: the confirmation each asks for, and the service it runs.
STUDY_ACTIONS = {
    "open-round-2": (
        "Open round 2",
        "Round 1 closes: raters can no longer change their round-1 ratings. Each rater's sheet then shows the "
        "panel's round-1 spread and the observed facility of each item, and raters may revise.",
    ),
    "adopt": (
        "Adopt the panel's cut",
        "The cut computed from the final ratings becomes this exam version's cut: every attempt scored from now "
        "on is scaled against it (results already issued keep the cut they were scored with). The study closes.",
    ),
    "abandon": (
        "Abandon the study",
        "The study closes without changing the cut. Its ratings are kept for the record.",
    ),
}


@admin.register(StandardSettingStudy)
class StandardSettingStudyAdmin(admin.ModelAdmin):
    list_display = ["name", "exam_code", "state", "rater_count", "cut_theta", "decided"]
    list_filter = ["exam", "state"]
    list_select_related = ["exam", "cut"]
    search_fields = ["name"]
    change_list_template = "admin/scoring/study/change_list.html"

    def get_queryset(self, request: HttpRequest) -> QuerySet[StandardSettingStudy]:
        return super().get_queryset(request).annotate(rater_total=Count("ratings__rater", distinct=True))

    @admin.display(description="exam", ordering="exam__code")
    def exam_code(self, obj: StandardSettingStudy) -> str:
        return obj.exam.code

    @admin.display(description="raters", ordering="rater_total")
    def rater_count(self, obj: StandardSettingStudy) -> int:
        return obj.rater_total

    @admin.display(description="cut (θ)")
    def cut_theta(self, obj: StandardSettingStudy) -> str:
        cut = getattr(obj, "cut", None)
        return f"{cut.theta:+.2f} (raw {cut.raw_cut:.1f}/{cut.items})" if cut else "—"

    @admin.display(description="decided", ordering="adopted_at")
    def decided(self, obj: StandardSettingStudy) -> str:
        return f"{obj.adopted_at:%Y-%m-%d}" if obj.adopted_at else "—"

    def has_delete_permission(self, request: HttpRequest, obj: StandardSettingStudy | None = None) -> bool:
        if obj is not None and obj.state == StudyState.ADOPTED:
            return False  # the recorded cut rests on it
        return super().has_delete_permission(request, obj)

    def get_urls(self):
        view = self.admin_site.admin_view
        custom = [
            path("<id:pk>/sheet/", view(self.sheet_view), name="scoring_study_sheet"),
            path("<id:pk>/summary/", view(self.summary_view), name="scoring_study_summary"),
            path("<id:pk>/cut/", view(self.cut_view), name="scoring_study_cut"),
            path("<id:pk>/action/<slug:action>/", view(self.action_view), name="scoring_study_action"),
        ]
        return custom + super().get_urls()

    def _context(self, request: HttpRequest, title: str, **extra) -> dict:
        return {**self.admin_site.each_context(request), "title": title, "opts": self.model._meta, **extra}

    def changelist_view(self, request: HttpRequest, extra_context: dict | None = None) -> HttpResponse:
        from apps.syllabus.selectors import exam_versions

        cuts = []
        for exam in exam_versions():
            source, study = standards.cut_source(exam=exam)
            cuts.append({"exam": exam, "theta": exam_cut_theta(exam=exam), "source": source, "study": study})
        return super().changelist_view(request, {**(extra_context or {}), "current_cuts": cuts})

    def add_view(self, request: HttpRequest, form_url: str = "", extra_context: dict | None = None) -> HttpResponse:
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = StudyCreateForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                study = standards.study_create(
                    exam=form.cleaned_data["exam"], name=form.cleaned_data["name"], created_by=request.user
                )
            except standards.StandardSettingError as error:
                form.add_error(None, str(error))
            else:
                self.message_user(
                    request, f"{study} is open for round 1 with {study.items.count()} items on its base form."
                )
                return redirect("admin:scoring_study_summary", study.pk)
        return TemplateResponse(
            request, "admin/scoring/study/add.html", self._context(request, "New standard-setting study", form=form)
        )

    def change_view(self, request: HttpRequest, object_id: str, form_url: str = "", extra_context=None):
        """A study is read on its summary page; any address that names none gets the admin's usual answer."""
        study = self.get_object(request, unquote(object_id))
        if study is None:
            return self._get_obj_does_not_exist_redirect(request, self.model._meta, object_id)
        if not self.has_view_or_change_permission(request, study):
            raise PermissionDenied
        return redirect("admin:scoring_study_summary", study.pk)

    def sheet_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        if not request.user.has_perm(RATE_PERMISSION):
            raise PermissionDenied
        study = get_object_or_404(StandardSettingStudy.objects.select_related("exam"), pk=pk)
        if not study.is_open:
            self.message_user(request, f"{study} is {study.get_state_display().lower()}: ratings are closed.")
            return redirect("admin:scoring_study_summary", study.pk)
        rows = standards.rating_sheet(study=study, rater=request.user)
        form = RatingSheetForm(request.POST or None, rows=rows, initial={"round": study.round})
        status = 200
        if request.method == "POST":
            if form.is_valid():
                try:
                    rated = standards.study_ratings_save(
                        study=study, rater=request.user, round_=form.cleaned_data["round"], values=form.values()
                    )
                except standards.RatingsInvalidError as error:
                    for question_id, message in error.errors.items():
                        field = f"rating-{question_id}"
                        form.add_error(field if field in form.fields else None, message)
                else:
                    left = len(rows) - rated
                    self.message_user(
                        request,
                        f"Saved: {rated} of {len(rows)} items rated in round {study.round}."
                        + (f" {left} still to rate; come back any time." if left else " Your sheet is complete."),
                    )
                    return HttpResponseRedirect(request.path)
            status = 400
        context = self._context(
            request,
            f"{study}: your ratings, round {study.round}",
            study=study,
            form=form,
            rows=[(row, form.field_for(row.question.pk)) for row in rows],
            rated=sum(row.value is not None for row in rows),
            round_one=standards.round_one_cut(study=study) if study.round == 2 else None,
        )
        return TemplateResponse(request, "admin/scoring/study/sheet.html", context, status=status)

    def summary_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        study = get_object_or_404(StandardSettingStudy.objects.select_related("exam"), pk=pk)
        context = self._context(
            request,
            f"{study}: {study.get_state_display().lower()}",
            study=study,
            summary=standards.round_summary(study=study),
            can_facilitate=(can_facilitate := self.has_change_permission(request, study)),
            # Raters see each other's round-1 ratings only once round 1 is closed.
            show_ratings=can_facilitate or study.state != StudyState.ROUND_1,
            can_rate=request.user.has_perm(RATE_PERMISSION),
            min_raters=standards.PANEL_MIN_RATERS,
        )
        return TemplateResponse(request, "admin/scoring/study/summary.html", context)

    def cut_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        cut = get_object_or_404(RecordedCut.objects.select_related("exam", "study", "decided_by"), study_id=pk)
        source, current = standards.cut_source(exam=cut.exam)
        context = self._context(
            request,
            f"Recorded cut: {cut.study}",
            cut=cut,
            study=cut.study,
            current_theta=exam_cut_theta(exam=cut.exam),
            is_current=source == standards.PANEL and current is not None and current.pk == cut.study_id,
        )
        return TemplateResponse(request, "admin/scoring/study/cut.html", context)

    def action_view(self, request: HttpRequest, pk: int, action: str) -> HttpResponse:
        study = get_object_or_404(StandardSettingStudy.objects.select_related("exam"), pk=pk)
        if action not in STUDY_ACTIONS:
            return redirect("admin:scoring_study_summary", study.pk)
        if not self.has_change_permission(request, study):
            raise PermissionDenied
        label, consequence = STUDY_ACTIONS[action]
        if request.method != "POST":
            return redirect("admin:scoring_study_summary", study.pk)
        if request.POST.get("confirm") != "yes":
            context = self._context(
                request,
                f"{label}: please confirm",
                study=study,
                action=action,
                label=label,
                consequence=consequence,
                summary=standards.round_summary(study=study) if action == "adopt" else None,
            )
            return TemplateResponse(request, "admin/scoring/study/confirm.html", context)
        try:
            if action == "open-round-2":
                standards.study_round_two_open(study=study, by=request.user)
                self.message_user(request, f"Round 2 of {study} is open; raters now see the round-1 impact data.")
            elif action == "adopt":
                cut = standards.study_adopt(study=study, by=request.user)
                self.message_user(
                    request,
                    f"Adopted: {study.exam.code}'s cut is now θ = {cut.theta:+.2f} (raw cut {cut.raw_cut:.1f} of "
                    f"{cut.items}, {cut.raters} raters).",
                )
                return redirect("admin:scoring_study_cut", study.pk)
            else:
                standards.study_abandon(study=study, by=request.user)
                self.message_user(request, f"{study} is abandoned; the cut is unchanged.")
        except standards.StandardSettingError as error:
            self.message_user(request, str(error), level=messages.ERROR)
        return redirect("admin:scoring_study_summary", study.pk)
