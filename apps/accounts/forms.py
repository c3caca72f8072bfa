import unicodedata

from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import PasswordResetForm
from django_registration.forms import RegistrationFormUniqueEmail

from apps.accounts.services import account_email_queue


class SignupForm(RegistrationFormUniqueEmail):
    """django-registration's form: reserved and confusable names refused, usernames unique whatever their case,
    Django's password validators; one account per email address, so a reset link reaches one account."""

    class Meta(RegistrationFormUniqueEmail.Meta):
        fields = ["username", "email"]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["email"].help_text = "We send the activation link here."


class PasswordResetRequestForm(PasswordResetForm):
    """Django's reset form, with the email queued to Celery, and open to accounts that have no password yet:
    people added from a roster set their first password through this same link."""

    def get_users(self, email: str):
        email_field = get_user_model().get_email_field_name()
        users = get_user_model()._default_manager.filter(**{f"{email_field}__iexact": email, "is_active": True})
        # As Django does: the database's case-insensitive match may accept look-alike addresses (CVE-2019-19844).
        wanted = unicodedata.normalize("NFKC", email).casefold()
        return [
            user for user in users if unicodedata.normalize("NFKC", getattr(user, email_field)).casefold() == wanted
        ]

    def save(self, *, request, **kwargs) -> None:  # the view passes Django's own e-mail options; the task needs none
        account_email_queue(
            user_ids=[user.pk for user in self.get_users(self.cleaned_data["email"])],
            kind="password_reset",
            site_url=request.build_absolute_uri("/"),
        )


class AccountForm(forms.ModelForm):
    class Meta:
        model = get_user_model()
        fields = ["first_name", "last_name"]
