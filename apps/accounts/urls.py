"""Account URLs. Names are Django's own (login, password_reset_confirm...), unnamespaced as in
django.contrib.auth.urls, since Django's views reverse them by those names."""

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.urls import path, reverse_lazy
from django.views.generic import TemplateView
from django_ratelimit.decorators import ratelimit

from apps.accounts import views

# One address may sign up, or ask for reset links, a few times an hour: enough for typos, too few for spam.
per_address = "apps.accounts.limits.client_address"
per_email = "apps.accounts.limits.email_address"
signup_rate, reset_rate = "apps.accounts.limits.signup_rate", "apps.accounts.limits.password_reset_rate"
signup = ratelimit(key=per_address, rate=signup_rate, method="POST", group="signup")
reset = ratelimit(key=per_address, rate=reset_rate, method="POST", group="password-reset")
reset_per_email = ratelimit(key=per_email, rate=reset_rate, method="POST", group="reset-email")

urlpatterns = [
    path("", views.account, name="account"),
    path("text-size/", views.text_size_set, name="text-size"),
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("signup/", signup(views.SignupView.as_view()), name="signup"),
    path(
        "signup/done/",
        TemplateView.as_view(
            template_name="accounts/signup_done.html",
            extra_context={"activation_days": settings.ACCOUNT_ACTIVATION_DAYS},
        ),
        name="signup-done",
    ),
    path("signup/closed/", TemplateView.as_view(template_name="accounts/signup_closed.html"), name="signup-closed"),
    path("activate/", views.ActivateView.as_view(), name="activate"),
    path(
        "password/change/",
        auth_views.PasswordChangeView.as_view(template_name="accounts/password_change_form.html"),
        name="password_change",
    ),
    path(
        "password/change/done/",
        auth_views.PasswordChangeDoneView.as_view(template_name="accounts/password_change_done.html"),
        name="password_change_done",
    ),
    path("password/reset/", reset(reset_per_email(views.PasswordResetView.as_view())), name="password_reset"),
    path(
        "password/reset/sent/",
        auth_views.PasswordResetDoneView.as_view(template_name="accounts/password_reset_done.html"),
        name="password_reset_done",
    ),
    path(
        "reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(
            template_name="accounts/password_reset_confirm.html",
            success_url=reverse_lazy("password_reset_complete"),
        ),
        name="password_reset_confirm",
    ),
    path(
        "reset/done/",
        auth_views.PasswordResetCompleteView.as_view(template_name="accounts/password_reset_complete.html"),
        name="password_reset_complete",
    ),
]
