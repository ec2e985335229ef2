"""Channels: a small `Channel` protocol (base.py) and a registry of the implementations, by name.

Built in: `sms` (Authentica send-sms, through `apps.accounts.messaging`) and `email` (Django's email framework,
any SMTP service). Which ones are on is the setting `NOTIFICATIONS_CHANNELS` (env `MAWID_NOTIFY_CHANNELS`).

`whatsapp` (the WhatsApp Business Cloud API: approved templates with quick-reply buttons; the message carries
`template_name`, `template_params`, `button_payloads`) is on when listed in `MAWID_NOTIFY_CHANNELS` (`dev.py run`
lists it). Another carrier: a class with `name`, `duplicate_safe`, `opted_in(user)`, `address(user)` and
`send(to=, message=)` raising `ChannelUnavailable` / `ChannelRejected`, registered below or with `register()`.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.utils.module_loading import import_string

from apps.notifications.channels.base import (
    Channel,
    ChannelError,
    ChannelRejected,
    ChannelUnavailable,
    Delivery,
    Message,
)

__all__ = [
    "Channel",
    "ChannelError",
    "ChannelRejected",
    "ChannelUnavailable",
    "Delivery",
    "Message",
    "enabled",
    "get",
    "known",
    "register",
    "unregister",
]

_factories: dict[str, Callable[[], Channel]] = {
    "sms": lambda: import_string("apps.notifications.channels.sms.SmsChannel")(),
    "email": lambda: import_string("apps.notifications.channels.email.EmailChannel")(),
    "whatsapp": lambda: import_string("apps.notifications.channels.whatsapp.WhatsAppChannel")(),
}


def register(name: str, factory: Callable[[], Channel]) -> None:
    """Make channel `name` known (it still has to be listed in NOTIFICATIONS_CHANNELS to be used)."""
    _factories[name] = factory


def unregister(name: str) -> None:
    _factories.pop(name, None)


def known() -> list[str]:
    return sorted(_factories)


def get(name: str) -> Channel | None:
    """The channel called `name` when it is known and switched on, else None."""
    if name not in settings.NOTIFICATIONS_CHANNELS or name not in _factories:
        return None
    return _factories[name]()


def enabled() -> list[Channel]:
    """The channels switched on, in the order of NOTIFICATIONS_CHANNELS (unknown names are left out)."""
    return [_factories[name]() for name in settings.NOTIFICATIONS_CHANNELS if name in _factories]
