from django.contrib import admin

from apps.cohorts.models import Assignment, Cohort, CohortMember, DigestSubscription, Membership, Organisation


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "created_at"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [MembershipInline]


class CohortMemberInline(admin.TabularInline):
    model = CohortMember
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Cohort)
class CohortAdmin(admin.ModelAdmin):
    list_display = ["name", "organisation", "exam", "join_code", "created_at"]
    list_filter = ["organisation"]
    filter_horizontal = ["leads"]
    readonly_fields = ["join_code", "invite_token"]
    inlines = [CohortMemberInline]


@admin.register(Assignment)
class AssignmentAdmin(admin.ModelAdmin):
    list_display = ["title", "cohort", "kind", "due_at"]
    list_filter = ["kind", "cohort__organisation"]


@admin.register(DigestSubscription)
class DigestSubscriptionAdmin(admin.ModelAdmin):
    list_display = ["cohort", "lead", "sent_week", "created_at"]
    list_filter = ["cohort__organisation"]
    readonly_fields = ["sent_week"]
