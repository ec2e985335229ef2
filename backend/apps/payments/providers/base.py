"""The payment gateway port: what payments needs from a card gateway (Moyasar), as plain dataclasses and errors.

No Django and no HTTP library here, so the port, its errors and any implementation can be imported standalone.

Amounts are integers in the currency's minor unit (halalas for SAR). A decline is *not* an error: the gateway
answers with a payment whose `status` is `failed` and whose `source_message` / `response_code` say why.

Every failure is a `GatewayError` subclass with a class attribute `retryable`, which the job layer
(`core.retry.Backoff`) reads together with `retry_after`:

| error                  | when                                                                        | retryable |
|------------------------|-----------------------------------------------------------------------------|-----------|
| GatewayAuthError       | 401/403/405: bad key, key without permission, account not activated         | no        |
| GatewayInvalidRequest  | 400/422 and other 4xx (`error_type`, `message`, `errors`); illegal transition | no        |
| GatewayGivenIdUsed     | 400 `used_given_id` that could not be resolved to the same payment          | no        |
| GatewayNotFound        | 404                                                                         | no        |
| GatewayRateLimited     | 429 (`retry_after` seconds or None); the request was not processed          | yes       |
| GatewayUnavailable     | 5xx, timeout, connection error, non-JSON body (`maybe_processed`)           | yes       |
| GatewayAmbiguous       | a create whose outcome is still unknown after recovery (`payment_id`)       | yes       |

`GatewayUnavailable.maybe_processed` is False only when the provider certainly did not act (connection never
established, or the payment was re-fetched and shows the operation did not happen and nothing is in flight).
`GatewayUnavailable.payment` carries the payment as re-fetched after the failure, when the client got it, so
the caller can act on the current state. `GatewayAmbiguous` is deliberately *not* a `GatewayUnavailable`: a
caller must not report it as "nothing was changed"; it keeps the payment pending and reconciles it later with
`fetch_payment(given_id)`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar, Protocol, runtime_checkable

# Moyasar payment statuses. `voided` is canonical (an old doc sample shows "void").
INITIATED = "initiated"
PAID = "paid"
FAILED = "failed"
AUTHORIZED = "authorized"
CAPTURED = "captured"
REFUNDED = "refunded"
VOIDED = "voided"
VERIFIED = "verified"
STATUSES: tuple[str, ...] = (INITIATED, PAID, FAILED, AUTHORIZED, CAPTURED, REFUNDED, VOIDED, VERIFIED)
#: Money has moved (or is held) for these statuses.
SUCCESSFUL_STATUSES: frozenset[str] = frozenset({PAID, AUTHORIZED, CAPTURED})


@dataclass(frozen=True, slots=True)
class GatewayPayment:
    """A payment as the gateway reports it.

    `transaction_url` is where the payer completes 3-D Secure / the STC Pay OTP; it is only set while the
    payment is `initiated`. `raw` is the provider's JSON with card data removed: `number` masked to its last
    four digits, `cvc` and anything that looks like a full card number dropped or masked.
    """

    id: str
    status: str
    amount: int
    currency: str
    captured: int
    refunded: int
    fee: int
    description: str | None
    metadata: dict[str, str]
    transaction_url: str | None
    source_message: str | None
    response_code: str | None
    created_at: datetime | None
    raw: dict[str, Any] = field(repr=False)
    source_type: str | None = None
    #: `source.token` when the card was saved during this payment (`save_card`) or paid with a token.
    card_token: str | None = None
    updated_at: datetime | None = None
    #: `source.company` as Moyasar reports it (`mada`, `visa`, `master`, `amex`), lower case; None when absent.
    card_company: str | None = None
    #: The first six digits of `source.number` when Moyasar's masked number shows them (`4201-32XX-XXXX-1010`),
    #: read before the redaction drops them; None otherwise. Only used to tell mada apart (`card_scheme_of`).
    card_bin: str | None = None

    @property
    def card_scheme(self) -> str:
        """`mada`, `visa`, `mastercard`, `amex` or "" (see `card_scheme_of`)."""
        return card_scheme_of(self.card_company, self.card_bin)

    @property
    def succeeded(self) -> bool:
        return self.status in SUCCESSFUL_STATUSES

    @property
    def refundable(self) -> int:
        """What a refund could still return: the captured (or paid) amount minus what was refunded."""
        if self.status not in (PAID, CAPTURED, REFUNDED):
            return 0
        base = self.captured or self.amount
        return max(0, base - self.refunded)


@dataclass(frozen=True, slots=True)
class GatewayToken:
    """A saved card (`token_…`). Only its public, masked description; never the card number."""

    id: str
    status: str  # initiated | active | inactive
    brand: str | None
    last_four: str | None
    month: int | None
    year: int | None
    name: str | None
    message: str | None
    verification_url: str | None
    raw: dict[str, Any] = field(repr=False)


@runtime_checkable
class PaymentGateway(Protocol):
    def create_payment(
        self,
        *,
        given_id: str,
        amount: int,
        currency: str,
        description: str,
        callback_url: str,
        source: dict[str, Any],
        metadata: dict[str, str],
    ) -> GatewayPayment:
        """Create a payment whose id is `given_id` (a UUIDv4 stored with our payment row before the call).

        Safe to call again with the same `given_id` after any failure: the existing payment comes back.
        A decline comes back as a payment with status `failed`; `initiated` means the payer must visit
        `transaction_url`. Raises `GatewayAmbiguous` when the outcome could not be determined.
        """
        ...

    def fetch_payment(self, payment_id: str) -> GatewayPayment:
        """The payment's current state (`GatewayNotFound` when the gateway does not know the id)."""
        ...

    def capture(self, *, payment_id: str, amount: int | None = None) -> GatewayPayment:
        """Capture an `authorized` payment, fully (`amount=None`) or partially (the rest is released)."""
        ...

    def void(self, *, payment_id: str) -> GatewayPayment:
        """Void an `authorized` payment, or a `paid`/`captured` one before settlement."""
        ...

    def refund(self, *, payment_id: str, amount: int | None = None) -> GatewayPayment:
        """Refund a `paid`/`captured` payment, fully (`amount=None`: what is left) or partially."""
        ...

    def stcpay_otp(self, *, payment_id: str, transaction_url: str, otp: str) -> GatewayPayment:
        """Send the STC Pay OTP the payer received (`otp_value`) to the payment's `transaction_url` and return the
        payment as it stands afterwards (`paid`, or `failed` with the reason in `source_message`). Only a URL on the
        gateway's own host is called (`GatewayInvalidRequest` otherwise)."""
        ...

    def list_payments(
        self,
        *,
        page: int = 1,
        status: str | None = None,
        metadata: Mapping[str, str] | None = None,
    ) -> tuple[list[GatewayPayment], dict[str, Any]]:
        """One page of payments, newest first, and the pagination `meta`
        (`current_page`, `next_page`, `prev_page`, `total_pages`, `total_count`)."""
        ...


class GatewayError(Exception):
    """A payment gateway call failed. `retryable` tells the job layer whether trying again later can help."""

    retryable: ClassVar[bool] = False
    default_message: ClassVar[str] = "The payment gateway call failed."

    def __init__(
        self,
        message: str | None = None,
        *,
        operation: str | None = None,
        payment_id: str | None = None,
        status_code: int | None = None,
        provider: str | None = "moyasar",
    ) -> None:
        self.message = message or self.default_message
        self.operation = operation
        self.payment_id = payment_id
        self.status_code = status_code
        self.provider = provider
        super().__init__(self.message)

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}({self.message!r}, operation={self.operation!r}, "
            f"payment_id={self.payment_id!r}, status_code={self.status_code})"
        )


class GatewayAuthError(GatewayError):
    """Our credentials or account were refused (401, or 403/405 for a key without permission). Alert someone."""

    default_message = "The payment gateway rejected our credentials."


class GatewayInvalidRequest(GatewayError):
    """The gateway refused the request (400 and other 4xx): validation failure or an illegal transition.

    `error_type` is the gateway's `type` (`invalid_request_error`, ...), `errors` its `errors` value: a
    field -> messages map, a string, or None.
    """

    default_message = "The payment gateway rejected the request."

    def __init__(
        self,
        message: str | None = None,
        *,
        error_type: str | None = None,
        errors: Mapping[str, Any] | str | None = None,
        operation: str | None = None,
        payment_id: str | None = None,
        status_code: int | None = None,
    ) -> None:
        super().__init__(message, operation=operation, payment_id=payment_id, status_code=status_code)
        self.error_type = error_type
        self.errors: dict[str, list[str]] | str | None
        if isinstance(errors, Mapping):
            self.errors = {
                str(k): [str(m) for m in v] if isinstance(v, list | tuple) else [str(v)] for k, v in errors.items()
            }
        else:
            self.errors = errors


class GatewayGivenIdUsed(GatewayInvalidRequest):
    """`given_id` already names a payment (400 `used_given_id`) and that payment is not the one we asked for
    (different amount or currency), or could not be read back."""

    default_message = "The payment id (given_id) is already used."


class GatewayNotFound(GatewayError):
    """The gateway does not know this id (404)."""

    default_message = "The payment gateway does not know this object."


class GatewayRateLimited(GatewayError):
    """The gateway throttled us (429); nothing was processed. `retry_after` is in seconds, or None."""

    retryable = True
    default_message = "The payment gateway is rate limiting us."

    def __init__(
        self,
        message: str | None = None,
        *,
        retry_after: float | None = None,
        operation: str | None = None,
        payment_id: str | None = None,
        status_code: int | None = 429,
    ) -> None:
        super().__init__(message, operation=operation, payment_id=payment_id, status_code=status_code)
        self.retry_after = retry_after


class GatewayUnavailable(GatewayError):
    """The gateway could not be reached or answered unusably (5xx, timeout, connection error, bad body).

    `maybe_processed`: whether the gateway may have acted on the request. `payment`: the payment as re-fetched
    after the failure, when available. `reason`: `connect`, `timeout`, `network`, `server_error` or
    `bad_response`.
    """

    retryable = True
    default_message = "The payment gateway is unavailable."

    def __init__(
        self,
        message: str | None = None,
        *,
        maybe_processed: bool = True,
        reason: str | None = None,
        payment: GatewayPayment | None = None,
        operation: str | None = None,
        payment_id: str | None = None,
        status_code: int | None = None,
    ) -> None:
        super().__init__(message, operation=operation, payment_id=payment_id, status_code=status_code)
        self.maybe_processed = maybe_processed
        self.reason = reason
        self.payment = payment


class GatewayAmbiguous(GatewayError):
    """A create whose outcome is unknown even after recovery: the payment `payment_id` (= given_id) may or may
    not exist. Keep it pending and reconcile with `fetch_payment(payment_id)` later; retrying the create with
    the same `given_id` is also safe."""

    retryable = True
    default_message = "The payment gateway did not say whether the payment was created."


# --- card schemes -----------------------------------------------------------------------------------------------

#: mada BINs known for certain: the spec's mada test cards (4201320111111010, 4201320000311101, 4201321234411220)
#: and the other BINs the fake issues as mada. Deliberately short: the BIN is read only when Moyasar gives no
#: `source.company`, and a card wrongly taken for mada would be captured after the mada window (13 days) although
#: its hold lasts about 7 -- a card wrongly taken for another scheme is only captured sooner than it had to be.
MADA_BINS: frozenset[str] = frozenset({"420132", "440647", "588845", "968208", "636120"})
_COMPANY_SCHEMES: dict[str, str] = {
    "mada": "mada",
    "visa": "visa",
    "master": "mastercard",
    "mastercard": "mastercard",
    "amex": "amex",
    "american_express": "amex",
    "americanexpress": "amex",
}
_MASKED_BIN_RE = re.compile(r"^\s*(\d{4})[ -]?(\d{2})")


def card_scheme_of(company: str | None, card_bin: str | None = None) -> str:
    """The card scheme as Mawid records it: Moyasar's `source.company` when it names one we know (`master` ->
    `mastercard`); when the company is absent, `mada` if the BIN is a known mada BIN (`MADA_BINS`); else ""
    (unknown: treated as not mada, the safe reading for the capture window)."""
    if company:
        return _COMPANY_SCHEMES.get(company.strip().lower().replace(" ", "_"), "")
    if card_bin and card_bin in MADA_BINS:
        return "mada"
    return ""


def masked_card_bin(number: object) -> str | None:
    """The first six digits of a card number as Moyasar masks it (`4201-32XX-XXXX-1010` -> `420132`), or None when
    they are not shown (`XXXX-XXXX-XXXX-1010`)."""
    if not isinstance(number, str):
        return None
    m = _MASKED_BIN_RE.match(number)
    return m.group(1) + m.group(2) if m else None


# --- card data redaction --------------------------------------------------------------------------------------

_DROP_KEYS = frozenset({"cvc", "cvv", "cvv2", "cvc2", "otp", "otp_value", "pin"})
_PAN_KEYS = frozenset({"number", "pan", "card_number", "cardnumber", "card_no"})
# A run of 13-19 digits (spaces or hyphens between them allowed) standing on its own: not glued to letters,
# digits, underscores or hyphens, so the hex groups of a UUID (payment ids, URLs) are never read as a card.
_PAN_RE = re.compile(r"(?<![\w-])(?:\d[ -]?){12,18}\d(?![\w-])")


def luhn_ok(digits: str) -> bool:
    """The Luhn checksum of a card number (digits only): the test the redaction and the fake's card check share."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def mask_card_number(value: object) -> str:
    """`4111111111111111` -> `XXXX-XXXX-XXXX-1111`; already masked values (`4111-11XX-XXXX-1111`) keep their
    last four only too. Junk in, a safe string out."""
    digits = re.sub(r"\D", "", str(value or ""))
    if len(digits) < 4:
        return "XXXX"
    return "XXXX-XXXX-XXXX-" + digits[-4:]


def _mask_pans_in_text(text: str) -> str:
    def repl(m: re.Match[str]) -> str:
        digits = re.sub(r"\D", "", m.group(0))
        if 13 <= len(digits) <= 19 and luhn_ok(digits):
            return mask_card_number(digits)
        return m.group(0)

    return _PAN_RE.sub(repl, text)


def redact_card_data(value: Any) -> Any:
    """A deep copy of a JSON-like value with card data removed: cvc/otp-like keys dropped, `number`-like keys
    masked to the last four digits, and any other string holding a full card number (13-19 digits passing the
    Luhn check) masked."""
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for key, item in value.items():
            k = str(key)
            if k.lower() in _DROP_KEYS:
                continue
            if k.lower() in _PAN_KEYS and item is not None and not isinstance(item, Mapping | list):
                out[k] = mask_card_number(item)
            else:
                out[k] = redact_card_data(item)
        return out
    if isinstance(value, list | tuple):
        return [redact_card_data(item) for item in value]
    if isinstance(value, str):
        return _mask_pans_in_text(value)
    return value


_PAYER_KEYS = frozenset({"name", "mobile"})


def without_cardholder_name(value: Any) -> Any:
    """A copy of a Moyasar JSON value (a payment, a webhook) with the payer's identity in its `source` (at any
    depth: the name typed on the card, STC Pay's mobile) set to None: Mawid never needs them (docs/privacy.md)."""
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for key, item in value.items():
            if key == "source" and isinstance(item, Mapping):
                item = {k: (None if k in _PAYER_KEYS else v) for k, v in item.items()}
            out[str(key)] = without_cardholder_name(item)
        return out
    if isinstance(value, list | tuple):
        return [without_cardholder_name(item) for item in value]
    return value
