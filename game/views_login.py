"""The instructor's first login (the one-time link `make run` prints) and choosing a password."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.contrib.auth import login, update_session_auth_hash
from django.contrib.auth.forms import SetPasswordForm
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from game import firstlogin


@never_cache
@require_http_methods(["GET", "POST"])
def first_login(request: HttpRequest, token: str) -> HttpResponse:
    """GET shows what the link does; the POST (a button, so a link preview cannot use it up)
    logs in and asks for a password for next time."""
    user = firstlogin.check_token(token)
    if user is None:
        return render(request, "game/first_login.html", {"invalid": True}, status=410)
    if request.method == "POST":
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        return redirect("set_password")
    return render(request, "game/first_login.html", {"account": user.get_username()})


@never_cache
@staff_member_required
@require_http_methods(["GET", "POST"])
def set_password(request: HttpRequest) -> HttpResponse:
    if request.user.has_usable_password():
        return redirect("admin:password_change")
    form = SetPasswordForm(request.user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        form.save()
        update_session_auth_hash(request, form.user)
        messages.success(request, gettext("Password saved. Next time, log in with it at /admin/login/."))
        return redirect("host_index")
    return render(request, "game/set_password.html", {"form": form})
