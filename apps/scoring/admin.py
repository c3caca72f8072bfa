"""Reported exam outcomes for instructors: the list of reports (read-only) and the calibration page per exam
version (Brier score, reliability diagram, the pass line the outcomes point to)."""

from __future__ import annotations

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import path

from apps.scoring.models import ExamOutcome
from apps.scoring.outcomes import CUT_MINIMUM_REPORTS, calibration_for
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
