"""System checks for the notification settings (`python manage.py check`, run at start-up)."""

from __future__ import annotations

from datetime import time
from typing import Any

from django.conf import settings
from django.core.checks import Error, Warning, register

from apps.notifications import channels

_LOCAL_EMAIL_BACKENDS = ("filebased", "console", "locmem", "dummy")


@register()
def notification_settings(app_configs: Any = None, **kwargs: Any) -> list:
    problems: list = []
    for name in settings.NOTIFICATIONS_CHANNELS:
        if name not in channels.known():
            problems.append(
                Error(
                    f"MAWID_NOTIFY_CHANNELS lists {name!r}, which has no implementation.",
                    hint=f"Known channels: {', '.join(channels.known())}. WhatsApp needs a provider first "
                    "(Authentica only sends one-time codes over WhatsApp).",
                    id="notifications.E001",
                )
            )
    longest_call = max(
        settings.AUTHENTICA_CONNECT_TIMEOUT * 2 + settings.AUTHENTICA_READ_TIMEOUT, settings.EMAIL_TIMEOUT or 0
    )
    stale_after = settings.NOTIFICATIONS_SENDING_STALE_SECONDS
    if stale_after <= longest_call:
        problems.append(
            Error(
                "MAWID_NOTIFY_SENDING_STALE_SECONDS must be longer than the longest provider call, or an attempt "
                "still in flight would be taken for a dead one.",
                id="notifications.E002",
            )
        )
    try:
        time.fromisoformat(str(settings.NOTIFICATIONS_STAFF_AGENDA_TIME))
    except ValueError:
        problems.append(
            Error(
                f"MAWID_NOTIFY_STAFF_AGENDA_TIME is {settings.NOTIFICATIONS_STAFF_AGENDA_TIME!r}, not a time.",
                hint="A local time as HH:MM, e.g. 07:00 (the default, used meanwhile).",
                id="notifications.E003",
            )
        )
    if (
        getattr(settings, "MAWID_ENV", "") == "production"
        and "email" in settings.NOTIFICATIONS_CHANNELS
        and any(f".{name}." in settings.EMAIL_BACKEND for name in _LOCAL_EMAIL_BACKENDS)
    ):
        problems.append(
            Warning(
                f"Email notifications are on but EMAIL_BACKEND is {settings.EMAIL_BACKEND}: nobody receives them.",
                hint="Set MAWID_EMAIL_HOST (and MAWID_EMAIL_HOST_USER / _PASSWORD), or drop 'email' from "
                "MAWID_NOTIFY_CHANNELS.",
                id="notifications.W001",
            )
        )
    return problems
