"""WhatsApp through the WhatsApp Business Cloud API (Meta): approved UTILITY templates in Arabic (`ar`) and English
(`en_US`) with quick-reply buttons (`apps.notifications.whatsapp_templates`). Delivery statuses and button taps
come back by webhook (`apps.notifications.services.whatsapp`).

Who gets WhatsApp is decided when messages are planned (`apps.notifications.services.whatsapp.wants_whatsapp`:
the customer's opt-in, or the business's default channel); `opted_in` here is the customer's own choice only.
"""

from __future__ import annotations

from typing import Any

from apps.notifications.channels.base import ChannelRejected, ChannelUnavailable, Delivery, Message
from apps.notifications.whatsapp_client import (
    WhatsAppClient,
    WhatsAppRateLimited,
    WhatsAppRejected,
    WhatsAppUnavailable,
)
from apps.notifications.whatsapp_templates import LANGUAGE_CODES


class WhatsAppChannel:
    name = "whatsapp"
    # No idempotency key at Meta: a second send is a second (billed) message on the customer's phone.
    duplicate_safe = False

    def opted_in(self, user: Any) -> bool:
        return bool(getattr(user, "notify_whatsapp", False))

    def address(self, user: Any) -> str | None:
        phone = getattr(user, "phone", None)
        return str(phone) if phone else None

    def send(self, *, to: str, message: Message) -> Delivery:
        if not message.template_name:
            # Only templates reach a customer outside the 24-hour window; Mawid's notifications are templates.
            raise ChannelRejected("no WhatsApp template for this message")
        with WhatsAppClient() as client:
            try:
                sent = client.send_template(
                    to=to,
                    name=message.template_name,
                    language=LANGUAGE_CODES.get(message.language, message.language),
                    params=message.template_params,
                    button_payloads=message.button_payloads,
                    callback_data=message.callback_data,
                )
            except WhatsAppRateLimited as exc:
                raise ChannelUnavailable(str(exc), retry_after=exc.retry_after) from exc
            except WhatsAppUnavailable as exc:
                raise ChannelUnavailable(str(exc), uncertain=exc.maybe_sent) from exc
            except WhatsAppRejected as exc:
                raise ChannelRejected(str(exc)) from exc
        return Delivery(provider_message_id=sent.wamid)
