"""The messaging port: what accounts (OTP login) and notifications (plain SMS) need from an SMS/OTP vendor.

No Django and no HTTP library here, so the port, its errors and any implementation can be imported standalone.

Every failure is a `ProviderError` subclass with a class attribute `retryable`, which the job layer
(`core.retry.Backoff`) reads together with `retry_after`:

| error                         | when                                                              | retryable |
|-------------------------------|-------------------------------------------------------------------|-----------|
| ProviderConfigurationError    | 401/403 (bad or missing key), wrong base URL                      | no        |
| ProviderValidationError       | 400/422, a field the vendor refused (`fields`)                    | no        |
| ProviderInsufficientBalance   | the account has no credit left                                    | no        |
| ProviderRateLimited           | 429 (`retry_after` seconds, or None)                              | yes       |
| ProviderUnavailable           | 5xx, timeout, connection error, non-JSON body, 2xx `success:false` | yes       |

`ProviderUnavailable.maybe_delivered` says whether the request may have reached the vendor (read timeout, 5xx,
unreadable body: True) or certainly did not (connection refused / connect timeout: False). A send that failed
with `maybe_delivered=True` may still have delivered, and billed, a message.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar, Literal, Protocol, runtime_checkable

Channel = Literal["sms", "whatsapp"]
CHANNELS: tuple[str, ...] = ("sms", "whatsapp")


@dataclass(frozen=True, slots=True)
class SendResult:
    """What a vendor tells us about an accepted plain SMS. Authentica returns no id, so it is usually None."""

    provider_message_id: str | None = None


@runtime_checkable
class MessagingProvider(Protocol):
    def send_otp(self, *, phone: str, channel: str, code: str | None = None, template_id: int | None = None) -> None:
        """Deliver a one-time code to `phone` (E.164) over `channel` ("sms" | "whatsapp").

        With `code` the vendor only delivers our code; without it the vendor generates and remembers one.
        `template_id`: the vendor's message template to put it in (None: the client's configured one).
        Returns when the vendor accepted the message; raises a `ProviderError` otherwise.
        """
        ...

    def verify_otp(self, *, phone: str, code: str) -> bool:
        """True when the vendor verified `code` for `phone` (and consumed it), False when it rejected it."""
        ...

    def send_sms(self, *, phone: str, message: str, sender_name: str | None = None) -> SendResult:
        """Deliver a plain text message to `phone` (E.164), from `sender_name` (a sender registered with the
        vendor) or, when None, the account's configured sender."""
        ...

    def balance(self) -> int | float:
        """The account's remaining credit, in the vendor's unit."""
        ...


class ProviderError(Exception):
    """A messaging vendor call failed. `retryable` tells the job layer whether trying again later can help."""

    retryable: ClassVar[bool] = False
    default_message: ClassVar[str] = "The messaging provider call failed."

    def __init__(
        self,
        message: str | None = None,
        *,
        provider: str | None = None,
        operation: str | None = None,
        status_code: int | None = None,
    ) -> None:
        self.message = message or self.default_message
        self.provider = provider
        self.operation = operation
        self.status_code = status_code
        self.attempts = 1  # HTTP attempts made for the call (a client may retry a connect failure once)
        super().__init__(self.message)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r}, operation={self.operation!r}, status_code={self.status_code})"


class ProviderConfigurationError(ProviderError):
    """Our side is misconfigured: missing or rejected API key (401/403), wrong base URL. Alert someone."""

    default_message = "The messaging provider rejected our credentials or configuration."


class ProviderValidationError(ProviderError):
    """The vendor refused a field (400/422). `fields` maps field name -> messages when the vendor said which."""

    default_message = "The messaging provider rejected the request as invalid."

    def __init__(
        self,
        message: str | None = None,
        *,
        fields: Mapping[str, list[str]] | None = None,
        provider: str | None = None,
        operation: str | None = None,
        status_code: int | None = None,
    ) -> None:
        super().__init__(message, provider=provider, operation=operation, status_code=status_code)
        self.fields: dict[str, list[str]] = {k: list(v) for k, v in (fields or {}).items()}


class ProviderInsufficientBalance(ProviderError):
    """The vendor account has run out of credit. Retrying will not help until someone tops it up."""

    default_message = "The messaging provider account has insufficient balance."


class ProviderRateLimited(ProviderError):
    """The vendor throttled us (429). `retry_after` is in seconds when the vendor said (Retry-After), else None."""

    retryable = True
    default_message = "The messaging provider is rate limiting us."

    def __init__(
        self,
        message: str | None = None,
        *,
        retry_after: float | None = None,
        provider: str | None = None,
        operation: str | None = None,
        status_code: int | None = None,
    ) -> None:
        super().__init__(message, provider=provider, operation=operation, status_code=status_code)
        self.retry_after = retry_after


class ProviderUnavailable(ProviderError):
    """The vendor could not be reached or answered unusably (5xx, timeout, connection error, bad body).

    `maybe_delivered` is True unless the request certainly never reached the vendor.
    """

    retryable = True
    default_message = "The messaging provider is unavailable."

    def __init__(
        self,
        message: str | None = None,
        *,
        maybe_delivered: bool = True,
        provider: str | None = None,
        operation: str | None = None,
        status_code: int | None = None,
    ) -> None:
        super().__init__(message, provider=provider, operation=operation, status_code=status_code)
        self.maybe_delivered = maybe_delivered
