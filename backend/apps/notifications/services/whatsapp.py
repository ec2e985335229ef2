"""WhatsApp webhooks and their consequences (docs/notifications.md, "WhatsApp").

- `whatsapp_webhook_receive`: the webhook view hands over a verified payload; each status or inbound message is
  stored once (`WhatsAppEvent.key`, so Meta's retries and duplicates change nothing) and a
  `whatsapp_event_process` job is deferred for it, in the request's transaction. No provider call in the request.
- `whatsapp_event_process` (the job): a status moves the notification's `delivery_status` forward only
  (sent < delivered < read; failed is terminal and falls back to SMS once); an inbound message restarts the
  contact's 24-hour window, records "STOP"; a button tap acts on the booking through the bookings services, as
  the customer (the sender must be the booking's customer), then a free-form reply goes out (inside the window).
- `whatsapp_sms_fallback`: the SMS row for the same fact (its unique key makes it happen once).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from apps.bookings.errors import InvalidTransition
from apps.bookings.models import Booking
from apps.bookings.services import booking_cancel, booking_customer_confirm
from apps.core.errors import DomainError
from apps.core.masking import mask_phone
from apps.notifications import channels
from apps.notifications.models import Notification, WhatsAppContact, WhatsAppEvent
from apps.notifications.rendering import language_of
from apps.notifications.services.planning import defer_sends
from apps.notifications.whatsapp_buttons import read_payload
from apps.notifications.whatsapp_client import WhatsAppClient, WhatsAppError, digits

logger = logging.getLogger("mawid.notifications")

RANK = {"sent": 1, "delivered": 2, "read": 3}
STOP_WORDS = frozenset({"stop", "إيقاف", "ايقاف", "توقف"})
START_WORDS = frozenset({"start", "بدء", "ابدأ"})
REPLIES = {
    "confirmed": {
        "ar": "شكراً لك، سجّلنا أنك ستحضر موعدك رقم {ref}. نراك قريباً.",
        "en": "Thank you, we noted that you will come to booking #{ref}. See you soon.",
    },
    "not_confirmable": {
        "ar": "لا يمكن تأكيد الحضور للحجز رقم {ref} لأنه لم يعد قائماً.",
        "en": "Booking #{ref} can no longer be confirmed: it is not upcoming any more.",
    },
    "cancel_refused": {
        "ar": "تعذّر إلغاء الحجز رقم {ref}: {why} يمكنك التواصل مع {business}.",
        "en": "Booking #{ref} could not be cancelled: {why} You can contact {business}.",
    },
    "reschedule": {
        "ar": "لتغيير موعد حجزك رقم {ref} اختر وقتاً جديداً من هنا: {url}",
        "en": "To move booking #{ref}, pick a new time here: {url}",
    },
    "stopped": {
        "ar": "لن نرسل لك رسائل واتساب بعد الآن. أرسل «بدء» لاستئنافها.",
        "en": "You will get no more WhatsApp messages from us. Send START to receive them again.",
    },
}
WHY = {
    "cancellation_window_closed": {
        "ar": "فات وقت الإلغاء عبر الإنترنت لهذا الموعد.",
        "en": "it is too late to cancel this appointment online.",
    },
    "invalid_transition": {"ar": "الحجز لم يعد قابلاً للإلغاء.", "en": "the booking can no longer be cancelled."},
}


# --- the webhook (in the request's transaction) ---------------------------------------------------------------


def whatsapp_webhook_receive(*, payload: dict[str, Any]) -> list[int]:
    """Store each status and inbound message of a verified webhook once, and defer a job for each new one.
    Returns the ids of the new events (none for a replay). Items of another phone number are ignored."""
    from apps.notifications.jobs import whatsapp_event_process

    created: list[int] = []
    with transaction.atomic():
        for kind, key, item in _items(payload):
            event, new = WhatsAppEvent.objects.get_or_create(key=key[:300], defaults={"kind": kind, "payload": item})
            if new:
                created.append(event.pk)
        for pk in created:
            whatsapp_event_process.defer(event_id=pk)
    logger.info("whatsapp_webhook_received", extra={"new_events": len(created)})
    return created


def _items(payload: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    items: list[tuple[str, str, dict[str, Any]]] = []
    entries = payload.get("entry") if isinstance(payload, dict) else None
    for entry in entries if isinstance(entries, list) else []:
        changes = entry.get("changes") if isinstance(entry, dict) else None
        for change in changes if isinstance(changes, list) else []:
            value = change.get("value") if isinstance(change, dict) else None
            if not isinstance(value, dict) or change.get("field") != "messages":
                continue  # template status updates and other fields: not used (yet)
            number = str((value.get("metadata") or {}).get("phone_number_id", ""))
            if number != settings.WHATSAPP_PHONE_NUMBER_ID:
                logger.warning("whatsapp_webhook_other_number", extra={"phone_number_id": number})
                continue
            statuses, messages = value.get("statuses"), value.get("messages")
            for status in statuses if isinstance(statuses, list) else []:
                if isinstance(status, dict) and status.get("id") and status.get("status"):
                    items.append(("status", f"status:{status['id']}:{status['status']}", status))
            contacts = value.get("contacts") or []
            for message in messages if isinstance(messages, list) else []:
                if isinstance(message, dict) and message.get("id"):
                    items.append(("message", f"message:{message['id']}", {"message": message, "contacts": contacts}))
    return items


# --- processing (the job) -------------------------------------------------------------------------------------


def whatsapp_event_process(*, event_id: int) -> str:
    """Apply one stored event, once. Returns its outcome."""
    now = timezone.now()
    fallback: int | None = None
    reply: tuple[str, str] | None = None
    with transaction.atomic():
        event = WhatsAppEvent.objects.select_for_update().filter(pk=event_id).first()
        if event is None or event.processed_at is not None:
            return event.outcome if event else "missing"
        if event.kind == WhatsAppEvent.Kind.STATUS:
            outcome, fallback = _apply_status(event.payload)
        else:
            outcome, reply = _apply_inbound(event.payload, now=now)
        event.processed_at = now
        event.outcome = outcome[:300]
        event.save(update_fields=["processed_at", "outcome"])
    if fallback is not None:
        whatsapp_sms_fallback(notification_id=fallback, reason=outcome)
    if reply is not None:
        _send_reply(*reply)
    logger.info("whatsapp_event_processed", extra={"event_id": event_id, "outcome": outcome})
    return outcome


def _apply_status(status: dict[str, Any]) -> tuple[str, int | None]:
    """Move the notification forward (never back). Returns the outcome and the id of a notification to fall back
    to SMS for (a `failed` one), or None."""
    wamid, value = str(status.get("id", "")), str(status.get("status", ""))
    n = _notification_of(wamid, str(status.get("biz_opaque_callback_data", "")))
    if n is None:
        return f"{value}: no notification for this message", None
    at = _timestamp(status.get("timestamp"))
    fields: list[str] = []
    fallback = None
    if value == "failed":
        if RANK.get(n.delivery_status, 0) >= RANK["delivered"] or n.delivery_status == "failed":
            return f"failed ignored: already {n.delivery_status}", None
        errors = status.get("errors") or [{}]
        code = errors[0].get("code", "") if isinstance(errors[0], dict) else ""
        n.delivery_status = "failed"
        n.delivery_error = f"{code} {errors[0].get('title', '') if isinstance(errors[0], dict) else ''}".strip()[:300]
        fields += ["delivery_status", "delivery_error"]
        fallback = n.pk
    elif value in RANK:
        if n.delivery_status == "failed":
            return f"{value} ignored: already failed", None
        if RANK[value] > RANK.get(n.delivery_status, 0):
            n.delivery_status = value
            fields.append("delivery_status")
        if value in ("delivered", "read") and n.delivered_at is None:
            n.delivered_at = at  # read implies delivered (Meta sends only `read` when both happen together)
            fields.append("delivered_at")
        if value == "read" and n.read_at is None:
            n.read_at = at
            fields.append("read_at")
    else:
        return f"{value}: not tracked", None
    if fields:
        n.updated_at = timezone.now()
        n.save(update_fields=[*fields, "updated_at"])
    return f"{value}: notification {n.pk} is {n.delivery_status}", fallback


def _notification_of(wamid: str, callback: str) -> Notification | None:
    rows = Notification.objects.select_for_update().filter(channel="whatsapp")
    prefix = "notification."
    if callback.startswith(prefix) and callback[len(prefix) :].isdigit():
        n = rows.filter(pk=int(callback[len(prefix) :])).first()
        # The status may come before the send job recorded the wamid; once it did, both must agree.
        if n is not None and n.provider_message_id in ("", wamid):
            return n
    return rows.filter(provider_message_id=wamid).first() if wamid else None


def _timestamp(value: Any) -> datetime:
    try:
        return datetime.fromtimestamp(int(value), UTC)
    except (TypeError, ValueError, OverflowError):
        return timezone.now()


def _apply_inbound(item: dict[str, Any], *, now: datetime) -> tuple[str, tuple[str, str] | None]:
    """Restart the sender's window; act on a button tap or a STOP. Returns the outcome and a reply (to, text)."""
    message = item.get("message") or {}
    wa_id = digits(str(message.get("from", "")))
    if not wa_id:
        return "inbound without a sender", None
    contact, _ = WhatsAppContact.objects.select_for_update().get_or_create(wa_id=wa_id)
    at = min(_timestamp(message.get("timestamp")), now)
    if contact.last_inbound_at is None or at > contact.last_inbound_at:
        contact.last_inbound_at = at
    kind = message.get("type")
    if kind == "text":
        word = str((message.get("text") or {}).get("body", "")).strip().lower()
        if word in STOP_WORDS:
            contact.opted_out_at = now
            contact.save()
            return "stopped WhatsApp messages", (wa_id, _stopped_reply(wa_id))
        if word in START_WORDS:
            contact.opted_out_at = None
        contact.save()
        return "text", None
    contact.save()
    if kind == "button":
        payload = str((message.get("button") or {}).get("payload", ""))
    elif kind == "interactive":
        payload = str(((message.get("interactive") or {}).get("button_reply") or {}).get("id", ""))
    else:
        return f"{kind}: stored, ignored", None
    parsed = read_payload(payload)
    if parsed is None:
        logger.warning("whatsapp_button_forged", extra={"from": mask_phone("+" + wa_id)})
        return "button ignored: bad signature", None
    action, booking_id = parsed
    booking = Booking.objects.select_related("customer", "business").filter(pk=booking_id).first()
    if booking is None:
        return "button ignored: no such booking", None
    if digits(str(booking.customer.phone)) != wa_id:
        logger.warning(
            "whatsapp_button_from_another_number", extra={"booking_id": booking_id, "from": mask_phone("+" + wa_id)}
        )
        return "button ignored: not the booking's customer", None
    return _act(action, booking, wa_id=wa_id, now=now)


def _act(action: str, booking: Booking, *, wa_id: str, now: datetime) -> tuple[str, tuple[str, str] | None]:
    customer = booking.customer
    language = language_of(customer)
    business = (booking.business.name_ar if language == "ar" else "") or booking.business.name_en
    values = {"ref": booking.pk, "business": business or booking.business.name_ar}
    if action == "confirm":
        try:
            booking_customer_confirm(booking_id=booking.pk, actor=customer, now=now)
        except DomainError:
            return "confirm refused", (wa_id, REPLIES["not_confirmable"][language].format(**values))
        return "customer confirmed", (wa_id, REPLIES["confirmed"][language].format(**values))
    if action == "cancel":
        try:
            booking_cancel(booking_id=booking.pk, actor=customer, reason="WhatsApp", now=now)
        except DomainError as exc:
            code = getattr(exc, "code", "") if not isinstance(exc, InvalidTransition) else "invalid_transition"
            why = WHY.get(code, WHY["invalid_transition"])[language]
            return f"cancel refused: {code}", (wa_id, REPLIES["cancel_refused"][language].format(why=why, **values))
        return "cancelled", None  # the cancellation notice (a template) is the answer
    url = settings.PUBLIC_BASE_URL + reverse("web:booking_reschedule", args=[booking.pk])
    return "reschedule link sent", (wa_id, REPLIES["reschedule"][language].format(url=url, **values))


def _stopped_reply(wa_id: str) -> str:
    from apps.accounts.models import User

    user = User.objects.filter(phone="+" + wa_id).first()
    return REPLIES["stopped"][language_of(user)]


def _send_reply(to: str, text: str) -> None:
    """A free-form reply inside the 24-hour window the tap just opened. Not retried: the action is done, the
    reply is a courtesy (a failure is logged)."""
    if channels.get("whatsapp") is None:
        return
    try:
        with WhatsAppClient() as client:
            client.send_text(to=to, text=text)
    except WhatsAppError as exc:
        logger.warning("whatsapp_reply_failed", extra={"error": type(exc).__name__, "code": exc.code})


# --- fallback -------------------------------------------------------------------------------------------------


def whatsapp_sms_fallback(*, notification_id: int, reason: str) -> int | None:
    """The SMS for the fact a failed WhatsApp message was about, once: the row (event key, recipient, `sms`) is
    unique, so a second failure report finds it. Only when SMS is on and the customer keeps SMS and has a phone.
    Returns the SMS row's id when one was created."""
    sms = channels.get("sms")
    with transaction.atomic():
        n = Notification.objects.select_related("recipient").filter(pk=notification_id, channel="whatsapp").first()
        if n is None:
            return None
        user = n.recipient
        if sms is None or not user.is_active or not sms.opted_in(user) or not sms.address(user):
            logger.info("whatsapp_fallback_impossible", extra={"notification_id": n.pk})
            return None
        row, created = Notification.objects.get_or_create(
            event_key=n.event_key,
            recipient=user,
            channel="sms",
            defaults={
                "template": n.template,
                "language": n.language,
                "booking_id": n.booking_id,
                "business_id": n.business_id,
                "context": {**n.context, "fallback_of": n.pk},
                "request_id": n.request_id,
            },
        )
        if created:
            defer_sends([(row.pk, None)])
    logger.info(
        "whatsapp_fallback_sms",
        extra={"notification_id": n.pk, "sms_notification_id": row.pk, "new_row": created, "reason": reason[:100]},
    )
    return row.pk if created else None
