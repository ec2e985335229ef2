"""Reads about bookings. Access checks live here: someone else's booking is a 404, never a 403."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

from django.db import connection
from django.db.models import F, Q, QuerySet
from django.utils import timezone

from apps.accounts.models import User
from apps.bookings.models import HOLDING_STATUSES, Booking, TsTzRange
from apps.catalog.availability import Interval, clip_range, is_bookable
from apps.catalog.busy import busy_from_rows
from apps.catalog.errors import ServiceMissing, ServiceNotOffered
from apps.catalog.models import Branch, Business, Service, Staff
from apps.catalog.selectors import (
    business_ids_run_by,
    service_get_active,
    slot_rules,
    staff_get_active,
    staff_schedules,
    user_manages,
)
from apps.core.errors import NotFound
from apps.core.rows import model_columns, model_from_row, model_width

S = Booking.Status


def _holding(
    *, staff_ids: Iterable[int], start: datetime, end: datetime, exclude_booking_id: int | None
) -> QuerySet[Booking]:
    # Written like the exclusion constraint (same range expression, same condition) so PostgreSQL answers it
    # from the constraint's GiST index.
    qs = (
        Booking.objects.annotate(busy=TsTzRange(F("busy_start"), F("busy_end")))
        .filter(staff_id__in=list(staff_ids), status__in=sorted(HOLDING_STATUSES), busy__overlap=(start, end))
        .order_by()
    )
    if exclude_booking_id is not None:
        qs = qs.exclude(pk=exclude_booking_id)
    return qs


def booking_busy_intervals(
    *, staff_ids: Iterable[int], start: datetime, end: datetime, exclude_booking_id: int | None = None
) -> dict[int, list[Interval]]:
    """Per staff id, the time held by bookings (widened by their buffers) that overlaps [start, end). One query.

    Registered in `apps.catalog.busy.booked_time` so availability sees bookings; the services that decide a new
    time hand it to the engine directly. PostgreSQL merges touching and overlapping bookings (`range_agg`) and
    hands instants back as epoch microseconds: a month of back-to-back bookings is a few rows, and no timestamp
    parsing (about 5 µs a value in psycopg) is needed.
    The WHERE clause is the overlap written as two comparisons, with the holding statuses as constants, so the
    partial index `booking_staff_holding_end_idx` (staff, busy_end) answers it for many staff at once (a page of
    discovery asks for a few hundred): `staff_id = ANY(...)` is an index condition for a btree, not for the
    constraint's GiST, and the scan starts at `start`, not at the beginning of each staff member's history.
    """
    ids = list(staff_ids)
    holding = ", ".join(f"'{status}'" for status in sorted(HOLDING_STATUSES))
    if not ids or not start < end:
        return {}
    sql = f"""
        SELECT staff_id,
               (EXTRACT(EPOCH FROM lower(r)) * 1000000)::bigint,
               (EXTRACT(EPOCH FROM upper(r)) * 1000000)::bigint
          FROM (SELECT staff_id, unnest(range_agg(tstzrange(busy_start, busy_end, '[)'))) AS r
                  FROM "{Booking._meta.db_table}"
                 WHERE staff_id = ANY(%s) AND status IN ({holding})
                   AND busy_end > %s AND busy_start < %s
                   AND id IS DISTINCT FROM %s
                 GROUP BY staff_id) merged
         ORDER BY 1, 2
    """  # noqa: S608 - only the model's own table name and status constants are interpolated
    with connection.cursor() as cursor:
        cursor.execute(sql, [ids, start, end, exclude_booking_id])
        return busy_from_rows(cursor.fetchall())


def booking_overlaps(
    *, staff_id: int, busy_start: datetime, busy_end: datetime, exclude_booking_id: int | None = None
) -> bool:
    """Whether a booking that holds time overlaps [busy_start, busy_end) for this staff member."""
    return _holding(
        staff_ids=[staff_id], start=busy_start, end=busy_end, exclude_booking_id=exclude_booking_id
    ).exists()


@dataclass(frozen=True, slots=True)
class BookingRequest:
    """What a new booking request needs before it queues for any lock (see `booking_request_get`)."""

    staff: Staff  # active, with `service_ids` unknown (the locked re-check loads them)
    service: Service  # active, offered by `staff`
    business: Business
    taken: bool  # a booking holding time overlaps the request (widened by the service's buffers), as of now
    offered_here: bool = True  # the service is offered at the staff member's branch (none chosen: everywhere)


@cache
def _request_sql() -> str:
    """The staff member, the service they offer, the business settings and whether the slot is taken: one row,
    or none when the staff member or the service is unknown or inactive, or the service is not offered."""
    link, staff, service = Staff.services.through._meta.db_table, Staff._meta.db_table, Service._meta.db_table
    business, booking = Business._meta.db_table, Booking._meta.db_table
    where = Service.branches.through._meta.db_table
    holding = ", ".join(f"'{status}'" for status in sorted(HOLDING_STATUSES))
    # The overlap test is the exclusion constraint's own (same range, same condition): its GiST index answers it.
    return f"""
        SELECT {model_columns(Staff, "st")}, {model_columns(Service, "sv")}, {model_columns(Business, "bs")},
               (NOT EXISTS (SELECT 1 FROM "{where}" sb WHERE sb.service_id = sv.id)
                OR EXISTS (SELECT 1 FROM "{where}" sb WHERE sb.service_id = sv.id AND sb.branch_id = st.branch_id)),
               EXISTS (SELECT 1 FROM "{booking}" b
                        WHERE b.business_id = st.business_id AND b.staff_id = st.id AND b.status IN ({holding})
                          AND tstzrange(b.busy_start, b.busy_end, '[)') && tstzrange(
                                %(start)s - make_interval(mins => sv.buffer_before_minutes),
                                %(start)s + make_interval(mins => sv.duration_minutes + sv.buffer_after_minutes),
                                '[)'))
          FROM "{link}" l
          JOIN "{staff}" st ON st.id = l.staff_id AND st.is_active
          JOIN "{service}" sv ON sv.id = l.service_id AND sv.is_active
          JOIN "{business}" bs ON bs.id = sv.business_id AND bs.id = st.business_id AND bs.is_active
         WHERE l.staff_id = %(staff)s AND l.service_id = %(service)s
         LIMIT 1
    """  # noqa: S608 - only the models' table and column names and constants go into the text


def booking_request_get(*, staff_id: int, service_id: int, start: datetime) -> BookingRequest:
    """The early check of a new booking, in one query: the active staff member, the active service they offer,
    the business settings, and whether a booking holding time already overlaps `start` (the time the service
    would hold, buffers included). Nothing is locked: `booking_create` decides again under the locks.

    `StaffMissing` / `ServiceMissing` (404) for an unknown or inactive one, `ServiceNotOffered` (400) when the
    staff member does not offer the service.
    """
    with connection.cursor() as cursor:
        cursor.execute(_request_sql(), {"staff": staff_id, "service": service_id, "start": start})
        row = cursor.fetchone()
    if row is None:
        staff_get_active(staff_id)
        service_get_active(service_id)
        raise ServiceNotOffered()
    n_staff, n_service = model_width(Staff), model_width(Service)
    staff = model_from_row(Staff, row)
    service = model_from_row(Service, row[n_staff:])
    staff.__dict__["_offers_service"] = {service.pk: True}  # see catalog.selectors.staff_offers_service
    business_row = row[n_staff + n_service : -2]
    business = model_from_row(Business, business_row)
    return BookingRequest(
        staff=staff, service=service, business=business, taken=bool(row[-1]), offered_here=bool(row[-2])
    )


# --- "anyone": the server picks the staff member ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AnyoneRequest:
    """What a booking with no staff member named needs before it queues for any lock (`anyone_request_get`)."""

    service: Service  # active, of an active business
    business: Business
    branch_id: int | None  # the branch it is for; None when `branch_error` says why there is none
    branch_error: str  # "", "unknown" (not an active branch of the business), "not_offered", "required"
    candidates: list[int]  # staff ids free at `start` by the early check, the fairest first


@cache
def _anyone_service_sql() -> str:
    """The active service, its active business and, per active branch of the business in display order, whether
    the service is offered there: one row, or none."""
    service, business, branch = Service._meta.db_table, Business._meta.db_table, Branch._meta.db_table
    where = Service.branches.through._meta.db_table
    return f"""
        SELECT {model_columns(Service, "sv")}, {model_columns(Business, "bs")},
               ARRAY(SELECT br.id FROM "{branch}" br WHERE br.business_id = bs.id AND br.is_active
                      ORDER BY br.display_order, br.id),
               ARRAY(SELECT br.id FROM "{branch}" br WHERE br.business_id = bs.id AND br.is_active
                        AND (NOT EXISTS (SELECT 1 FROM "{where}" sb WHERE sb.service_id = sv.id)
                             OR EXISTS (SELECT 1 FROM "{where}" sb WHERE sb.service_id = sv.id AND sb.branch_id = br.id))
                      ORDER BY br.display_order, br.id)
          FROM "{service}" sv
          JOIN "{business}" bs ON bs.id = sv.business_id AND bs.is_active
         WHERE sv.id = %(service)s AND sv.is_active
    """  # noqa: S608 - only the models' table and column names go into the text


@cache
def _anyone_staff_sql() -> str:
    """The active staff of one branch who offer the service, with the number of bookings holding time they have
    on the local day [%(day_start)s, %(day_end)s): the least booked first, then display order."""
    link, staff, booking = Staff.services.through._meta.db_table, Staff._meta.db_table, Booking._meta.db_table
    holding = ", ".join(f"'{status}'" for status in sorted(HOLDING_STATUSES))
    return f"""
        SELECT st.id,
               (SELECT count(*) FROM "{booking}" b
                 WHERE b.staff_id = st.id AND b.status IN ({holding})
                   AND b.start >= %(day_start)s AND b.start < %(day_end)s) AS that_day
          FROM "{link}" l
          JOIN "{staff}" st ON st.id = l.staff_id AND st.is_active
         WHERE l.service_id = %(service)s AND st.branch_id = %(branch)s AND st.business_id = %(business)s
         ORDER BY that_day, st.display_order, st.id
    """  # noqa: S608 - only the models' table names and status constants go into the text


def anyone_request_get(*, service_id: int, branch_id: int | None, start: datetime) -> AnyoneRequest:
    """The early check of a booking with no staff member named: the service and its business, the branch (the
    one given; else the only active branch, or the only one offering the service) and the staff of that branch
    who offer it and are free at `start` by the availability engine, the least booked that local day first (then
    display order). 4 queries (service and branches; staff and their day's bookings; schedules; busy time);
    1 when the branch is wrong. Nothing is locked: `booking_create` decides again for each one tried.

    `ServiceMissing` (404) for an unknown or inactive service or business.
    """
    with connection.cursor() as cursor:
        cursor.execute(_anyone_service_sql(), {"service": service_id})
        row = cursor.fetchone()
    if row is None:
        raise ServiceMissing()
    n_service, n_business = model_width(Service), model_width(Business)
    service = model_from_row(Service, row)
    business = model_from_row(Business, row[n_service : n_service + n_business])
    service.business = business
    branches, offered = list(row[-2]), list(row[-1])
    error = ""
    if branch_id is not None:
        error = "unknown" if branch_id not in branches else ("not_offered" if branch_id not in offered else "")
    elif len(branches) == 1 or len(offered) == 1:
        branch_id = offered[0] if offered else branches[0]
        error = "" if offered else "not_offered"
    else:
        error = "required" if offered else "not_offered"
    if error or branch_id is None:
        return AnyoneRequest(service, business, None, error, [])
    rules = slot_rules(service=service, business=business)
    day = start.astimezone(rules.tz).date()
    day_start = datetime.combine(day, time(), tzinfo=rules.tz)
    with connection.cursor() as cursor:
        cursor.execute(
            _anyone_staff_sql(),
            {
                "service": service.pk,
                "branch": branch_id,
                "business": business.pk,
                "day_start": day_start,
                "day_end": datetime.combine(day + timedelta(days=1), time(), tzinfo=rules.tz),
            },
        )
        ranked = [staff_id for staff_id, _count in cursor.fetchall()]
    if not ranked or clip_range(day, day, rules) is None:
        return AnyoneRequest(service, business, branch_id, "", [])
    schedules = staff_schedules(staff_ids=ranked, date_from=day, date_to=day, business=business, service=service)
    free = [staff_id for staff_id in ranked if is_bookable(schedules[staff_id], rules, start)]
    return AnyoneRequest(service, business, branch_id, "", free)


def booking_count_pending(*, customer_id: int, now: datetime) -> int:
    """The customer's unpaid bookings whose hold still runs."""
    return Booking.objects.filter(
        customer_id=customer_id, status=Booking.Status.PENDING_PAYMENT, hold_expires_at__gt=now
    ).count()


@dataclass(frozen=True, slots=True)
class CustomerBookingCounts:
    pending: int  # unpaid bookings whose hold still runs
    upcoming: int  # bookings still ahead that hold their time: confirmed, or unpaid with a running hold
    last_hour: int  # bookings made since an hour before `now`, whatever became of them
    oldest_in_last_hour: datetime | None  # when the first of those was made

    @classmethod
    def from_row(cls, row: Sequence[Any]) -> CustomerBookingCounts:
        """From the four columns of `customer_counts_sql`, in order."""
        pending, upcoming, last_hour, oldest = row
        return cls(pending, upcoming, last_hour, oldest)


@cache
def customer_counts_sql() -> str:
    """A query of one row, `(pending, upcoming, last_hour, oldest_in_last_hour)`, for the customer
    `%(customer)s` at business `%(business)s` at `%(now)s` (`%(hour_ago)s` = now - 1 hour): what the per-customer limits of `booking_create`
    look at. The booking service runs it inside its staff lock statement (see there why that is safe); the
    customer's index (customer, created_at) and the pending index answer it."""
    table, pending, confirmed = Booking._meta.db_table, S.PENDING_PAYMENT.value, S.CONFIRMED.value
    # The pending and upcoming caps are each business's policy over its own bookings; the hourly rate is the
    # platform's, over all of them.
    live_hold = f"(status = '{pending}' AND hold_expires_at > %(now)s AND business_id = %(business)s)"
    upcoming = f"((status = '{confirmed}' OR {live_hold}) AND start > %(now)s AND business_id = %(business)s)"
    recent = "created_at > %(hour_ago)s"
    return f"""
        SELECT count(*) FILTER (WHERE {live_hold}), count(*) FILTER (WHERE {upcoming}),
               count(*) FILTER (WHERE {recent}), min(created_at) FILTER (WHERE {recent})
          FROM "{table}"
         WHERE customer_id = %(customer)s AND ({live_hold} OR {upcoming} OR {recent})
    """  # noqa: S608 - only the model's table name and status constants go into the text


def customer_counts_params(*, customer_id: int, business_id: int, now: datetime) -> dict[str, Any]:
    return {"customer": customer_id, "business": business_id, "now": now, "hour_ago": now - timedelta(hours=1)}


def booking_customer_counts(*, customer_id: int, business_id: int, now: datetime) -> CustomerBookingCounts:
    """What the per-customer limits of `booking_create` look at, in one query (the customer's index)."""
    with connection.cursor() as cursor:
        cursor.execute(
            customer_counts_sql(), customer_counts_params(customer_id=customer_id, business_id=business_id, now=now)
        )
        row = cursor.fetchone()
    return CustomerBookingCounts.from_row(row)


def booking_ids_due_for_expiry(*, now: datetime, limit: int = 500) -> list[int]:
    """Unpaid bookings whose hold has run out, oldest hold first."""
    return list(
        Booking.objects.filter(status=Booking.Status.PENDING_PAYMENT, hold_expires_at__lte=now)
        .order_by("hold_expires_at", "id")
        .values_list("id", flat=True)[:limit]
    )


def _visible_to(user: User) -> Q | None:
    """None: everything (platform operators). Anyone sees the bookings they made (at every business); a staff
    member also the bookings with them; an owner or manager every booking of the businesses they run."""
    if user.is_superuser:
        return None
    visible = Q(customer_id=user.pk) | Q(staff__user_id=user.pk)
    managed = business_ids_run_by(user)
    if managed:
        visible |= Q(business_id__in=managed)
    return visible


def booking_list_for_user(
    *,
    user: User,
    status: list[str] | None = None,
    staff_id: int | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
    tz: ZoneInfo | None = None,
) -> QuerySet[Booking]:
    """The bookings `user` may see, newest first. Filters narrow that set and never widen it.

    `date_from` / `date_to` are local dates (in `tz`) of the booking's start, both inclusive.
    """
    tz = tz or timezone.get_default_timezone()
    qs = Booking.objects.select_related("staff", "service", "customer", "business").order_by("-created_at", "-id")
    visible = _visible_to(user)
    if visible is not None:
        qs = qs.filter(visible)
    if status:
        qs = qs.filter(status__in=status)
    if staff_id is not None:
        qs = qs.filter(staff_id=staff_id)
    if date_from is not None:
        qs = qs.filter(start__gte=datetime.combine(date_from, time.min, tzinfo=tz))
    if date_to is not None:
        qs = qs.filter(start__lt=datetime.combine(date_to + timedelta(days=1), time.min, tzinfo=tz))
    return qs


def booking_get_for_user(*, user: User, booking_id: int) -> Booking:
    """The booking if `user` may see it; `NotFound` otherwise (also when it exists but is someone else's)."""
    qs = Booking.objects.select_related("staff", "service", "customer", "business").filter(pk=booking_id)
    visible = _visible_to(user)
    if visible is not None:
        qs = qs.filter(visible)
    booking = qs.first()
    if booking is None:
        raise NotFound()
    return booking


def booking_is_run_by(*, booking: Booking, user: User) -> bool:
    """Whether `user` acts for the business on this booking: a platform operator, an owner or manager of its
    business, or the staff member it is with."""
    return user_manages(user, booking.business_id) or booking.staff.user_id == user.pk
