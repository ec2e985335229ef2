"""What notifications holds about a person (docs/privacy.md): the messages Mawid sent them. A message's text is
not stored (it is rendered when sent, from its template and `context`); the export renders it again, as it reads
now. On deletion the free text in contexts about the person (a cancellation reason) and the provider's traces
(message id, errors that may quote the address) are erased; the rows stay, with the anonymous recipient, as the
business's record of what was sent. Imported from `NotificationsConfig.ready()`."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, TextField
from django.db.models.functions import Cast

from apps.core.personal_data import delete_row, erase, keep, pseudonymise, register
from apps.notifications.models import Notification, NotificationAttempt, WhatsAppContact, WhatsAppEvent
from apps.notifications.rendering import language_of, render
from apps.notifications.whatsapp_client import digits


def _text(n: Notification) -> str | None:
    business = n.business or (n.booking.business if n.booking_id and n.booking else None)
    if business is None:
        return None
    try:
        message = render(
            template=n.template,
            language=n.language or language_of(n.recipient),
            context=n.context,
            recipient=n.recipient,
            booking=n.booking,
            business=business,
            reference=n.reference,
        )
    except Exception:  # a template that no longer exists renders as nothing, never a failed export
        return None
    return message.text


def _export(n: Notification) -> dict[str, Any]:
    return {
        "id": n.pk,
        "template": n.template,
        "channel": n.channel,
        "status": n.status,
        "booking": n.booking_id,
        "created_at": n.created_at,
        "sent_at": n.sent_at,
        "text": _text(n),
    }


def _about(user: Any) -> Any:
    return Notification.objects.filter(Q(recipient_id=user.pk) | Q(booking__customer_id=user.pk))


def _without_reason(row: Notification, user: Any) -> dict[str, Any]:
    return {k: v for k, v in (row.context or {}).items() if k != "reason"}


def _erase(user: Any) -> None:
    for n in _about(user).only("pk", "context"):
        if "reason" in (n.context or {}):
            n.context = _without_reason(n, user)
            n.save(update_fields=["context"])
    Notification.objects.filter(recipient_id=user.pk).update(provider_message_id="", last_error="")
    NotificationAttempt.objects.filter(notification__recipient_id=user.pk).update(error="")


def _wa_id(user: Any) -> str:
    return digits(str(user.phone)) if getattr(user, "phone", None) else ""


def _whatsapp_contact(user: Any) -> Any:
    return WhatsAppContact.objects.filter(wa_id=_wa_id(user)) if _wa_id(user) else WhatsAppContact.objects.none()


def _whatsapp_events(user: Any) -> Any:
    """The webhook items that name the person's number (their taps and messages, statuses of messages to them)."""
    wa_id = _wa_id(user)
    if not wa_id:
        return WhatsAppEvent.objects.none()
    return WhatsAppEvent.objects.annotate(text=Cast("payload", TextField())).filter(text__contains=f'"{wa_id}"')


def declare() -> None:
    register(
        Notification,
        section="messages",
        rows=lambda user: (
            Notification.objects.filter(recipient_id=user.pk)
            .select_related("business", "booking__business", "booking__service", "booking__staff", "booking__branch")
            .order_by("created_at", "pk")
        ),
        export=_export,
        eraser=_erase,
        fields={
            "context": pseudonymise(_without_reason, "the free text (a reason) removed; amounts and times kept"),
            "provider_message_id last_error delivery_error": erase(""),
            "recipient": keep("what was sent, to the anonymous recipient: the business's record"),
        },
        not_personal={"event_key template request_id": "names of facts and requests"},
    )
    register(
        NotificationAttempt,
        rows=lambda user: NotificationAttempt.objects.filter(notification__recipient_id=user.pk),
        fields={"error": erase("", "a provider's error may quote the address")},
    )
    register(
        WhatsAppContact,
        section="whatsapp",
        rows=_whatsapp_contact,
        export=lambda c: {"last_inbound_at": c.last_inbound_at, "opted_out_at": c.opted_out_at},
        delete_rows=True,
        fields={"wa_id": delete_row("the number's WhatsApp window and STOP; a new sign-up is a new person")},
    )
    register(
        WhatsAppEvent,
        rows=_whatsapp_events,
        delete_rows=True,
        fields={
            "payload": delete_row("Meta's webhook items: the number, the profile name, what they wrote"),
            "key outcome": delete_row("with the item"),
        },
    )
