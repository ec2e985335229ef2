"""Reading Moyasar: find our payment for a Moyasar payment (linking client-created ones), apply its state and
settle it with the booking (`settlement.apply_and_settle`).

Used by the 3-D Secure return page, the webhook job, the sync job and the reconciliation. The payment is always
fetched from Moyasar with the secret key; nothing a browser or a webhook body says is trusted. The return page is
anonymous, so it asks Moyasar only about payments that are ours (`payment_sync_on_return`).
"""

from __future__ import annotations

import dataclasses
import logging
import uuid
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from apps.payments.gateway import close_gateway, get_gateway
from apps.payments.models import TRANSITIONS, UNSETTLED_STATUSES, Payment, PaymentEvent
from apps.payments.providers.base import (
    GatewayError,
    GatewayNotFound,
    GatewayPayment,
    PaymentGateway,
    redact_card_data,
)
from apps.payments.selectors import payment_get_by_reference
from apps.payments.services import deferrals
from apps.payments.services.settlement import apply_and_settle
from apps.payments.services.state import (
    end_operation,
    flag,
    lock_payment,
    matches,
    operation_is_stale,
    record,
)
from apps.payments.vat import reported_part

logger = logging.getLogger("mawid.payments")
P = Payment.Status
Source = PaymentEvent.Source


def _as_uuid(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except (TypeError, ValueError):
        return None


def find_payment_id(gp: GatewayPayment) -> int | None:
    """Our payment for a Moyasar payment: by Moyasar id, by our given id, or by the `payment_ref` we put in the
    metadata of a client-created payment (when the form or SDK did not use our given id)."""
    found = Payment.objects.filter(provider_id=gp.id).values_list("pk", flat=True).first()
    if found is None and (given := _as_uuid(gp.id)) is not None:
        found = Payment.objects.filter(given_id=given).values_list("pk", flat=True).first()
    if found is None and (ref := _as_uuid(gp.metadata.get("payment_ref", ""))) is not None:
        found = Payment.objects.filter(given_id=ref, flow=Payment.Flow.CLIENT).values_list("pk", flat=True).first()
    return found


def apply_remote(*, gp: GatewayPayment, source: str) -> Payment | None:
    """Apply a payment just fetched from Moyasar to ours. None when it is not one of ours."""
    payment_id = find_payment_id(gp)
    if payment_id is None:
        logger.warning("moyasar_payment_unknown", extra={"moyasar_id": gp.id, "source": source})
        return None
    return _link_and_apply(payment_id=payment_id, gp=gp, source=source)


@transaction.atomic
def _link_and_apply(*, payment_id: int, gp: GatewayPayment, source: str) -> Payment:
    booking, payment = lock_payment(payment_id)
    if payment.provider_id in (None, gp.id) and (payment.flow == Payment.Flow.TOKEN or payment.provider_id == gp.id):
        return apply_and_settle(booking=booking, payment=payment, gp=gp, source=source)
    # A client-created payment that refers to parameters we handed out: verify it before it counts.
    problem = matches(payment, gp)
    if payment.provider_id is None and not problem:
        payment.provider_id = gp.id
        payment.save(update_fields=["provider_id", "updated_at"])
        record(payment, "client_payment_linked", source=source, data={"moyasar_id": gp.id})
        return apply_and_settle(booking=booking, payment=payment, gp=gp, source=source)
    # Refused (it does not match), or a second Moyasar payment made with the same parameters: it gets a row of its
    # own, so that its money can be followed and (unless it ends up paying for the booking) given back.
    if gp.amount <= 0 or len(gp.currency) != 3:
        flag(payment, f"Moyasar payment {gp.id} refers to this payment but is unusable: {problem}", source=source)
        return payment
    split = reported_part(gp.amount, booking.price_split)  # the amount Moyasar took, as an invoice would state it
    other = Payment.objects.create(
        booking=booking,
        flow=Payment.Flow.CLIENT,
        method=Payment.Method.FORM,
        status=P.AWAITING_CLIENT,
        provider_id=gp.id,
        amount=gp.amount,
        amount_net=split.net,
        amount_vat=split.vat,
        currency=gp.currency.upper(),
        mismatch=bool(problem),
    )
    record(
        other,
        "client_payment_refused" if problem else "client_payment_added",
        source=source,
        reason=problem,
        data={"moyasar_id": gp.id, "parameters_of": payment.pk, "metadata": gp.metadata},
    )
    if problem:
        record(payment, "client_payment_refused", source=source, reason=problem, data={"moyasar_id": gp.id})
        flag(other, f"Refused: {problem}; its money is returned", source=source)
    return apply_and_settle(booking=booking, payment=other, gp=gp, source=source)


def _with_requested_id(gp: GatewayPayment, requested: str) -> GatewayPayment:
    """A guard against the port's card-data redaction changing an id: when the id Moyasar answered with is the id we
    asked for, redacted, keep the id we asked for. The redaction leaves UUIDs alone since it stopped reading digits
    across their hyphens (`payments/tests/test_redaction.py`), so this does not fire today."""
    if gp.id != requested and redact_card_data(requested) == gp.id:
        return dataclasses.replace(gp, id=requested)
    return gp


def fetch_and_apply(*, provider_id: str, source: str, gateway: PaymentGateway | None = None) -> Payment | None:
    """Fetch a Moyasar payment by id and apply it. Raises the gateway's errors (`GatewayNotFound`, ...)."""
    own = gateway is None
    gateway = gateway or get_gateway()
    try:
        gp = _with_requested_id(gateway.fetch_payment(provider_id), provider_id)
    finally:
        if own:
            close_gateway(gateway)
    return apply_remote(gp=gp, source=source)


def payment_sync(*, payment_id: int, source: str = Source.JOB) -> Payment:
    """Ask Moyasar about one of our payments and bring it up to date; settle attempts Moyasar never saw.

    Also recovers an operation whose worker died (its `operation` mark is stale): the fetched state says what
    happened, so the mark is cleared. A refund mark is left to the refund job, which compares totals.
    """
    payment = Payment.objects.get(pk=payment_id)
    gateway = get_gateway()
    try:
        reference = payment.provider_id or str(payment.given_id)
        try:
            gp = _with_requested_id(gateway.fetch_payment(reference), reference)
        except GatewayNotFound:
            found: list[GatewayPayment] = []
            if payment.flow == Payment.Flow.CLIENT and payment.provider_id is None:
                found, _meta = gateway.list_payments(metadata={"payment_ref": str(payment.given_id)})
            for candidate in found:
                apply_remote(gp=candidate, source=source)
            if not found:
                _not_at_provider(payment_id=payment_id, source=source)
        else:
            apply_remote(gp=gp, source=source)
    finally:
        close_gateway(gateway)
    return _after_sync(payment_id=payment_id, source=source)


@transaction.atomic
def _not_at_provider(*, payment_id: int, source: str) -> None:
    """Moyasar does not know the payment. An attempt that never reached it is abandoned once nothing can still be
    on its way; parameters handed to a client are abandoned when the booking no longer waits or they are old."""
    booking, payment = lock_payment(payment_id)
    now = timezone.now()
    if payment.status not in UNSETTLED_STATUSES:
        return
    if payment.operation and not operation_is_stale(payment, now):
        return
    age = now - payment.created_at
    if payment.flow == Payment.Flow.TOKEN:
        abandon = age > timedelta(seconds=settings.PAYMENTS_RECONCILE_AFTER_SECONDS)
        reason = "never reached Moyasar"
    else:
        abandon = booking.status != booking.Status.PENDING_PAYMENT or age > timedelta(
            hours=settings.PAYMENTS_ABANDON_AFTER_HOURS
        )
        reason = "the client never paid"
    if abandon:
        abandon_payment(payment, reason=reason, source=source)


def abandon_payment(payment: Payment, *, reason: str, source: str) -> None:
    from_status = payment.status
    payment.status = P.ABANDONED
    payment.transaction_url = ""
    payment.save(update_fields=["status", "transaction_url", "updated_at"])
    end_operation(payment)
    record(payment, "status_changed", source=source, from_status=from_status, reason=reason)


@transaction.atomic
def _after_sync(*, payment_id: int, source: str) -> Payment:
    booking, payment = lock_payment(payment_id)
    now = timezone.now()
    if payment.operation and payment.operation != "refund" and operation_is_stale(payment, now):
        record(payment, "operation_recovered", source=source, reason=f"stale {payment.operation}")
        end_operation(payment)
    if payment.status == P.INITIATED and now - payment.created_at > timedelta(
        hours=settings.PAYMENTS_ABANDON_AFTER_HOURS
    ):
        abandon_payment(payment, reason="3-D Secure never completed", source=source)
    return payment


# --- the 3-D Secure return page -----------------------------------------------------------------------------------

#: Statuses that no later state at Moyasar can change (`models.TRANSITIONS`): there is nothing to ask.
FINAL_STATUSES: frozenset[str] = frozenset(status for status, following in TRANSITIONS.items() if not following)


@dataclasses.dataclass(frozen=True)
class ReturnedPayment:
    """What the return page shows: the payment and its booking's status now (a payment that was just authorized
    confirmed it). `confirmed` is False when Moyasar could not be asked just now: a sync job asks again, and the
    payer is told to wait (not to pay again)."""

    payment: Payment
    booking_status: str
    confirmed: bool = True


def _returned(payment: Payment) -> ReturnedPayment:
    payment.booking.refresh_from_db(fields=["status"])
    return ReturnedPayment(payment=payment, booking_status=payment.booking.status)


def payment_sync_on_return(*, reference: str) -> ReturnedPayment | None:
    """The work of the 3-D Secure return page, for the `id` Moyasar put in the redirect (which anyone can type).

    The id must name one of our payments (its Moyasar id or our given_id) before Moyasar is asked, so made-up ids
    cost one indexed lookup and no call with our secret key; a payment in a final status is shown without asking.
    Otherwise the payment is fetched and applied like a webhook. None: not ours, or Moyasar does not know it.
    """
    payment = payment_get_by_reference(reference=reference)
    if payment is None:
        return None
    if payment.status in FINAL_STATUSES:
        return _returned(payment)
    try:
        synced = fetch_and_apply(provider_id=reference, source=Source.RETURN)
    except GatewayNotFound:
        return None
    except GatewayError as exc:
        logger.warning("payment_return_unconfirmed", extra={"payment_id": payment.pk, "error": type(exc).__name__})
        with transaction.atomic():
            deferrals.sync(payment.pk)
        return ReturnedPayment(payment=payment, booking_status=payment.booking.status, confirmed=False)
    return _returned(synced or payment)
