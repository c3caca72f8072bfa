"""Admin pages for moving questions in and out: upload → preview → confirm (with progress), and export."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse

from apps.questions.interchange.exporting import export_losses_grouped, questions_export, questions_for_export
from apps.questions.interchange.formats import EXPORT_CHOICES, IMPORT_CHOICES
from apps.questions.interchange.importing import (
    ASYNC_THRESHOLD,
    IMPORT_STATUSES,
    ImportQueueUnavailableError,
    ImportReport,
    import_progress,
    question_import_confirm,
    question_import_stage,
)
from apps.questions.models import CategoryTask, QuestionImport, QuestionStatus
from apps.questions.services import category_task_remember
from apps.syllabus.models import Task
from apps.syllabus.selectors import exam_by_code, exam_default, exam_versions

STATUS_LABELS = {
    QuestionStatus.DRAFT: "Draft (recommended: review before publishing)",
    QuestionStatus.IN_REVIEW: "In review",
    QuestionStatus.PUBLISHED: "Published",
    QuestionStatus.PRETEST: "Pretest",
    "keep": "As stated in the file (native JSON only)",
}


def _task_choices() -> list[tuple[str, str]]:
    """Task codes with the current version's titles: the twelve codes are the same in every version."""
    tasks = Task.objects.filter(domain__exam=exam_default()).order_by("domain__number", "code")
    return [("", "None: leave items without a task unmapped"), *((t.code, f"{t.code} {t.title}") for t in tasks)]


def _exam_choices(*, blank: str | None = None) -> list[tuple[str, str]]:
    versions = [(v.code, f"{v.code} ({v.get_status_display().lower()})") for v in exam_versions()]
    return [("", blank), *versions] if blank else versions


class ImportForm(forms.Form):
    file = forms.FileField(help_text="GIFT, Moodle XML, Aiken, QTI 2.x (item or zip package) or native JSON.")
    format = forms.ChoiceField(choices=IMPORT_CHOICES, initial="auto")
    status = forms.ChoiceField(choices=[(s, STATUS_LABELS[s]) for s in IMPORT_STATUSES], initial="draft")
    exam = forms.ChoiceField(choices=(), label="Exam version", help_text="The version the items are written for.")
    task = forms.ChoiceField(choices=(), required=False, help_text="For items whose file names no task.")

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["exam"].choices = _exam_choices()
        self.fields["task"].choices = _task_choices()


class ExportForm(forms.Form):
    format = forms.ChoiceField(choices=EXPORT_CHOICES)
    status = forms.MultipleChoiceField(
        choices=QuestionStatus.choices, required=False, widget=forms.CheckboxSelectMultiple
    )
    exam = forms.ChoiceField(choices=(), required=False, label="Exam version")
    task = forms.MultipleChoiceField(choices=(), required=False)
    all_versions = forms.BooleanField(required=False, label="Every version, not only the latest")

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["exam"].choices = _exam_choices(blank="Any: every item in the bank")
        self.fields["task"].choices = _task_choices()[1:]


class InterchangeAdminMixin:
    """Adds import and export pages to the question admin."""

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("import/", view(self.import_view), name="questions_question_import"),
            path("import/<uuid:pk>/", view(self.import_detail_view), name="questions_question_import_detail"),
            path("export/", view(self.export_view), name="questions_question_export"),
            *super().get_urls(),
        ]

    def _context(self, request: HttpRequest, title: str) -> dict:
        return {**self.admin_site.each_context(request), "title": title, "opts": self.model._meta}

    def import_view(self, request: HttpRequest) -> HttpResponse:
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = ImportForm(request.POST or None, request.FILES or None)
        too_large = getattr(request, "upload_too_large", None)
        if request.method == "POST" and too_large:
            form.add_error(
                "file", f"{too_large} is larger than the limit of {settings.IMPORT_MAX_BYTES:,} bytes; split it."
            )
        elif request.method == "POST" and form.is_valid():
            upload = form.cleaned_data["file"]
            job = question_import_stage(
                data=upload.read(),
                filename=upload.name,
                exam=exam_by_code(form.cleaned_data["exam"]),
                user=request.user,
                fmt=form.cleaned_data["format"],
                status=form.cleaned_data["status"],
                task=form.cleaned_data["task"],
            )
            return redirect(reverse("admin:questions_question_import_detail", args=[job.pk]))
        context = self._context(request, "Import questions")
        context |= {
            "form": form,
            "limit": settings.IMPORT_MAX_BYTES,
            "threshold": ASYNC_THRESHOLD,
            "recent": QuestionImport.objects.filter(uploaded_by=request.user).defer("data")[:10],
        }
        return TemplateResponse(request, "admin/questions/question/import.html", context)

    def import_detail_view(self, request: HttpRequest, pk) -> HttpResponse:
        if not self.has_add_permission(request):
            raise PermissionDenied
        job = get_object_or_404(QuestionImport.objects.defer("data"), pk=pk, uploaded_by=request.user)
        if request.method == "POST" and job.state == QuestionImport.State.PREVIEWED:
            try:
                job = question_import_confirm(job=job)
            except ImportQueueUnavailableError:
                self.message_user(
                    request,
                    "The background worker cannot be reached, so nothing was imported. Try again in a minute.",
                    messages.ERROR,
                )
                return redirect(reverse("admin:questions_question_import_detail", args=[job.pk]))
            if job.state == QuestionImport.State.DONE:
                report = ImportReport.from_dict(job.report)
                self.message_user(request, report.summary())
            return redirect(reverse("admin:questions_question_import_detail", args=[job.pk]))
        done, total = import_progress(job)
        context = self._context(request, f"Import of {job.filename}")
        context |= {
            "job": job,
            "report": ImportReport.from_dict(job.report),
            "done": done,
            "total": total,
            "percent": round(100 * done / total) if total else 0,
            "running": job.state in {QuestionImport.State.QUEUED, QuestionImport.State.RUNNING},
        }
        template = "admin/questions/question/import_detail.html"
        if getattr(request, "htmx", False):
            template += "#import-status"
        response = TemplateResponse(request, template, context)
        response["Vary"] = "HX-Request"
        return response

    def export_view(self, request: HttpRequest) -> HttpResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        form = ExportForm(request.GET or None)
        context = self._context(request, "Export questions")
        if request.GET and form.is_valid():
            data = form.cleaned_data
            queryset = questions_for_export(
                statuses=data["status"],
                tasks=data["task"],
                all_versions=data["all_versions"],
                exam=exam_by_code(data["exam"]) if data["exam"] else None,
            )
            result = questions_export(queryset=queryset, fmt=data["format"])
            if "download" in request.GET:
                response = HttpResponse(result.data, content_type=result.content_type)
                response["Content-Disposition"] = f'attachment; filename="{result.filename}"'
                return response
            # The file first, then what the format cannot carry, one line per reason.
            context |= {
                "result": result,
                "loss_groups": export_losses_grouped(result.losses),
                "count": queryset.count(),
                "query": request.GET.urlencode(),
            }
        context["form"] = form
        return TemplateResponse(request, "admin/questions/question/export.html", context)


class CategoryTaskForm(forms.ModelForm):
    class Meta:
        model = CategoryTask
        fields = ["exam", "category", "task"]

    def clean(self):
        cleaned = super().clean()
        exam, task = cleaned.get("exam"), cleaned.get("task")
        if exam and task and task.domain.exam_id != exam.pk:
            self.add_error("task", f"Task {task.code} belongs to {task.domain.exam.code}, not {exam.code}.")
        return cleaned


@admin.register(CategoryTask)
class CategoryTaskAdmin(admin.ModelAdmin):
    """Which task each source-bank category's questions belong to. Saving one also gives that task to the
    category's imported drafts still waiting for one, and later imports use it."""

    form = CategoryTaskForm
    list_display = ["category", "task", "exam"]
    list_filter = ["exam"]
    search_fields = ["category"]
    list_select_related = ["task", "exam"]

    def save_model(self, request: HttpRequest, obj: CategoryTask, form, change: bool) -> None:
        obj.save()  # a changed category renames this mapping; the service then finds it by its new name
        mapped, refused = category_task_remember(exam=obj.exam, category=obj.category, task=obj.task)
        if mapped:
            self.message_user(
                request,
                f"{mapped} waiting draft(s) of category {obj.category!r} now belong to task {obj.task.code}.",
                messages.SUCCESS,
            )
        for message in refused:
            self.message_user(request, message, messages.WARNING)
