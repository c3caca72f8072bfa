from django.contrib import admin

from apps.exams.models import Accommodation, Attempt, AttemptItem


class AccommodationInline(admin.StackedInline):
    model = Accommodation
    can_delete = True
    extra = 0
    verbose_name = verbose_name_plural = "extra time on timed exams"


@admin.register(Accommodation)
class AccommodationAdmin(admin.ModelAdmin):
    """Staff set a candidate's extra time here or on the user's page; it applies to every timed attempt."""

    list_display = ["user", "extra_minutes", "reason"]
    search_fields = ["user__username", "user__email"]
    autocomplete_fields = ["user"]


class AttemptItemInline(admin.TabularInline):
    model = AttemptItem
    fields = ["position", "question", "scored", "answer", "answered_at", "flagged", "is_correct"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Attempt)
class AttemptAdmin(admin.ModelAdmin):
    """Read-only: attempts change only through delivery, so support staff can look but not alter results."""

    list_display = ["pk", "candidate", "mode", "state", "started_at", "deadline", "submitted_by"]
    list_filter = ["mode", "state", "submitted_by"]
    search_fields = ["candidate__username"]
    inlines = [AttemptItemInline]
    exclude = ["scratchpad"]  # the candidate's private notes: not for staff either

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in Attempt._meta.fields if field.name not in self.exclude]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
