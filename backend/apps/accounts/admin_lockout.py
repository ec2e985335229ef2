"""The admin sign-in lockout (django-axes, configured in config/settings/base.py): who counts as one user, and the
page a locked-out client sees."""

from __future__ import annotations

import ipaddress
import math

from axes.helpers import get_cool_off, get_failure_limit
from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext as _

from apps.accounts.phone import InvalidPhone, normalize_phone
from apps.core.http import client_ip

_MAX_USERNAME = 255  # axes' column


def login_client_ip(request: HttpRequest) -> str | None:
    """The client address as the OTP limits and DRF throttles see it (REMOTE_ADDR, or the right hop of
    X-Forwarded-For behind MAWID_TRUSTED_PROXY_COUNT proxies); None when it is not an address (the column is inet)."""
    address = client_ip(request)
    try:
        return str(ipaddress.ip_address(address))
    except ValueError:
        return None


def login_username(request: HttpRequest, credentials: dict | None = None) -> str | None:
    """The phone number the attempt was for, in E.164: `0500000001`, `+966 50 000 0001` and `966500000001` are
    one user, so typing the number differently does not buy more guesses."""
    raw = None
    if credentials:
        raw = credentials.get("username") or credentials.get("phone")
    if raw is None and request is not None:
        raw = request.POST.get("username")
    if raw is None:
        return None
    try:
        return normalize_phone(str(raw))
    except InvalidPhone:
        return str(raw).strip()[:_MAX_USERNAME]  # matches no account; still counted, as itself


def lockout_response(
    request: HttpRequest, original_response: HttpResponse | None = None, credentials: dict | None = None
) -> HttpResponse:
    """429 with the admin's look, in the request's language, saying for how long."""
    cool_off = get_cool_off(request)
    seconds = int(cool_off.total_seconds()) if cool_off else 0
    context = {
        **admin.site.each_context(request),
        "title": _("Sign-in locked"),
        "minutes": max(1, math.ceil(seconds / 60)),
        "failure_limit": get_failure_limit(request, credentials),
        "login_url": reverse("admin:login"),
    }
    response = TemplateResponse(request, "admin/login_locked.html", context, status=429)
    if seconds:
        response["Retry-After"] = str(seconds)
    return response.render()
