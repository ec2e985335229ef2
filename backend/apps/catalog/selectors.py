"""Reads for the catalog and for availability. Nothing here writes.

Availability is computed by the pure engine in `apps.catalog.availability`; the selectors below only load what
it needs, in a fixed number of queries whatever the range or the number of bookings:

* `business_default()`                           1 query
* `staff_service_get_active()`                   1 query (staff + service + "offers it", on the happy path)
* `staff_schedules()`                            2 queries: weekly hours, exceptions, closures and seasons in one
                                                 UNION ALL, plus the time bookings hold (`catalog.busy`)

so one staff member's availability costs 4 queries, and so does "any staff member" (the service query also
brings the ids of the staff who offer it). Times are stored in UTC and computed in the business time zone.

Staff loaded by `staff_get_active` / `staff_list` carry `service_ids` (their active services, in display
order) and services loaded by `service_get_active` / `service_list` carry `staff_ids` (the active staff who
offer them); `staff_offers_service` answers from those without a query.

CPU matters as much as queries here: a request has ~10 ms, and compiling a complex ORM query costs ~1 ms.
Hence the raw UNION in `staff_schedules` and no subquery in `staff_service_get_active`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

from django.contrib.postgres.expressions import ArraySubquery
from django.db import connection
from django.db.models import Exists, OuterRef, QuerySet
from django.db.models.expressions import RawSQL
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from apps.catalog.availability import (
    Interval,
    SeasonalWeek,
    SlotRules,
    StaffSchedule,
    WeeklyHours,
    clip_range,
    compute_slots,
    compute_slots_many,
    is_bookable,
    merge_any_staff,
)
from apps.catalog.busy import BusySource, busy_intervals
from apps.catalog.errors import (
    BusinessMissing,
    BusinessRequired,
    InvalidDateRange,
    ServiceMissing,
    ServiceNotOffered,
    StaffMissing,
)
from apps.catalog.holidays import Holiday, saudi_holidays
from apps.catalog.models import (
    Branch,
    Business,
    Closure,
    Membership,
    ScheduleException,
    Season,
    SeasonalHours,
    Service,
    Staff,
    WorkingHours,
    price_problem,
)
from apps.core import vat
from apps.core.errors import NotFound
from apps.core.scoping import platform

# Public lists are plain JSON arrays (the catalog of one business is small) but never unbounded.
LIST_LIMIT = 500

_DAY = timedelta(days=1)
# Dates outside this range are refused before any date arithmetic can overflow.
_FIRST_DAY = date(1970, 1, 1)
_LAST_DAY = date(9000, 12, 31)
# Data is loaded this much beyond the reach of a service (duration and buffers) around the requested dates.
_MARGIN = timedelta(days=1)

_Staffing = Staff.services.through  # the staff <-> service link table


# --- catalog ----------------------------------------------------------------------------------------------


def business_default() -> Business | None:
    """The business the single-business paths (`/api/v1/services`, `/staff`, `/availability`) answer for: the
    only active business of this deployment; None when there are none or several (those paths then need the
    business: `/api/v1/businesses/SLUG/...`)."""
    found = list(Business.objects.filter(is_active=True).order_by("pk")[:2])
    return found[0] if len(found) == 1 else None


def business_for_legacy_lists() -> Business | None:
    """The business the single-business list paths (`/api/v1/services`, `/api/v1/staff`) answer for: the only
    active one; None when there is none (the lists are empty). With several, `BusinessRequired` (404
    `business_required`): those paths then need it named, `/api/v1/businesses/SLUG/services` and `/staff`.
    Paths that name a service or a staff member by id keep answering by id. One query."""
    found = list(Business.objects.filter(is_active=True).order_by("pk")[:2])
    if len(found) > 1:
        raise BusinessRequired()
    return found[0] if found else None


def _only_active_business() -> RawSQL:
    """SQL for the id of the only active business; NULL when there are none or several."""
    table = Business._meta.db_table
    return RawSQL(  # noqa: S611 - the model's table name only, no values
        f'SELECT CASE WHEN count(*) = 1 THEN min(id) END FROM (SELECT id FROM "{table}" WHERE is_active LIMIT 2) o',  # noqa: S608
        [],
    )


def service_list_legacy() -> list[Service]:
    """`service_list()` of the only active business (`business_for_legacy_lists`): one query when it has
    services, a second one only to tell "none" from "several businesses" (`BusinessRequired`)."""
    found = list(
        _active_services().filter(business_id=_only_active_business()).order_by("display_order", "id")[:LIST_LIMIT]
    )
    if not found:
        business_for_legacy_lists()
    return found


def staff_list_legacy() -> list[Staff]:
    """`staff_list()` of the only active business, as `service_list_legacy`."""
    found = list(
        _active_staff().filter(business_id=_only_active_business()).order_by("display_order", "id")[:LIST_LIMIT]
    )
    if not found:
        business_for_legacy_lists()
    return found


def business_get_public(slug: str) -> Business:
    """The active, listed business with this slug; `NotFound` otherwise (unknown, inactive or unlisted). One
    query."""
    business = Business.objects.filter(slug=slug, is_active=True, is_listed=True).first()
    if business is None:
        raise BusinessMissing()
    return business


@dataclass(frozen=True, slots=True)
class BusinessProfile:
    business: Business
    branches: list[Branch]  # active, in display order
    services: list[Service]  # active, in display order, with `staff_ids` and `branch_ids` (empty: every branch)
    staff: list[Staff]  # active, in display order, with `service_ids`


def business_profile(slug: str) -> BusinessProfile:
    """A listed business with its active branches, services and staff (`business_get_public`): 4 queries."""
    business = business_get_public(slug)
    branches = list(Branch.objects.filter(business_id=business.pk, is_active=True).order_by("display_order", "id"))
    services: list[Service] = list(
        service_list(business_id=business.pk).annotate(
            branch_ids=ArraySubquery(
                Service.branches.through.objects.filter(service_id=OuterRef("pk"))
                .order_by("branch_id")
                .values("branch_id")
            )
        )
    )
    staff = list(staff_list(business_id=business.pk))
    for row in [*services, *staff]:
        row.business = business
    return BusinessProfile(business=business, branches=branches, services=services, staff=staff)


def business_page_profile(slug: str) -> BusinessProfile:
    """The website's business page (`/b/SLUG`): as `business_profile`, with the same rows and attributes
    (services' `staff_ids` and `branch_ids`, staff's `service_ids`, by `_offered_links`' rule), for an active
    business listed or not (an unlisted one is still reached by its link). Five plain queries, the links joined
    in Python: the array subqueries cost the page more than its rows."""
    business = Business.objects.filter(slug=slug, is_active=True).first()
    if business is None:
        raise BusinessMissing()
    order = ("display_order", "id")
    branches = list(Branch.objects.filter(business_id=business.pk, is_active=True).order_by(*order))
    services = list(Service.objects.filter(business_id=business.pk, is_active=True).order_by(*order)[:LIST_LIMIT])
    staff = list(Staff.objects.filter(business_id=business.pk, is_active=True).order_by(*order)[:LIST_LIMIT])
    where: dict[int, set[int]] = defaultdict(set)  # a service's branches; none: every branch
    for service_id, branch_id in Service.branches.through.objects.filter(service__business_id=business.pk).values_list(
        "service_id", "branch_id"
    ):
        where[service_id].add(branch_id)
    linked = set(_Staffing.objects.filter(staff__business_id=business.pk).values_list("staff_id", "service_id"))
    for service in services:
        service.business = business
        service.branch_ids = sorted(where.get(service.pk, ()))  # type: ignore[attr-defined]
        service.staff_ids = [  # type: ignore[attr-defined]
            member.pk for member in staff
            if (member.pk, service.pk) in linked and (not where.get(service.pk) or member.branch_id in where[service.pk])
        ]  # fmt: skip
    for member in staff:
        member.business = business
        member.service_ids = [  # type: ignore[attr-defined]
            service.pk
            for service in services
            if member.pk in service.staff_ids  # type: ignore[attr-defined]
        ]
    return BusinessProfile(business=business, branches=branches, services=services, staff=staff)


@cache
def givers_sql() -> str:
    """An expression: the ids of the staff who can give the service `{service}` (a column or a parameter), in
    display order, NULL for none: active, offering it, at an active branch where it is offered (a service with no
    branches chosen is offered at every branch), and at branch `%(branch)s` when that is not NULL."""
    link, staff, branch = _Staffing._meta.db_table, Staff._meta.db_table, Branch._meta.db_table
    where = Service.branches.through._meta.db_table
    return f"""(SELECT array_agg(st.id ORDER BY st.display_order, st.id)
          FROM "{link}" l
          JOIN "{staff}" st ON st.id = l.staff_id AND st.is_active
          JOIN "{branch}" br ON br.id = st.branch_id AND br.is_active
         WHERE l.service_id = {{service}} AND (%(branch)s::bigint IS NULL OR st.branch_id = %(branch)s::bigint)
           AND (NOT EXISTS (SELECT 1 FROM "{where}" sb WHERE sb.service_id = l.service_id)
                OR EXISTS (SELECT 1 FROM "{where}" sb WHERE sb.service_id = l.service_id AND sb.branch_id = st.branch_id)))
    """  # noqa: S608 - only the models' table names go into the text


def service_givers(*, service_id: int, branch_id: int | None = None) -> list[int]:
    """The staff who can give this service (at this branch): see `givers_sql`. One query."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT " + givers_sql().format(service="%(service)s"), {"service": service_id, "branch": branch_id}
        )
        row = cursor.fetchone()
    return list(row[0] or []) if row else []


def _offered_links() -> QuerySet[Any]:
    """Staff-service links where the service is offered at the staff member's branch: a service limited to some
    branches (`Service.branches`) is not the staff member's at any other (docs/risks.md R56)."""
    limits = Service.branches.through.objects.filter(service_id=OuterRef("service_id"))
    return _Staffing.objects.filter(~Exists(limits) | Exists(limits.filter(branch_id=OuterRef("staff__branch_id"))))


def _service_ids_of(staff_ref: OuterRef) -> ArraySubquery:
    """The ids of the active services a staff member offers, in display order."""
    return ArraySubquery(
        _offered_links()
        .filter(staff_id=staff_ref, service__is_active=True)
        .order_by("service__display_order", "service_id")
        .values("service_id")
    )


def _staff_ids_of(service_ref: OuterRef) -> ArraySubquery:
    """The ids of the active staff who offer a service, in display order."""
    return ArraySubquery(
        _offered_links()
        .filter(service_id=service_ref, staff__is_active=True)
        .order_by("staff__display_order", "staff_id")
        .values("staff_id")
    )


def _active_services() -> QuerySet[Service]:
    return (
        Service.objects.filter(is_active=True)
        .select_related("business")
        .annotate(staff_ids=_staff_ids_of(OuterRef("pk")))
    )


def _active_staff() -> QuerySet[Staff]:
    return (
        Staff.objects.filter(is_active=True)
        .select_related("business")
        .annotate(service_ids=_service_ids_of(OuterRef("pk")))
    )


def service_list(*, business_id: int | None = None) -> QuerySet[Service]:
    """Active services in display order (at most `LIST_LIMIT`), each with `staff_ids`; a business's only when
    `business_id` is given. One query."""
    qs = _active_services()
    if business_id is not None:
        qs = qs.filter(business_id=business_id)
    return qs.order_by("display_order", "id")[:LIST_LIMIT]


def service_get_active(service_id: int, *, business_id: int | None = None) -> Service:
    """The active service with `staff_ids`; `NotFound` when unknown or inactive (or another business's, when
    `business_id` is given). One query."""
    qs = _active_services().filter(pk=service_id)
    if business_id is not None:
        qs = qs.filter(business_id=business_id)
    service = qs.first()
    if service is None:
        raise ServiceMissing()
    return service


def staff_list(*, service_id: int | None = None, business_id: int | None = None) -> QuerySet[Staff]:
    """Active staff in display order (at most `LIST_LIMIT`), each with `service_ids`. One query.

    With `service_id`, only those who offer that service (none when it is unknown or inactive); with
    `business_id`, only that business's.
    """
    qs = _active_staff()
    if business_id is not None:
        qs = qs.filter(business_id=business_id)
    if service_id is not None:
        qs = qs.filter(
            Exists(_offered_links().filter(staff_id=OuterRef("pk"), service_id=service_id, service__is_active=True))
        )
    return qs.order_by("display_order", "id")[:LIST_LIMIT]


def staff_get_active(staff_id: int) -> Staff:
    """The active staff member with `service_ids`; `NotFound` when unknown or inactive. One query."""
    staff = _active_staff().filter(pk=staff_id).first()
    if staff is None:
        raise StaffMissing()
    return staff


def staff_offers_service(staff: Staff, service: Service) -> bool:
    """Whether the staff member offers this (active) service.

    No query for staff loaded by these selectors (`service_ids`, or what `staff_service_get_active` found);
    otherwise one, remembered on the instance for the rest of the request.
    """
    if not service.is_active:
        return False
    service_ids = getattr(staff, "service_ids", None)
    if service_ids is not None:
        return service.pk in service_ids
    known: dict[int, bool] = staff.__dict__.setdefault("_offers_service", {})
    if service.pk not in known:
        known[service.pk] = _offered_links().filter(staff_id=staff.pk, service_id=service.pk).exists()
    return known[service.pk]


def staff_service_get_active(*, staff_id: int, service_id: int) -> tuple[Staff, Service]:
    """The active staff member and the active service they offer, in one query.

    When that query finds nothing, tells why: `StaffMissing` / `ServiceMissing` (404 `not_found`) for an
    unknown or inactive staff member or service, else `ServiceNotOffered`.
    """
    link = (
        _Staffing.objects.filter(
            staff_id=staff_id, service_id=service_id, staff__is_active=True, service__is_active=True
        )
        .select_related("staff", "service", "service__business")
        .first()
    )
    if link is None:
        staff_get_active(staff_id)
        service_get_active(service_id)
        raise ServiceNotOffered()
    staff, service = link.staff, link.service
    staff.__dict__["_offers_service"] = {service.pk: True}  # see staff_offers_service
    return staff, service


# --- schedules --------------------------------------------------------------------------------------------


def _day_start(day: date, tz: ZoneInfo) -> datetime:
    """The first instant of a local date (zoneinfo resolves a skipped or repeated midnight with fold=0)."""
    return datetime.combine(day, time(), tzinfo=tz)


def _reach(service: Service | None) -> tuple[timedelta, timedelta]:
    """How far before the first date and after the last one a service's slots can need data."""
    if service is None:
        return _DAY + _MARGIN, _DAY + _MARGIN
    return service.buffer_before + _MARGIN, service.duration + service.buffer_after + _MARGIN


_WEEKLY, _CLOSURE, _SEASON, _SEASONAL, _SEASONAL_ALL = "weekly", "closure", "season", "seasonal", "seasonal_all"


@cache
def _schedule_sql() -> str:
    """Weekly hours, the exceptions overlapping [start, end) and the closures overlapping the local dates
    [first, last], and the seasons overlapping them with their hours, as rows
    `(kind, staff_id, weekday, from_time, to_time, from, to, first_day, last_day)`: five small tables in one round
    trip. A closure or a season is the staff member's when it is of their whole business or of their branch (a
    `season` row says the staff member is in it, even with no hours: then they are off; `seasonal` rows are their
    own hours in it, `seasonal_all` the season's general ones, given to each staff member it covers). Raw SQL on
    purpose: compiling this UNION with the ORM costs more CPU than running it."""
    hours, exceptions, closures = WorkingHours._meta.db_table, ScheduleException._meta.db_table, Closure._meta.db_table
    staff, seasons, seasonal = Staff._meta.db_table, Season._meta.db_table, SeasonalHours._meta.db_table
    # Only constants and the models' table names go into the text; every value is a query parameter.
    return f"""
        SELECT '{_WEEKLY}', staff_id, weekday, start_time, end_time,
               NULL::timestamptz, NULL::timestamptz, NULL::date, NULL::date
          FROM "{hours}" WHERE staff_id = ANY(%(staff_ids)s)
        UNION ALL
        SELECT kind, staff_id, NULL, NULL, NULL, "start", "end", NULL, NULL
          FROM "{exceptions}" WHERE staff_id = ANY(%(staff_ids)s) AND "start" < %(end)s AND "end" > %(start)s
        UNION ALL
        SELECT '{_CLOSURE}', st.id, NULL, NULL, NULL, NULL, NULL, c.start_date, c.end_date
          FROM "{closures}" c
          JOIN "{staff}" st ON st.business_id = c.business_id AND (c.branch_id IS NULL OR c.branch_id = st.branch_id)
         WHERE st.id = ANY(%(staff_ids)s) AND c.start_date <= %(last)s AND c.end_date >= %(first)s
        UNION ALL
        SELECT '{_SEASON}', st.id, NULL, NULL, NULL, NULL, NULL, s.start_date, s.end_date
          FROM "{seasons}" s
          JOIN "{staff}" st ON st.business_id = s.business_id AND (s.branch_id IS NULL OR s.branch_id = st.branch_id)
         WHERE st.id = ANY(%(staff_ids)s) AND s.start_date <= %(last)s AND s.end_date >= %(first)s
        UNION ALL
        SELECT '{_SEASONAL}', h.staff_id, h.weekday, h.start_time, h.end_time, NULL, NULL, s.start_date, s.end_date
          FROM "{seasonal}" h
          JOIN "{seasons}" s ON s.id = h.season_id
         WHERE h.staff_id = ANY(%(staff_ids)s) AND s.start_date <= %(last)s AND s.end_date >= %(first)s
        UNION ALL
        SELECT '{_SEASONAL_ALL}', st.id, h.weekday, h.start_time, h.end_time, NULL, NULL, s.start_date, s.end_date
          FROM "{seasonal}" h
          JOIN "{seasons}" s ON s.id = h.season_id
          JOIN "{staff}" st ON st.business_id = s.business_id AND (s.branch_id IS NULL OR s.branch_id = st.branch_id)
         WHERE h.staff_id IS NULL AND st.id = ANY(%(staff_ids)s)
           AND s.start_date <= %(last)s AND s.end_date >= %(first)s
    """  # noqa: S608


def _schedule_rows(
    staff_ids: list[int], start: datetime, end: datetime, first: date, last: date
) -> list[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(
            _schedule_sql(), {"staff_ids": staff_ids, "start": start, "end": end, "first": first, "last": last}
        )
        rows: list[tuple[Any, ...]] = cursor.fetchall()
        return rows


def staff_schedules(
    *,
    staff_ids: Sequence[int],
    date_from: date,
    date_to: date,
    business: Business,
    exclude_booking_id: int | None = None,
    service: Service | None = None,
    booked: BusySource | None = None,
) -> dict[int, StaffSchedule]:
    """Everything the slot engine needs about these staff members for the local dates [date_from, date_to].

    Two queries whatever the range, the number of staff or of bookings: weekly hours + exceptions + closures
    in one, and the time bookings hold (`apps.catalog.busy.busy_intervals`: the source registered by the
    bookings app, or `booked` when the caller gives its own). Data is loaded over the dates widened by the
    reach of `service` (its buffers and duration; a day each way when not given) so that a slot near either
    end sees the bookings and exceptions next to it. `exclude_booking_id` leaves one booking out (moving a
    booking must not collide with itself).
    """
    ids = sorted(set(staff_ids))
    if not ids:
        return {}
    if date_from > date_to or date_from < _FIRST_DAY or date_to > _LAST_DAY:
        raise InvalidDateRange()
    tz = business.tz
    before, after = _reach(service)
    start = _day_start(date_from, tz) - before
    end = _day_start(date_to + _DAY, tz) + after
    first_day, last_day = start.astimezone(tz).date(), end.astimezone(tz).date()

    rows = _schedule_rows(ids, start, end, first_day, last_day)
    busy = busy_intervals(staff_ids=ids, start=start, end=end, exclude_booking_id=exclude_booking_id, booked=booked)
    return _build_schedules(ids, rows, busy, tz, first_day, last_day)


def _build_schedules(
    ids: Sequence[int],
    rows: Sequence[tuple[Any, ...]],
    busy: dict[int, list[Interval]],
    tz: ZoneInfo,
    first_day: date,
    last_day: date,
) -> dict[int, StaffSchedule]:
    weekly: dict[int, list[WeeklyHours]] = defaultdict(list)
    extra: dict[int, list[Interval]] = defaultdict(list)
    time_off: dict[int, list[Interval]] = defaultdict(list)
    closures: dict[int, list[Interval]] = defaultdict(list)
    # staff id -> (first, last) of each of their seasons -> its weekly hours (rows come in any order): their own
    # when they have some in it, else the season's general ones
    seasons: dict[int, dict[tuple[date, date], list[WeeklyHours]]] = defaultdict(dict)
    seasonal: list[tuple[int, date, date, WeeklyHours]] = []
    general: list[tuple[int, date, date, WeeklyHours]] = []
    for kind, staff_id, weekday, from_time, to_time, from_, to, first, last in rows:
        if kind == _WEEKLY:
            weekly[staff_id].append(WeeklyHours(weekday, from_time, to_time))
        elif kind == _SEASON:
            seasons[staff_id][(first, last)] = []
        elif kind == _SEASONAL:
            seasonal.append((staff_id, first, last, WeeklyHours(weekday, from_time, to_time)))
        elif kind == _SEASONAL_ALL:
            general.append((staff_id, first, last, WeeklyHours(weekday, from_time, to_time)))
        elif kind == ScheduleException.Kind.TIME_OFF:
            time_off[staff_id].append(Interval(from_, to))
        elif kind == ScheduleException.Kind.EXTRA_HOURS:
            extra[staff_id].append(Interval(from_, to))
        else:  # a closure: whole local days, cut to the loaded dates so that `last + 1 day` cannot overflow
            closures[staff_id].append(
                Interval(_day_start(max(first, first_day), tz), _day_start(min(last, last_day) + _DAY, tz))
            )
    own: set[tuple[int, date, date]] = set()
    for staff_id, first, last, hours in seasonal:
        in_season = seasons[staff_id].get((first, last))
        if in_season is not None:  # None: a season of a branch the staff member has left
            in_season.append(hours)
            own.add((staff_id, first, last))
    for staff_id, first, last, hours in general:
        in_season = seasons[staff_id].get((first, last))
        if in_season is not None and (staff_id, first, last) not in own:
            in_season.append(hours)
    return {
        staff_id: StaffSchedule(
            weekly=tuple(weekly[staff_id]),
            extra=tuple(extra[staff_id]),
            time_off=tuple(time_off[staff_id]),
            closures=tuple(closures[staff_id]),
            busy=tuple(busy.get(staff_id, ())),
            seasons=tuple(SeasonalWeek(first, last, tuple(hours)) for (first, last), hours in seasons[staff_id].items())
            if staff_id in seasons
            else (),
        )
        for staff_id in ids
    }


@dataclass(frozen=True, slots=True)
class ScheduleRequest:
    """One business's share of `staff_schedules_many`: its staff, its local dates and the service they are for."""

    business: Business
    staff_ids: Sequence[int]
    date_from: date
    date_to: date
    service: Service | None = None


def staff_schedules_many(requests: Sequence[ScheduleRequest]) -> list[dict[int, StaffSchedule]]:
    """`staff_schedules` for several businesses at once (each with its own time zone, dates and service), in the
    same two queries whatever the number of businesses or staff: the rows of the union of their windows, each
    staff member's given to the business that asked for them. A staff member asked for twice gets the union
    window's rows both times (more data than needed never changes a slot: the engine cuts to its dates)."""
    spans: list[tuple[datetime, datetime, date, date]] = []
    for request in requests:
        if request.date_from > request.date_to or request.date_from < _FIRST_DAY or request.date_to > _LAST_DAY:
            raise InvalidDateRange()
        tz = request.business.tz
        before, after = _reach(request.service)
        start = _day_start(request.date_from, tz) - before
        end = _day_start(request.date_to + _DAY, tz) + after
        spans.append((start, end, start.astimezone(tz).date(), end.astimezone(tz).date()))
    ids = sorted({staff_id for request in requests for staff_id in request.staff_ids})
    if not ids:
        return [{} for _ in requests]
    start, end = min(s[0] for s in spans), max(s[1] for s in spans)
    first_day, last_day = min(s[2] for s in spans), max(s[3] for s in spans)
    rows = _schedule_rows(ids, start, end, first_day, last_day)
    busy = busy_intervals(staff_ids=ids, start=start, end=end)
    out: list[dict[int, StaffSchedule]] = []
    for request, (_start, _end, first, last) in zip(requests, spans, strict=True):
        mine = set(request.staff_ids)
        out.append(
            _build_schedules(
                sorted(mine), [row for row in rows if row[1] in mine], busy, request.business.tz, first, last
            )
        )
    return out


# --- availability -----------------------------------------------------------------------------------------


def slot_rules(*, service: Service, business: Business, now: datetime | None = None) -> SlotRules:
    return SlotRules(
        duration=service.duration,
        buffer_before=service.buffer_before,
        buffer_after=service.buffer_after,
        step=business.slot_step,
        now=now or timezone.now(),
        min_notice=business.min_notice,
        max_advance_days=business.max_advance_days,
        tz=business.tz,
    )


@dataclass(frozen=True, slots=True)
class AvailabilityResult:
    staff: Staff
    service: Service
    timezone: str
    # The dates searched: the request cut to the booking window; None when nothing of it was left.
    date_from: date | None
    date_to: date | None
    slots: list[Interval]  # in UTC, sorted by start


@dataclass(frozen=True, slots=True)
class AnyStaffSlot:
    slot: Interval
    staff_ids: list[int]  # ascending


@dataclass(frozen=True, slots=True)
class AnyStaffAvailabilityResult:
    service: Service
    timezone: str
    date: date
    staff_ids: list[int]  # everyone who offers the service, in display order
    slots: list[AnyStaffSlot]


def _ensure_active(*, staff: Staff | None = None, service: Service | None = None) -> None:
    if staff is not None and not staff.is_active:
        raise StaffMissing()
    if service is not None and not service.is_active:
        raise ServiceMissing()


def slot_list_available(
    *, staff: Staff, service: Service, date_from: date | None, date_to: date | None, now: datetime | None = None
) -> AvailabilityResult:
    """Every start time at which `service` can be booked with `staff` on the local dates [date_from, date_to].

    `date_from` defaults to today (business time zone), `date_to` to `date_from`. A reversed range is
    `InvalidDateRange`; a range beyond the booking window (today .. today + max_advance_days) is cut to it,
    which also bounds its length. 2 queries beyond the business settings (none when nothing is left).
    """
    _ensure_active(staff=staff, service=service)
    if not staff_offers_service(staff, service):
        raise ServiceNotOffered()
    business = service.business
    rules = slot_rules(service=service, business=business, now=now)
    if date_from is None:
        date_from = rules.now.astimezone(rules.tz).date()
    if date_to is None:
        date_to = date_from
    if date_from > date_to:
        raise InvalidDateRange(fields={"date_to": [str(_("The end date is before the start date."))]})
    clipped = clip_range(date_from, date_to, rules)
    if clipped is None:
        return AvailabilityResult(staff, service, business.timezone, None, None, [])
    first, last = clipped
    schedules = staff_schedules(staff_ids=[staff.pk], date_from=first, date_to=last, business=business, service=service)
    slots = compute_slots(schedules[staff.pk], rules, first, last)
    return AvailabilityResult(staff, service, business.timezone, first, last, slots)


def slot_list_any_staff(
    *, service: Service, date: date | None, now: datetime | None = None
) -> AnyStaffAvailabilityResult:
    """The slots of every active staff member who offers `service` on one local date, each with who is free.

    `date` defaults to today; a date outside the booking window has no slots. 2 queries beyond the business
    settings whatever the number of staff (none when there is nothing to compute) for a service loaded by
    `service_get_active` (which brings `staff_ids`).
    """
    staff_ids, rules, slots = _any_staff_slots(service=service, date_from=date, date_to=date, now=now)
    day = date if date is not None else rules.now.astimezone(rules.tz).date()
    return AnyStaffAvailabilityResult(service, service.business.timezone, day, staff_ids, slots)


def slot_list_any_staff_range(
    *, service: Service, date_from: date, date_to: date, now: datetime | None = None
) -> list[AnyStaffSlot]:
    """`slot_list_any_staff` over the local dates [date_from, date_to] at once (cut to the booking window): the
    same slots as asking date by date, in 2 queries whatever the number of staff and dates (the website's date
    strip marks the dates with no free time from the same computation that lists the chosen date's)."""
    return _any_staff_slots(service=service, date_from=date_from, date_to=date_to, now=now)[2]


def _any_staff_slots(
    *, service: Service, date_from: date | None, date_to: date | None, now: datetime | None
) -> tuple[list[int], SlotRules, list[AnyStaffSlot]]:
    """(the staff who offer `service`, the rules, the merged slots of [date_from, date_to]; None: today)."""
    _ensure_active(service=service)
    staff_ids = getattr(service, "staff_ids", None)
    if staff_ids is None:
        staff_ids = list(_staff_ids_for(service))
    business = service.business
    rules = slot_rules(service=service, business=business, now=now)
    today = rules.now.astimezone(rules.tz).date()
    clipped = clip_range(date_from or today, date_to or today, rules)
    if not staff_ids or clipped is None:
        return list(staff_ids), rules, []
    first, last = clipped
    schedules = staff_schedules(staff_ids=staff_ids, date_from=first, date_to=last, business=business, service=service)
    per_staff = compute_slots_many(schedules, rules, first, last)
    return list(staff_ids), rules, [AnyStaffSlot(slot, free) for slot, free in merge_any_staff(per_staff)]


def _staff_ids_for(service: Service) -> QuerySet[Any, int]:
    return (
        _offered_links()
        .filter(service_id=service.pk, staff__is_active=True)
        .order_by("staff__display_order", "staff_id")
        .values_list("staff_id", flat=True)
    )


def slot_is_bookable(
    *,
    staff: Staff,
    service: Service,
    start: datetime,
    now: datetime | None = None,
    exclude_booking_id: int | None = None,
    business: Business | None = None,
    booked: BusySource | None = None,
) -> bool:
    """Whether a booking of `service` with `staff` at `start` would be accepted now: exactly the starts that
    `slot_list_available` lists for that local date (same loader, same engine), so the two never disagree.

    False for an inactive staff member or service, or a service the staff member does not offer.
    `exclude_booking_id`: the booking being moved, whose own time does not count as busy. `business`: the
    settings when the caller has loaded them already (one query less). `booked`: the source of the time
    bookings hold, when the caller owns it (the bookings services pass their own selector, so the answer does
    not depend on what is registered in `apps.catalog.busy.booked_time`).
    """
    if start.utcoffset() is None:
        raise ValueError("slot_is_bookable needs an aware start")
    if not (staff.is_active and service.is_active and staff_offers_service(staff, service)):
        return False
    business = business or service.business
    rules = slot_rules(service=service, business=business, now=now)
    day = start.astimezone(rules.tz).date()
    if clip_range(day, day, rules) is None:
        return False
    schedule = staff_schedules(
        staff_ids=[staff.pk],
        date_from=day,
        date_to=day,
        business=business,
        exclude_booking_id=exclude_booking_id,
        service=service,
        booked=booked,
    )[staff.pk]
    return is_bookable(schedule, rules, start)


# --- who runs which business --------------------------------------------------------------------------------


def business_ids_run_by(user: Any, *, managers_only: bool = True) -> list[int]:
    """The businesses `user` manages (owner or manager; with `managers_only=False` also where they are staff).
    One query for both answers, remembered on the user object for the rest of the request. Platform code: reads
    across businesses."""
    if user is None or not getattr(user, "is_authenticated", False):
        return []
    memberships: list[tuple[int, str]] | None = user.__dict__.get("_active_memberships")
    if memberships is None:
        with platform():
            memberships = list(
                Membership.objects.filter(user_id=user.pk, business__is_active=True)
                .order_by("business_id")
                .values_list("business_id", "role")
            )
        user.__dict__["_active_memberships"] = memberships
    managing = (Membership.Role.OWNER, Membership.Role.MANAGER)
    return [business_id for business_id, role in memberships if not managers_only or role in managing]


def user_manages(user: Any, business_id: int) -> bool:
    """Whether `user` is a platform operator (superuser) or an owner or manager of this business."""
    return bool(getattr(user, "is_superuser", False)) or business_id in business_ids_run_by(user)


def business_tz_for(user: Any) -> ZoneInfo:
    """The time zone the admin shows `user` times in: their (first) business's; the deployment's otherwise."""
    ids = business_ids_run_by(user, managers_only=False)
    business = Business.objects.filter(pk=ids[0]).first() if ids else business_default()
    return business.tz if business is not None else ZoneInfo(str(timezone.get_default_timezone()))


# --- the manager API ----------------------------------------------------------------------------------------

# The role a platform operator (superuser) acts with at any business.
OPERATOR = "operator"


def business_role_get(*, user: Any, slug: str) -> tuple[Business, str]:
    """The active business at `slug` and `user`'s role there (`Membership.Role`, or `OPERATOR` for a superuser).
    `NotFound` (404) when the business is unknown or inactive or `user` has no membership of it: someone else's
    business looks exactly like one that does not exist. Platform code (one query)."""
    if user is None or not getattr(user, "is_authenticated", False):
        raise NotFound()
    with platform():
        if getattr(user, "is_superuser", False):
            business = Business.objects.filter(slug=slug, is_active=True).first()
            if business is None:
                raise NotFound()
            return business, OPERATOR
        membership = (
            Membership.objects.select_related("business")
            .filter(user_id=user.pk, business__slug=slug, business__is_active=True)
            .first()
        )
    if membership is None:
        raise NotFound()
    return membership.business, membership.role


def staff_get_for_user(user: Any) -> Staff:
    """`user`'s own staff profile (with its business), at an active business; `NotFound` when they have none.
    Platform code (one query)."""
    with platform():
        staff = (
            Staff.objects.select_related("business", "branch")
            .filter(user_id=int(getattr(user, "pk", 0) or 0), business__is_active=True)
            .first()
        )
    if staff is None:
        raise NotFound()
    return staff


# --- VAT ------------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class UnreachablePrice:
    """A service price of a VAT-registered business that no invoice can total (set before it registered, or before
    a change of rate): it is charged as `charged` (`core.vat.split_gross(price).gross`, a halala off)."""

    service_id: int
    name: str
    price_amount: int
    charged_amount: int
    lower: int
    upper: int


def tax_profile_missing(business: Business) -> bool:
    """A VAT-registered business without a tax profile (apps.invoicing, above this app: read through the reverse
    relation, never imported). Its invoices are still issued, without the seller's address (docs/risks.md R66)."""
    if not business.is_vat_registered:
        return False
    return not hasattr(business, "tax_profile")


def vat_unreachable_prices(business: Business) -> list[UnreachablePrice]:
    """The business's active services whose price no invoice can total (none when it is not VAT-registered)."""
    if not business.is_vat_registered:
        return []
    rate = business.vat_rate_bps()
    found = []
    for service in Service.objects.filter(business_id=business.pk, is_active=True).order_by("display_order", "id"):
        problem = price_problem(business, service.price_amount)
        if problem is not None:
            found.append(
                UnreachablePrice(
                    service_id=service.pk,
                    name=service.name,
                    price_amount=service.price_amount,
                    charged_amount=vat.split_gross(service.price_amount, rate).gross,
                    lower=problem.lower,
                    upper=problem.upper,
                )
            )
    return found


# --- public holidays ----------------------------------------------------------------------------------------


def _covered(holiday: Holiday, closures: Sequence[tuple[date, date]]) -> bool:
    return any(start <= holiday.end_date and end >= holiday.start_date for start, end in closures)


def holiday_suggestions(*, business: Business, today: date | None = None) -> list[Holiday]:
    """The coming year's Saudi public holidays (`catalog.holidays`) the business has not accepted yet: those no
    closure of the whole business touches (an accepted one stays accepted when the business edits its dates).
    `today` is the business's local date by default."""
    today = today or timezone.now().astimezone(business.tz).date()
    holidays = saudi_holidays(today)
    if not holidays:
        return []
    closures = list(
        Closure.objects.filter(
            business_id=business.pk,
            branch__isnull=True,
            end_date__gte=holidays[0].start_date,
            start_date__lte=holidays[-1].end_date,
        ).values_list("start_date", "end_date")
    )
    return [h for h in holidays if not _covered(h, closures)]
