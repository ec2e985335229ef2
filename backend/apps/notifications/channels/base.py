"""The channel port: what delivery needs from SMS, email or any future carrier (WhatsApp, push).

No Django model imports here, so a channel can be written and tested on its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Protocol, runtime_checkable


@dataclass(frozen=True, slots=True)
class Message:
    """A rendered message. `text` is the whole SMS, or the plain-text email body; `subject` is for email."""

    subject: str
    text: str
    language: str  # "ar" | "en" (Arabic is shown right to left)
    reference: str  # stable per notification (`notification.42`): the same message on every attempt
    sender: str = ""  # the SMS sender name the business chose (`Business.sender_name`); "" = the platform's
    # For carriers that send pre-approved templates (WhatsApp): the template's name, its parameters in order, one
    # payload per quick-reply button (in index order) and our own id echoed in status callbacks. Empty for SMS
    # and email, which send `text`.
    template_name: str = ""
    template_params: tuple[str, ...] = ()
    button_payloads: tuple[str, ...] = ()
    callback_data: str = ""


@dataclass(frozen=True, slots=True)
class Delivery:
    """What the carrier told us about an accepted message."""

    provider_message_id: str = ""


@runtime_checkable
class Channel(Protocol):
    name: str
    # Whether sending a message again after an attempt whose outcome is unknown is acceptable: True when the
    # carrier or the recipient's software recognises the copy (email: same Message-ID), False when the
    # recipient would get (and we would pay for) a second message (SMS).
    duplicate_safe: bool

    def opted_in(self, user: Any) -> bool:
        """Whether `user` chose this channel (their `notify_<channel>` preference)."""
        ...

    def address(self, user: Any) -> str | None:
        """Where to send to `user` (E.164 phone, email address), or None when they have none."""
        ...

    def send(self, *, to: str, message: Message) -> Delivery:
        """Hand one message to the carrier. Raises `ChannelError` when it was not (certainly) accepted."""
        ...


class ChannelError(Exception):
    """A send failed. `retryable`: trying later can help. `uncertain`: the message may have been delivered anyway
    (read timeout, 5xx after the request reached the carrier, dropped connection). `retry_after`: seconds the
    carrier asked us to wait (429), or None."""

    retryable: ClassVar[bool] = False

    def __init__(self, message: str, *, uncertain: bool = False, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.uncertain = uncertain
        self.retry_after = retry_after


class ChannelUnavailable(ChannelError):
    """The carrier could not take the message now (5xx, timeout, connection trouble, 429). Retry later."""

    retryable = True


class ChannelRejected(ChannelError):
    """The carrier refused the message or our credentials (4xx, no balance): retrying will not help."""

    retryable = False
