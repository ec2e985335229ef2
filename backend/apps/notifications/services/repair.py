"""Repair: what the event path missed, put right by the periodic sweep (reminders that should exist and do not,
open rows whose job is gone), and the operator's retry of a message that ended `failed` or `unknown`.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from procrastinate.contrib.django.models import ProcrastinateJob

from apps.bookings.models import Booking
from apps.notifications.models import Notification
from apps.notifications.services.planning import defer_sends, notifications_create, reminder_plans
from apps.notifications.templates import REMINDERS

logger = logging.getLogger("mawid.notifications")

S = Notification.Status
RETRYABLE_BY_HAND: frozenset[str] = frozenset({S.FAILED, S.UNKNOWN})
LIVE_JOB_STATUSES = ("todo", "doing")
CONFIRMED = Booking.Status.CONFIRMED


def notifications_sweep(*, now: datetime | None = None, batch: int = 500) -> dict[str, int]:
    """Repair what the event path missed: reminders that should exist and do not, and open rows whose job is
    gone (deleted, cancelled, or finished without settling the row). Idempotent; runs every few minutes."""
    now = now or timezone.now()
    return {
        "reminders_created": _ensure_reminders(now=now),
        "jobs_redeferred": _redefer_lost(now=now, batch=batch),
    }


def _ensure_reminders(*, now: datetime) -> int:
    horizon = now + max(REMINDERS.values()) + timedelta(hours=2)
    bookings = Booking.objects.filter(status=CONFIRMED, start__gt=now, start__lte=horizon)
    missing_any = Q()
    for template, lead in REMINDERS.items():
        exists = Notification.objects.filter(
            booking_id=OuterRef("pk"), template=template, scheduled_for=OuterRef("start") - lead
        )
        bookings = bookings.annotate(**{f"has_{template}": Exists(exists)})
        missing_any |= Q(**{f"has_{template}": False, "start__gt": now + lead})
    created = 0
    for booking_id in bookings.filter(missing_any).values_list("pk", flat=True)[:500]:
        with transaction.atomic():
            booking = (
                Booking.objects.select_for_update(of=("self",)).select_related("customer").filter(pk=booking_id).first()
            )
            if booking is None or booking.status != CONFIRMED:
                continue
            created += len(notifications_create(plans=reminder_plans(booking, now=now)))
    if created:
        logger.warning("notifications_sweep_created_reminders", extra={"count": created})
    return created


def _redefer_lost(*, now: datetime, batch: int) -> int:
    live = ProcrastinateJob.objects.filter(id=OuterRef("job_id"), status__in=LIVE_JOB_STATUSES)
    with transaction.atomic():
        rows = list(
            Notification.objects.select_for_update(skip_locked=True)
            .filter(status__in=[S.PENDING, S.SENDING])
            .filter(Q(job_id__isnull=True) | ~Exists(live))
            .order_by("pk")
            .values_list("pk", "status", "attempts", "scheduled_for")[:batch]
        )
        exhausted = [
            pk
            for pk, status, attempts, _ in rows
            if status == S.PENDING and attempts >= settings.NOTIFICATIONS_MAX_ATTEMPTS
        ]
        if exhausted:
            Notification.objects.filter(pk__in=exhausted).update(
                status=S.FAILED, last_error="too many attempts", updated_at=now
            )
        todo = [(pk, when) for pk, _, _, when in rows if pk not in exhausted]
        defer_sends(todo)
    for pk, _ in todo:
        logger.warning("notification_job_redeferred", extra={"notification_id": pk})
    return len(todo)


def notification_retry(*, notification_id: int) -> bool:
    """Send a `failed` or `unknown` message again (an operator decided to). False when it is in another state."""
    with transaction.atomic():
        n = Notification.objects.select_for_update().filter(pk=notification_id).first()
        if n is None or n.status not in RETRYABLE_BY_HAND:
            return False
        n.status = S.PENDING
        n.attempts = 0
        n.last_error = ""
        n.sending_started_at = None
        n.updated_at = timezone.now()
        n.save(update_fields=["status", "attempts", "last_error", "sending_started_at", "updated_at"])
        defer_sends([(n.pk, None)])
    logger.info("notification_retried_by_hand", extra={"notification_id": notification_id, "booking_id": n.booking_id})
    return True
