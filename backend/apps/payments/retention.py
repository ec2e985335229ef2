"""Payments' retention rule: Moyasar webhook payloads once reconciliation has settled them (registered in
PaymentsConfig.ready()).

A webhook's payload (already without the secret token and card data) still names the cardholder and the
description. It is blanked, the row kept (event id, type, outcome, times: the audit trail and the dedup key of
at-least-once deliveries), RETENTION_WEBHOOK_DAYS after it arrived, and only once it is settled: processed with an
outcome other than `failed`, and its payment (if it names one of ours) no longer waiting for Moyasar (not
`awaiting_client`, `initiated` or `authorized`). A later refund arrives as a new event with its own payload.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Q, QuerySet

from apps.core.retention import blanking_rule
from apps.payments.models import Payment, WebhookEvent

OPEN_PAYMENT = (Payment.Status.AWAITING_CLIENT, Payment.Status.INITIATED, Payment.Status.AUTHORIZED)
SETTLED_OUTCOMES = (WebhookEvent.Outcome.APPLIED, WebhookEvent.Outcome.UNKNOWN_PAYMENT, WebhookEvent.Outcome.MISMATCH)


def _webhooks_due(now: datetime) -> QuerySet[WebhookEvent]:
    return (
        WebhookEvent.objects.filter(
            received_at__lt=now - timedelta(days=settings.RETENTION_WEBHOOK_DAYS),
            processed_at__isnull=False,
            outcome__in=SETTLED_OUTCOMES,
        )
        .filter(Q(payment__isnull=True) | ~Q(payment__status__in=OPEN_PAYMENT))
        .exclude(payload={})
    )


WEBHOOK_PAYLOADS = blanking_rule(
    name="webhook_payloads",
    setting="RETENTION_WEBHOOK_DAYS",
    due=_webhooks_due,
    values={"payload": {}},
    description="Moyasar webhook payloads, blanked RETENTION_WEBHOOK_DAYS after arrival once settled.",
)
