"""Which customer messages go by WhatsApp (the rule in docs/notifications.md, "WhatsApp: who gets it").

A booking message that has a WhatsApp template (`whatsapp_templates.FOR_MESSAGE`) goes by WhatsApp instead of SMS
when the `whatsapp` channel is on, the customer has a phone, has not stopped WhatsApp messages (an inbound "STOP" /
"إيقاف", `WhatsAppContact.opted_out_at`), and either chose WhatsApp themselves (`User.notify_whatsapp`, in /me) or
the business's default channel is WhatsApp (`Business.default_notify_channel`). Email is unaffected. A WhatsApp that
fails falls back to SMS once (`services.whatsapp.whatsapp_sms_fallback`), if the customer keeps SMS on.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.conf import settings

from apps.bookings.models import Booking
from apps.notifications.models import WhatsAppContact
from apps.notifications.whatsapp_client import digits
from apps.notifications.whatsapp_templates import FOR_MESSAGE

WHATSAPP = "whatsapp"


def whatsapp_on() -> bool:
    return WHATSAPP in settings.NOTIFICATIONS_CHANNELS


def wants_whatsapp(user: Any, *, template: str, business_channel: str) -> bool:
    """Whether `user` gets `template` by WhatsApp, the business's default channel being `business_channel`."""
    if not whatsapp_on() or template not in FOR_MESSAGE or not getattr(user, "phone", None):
        return False
    if not (getattr(user, "notify_whatsapp", False) or business_channel == WHATSAPP):
        return False
    return not WhatsAppContact.objects.filter(wa_id=digits(str(user.phone)), opted_out_at__isnull=False).exists()


def business_channels(booking_ids: Iterable[int | None]) -> dict[int, str]:
    """booking id → its business's default channel, in one query (none when WhatsApp is off)."""
    ids = {pk for pk in booking_ids if pk}
    if not ids or not whatsapp_on():
        return {}
    return dict(Booking.objects.filter(pk__in=ids).values_list("pk", "business__default_notify_channel"))
