"""Staff: a morning agenda instead of a message per booking (see docs/notifications.md, "What staff get").

A busy day used to send the staff member one SMS per booking made, moved or cancelled, and the SMS provider's
per-recipient limit answered 429 with an hour's Retry-After. Now:

- `staff_agendas_create` (the `staff_agendas` job, every 15 minutes) makes one `staff_agenda` message per staff
  member and day once the business's local agenda time (`Business.staff_agenda_time`, else
  NOTIFICATIONS_STAFF_AGENDA_TIME, 07:00) has come, for
  staff with a confirmed booking still ahead that day. Its event key `staff_agenda:<staff_id>:<date>` makes it
  once a day however often the job runs; a worker that was down at 07:00 catches up until
  NOTIFICATIONS_STAFF_AGENDA_CATCH_UP_HOURS later, never on another day.
- `staff_change_is_urgent` decides whether a booking made, moved or cancelled is told to the staff member at once
  (`staff_booking_new` / `_changed` / `_cancelled`): when it starts (or started, before a move) within
  NOTIFICATIONS_STAFF_URGENT_HOURS, or today once today's agenda time has passed. Anything else is in the agenda of
  its day (and the calendar).
- `agenda_for` is read when the agenda is sent: the day's bookings as they are then (a booking cancelled between
  the planning and the send is not listed), capped at NOTIFICATIONS_STAFF_AGENDA_MAX_ITEMS.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.urls import reverse

from apps.accounts.models import User
from apps.bookings.models import Booking
from apps.catalog.models import Business, Staff
from apps.notifications.models import Notification
from apps.notifications.services.planning import Plan, notifications_create

logger = logging.getLogger("mawid.notifications")

STAFF_AGENDA = "staff_agenda"
CONFIRMED = Booking.Status.CONFIRMED


def agenda_time(business: Business | None = None) -> time:
    """The business's own agenda time when it set one, else NOTIFICATIONS_STAFF_AGENDA_TIME (07:00 when that
    cannot be read; `manage.py check` says so)."""
    if business is not None and business.staff_agenda_time is not None:
        return business.staff_agenda_time
    try:
        return time.fromisoformat(str(settings.NOTIFICATIONS_STAFF_AGENDA_TIME))
    except ValueError:
        return time(7, 0)


def agenda_key(staff_id: int, day: date) -> str:
    return f"{STAFF_AGENDA}:{staff_id}:{day.isoformat()}"


def _day_bounds(day: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    return datetime.combine(day, time(), tzinfo=tz), datetime.combine(day + timedelta(days=1), time(), tzinfo=tz)


def staff_change_is_urgent(*, business: Business, starts: Iterable[datetime | None], now: datetime) -> bool:
    """Whether a change to a booking at `starts` (its start, and its old start for a move) is told to its staff
    member now rather than in an agenda: a start within the next NOTIFICATIONS_STAFF_URGENT_HOURS, or today (in
    the business's time zone) once today's agenda time has passed (today's agenda may be out already)."""
    tz = business.tz
    local_now = now.astimezone(tz)
    agenda_due = datetime.combine(local_now.date(), agenda_time(business), tzinfo=tz)
    window = timedelta(hours=settings.NOTIFICATIONS_STAFF_URGENT_HOURS)
    for start in starts:
        if start is None:
            continue
        if now <= start < now + window:
            return True
        if now >= agenda_due and start.astimezone(tz).date() == local_now.date():
            return True
    return False


def staff_agendas_create(*, now: datetime) -> int:
    """Plan today's agenda for every staff member whose business's agenda time has come (and not more than
    NOTIFICATIONS_STAFF_AGENDA_CATCH_UP_HOURS ago) and who has a confirmed booking today, not over yet, that was
    made (or last changed) before the agenda time, unless it exists already. Returns how many rows were made
    (one per channel).

    A booking made or moved after the agenda time was told at once (`staff_change_is_urgent`), so a staff member
    who had nothing at 07:00 and is booked at 10:00 gets that message, not an agenda besides; one whose agenda
    was not made at 07:00 (the worker was down) gets it at the next run, until the catch-up window closes."""
    catch_up = timedelta(hours=settings.NOTIFICATIONS_STAFF_AGENDA_CATCH_UP_HOURS)
    created = 0
    # One pass per (time zone, agenda time) that businesses use: the platform's time for those that set none.
    groups = Business.objects.order_by().values_list("timezone", "staff_agenda_time").distinct()
    for tz_name, own_time in groups:
        tz = ZoneInfo(tz_name)
        today = now.astimezone(tz).date()
        due = datetime.combine(today, own_time or agenda_time(), tzinfo=tz)
        if not due <= now < due + catch_up:
            continue
        day_start, day_end = _day_bounds(today, tz)
        same_time = (
            {"business__staff_agenda_time": own_time} if own_time else {"business__staff_agenda_time__isnull": True}
        )
        working = (
            Booking.objects.filter(
                business__timezone=tz_name,
                **same_time,
                status=CONFIRMED,
                start__gte=day_start,
                start__lt=day_end,
                end__gt=now,
                updated_at__lt=due,  # made or last changed after the agenda time: told at once already
                staff__is_active=True,
                staff__user__is_active=True,
            )
            .order_by()
            .values_list("staff_id", "staff__user_id", "business_id")
            .distinct()
        )
        todo = {
            agenda_key(staff_id, today): (staff_id, user_id, business_id) for staff_id, user_id, business_id in working
        }
        if not todo:
            continue
        done = set(Notification.objects.filter(event_key__in=list(todo)).values_list("event_key", flat=True))
        missing = {key: row for key, row in todo.items() if key not in done}
        users = User.objects.in_bulk([user_id for _, user_id, _ in missing.values()])
        plans = [
            Plan(
                STAFF_AGENDA,
                users[user_id],
                key,
                context={"staff_id": staff_id, "date": today.isoformat()},
                business_id=business_id,
            )
            for key, (staff_id, user_id, business_id) in sorted(missing.items())
            if user_id in users
        ]
        with transaction.atomic():
            made = len(notifications_create(plans=plans))
        created += made
        if plans:
            logger.info("staff_agendas_planned", extra={"day": today.isoformat(), "staff": len(plans), "count": made})
    return created


def agenda_for(n: Notification, *, now: datetime) -> tuple[dict[str, Any], str]:
    """What an agenda row says when it is sent: its context with the day's bookings still ahead (at most
    NOTIFICATIONS_STAFF_AGENDA_MAX_ITEMS, the number of all of them, the calendar link), and why it should no
    longer be sent ("" when it should): the day is over, nothing is left that day, not this person's any more."""
    staff = Staff.objects.select_related("business").filter(pk=n.context.get("staff_id")).first()
    if staff is None or not staff.is_active or staff.user_id != n.recipient_id:
        return n.context, "no longer an active staff member"
    tz = staff.business.tz
    try:
        day = date.fromisoformat(str(n.context.get("date")))
    except ValueError:
        return n.context, "no day in the agenda's context"
    day_start, day_end = _day_bounds(day, tz)
    if now >= day_end:
        return n.context, "the day is over"
    bookings = (
        Booking.objects.filter(staff=staff, status=CONFIRMED, start__gte=day_start, start__lt=day_end, end__gt=now)
        .select_related("service", "customer")
        .order_by("start", "pk")
    )
    total = bookings.count()
    if not total:
        return n.context, "no bookings left that day"
    items = [
        {
            "start": b.start.isoformat(),
            "service_en": b.service.name_en,
            "service_ar": b.service.name_ar,
            "customer": first_name(b.customer.name),
        }
        for b in bookings[: max(settings.NOTIFICATIONS_STAFF_AGENDA_MAX_ITEMS, 1)]
    ]
    path = reverse("web:calendar_day", args=[staff.business.slug])
    link = f"{settings.PUBLIC_BASE_URL}{path}?date={day.isoformat()}"
    return {**n.context, "agenda": items, "count": total, "link": link}, ""


def first_name(name: str | None) -> str:
    """A customer's first name only (the agenda says no more about them)."""
    parts = (name or "").split()
    return parts[0] if parts else ""
