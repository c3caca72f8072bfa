from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin

from apps.accounts.services import account_email_queue
from apps.exams.admin import AccommodationInline

User = get_user_model()
if admin.site.is_registered(User):
    admin.site.unregister(User)


@admin.register(User)
class AccountAdmin(UserAdmin):
    """Django's user admin, with each candidate's extra time, and a way to send people a password link."""

    inlines = [*UserAdmin.inlines, AccommodationInline]
    actions = ["password_link_send"]

    @admin.action(description="Email a link to choose a password")
    def password_link_send(self, request, queryset) -> None:
        users = list(queryset.filter(is_active=True).exclude(email="").values_list("pk", flat=True))
        account_email_queue(user_ids=users, kind="invitation", site_url=request.build_absolute_uri("/"))
        skipped = queryset.count() - len(users)
        self.message_user(request, f"A link to choose a password is on its way to {len(users)} people.")
        if skipped:
            self.message_user(
                request, f"{skipped} were skipped: no email address, or the account is switched off.", messages.WARNING
            )
