"""Planning: a fact published by another app becomes notification rows, one per person and channel, and a
deferred `notification_send` job for each, all inside the publisher's transaction (see `subscribers.py`). Also
the withdrawal of messages a later fact made pointless, and the reminders a booking is due.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection
from django.utils import timezone
from procrastinate.contrib.django import app as procrastinate_app

from apps.accounts.models import User
from apps.bookings.models import Booking
from apps.core.logging import request_id_var
from apps.notifications import channels
from apps.notifications.models import Notification
from apps.notifications.rendering import language_of
from apps.notifications.templates import REMINDERS

logger = logging.getLogger("mawid.notifications")

S = Notification.Status


@dataclass(frozen=True)
class Plan:
    """One message to one person about one fact; `notifications_create` turns it into a row per channel."""

    template: str
    recipient: User
    event_key: str
    booking_id: int | None = None
    context: dict[str, Any] = field(default_factory=dict)
    scheduled_for: datetime | None = None
    # The business a message without a booking is about (a staff member's agenda); else the booking's.
    business_id: int | None = None


# --- planning (runs inside the publisher's transaction) -----------------------------------------------------


def notifications_create(*, plans: Iterable[Plan]) -> list[int]:
    """Write a row per plan and per channel its recipient chose, and defer a job for each new row, all in the
    caller's transaction (three queries whatever the number of rows).

    A row that exists already (same event key, recipient and channel) is left as it is, so a fact published
    twice notifies once; a `cancelled` one is brought back (a booking moved away and back gets its reminders).
    Returns the ids of the rows that got a job.
    """
    now = timezone.now()
    request_id = (request_id_var.get() or "")[:64]
    active = channels.enabled()
    values: list[Any] = []
    count = 0
    for plan in plans:
        user = plan.recipient
        if not user.is_active:
            continue
        context = json.dumps(plan.context, cls=_ContextEncoder)
        for channel in active:
            if not channel.opted_in(user) or not channel.address(user):
                continue
            values += [
                plan.event_key,
                plan.template,
                user.pk,
                channel.name,
                language_of(user),
                plan.booking_id,
                plan.business_id,
                plan.booking_id,
                context,
                plan.scheduled_for,
                request_id,
                now,
                now,
            ]
            count += 1
    if not count:
        return []
    table = Notification._meta.db_table
    booking_table = Booking._meta.db_table
    # The business is the plan's, else the booking's (the tenant key on every notification about a booking).
    business_of = f"COALESCE(%s::bigint, (SELECT b.business_id FROM {booking_table} b WHERE b.id = %s))"  # noqa: S608 - our table name
    row = f"(%s, %s, %s, %s, %s, 'pending', 0, '', '', %s, {business_of}, %s::jsonb, %s, %s, %s, %s)"
    sql = (
        f"INSERT INTO {table} AS n (event_key, template, recipient_id, channel, language, status, attempts,"  # noqa: S608 - table name from the model, values bound
        " provider_message_id, last_error, booking_id, business_id, context, scheduled_for, request_id, created_at,"
        " updated_at)"
        f" VALUES {', '.join([row] * count)}"
        " ON CONFLICT (event_key, recipient_id, channel) DO UPDATE SET status = 'pending',"
        " scheduled_for = EXCLUDED.scheduled_for, context = EXCLUDED.context, language = EXCLUDED.language,"
        " last_error = '', job_id = NULL, sending_started_at = NULL, updated_at = EXCLUDED.updated_at"
        " WHERE n.status = 'cancelled'"
        " RETURNING id, scheduled_for"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, values)
        created = [(pk, when) for pk, when in cursor.fetchall()]
    defer_sends(created)
    return [pk for pk, _ in created]


class _ContextEncoder(DjangoJSONEncoder):
    """Like Django's, but times keep their microseconds: a reminder compares its start with the booking's."""

    def default(self, o: Any) -> Any:
        if isinstance(o, datetime):
            return o.isoformat()
        return super().default(o)


def defer_sends(rows: list[tuple[int, datetime | None]]) -> None:
    """Defer `notification_send` for each (id, when) in one query and remember the job ids on the rows."""
    if not rows:
        return
    from apps.notifications.jobs import notification_send

    now = timezone.now()
    deferrers = [notification_send.configure(schedule_at=when if when and when > now else None) for _, when in rows]
    jobs = [d.make_new_job(notification_id=pk) for d, (pk, _) in zip(deferrers, rows, strict=True)]
    deferred = deferrers[0].job_manager.batch_defer_jobs(jobs=jobs)
    Notification.objects.bulk_update(
        [Notification(pk=pk, job_id=job.id) for (pk, _), job in zip(rows, deferred, strict=True)], ["job_id"]
    )


def notifications_cancel(
    *, booking_id: int, templates: Iterable[str], reason: str, keep_event_keys: Iterable[str] = ()
) -> int:
    """Withdraw the booking's pending messages of `templates` (not those in `keep_event_keys`): the rows become
    `cancelled` and their scheduled jobs are cancelled through procrastinate's job manager. A job that is
    already running finds the row cancelled (or re-checks the booking) and sends nothing."""
    rows = list(
        Notification.objects.select_for_update()
        .filter(booking_id=booking_id, template__in=list(templates), status=S.PENDING)
        .exclude(event_key__in=list(keep_event_keys))
        .values_list("pk", "job_id")
    )
    if not rows:
        return 0
    for _, job_id in rows:
        if job_id:
            procrastinate_app.job_manager.cancel_job_by_id(job_id)
    Notification.objects.filter(pk__in=[pk for pk, _ in rows]).update(
        status=S.CANCELLED, last_error=reason[:500], updated_at=timezone.now()
    )
    logger.info("notifications_cancelled", extra={"booking_id": booking_id, "count": len(rows), "reason": reason})
    return len(rows)


def reminder_key(template: str, booking_id: int, start: datetime) -> str:
    return f"{template}:{booking_id}:{int(start.timestamp())}"


def reminder_plans(booking: Booking, *, now: datetime, templates: Iterable[str] | None = None) -> list[Plan]:
    """The reminders still ahead for `booking` at its current start (none whose time has passed)."""
    plans = []
    for template in templates or REMINDERS:
        at = booking.start - REMINDERS[template]
        if at <= now:
            continue
        plans.append(
            Plan(
                template=template,
                recipient=booking.customer,
                event_key=reminder_key(template, booking.pk, booking.start),
                booking_id=booking.pk,
                context={"start": booking.start},
                scheduled_for=at,
            )
        )
    return plans
