from django.contrib import admin

from apps.core.converters import id_param
from apps.syllabus.models import Domain, Exam, Objective, Task


class DomainInline(admin.TabularInline):
    model = Domain
    extra = 0


class TaskInline(admin.TabularInline):
    model = Task
    extra = 0


class ObjectiveInline(admin.TabularInline):
    model = Objective
    extra = 0


@admin.register(Exam)
class ExamAdmin(admin.ModelAdmin):
    list_display = [
        "code",
        "title",
        "minutes",
        "question_count",
        "case_studies_per_form",
        "passing_score",
        "is_active",
    ]
    inlines = [DomainInline]


@admin.register(Domain)
class DomainAdmin(admin.ModelAdmin):
    list_display = ["__str__", "exam", "weight"]
    list_filter = ["exam"]
    inlines = [TaskInline]


@admin.register(Task)
class TaskAdmin(admin.ModelAdmin):
    list_display = ["code", "title", "domain"]
    list_filter = ["domain__exam", "domain"]
    inlines = [ObjectiveInline]


@admin.register(Objective)
class ObjectiveAdmin(admin.ModelAdmin):
    list_display = ["code", "statement"]
    list_filter = ["task__domain__exam", "task"]
    list_select_related = ["task"]
    search_fields = ["statement"]

    def get_search_results(self, request, queryset, search_term):
        queryset, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        params = request.GET
        if (params.get("app_label"), params.get("model_name"), params.get("field_name")) == (
            "questions",
            "question",
            "objectives",
        ):
            # The item page's objectives box: only the chosen task's objectives; none until a task is chosen.
            task = params.get("task", "")
            queryset = queryset.filter(task_id=task_id) if (task_id := id_param(task)) else queryset.none()
            queryset = queryset.select_related("task__domain__exam").order_by("order")
        return queryset, may_have_duplicates
