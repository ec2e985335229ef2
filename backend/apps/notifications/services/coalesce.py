"""Staff notices coalesced: at most one message about booking changes per staff member every
NOTIFICATIONS_STAFF_COALESCE_MINUTES (5). The first change soon (`agenda.staff_change_is_urgent`) is told at once,
as its own `staff_booking_*` message; a change within the window after a message to that staff member joins one
`staff_changes` message, scheduled at the end of the window, listing every change that arrives until it goes out.

Runs in the publisher's transaction, under a transaction-level advisory lock per staff member, so two changes
at once cannot both open a summary (or add to one being sent). A summary's rows are locked while a change is
added; once any of them has left `pending` (being sent or sent), the change opens the next summary instead.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connection

from apps.bookings.models import Booking
from apps.notifications.models import Notification
from apps.notifications.services.agenda import first_name
from apps.notifications.services.planning import Plan, _ContextEncoder

STAFF_CHANGES = "staff_changes"
STAFF_NOTICES = ("staff_booking_new", "staff_booking_changed", "staff_booking_cancelled")
_KIND = {"staff_booking_new": "new", "staff_booking_changed": "moved", "staff_booking_cancelled": "cancelled"}
_LOCK_NAMESPACE = 0x57AFF  # pg_advisory_xact_lock(namespace, staff_id)
S = Notification.Status


def staff_notice_plans(
    *, booking: Booking, template: str, key: str, context: dict[str, Any], now: datetime
) -> list[Plan]:
    """The plans for a staff notice that is to be told now: the notice itself, or a summary to open, or nothing
    (the change was added to the open summary)."""
    user = booking.staff.user
    notice = Plan(template, user, key, booking.pk, context)
    window = timedelta(minutes=settings.NOTIFICATIONS_STAFF_COALESCE_MINUTES)
    if window <= timedelta(0):
        return [notice]
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [_LOCK_NAMESPACE, booking.staff_id])
    change = _change(booking, template, context)
    if _add_to_open_summary(user.pk, change):
        return []
    last = (
        Notification.objects.filter(recipient_id=user.pk, template__in=[*STAFF_NOTICES, STAFF_CHANGES])
        .exclude(status__in=[S.CANCELLED, S.SKIPPED])
        .order_by("-created_at")
        .values_list("created_at", "scheduled_for")
        .first()
    )
    if last is None:
        return [notice]
    last_at = max(when for when in last if when is not None)
    if last_at + window <= now:
        return [notice]
    at = last_at + window
    return [
        Plan(
            STAFF_CHANGES,
            user,
            f"{STAFF_CHANGES}:{booking.staff_id}:{int(at.timestamp())}",
            context={"changes": [change]},
            scheduled_for=at,
            business_id=booking.business_id,
        )
    ]


def _change(booking: Booking, template: str, context: dict[str, Any]) -> dict[str, Any]:
    return {
        "kind": _KIND[template],
        "ref": booking.pk,
        "service_en": booking.service.name_en,
        "service_ar": booking.service.name_ar,
        "customer": first_name(booking.customer.name),
        "start": booking.start,
        "old_start": context.get("old_start"),
    }


def _add_to_open_summary(user_id: int, change: dict[str, Any]) -> bool:
    """Add `change` to the recipient's summary still waiting (every channel's row `pending`). False when there is
    none, or when part of it is on its way already."""
    open_key = (
        Notification.objects.filter(recipient_id=user_id, template=STAFF_CHANGES, status=S.PENDING)
        .order_by("-scheduled_for")
        .values_list("event_key", flat=True)
        .first()
    )
    if open_key is None:
        return False
    rows = list(
        Notification.objects.select_for_update()
        .filter(recipient_id=user_id, event_key=open_key)
        .values_list("pk", "status")
    )
    if any(status != S.PENDING for _, status in rows):
        return False
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {Notification._meta.db_table} SET context = jsonb_set(context, '{{changes}}',"  # noqa: S608 - our table
            " COALESCE(context->'changes', '[]'::jsonb) || %s::jsonb) WHERE id = ANY(%s)",
            [json.dumps([change], cls=_ContextEncoder), [pk for pk, _ in rows]],
        )
    return True
