"""Accounts over HTTP: Django's auth views and django-registration's activation workflow, with our templates,
emails queued through the services, and the `next` page carried from sign-up to the first login."""

from __future__ import annotations

import json
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.views.decorators.http import require_http_methods, require_POST
from django_registration.backends.activation.views import ActivationView, RegistrationView

from apps.accounts.forms import AccountForm, PasswordResetRequestForm, SignupForm
from apps.accounts.services import (
    account_activate,
    account_register,
    next_url_safe,
    preference_text_size_set,
)


def _next(request: HttpRequest) -> str:
    return next_url_safe(request.POST.get("next") or request.GET.get("next"), host=request.get_host())


class SignupView(RegistrationView):
    form_class = SignupForm
    template_name = "accounts/signup.html"
    success_url = reverse_lazy("signup-done")
    disallowed_url = reverse_lazy("signup-closed")

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            return redirect(_next(request) or settings.LOGIN_REDIRECT_URL)
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        return super().get_context_data(**kwargs) | {"next": _next(self.request)}

    def register(self, form):
        return account_register(
            form=form,
            site_url=self.request.build_absolute_uri("/"),
            next_url=_next(self.request),
            request=self.request,
        )


class ActivateView(ActivationView):
    """GET shows the key in a form and POST activates, so a mail scanner that follows the link activates nothing."""

    template_name = "accounts/activate.html"

    def get_context_data(self, **kwargs):
        return super().get_context_data(**kwargs) | {"next": _next(self.request)}

    def activate(self, form):
        user = self.get_user(form.cleaned_data["activation_key"])
        account_activate(user=user)
        return user

    def get_success_url(self, user=None) -> str:
        messages.success(self.request, f"Your account {user.get_username()} is active. Log in to start practising.")
        login = reverse("login")
        next_url = _next(self.request)
        return f"{login}?{urlencode({'next': next_url})}" if next_url else login


class PasswordResetView(auth_views.PasswordResetView):
    form_class = PasswordResetRequestForm
    template_name = "accounts/password_reset_form.html"


@login_required
@require_http_methods(["GET", "POST"])
def account(request: HttpRequest) -> HttpResponse:
    form = AccountForm(request.POST if request.method == "POST" else None, instance=request.user)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, "Your name is saved.")
        return redirect("account")
    return render(request, "accounts/account.html", {"form": form})


@login_required
@require_POST
def text_size_set(request: HttpRequest) -> HttpResponse:
    """Choose the text size (from the account page or an exam's tools); htmx swaps the control and tells the page,
    which applies it at once. Without JavaScript the page reloads at the new size."""
    try:
        size = preference_text_size_set(user=request.user, size=request.POST.get("size", ""), session=request.session)
    except ValueError as exc:
        if request.htmx:
            return HttpResponse(str(exc), status=400, content_type="text/plain")
        messages.error(request, str(exc))
        return redirect(_next(request) or "account")
    if request.htmx:
        response = render(request, "accounts/_text_size.html", {"text_size": size, "next": _next(request)})
        response["HX-Trigger"] = json.dumps({"textSizeChanged": size})
        return response
    return redirect(_next(request) or "account")


def rate_limited(request: HttpRequest, exception=None) -> HttpResponse:
    """django-ratelimit's RATELIMIT_VIEW: too many sign-ups or reset requests from one address."""
    return render(request, "accounts/rate_limited.html", status=429)


class LoginView(auth_views.LoginView):
    """Django's login, except where it lands without a ``next``: a team lead lands on their cohorts, everyone
    else on the home page."""

    redirect_authenticated_user = True

    def get_default_redirect_url(self) -> str:
        from apps.cohorts.selectors import leads_cohorts  # cohorts builds on accounts

        if self.next_page is None and leads_cohorts(user=self.request.user):
            return reverse("cohorts:home")
        return super().get_default_redirect_url()
