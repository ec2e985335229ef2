"""Core's retention rule: idempotency keys after their replay window (registered in CoreConfig.ready())."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import QuerySet

from apps.core.idempotency import TTL
from apps.core.models import IdempotencyRecord
from apps.core.retention import deleting_rule


def _idempotency_due(now: datetime) -> QuerySet[IdempotencyRecord]:
    # Never inside the replay window: a key younger than TTL still answers a retry.
    keep = max(timedelta(hours=settings.RETENTION_IDEMPOTENCY_HOURS), TTL)
    return IdempotencyRecord.objects.filter(created_at__lt=now - keep)


IDEMPOTENCY_KEYS = deleting_rule(
    name="idempotency_keys",
    setting="RETENTION_IDEMPOTENCY_HOURS",
    due=_idempotency_due,
    description="Idempotency-Key records (a user's request body hash and first response), after the replay window.",
)
