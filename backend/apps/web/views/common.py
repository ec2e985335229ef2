"""What every website view shares: the safe `next` address, errors shown on the page, the device cookie, the Hijri
date shown beside a Gregorian one."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.http import HttpRequest
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import get_language

from apps.core.errors import DomainError
from apps.core.hijri import hijri_of

DEVICE_COOKIE = "mawid_device"  # the API's device token (accounts.services): this browser's own OTP failure budget


def safe_next(request: HttpRequest, default: str = "/") -> str:
    """`next` from the form or the query string when it points into this site; `default` otherwise."""
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return default


def error_text(error: DomainError) -> str:
    """The domain error's message, with the wait when it has one (in the active language)."""
    from django.utils.translation import gettext as _

    text = str(error.message)
    if error.retry_after:
        minutes, seconds = divmod(int(error.retry_after), 60)
        wait = _("%(m)d min %(s)d s") % {"m": minutes, "s": seconds} if minutes else _("%(s)d s") % {"s": seconds}
        text = f"{text} " + _("Try again in %(wait)s.") % {"wait": wait}
    return text


def cookie_secure() -> bool:
    return bool(settings.SESSION_COOKIE_SECURE)


def hijri_label(local: datetime) -> str:
    """The Umm al-Qura date of a local moment's day in the active language: "24 جمادى الآخرة 1448 هـ" /
    "24 Jumada al-Akhirah 1448 AH" ("" outside the calendar's range)."""
    day = hijri_of(local)
    return day.full("ar" if (get_language() or "ar").startswith("ar") else "en") if day is not None else ""
