"""`POST /bookings/ID/pay`: the one request that calls Moyasar itself (it has to create the payment).

Record, then call: the payment row with its given_id commits first; the create runs outside any transaction
(with short timeouts: a customer is waiting, `gateway.pay_gateway`); the outcome lands in a second short
transaction. When Moyasar certainly did not create it the booking is untouched and the answer is 503
`provider_unavailable`. When the outcome is unknown (Moyasar slow, or the create may have gone through) the
attempt stays `initiated` with no provider status and the customer is answered at once (202); it is recovered
through its given_id by a job (`payment_create_recover`), the reconciliation, or the next `POST /pay` for the
booking, which resumes the same attempt.
"""

from __future__ import annotations

import logging
import re
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from apps.accounts.models import User
from apps.bookings.models import Booking
from apps.catalog.models import PaymentPolicy
from apps.core.errors import DomainError, NotFound
from apps.core.vat import VatSplit
from apps.payments import vat as payment_vat
from apps.payments.errors import (
    BookingAlreadyPaid,
    BookingNotPayable,
    PaymentGatewayFailed,
    PaymentInProgress,
    PaymentNotAwaitingOtp,
    PaymentSourceInvalid,
    StcPayDeclined,
    StcPayInsufficientBalance,
    StcPayOtpInvalid,
)
from apps.payments.gateway import close_gateway, pay_gateway
from apps.payments.models import Payment, PaymentEvent
from apps.payments.providers import base as gw
from apps.payments.providers.base import (
    GatewayAmbiguous,
    GatewayAuthError,
    GatewayError,
    GatewayGivenIdUsed,
    GatewayInvalidRequest,
    GatewayNotFound,
    GatewayPayment,
    GatewayRateLimited,
    GatewayUnavailable,
    redact_card_data,
)
from apps.payments.services import deferrals
from apps.payments.services.settlement import apply_and_settle
from apps.payments.services.state import (
    end_operation,
    flag,
    lock_payment,
    operation_is_stale,
    record,
    start_operation,
)
from apps.payments.services.sync import payment_sync

logger = logging.getLogger("mawid.payments")
P = Payment.Status
Source = PaymentEvent.Source


def new_given_id() -> uuid.UUID:
    """A UUIDv4 for Moyasar's `given_id`.

    A guard: it skips any UUID that `providers.base.redact_card_data` would change, since a masked id would break
    the payment id and the 3-D Secure URL the client hands back. The redaction no longer reads digits across a
    UUID's hyphens (`payments/tests/test_redaction.py`), so the loop runs once.
    """
    while True:
        value = uuid.uuid4()
        if redact_card_data(str(value)) == str(value):
            return value


def payment_metadata(payment: Payment) -> dict[str, str]:
    return {"booking_id": str(payment.booking_id), "payment_ref": str(payment.given_id)}


def payment_purpose(booking: Booking) -> str:
    """A deposit booking's payment is the deposit (`Booking.online_amount`); any other pays the whole price."""
    return Payment.Purpose.DEPOSIT if booking.payment_policy == PaymentPolicy.DEPOSIT else Payment.Purpose.FULL


def online_split(booking: Booking) -> VatSplit:
    """The VAT in what is paid online: the booking's own split for the whole price, its part for a deposit."""
    return payment_vat.reported_part(booking.online_amount, booking.price_split)


def payment_description(booking: Booking) -> str:
    return f"Mawid booking #{booking.pk}"


@dataclass(frozen=True)
class ClientParameters:
    """What Moyasar's payment form or mobile SDK needs to create the payment itself (publishable key)."""

    publishable_key: str
    given_id: str
    amount: int
    currency: str
    description: str
    callback_url: str
    metadata: dict[str, str]
    manual: bool = True


def client_parameters(payment: Payment) -> ClientParameters:
    return ClientParameters(
        publishable_key=settings.MOYASAR_PUBLISHABLE_KEY,
        given_id=str(payment.given_id),
        amount=payment.amount,
        currency=payment.currency,
        description=payment_description(payment.booking),
        callback_url=settings.PAYMENTS_CALLBACK_URL,
        metadata=payment_metadata(payment),
    )


def _payable_booking(*, user: User, booking_id: int, now: datetime) -> Booking:
    """Lock the booking and check that `user` may pay for it now (someone else's booking: 404)."""
    booking = Booking.objects.select_for_update(of=("self",)).filter(pk=booking_id, customer=user).first()
    if booking is None:
        raise NotFound()
    if Payment.objects.filter(booking=booking, is_booking_payment=True).exists():
        raise BookingAlreadyPaid()
    if booking.status != Booking.Status.PENDING_PAYMENT or (booking.hold_expires_at and booking.hold_expires_at <= now):
        raise BookingNotPayable(extra={"booking_status": booking.status})
    return booking


@dataclass(frozen=True)
class PaymentSource:
    """What the customer pays with when we create the payment ourselves (`Payment.Method`): a card token
    (`token_…`, mada / Visa / Mastercard, 3-D Secure), an Apple Pay wallet payment token, or an STC Pay mobile
    number (`05XXXXXXXX`, already normalised: `normalize_saudi_mobile`)."""

    method: str
    token: str = ""
    mobile: str = ""

    def for_moyasar(self) -> dict[str, Any]:
        """Moyasar's `source`. Cards and Apple Pay authorize only (`manual`); STC Pay cannot (it is paid at once:
        the money is captured when the OTP is accepted)."""
        if self.method == Payment.Method.STCPAY:
            return {"type": "stcpay", "mobile": self.mobile}
        if self.method == Payment.Method.APPLEPAY:
            return {"type": "applepay", "token": self.token, "manual": True}
        return {"type": "token", "token": self.token, "manual": True, "3ds": True}


_MOBILE_RE = re.compile(r"05\d{8}")


def normalize_saudi_mobile(value: str) -> str | None:
    """A Saudi mobile number as STC Pay wants it, `05XXXXXXXX`, from `05XXXXXXXX`, `+9665XXXXXXXX`,
    `009665XXXXXXXX` or `9665XXXXXXXX` (spaces and hyphens ignored); None when it is not one."""
    digits = re.sub(r"[\s-]", "", value or "")
    for prefix in ("+966", "00966", "966"):
        if digits.startswith(prefix):
            digits = "0" + digits[len(prefix) :]
            break
    return digits if _MOBILE_RE.fullmatch(digits) else None


def payment_start(
    *, user: User, booking_id: int, token: str | None = None, source: PaymentSource | None = None
) -> Payment:
    """Pay for a pending booking: with a source we create the payment for (a card token or Apple Pay: authorize
    only; STC Pay: initiated until the OTP, `payment_stcpay_otp`), or, without one, hand out the parameters for
    Moyasar's form or SDK (the payment is verified when it comes back). `token` alone is a card token."""
    if source is None and token is not None:
        source = PaymentSource(method=Payment.Method.CARD, token=token)
    now = timezone.now()
    with transaction.atomic():
        booking = _payable_booking(user=user, booking_id=booking_id, now=now)
        if source is None:
            return _client_attempt(booking)
        payment = _token_attempt(booking, now=now, method=source.method)
    return _create_at_provider(payment=payment, booking=booking, source=source)


def _client_attempt(booking: Booking) -> Payment:
    payment = Payment.objects.filter(
        booking=booking,
        flow=Payment.Flow.CLIENT,
        status=P.AWAITING_CLIENT,
        provider_id__isnull=True,
        amount=booking.online_amount,
        currency=booking.currency,
    ).first()
    if payment is None:
        online = online_split(booking)
        payment = Payment.objects.create(
            booking=booking,
            flow=Payment.Flow.CLIENT,
            method=Payment.Method.FORM,
            status=P.AWAITING_CLIENT,
            given_id=new_given_id(),
            amount=booking.online_amount,
            amount_net=online.net,
            amount_vat=online.vat,
            purpose=payment_purpose(booking),
            currency=booking.currency,
        )
        record(payment, "client_parameters_issued", source=Source.API, from_status="")
    return payment


def _token_attempt(booking: Booking, *, now: datetime, method: str) -> Payment:
    # An earlier attempt (same method) whose create never got an answer is resumed with the same given_id, so that a
    # retry can never make a second payment: Moyasar answers `used_given_id` and the client fetches the existing one.
    unresolved = (
        Payment.objects.select_for_update()
        .filter(booking=booking, flow=Payment.Flow.TOKEN, method=method, status=P.INITIATED, provider_status="")
        .order_by("-created_at")
        .first()
    )
    if unresolved is not None and unresolved.operation and not operation_is_stale(unresolved, now):
        raise PaymentInProgress(retry_after=2)
    if unresolved is not None:
        start_operation(unresolved, "create", source=Source.API, data={"resumed": True})
        return unresolved
    online = online_split(booking)
    payment = Payment.objects.create(
        booking=booking,
        flow=Payment.Flow.TOKEN,
        method=method,
        status=P.INITIATED,
        given_id=new_given_id(),
        amount=booking.online_amount,
        amount_net=online.net,
        amount_vat=online.vat,
        purpose=payment_purpose(booking),
        currency=booking.currency,
        operation="create",  # marked in the same INSERT: the create at Moyasar is about to start
        operation_started_at=now,
    )
    record(payment, "created", source=Source.API, from_status="", data={"method": method})
    return payment


def _create_at_provider(*, payment: Payment, booking: Booking, source: PaymentSource) -> Payment:
    gateway = pay_gateway()
    try:
        gp = gateway.create_payment(
            given_id=str(payment.given_id),
            amount=payment.amount,
            currency=payment.currency,
            description=payment_description(booking),
            callback_url=settings.PAYMENTS_CALLBACK_URL,
            source=source.for_moyasar(),
            metadata=payment_metadata(payment),
        )
    except (GatewayAmbiguous, GatewayUnavailable, GatewayRateLimited, GatewayAuthError, GatewayGivenIdUsed) as exc:
        created_maybe = isinstance(exc, GatewayAmbiguous | GatewayGivenIdUsed) or (
            isinstance(exc, GatewayUnavailable) and exc.maybe_processed
        )
        kept = _create_failed(payment.pk, exc, keep=created_maybe)
        if created_maybe and not isinstance(exc, GatewayGivenIdUsed):
            return kept  # pending: the customer polls the payment; a job finds it by its given_id
        raise PaymentGatewayFailed(retry_after=getattr(exc, "retry_after", None) or 5) from exc
    except (GatewayInvalidRequest, GatewayNotFound) as exc:
        _create_failed(payment.pk, exc, keep=False)
        raise PaymentSourceInvalid(fields={"source": [exc.message]}) from exc
    finally:
        close_gateway(gateway)
    with transaction.atomic():
        booking, locked = lock_payment(payment.pk, booking_id=booking.pk)
        end_operation(locked)
        return apply_and_settle(booking=booking, payment=locked, gp=gp, source=Source.API)


@transaction.atomic
def _create_failed(payment_id: int, exc: GatewayError, *, keep: bool) -> Payment:
    """The create failed or its outcome is unknown. `keep`: Moyasar may have the payment, so it stays `initiated`
    and a job looks for it by its given_id; otherwise the attempt is marked failed (the booking is untouched)."""
    _booking, payment = lock_payment(payment_id)
    end_operation(payment)
    data = {"error": type(exc).__name__, "message": exc.message, "status_code": exc.status_code}
    if keep:
        record(payment, "create_outcome_unknown", source=Source.API, data=data)
        if isinstance(exc, GatewayGivenIdUsed):
            flag(payment, f"given_id names another payment at Moyasar: {exc.message}", source=Source.API)
        else:
            deferrals.create_recover(payment.pk)
        return payment
    from_status = payment.status
    payment.status = P.FAILED
    payment.failed_at = timezone.now()
    payment.message = exc.message[:255]
    payment.save(update_fields=["status", "failed_at", "message", "updated_at"])
    record(payment, "create_failed", source=Source.API, from_status=from_status, data=data)
    if isinstance(exc, GatewayAuthError):
        logger.error("moyasar_credentials_refused", extra={"payment_id": payment_id})
    return payment


def payment_create_recover(*, payment_id: int) -> Payment:
    """The job after `POST /pay` could not tell whether Moyasar created the payment: fetch it by its given_id and
    apply it (`sync.payment_sync`). While Moyasar does not show it and it may still be on its way, this raises
    `GatewayAmbiguous` and the job retries with backoff; an attempt old enough to be sure it never reached Moyasar
    is abandoned instead (`MAWID_PAYMENTS_RECONCILE_AFTER_SECONDS`), and the customer may pay again."""
    payment = payment_sync(payment_id=payment_id, source=Source.JOB)
    if payment.create_outcome_unknown:
        raise GatewayAmbiguous(
            "Moyasar does not show the payment yet", operation="create", payment_id=str(payment.given_id)
        )
    return payment


# --- STC Pay: the OTP step --------------------------------------------------------------------------------------


def payment_stcpay_otp(*, user: User, payment_id: int, otp: str) -> Payment:
    """The customer's STC Pay code for their `initiated` STC Pay payment: sent to Moyasar (the payment's
    `transaction_url`, through the gateway), and the outcome applied like any Moyasar answer (`apply_and_settle`):
    paid -> captured, the booking confirmed. Record, then call: the operation mark (`otp`) commits first, so two
    codes are never sent at once (`PaymentInProgress`).

    STC Pay judges a code once: a wrong code, an empty wallet or another refusal fails the payment at Moyasar, and
    this raises `StcPayOtpInvalid` (400), `StcPayInsufficientBalance` (402) or `StcPayDeclined` (402) after the
    failure is recorded; the customer pays again (`POST /bookings/ID/pay`: a new attempt, a new code). Moyasar
    unreachable with the payment still waiting: 503, the same code may be sent again."""
    now = timezone.now()
    with transaction.atomic():
        booking_id = (
            Payment.objects.filter(pk=payment_id, booking__customer=user).values_list("booking_id", flat=True).first()
        )
        if booking_id is None:
            raise NotFound()
        booking, payment = lock_payment(payment_id, booking_id=booking_id)
        waiting = (
            payment.method == Payment.Method.STCPAY
            and payment.status == P.INITIATED
            and bool(payment.transaction_url)
            and bool(payment.provider_id)
        )
        if not waiting:
            raise PaymentNotAwaitingOtp(extra={"payment_status": payment.status})
        if payment.operation and not operation_is_stale(payment, now):
            raise PaymentInProgress(retry_after=2)
        start_operation(payment, "otp", source=Source.API)
        provider_id, transaction_url = str(payment.provider_id), payment.transaction_url
    gateway = pay_gateway()
    try:
        gp = gateway.stcpay_otp(payment_id=provider_id, transaction_url=transaction_url, otp=otp)
    except GatewayError as exc:
        current = getattr(exc, "payment", None)
        if isinstance(current, GatewayPayment) and current.status != gw.INITIATED:
            gp = current
        else:
            # Refused by Moyasar (a 4xx) with the payment still waiting: the code was not taken, it may be sent again.
            refused = isinstance(exc, GatewayInvalidRequest | GatewayNotFound) and exc.status_code is not None
            _otp_not_judged(payment_id, exc, alert=not refused and not exc.retryable)
            if refused:
                raise StcPayOtpInvalid(extra={"payment": payment_id, "payment_status": P.INITIATED}) from exc
            raise PaymentGatewayFailed(retry_after=getattr(exc, "retry_after", None) or 5) from exc
    finally:
        close_gateway(gateway)
    with transaction.atomic():
        booking, locked = lock_payment(payment_id, booking_id=booking.pk)
        end_operation(locked)
        payment = apply_and_settle(booking=booking, payment=locked, gp=gp, source=Source.API)
    if payment.status == P.FAILED:
        raise _otp_refusal(payment)
    return payment


@transaction.atomic
def _otp_not_judged(payment_id: int, exc: GatewayError, *, alert: bool) -> None:
    """The code was not judged (Moyasar unreachable or refusing the request): the payment still waits. `alert`:
    a fault on our side (credentials, a transaction URL not on Moyasar's host), flagged for a person."""
    _booking, payment = lock_payment(payment_id)
    end_operation(payment)
    data = {"error": type(exc).__name__, "message": exc.message, "status_code": exc.status_code}
    record(payment, "otp_not_judged", source=Source.API, data=data)
    if alert:
        flag(payment, f"The STC Pay code could not be sent: {exc.message}", source=Source.API, data=data)


def _otp_refusal(payment: Payment) -> DomainError:
    """STC Pay's refusal as an error code, from Moyasar's message (its sandbox says "Invalid OTP" and
    "Insufficient Balance."; anything else -- limits, timeouts -- is a decline)."""
    message = payment.message.lower()
    extra = {"payment": payment.pk, "payment_status": payment.status, "provider_message": payment.message}
    if "otp" in message:
        return StcPayOtpInvalid(extra=extra)
    if "insufficient" in message or "balance" in message:
        return StcPayInsufficientBalance(extra=extra)
    return StcPayDeclined(extra=extra)
