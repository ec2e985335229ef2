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
import uuid
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from apps.accounts.models import User
from apps.bookings.models import Booking
from apps.catalog.models import PaymentPolicy
from apps.core.errors import NotFound
from apps.core.vat import VatSplit
from apps.payments import vat as payment_vat
from apps.payments.errors import (
    BookingAlreadyPaid,
    BookingNotPayable,
    PaymentGatewayFailed,
    PaymentInProgress,
    PaymentSourceInvalid,
)
from apps.payments.gateway import close_gateway, pay_gateway
from apps.payments.models import Payment, PaymentEvent
from apps.payments.providers.base import (
    GatewayAmbiguous,
    GatewayAuthError,
    GatewayError,
    GatewayGivenIdUsed,
    GatewayInvalidRequest,
    GatewayNotFound,
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


def payment_start(*, user: User, booking_id: int, token: str | None) -> Payment:
    """Pay for a pending booking: with a Moyasar token (we create the payment, authorize only), or, without one,
    hand out the parameters for Moyasar's form or SDK (the payment is verified when it comes back)."""
    now = timezone.now()
    with transaction.atomic():
        booking = _payable_booking(user=user, booking_id=booking_id, now=now)
        if token is None:
            return _client_attempt(booking)
        payment = _token_attempt(booking, now=now)
    return _create_at_provider(payment=payment, booking=booking, token=token)


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


def _token_attempt(booking: Booking, *, now: datetime) -> Payment:
    # An earlier attempt whose create never got an answer is resumed with the same given_id, so that a retry can
    # never make a second payment: Moyasar answers `used_given_id` and the client fetches the existing one.
    unresolved = (
        Payment.objects.select_for_update()
        .filter(booking=booking, flow=Payment.Flow.TOKEN, status=P.INITIATED, provider_status="")
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
    record(payment, "created", source=Source.API, from_status="")
    return payment


def _create_at_provider(*, payment: Payment, booking: Booking, token: str) -> Payment:
    gateway = pay_gateway()
    try:
        gp = gateway.create_payment(
            given_id=str(payment.given_id),
            amount=payment.amount,
            currency=payment.currency,
            description=payment_description(booking),
            callback_url=settings.PAYMENTS_CALLBACK_URL,
            source={"type": "token", "token": token, "manual": True, "3ds": True},
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
