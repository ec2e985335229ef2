"""The periodic reconciliation: the safety net under webhooks, return pages and scheduled jobs.

* attempts still `initiated` / `awaiting_client` (or whose create never got an answer) are fetched from Moyasar
  (by id, by given_id, by our metadata) and settled; ones Moyasar never saw are abandoned;
* operations whose worker died are recovered from Moyasar's state;
* authorizations due (appointment time, or N days after authorization, always before they expire) are captured;
  those that should not hold money (booking cancelled or expired, second payment) are voided or refunded;
* pending refunds are sent again (the refund job compares Moyasar's totals first, so never twice);
* anything inconsistent is flagged for a manager in the admin.
"""

from __future__ import annotations

import logging
from collections import Counter
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from apps.bookings.models import Booking
from apps.payments.models import MONEY_STATUSES, UNSETTLED_STATUSES, Payment, PaymentEvent, Refund
from apps.payments.providers.base import GatewayError
from apps.payments.services import deferrals
from apps.payments.services.settlement import settle_with_booking
from apps.payments.services.state import flag, lock_payment
from apps.payments.services.sync import payment_sync

logger = logging.getLogger("mawid.payments")
P = Payment.Status
B = Booking.Status
Source = PaymentEvent.Source


def payments_reconcile(*, now: datetime | None = None) -> dict[str, int]:
    now = now or timezone.now()
    batch = settings.PAYMENTS_RECONCILE_BATCH
    counts: Counter[str] = Counter()
    stale_before = now - timedelta(seconds=settings.PAYMENTS_OPERATION_TIMEOUT_SECONDS)

    # 1. Unknown outcomes and dead operations: ask Moyasar (each call outside any transaction).
    to_sync = list(
        Payment.objects.filter(
            Q(
                status__in=UNSETTLED_STATUSES,
                created_at__lt=now - timedelta(seconds=settings.PAYMENTS_RECONCILE_AFTER_SECONDS),
            )
            | (~Q(operation="") & ~Q(operation="refund") & Q(operation_started_at__lt=stale_before))
        )
        .order_by(F("last_synced_at").asc(nulls_first=True), "created_at")
        .values_list("pk", flat=True)[:batch]
    )
    for payment_id in to_sync:
        try:
            payment_sync(payment_id=payment_id, source=Source.RECONCILE)
            counts["synced"] += 1
        except GatewayError as exc:
            counts["sync_failed"] += 1
            logger.warning(
                "payment_reconcile_sync_failed", extra={"payment_id": payment_id, "error": type(exc).__name__}
            )

    # 2. Captures that are due (the scheduled job is the first line; this catches anything it missed).
    for payment_id in Payment.objects.filter(
        status=P.AUTHORIZED, is_booking_payment=True, capture_due_at__lte=now, operation=""
    ).values_list("pk", flat=True)[:batch]:
        if deferrals.capture(payment_id):
            counts["capture_deferred"] += 1

    # 3. Money that should not be held: the booking is gone or finished, a second payment, a refused payment.
    money = Q(status__in=MONEY_STATUSES) & (
        Q(mismatch=True)
        | Q(is_booking_payment=False)
        | Q(booking__status__in=[B.CANCELLED, B.EXPIRED])
        | Q(status=P.AUTHORIZED, booking__status__in=[B.COMPLETED, B.NO_SHOW])
    )
    for payment_id in Payment.objects.filter(money, operation="").values_list("pk", flat=True)[:batch]:
        with transaction.atomic():
            booking, payment = lock_payment(payment_id)
            settle_with_booking(booking=booking, payment=payment, source=Source.RECONCILE, now=now)
        counts["settled"] += 1

    # 4. Refunds waiting for Moyasar (lost job, dead worker): send them again.
    for refund_id in Refund.objects.filter(status=Refund.Status.PENDING, created_at__lt=stale_before).values_list(
        "pk", flat=True
    )[:batch]:
        if deferrals.refund(refund_id):
            counts["refund_deferred"] += 1

    # 5. Flags for a manager.
    counts["flagged"] += _flag_inconsistencies(now=now, batch=batch)
    if any(counts.values()):
        logger.info("payments_reconciled", extra=dict(counts))
    return dict(counts)


def _flag_inconsistencies(*, now: datetime, batch: int) -> int:
    flagged = 0
    valid = timedelta(days=settings.PAYMENTS_AUTHORIZATION_VALID_DAYS)
    mada_valid = timedelta(days=settings.PAYMENTS_MADA_AUTHORIZATION_VALID_DAYS)
    mada = Q(card_scheme=Payment.CardScheme.MADA)
    checks = [
        (
            Q(status=P.AUTHORIZED)
            & ((~mada & Q(authorized_at__lt=now - valid)) | (mada & Q(authorized_at__lt=now - mada_valid))),
            "The authorization is older than Moyasar keeps it and was never captured or voided",
        ),
        (
            Q(
                status__in=MONEY_STATUSES,
                booking__status__in=[B.CANCELLED, B.EXPIRED],
                updated_at__lt=now - timedelta(hours=1),
            ),
            "Money is still held for a cancelled or expired booking",
        ),
        (
            Q(operation="refund", operation_started_at__lt=now - timedelta(hours=1))
            | Q(
                pk__in=Refund.objects.filter(
                    status=Refund.Status.PENDING, created_at__lt=now - timedelta(hours=1)
                ).values("payment_id")
            ),
            "A refund has been in progress for over an hour",
        ),
    ]
    for condition, reason in checks:
        for payment in Payment.objects.filter(condition, needs_attention=False)[:batch]:
            flag(payment, reason, source=Source.RECONCILE)
            flagged += 1
    # The refund rows must add up to what Moyasar says was refunded.
    mismatched = (
        Payment.objects.filter(needs_attention=False, refunded_amount__gt=0)
        .annotate(refunds_total=Coalesce(Sum("refunds__amount", filter=Q(refunds__status=Refund.Status.SUCCEEDED)), 0))
        .exclude(refunds_total=F("refunded_amount"))[:batch]
    )
    for payment in mismatched:
        flag(
            payment,
            f"Refunds add up to {payment.refunds_total}, Moyasar says {payment.refunded_amount}",
            source=Source.RECONCILE,
        )
        flagged += 1
    return flagged
