"""SMS through the messaging provider accounts owns (Authentica's send-sms; OTP stays on send-otp)."""

from __future__ import annotations

import logging
from typing import Any

from apps.accounts.messaging import get_messaging_provider
from apps.accounts.providers.base import (
    ProviderError,
    ProviderRateLimited,
    ProviderUnavailable,
    ProviderValidationError,
)
from apps.notifications.channels.base import ChannelRejected, ChannelUnavailable, Delivery, Message

logger = logging.getLogger("mawid.notifications")

# 503 and 429 say "not now" before doing anything; every other failure after the request left may have sent it.
_NOT_PROCESSED = frozenset({503})


class SmsChannel:
    name = "sms"
    # Authentica has no idempotency key: a second send is a second (billed) SMS on the customer's phone.
    duplicate_safe = False

    def opted_in(self, user: Any) -> bool:
        return bool(getattr(user, "notify_sms", False))

    def address(self, user: Any) -> str | None:
        phone = getattr(user, "phone", None)
        return str(phone) if phone else None

    def send(self, *, to: str, message: Message) -> Delivery:
        """Send from the business's sender name when it has one, else the platform's (`AUTHENTICA_SENDER_NAME`).
        A sender Authentica refuses (not registered for the account: 422 on `sender_name`, so nothing was sent)
        falls back to the platform's sender, so the customer still gets the message; the refusal is logged."""
        provider = get_messaging_provider()
        try:
            try:
                result = provider.send_sms(phone=to, message=message.text, sender_name=message.sender or None)
            except ProviderValidationError as exc:
                if not message.sender or "sender_name" not in (exc.fields or {}):
                    raise
                logger.warning(
                    "sms_sender_refused", extra={"sender_name": message.sender, "reference": message.reference}
                )
                result = provider.send_sms(phone=to, message=message.text)
        except ProviderRateLimited as exc:
            raise ChannelUnavailable(_describe(exc), retry_after=exc.retry_after) from exc
        except ProviderUnavailable as exc:
            uncertain = exc.maybe_delivered and exc.status_code not in _NOT_PROCESSED
            raise ChannelUnavailable(_describe(exc), uncertain=uncertain) from exc
        except ProviderError as exc:  # configuration, validation, no balance: a person has to act
            raise ChannelRejected(_describe(exc)) from exc
        finally:
            close = getattr(provider, "close", None)
            if close is not None:
                close()
        return Delivery(provider_message_id=result.provider_message_id or "")


def _describe(exc: ProviderError) -> str:
    # The client already scrubs the phone, the text and the key out of its messages.
    status = f" ({exc.status_code})" if exc.status_code else ""
    return f"{type(exc).__name__}{status}: {exc.message}"
