"""Moyasar webhooks: verify and record fast in the request, do the work in a job.

Moyasar signs nothing: the body carries our shared `secret_token`, compared in constant time. The event's `live`
flag must match this server. Each event id is stored once (a unique row), so replays change nothing; the job
re-fetches the payment from Moyasar and applies its current state, so events arriving out of order cannot move a
payment backwards.
"""

from __future__ import annotations

import hmac
import json
import logging
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from apps.core.errors import ValidationFailed
from apps.payments.errors import WebhookUnauthorized, WebhookWrongEnvironment
from apps.payments.models import PaymentEvent, WebhookEvent
from apps.payments.providers.base import GatewayNotFound, redact_card_data, without_cardholder_name
from apps.payments.services import deferrals
from apps.payments.services.sync import fetch_and_apply

logger = logging.getLogger("mawid.payments")


def _secret_ok(token: Any) -> bool:
    expected = settings.MOYASAR_WEBHOOK_SECRET
    if not expected or not isinstance(token, str):
        return False
    return hmac.compare_digest(token.encode(), expected.encode())


def webhook_receive(*, payload: Any) -> tuple[int | None, bool]:
    """Check and store one event; defer its processing. Returns (row id, created): created is False for a replay."""
    if not isinstance(payload, dict) or not _secret_ok(payload.get("secret_token")):
        raise WebhookUnauthorized()
    live = payload.get("live")
    if not isinstance(live, bool) or live != settings.MOYASAR_LIVE:
        raise WebhookWrongEnvironment()
    event_id, event_type, data = payload.get("id"), payload.get("type"), payload.get("data")
    errors: dict[str, list[str]] = {}
    if not isinstance(event_id, str) or not 0 < len(event_id) <= 100:
        errors["id"] = ["An event id (string) is required."]
    if not isinstance(event_type, str) or not 0 < len(event_type) <= 40:
        errors["type"] = ["An event type (string) is required."]
    moyasar_id = data.get("id") if isinstance(data, dict) else None
    if not isinstance(moyasar_id, str) or not 0 < len(moyasar_id) <= 64:
        errors["data"] = ["The payment (with its id) is required."]
    if errors:
        raise ValidationFailed(fields=errors)
    stored = without_cardholder_name(redact_card_data({k: v for k, v in payload.items() if k != "secret_token"}))
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {WebhookEvent._meta.db_table} "  # noqa: S608 - the table name is ours
                "(event_id, type, provider_payment_id, live, payload, outcome, received_at) "
                "VALUES (%s, %s, %s, %s, %s::jsonb, '', %s) ON CONFLICT (event_id) DO NOTHING RETURNING id",
                [event_id, event_type, moyasar_id, live, _json(stored), timezone.now()],
            )
            row = cursor.fetchone()
        if row is None:
            logger.info("moyasar_webhook_replayed", extra={"event_id": event_id, "type": event_type})
            return None, False
        deferrals.webhook(row[0])
    logger.info("moyasar_webhook_received", extra={"event_id": event_id, "type": event_type, "moyasar_id": moyasar_id})
    return row[0], True


def _json(value: Any) -> str:
    return json.dumps(value, default=str)


def webhook_process(*, event_pk: int) -> WebhookEvent:
    """The job: fetch the payment the event is about and apply its current state (never the event's copy)."""
    event = WebhookEvent.objects.get(pk=event_pk)
    if event.processed_at is not None:
        return event
    outcome = WebhookEvent.Outcome.APPLIED
    payment = None
    try:
        payment = fetch_and_apply(provider_id=event.provider_payment_id, source=PaymentEvent.Source.WEBHOOK)
    except GatewayNotFound:
        outcome = WebhookEvent.Outcome.UNKNOWN_PAYMENT
    if payment is None and outcome == WebhookEvent.Outcome.APPLIED:
        outcome = WebhookEvent.Outcome.UNKNOWN_PAYMENT
    elif payment is not None and payment.needs_attention and payment.mismatch:
        outcome = WebhookEvent.Outcome.MISMATCH
    WebhookEvent.objects.filter(pk=event_pk, processed_at__isnull=True).update(
        processed_at=timezone.now(),
        outcome=outcome,
        payment=payment,
        business_id=payment.business_id if payment is not None else None,
    )
    event.refresh_from_db()
    return event
