"""Where availability learns which time is already taken, without catalog importing bookings.

Two registries (`apps.core.registry`):

* `booked_time`, a `Slot`: the time bookings hold. The bookings app fills it in `BookingsConfig.ready()` with
  `booking_busy_intervals`. It is required: reading busy time while it is empty raises `NothingRegistered`, it
  never answers "nothing is busy".
* `extra_busy`, `Hooks`: busy time from anywhere else (nothing in production today). It is only ever ADDED to
  the booked time, never used instead of it.

`busy_intervals()` asks the booked-time source, then each extra one. A caller that owns the bookings passes its
own source as `booked=`: the bookings services deciding a new time under the staff lock do, so what a test or a
tool puts in `booked_time` plays no part in the double-booking guarantee, and the engine still runs one query.

A source is called as `fn(*, staff_ids, start, end, exclude_booking_id=None)` and returns, per staff id, the
intervals overlapping `[start, end)` that hold that staff member's time, ALREADY WIDENED by each booking's own
buffers (staff ids with nothing busy may be missing). It must cost one query at most. For an empty list of staff
(or an empty window) no source is asked.

A month of one busy staff member is a thousand rows or more, and psycopg parses a text `timestamptz` at about
5 µs a value, which alone would cost ~10 ms. A source can select `EpochMicroseconds("busy_start")` (a bigint,
~20 times cheaper to load) and build its answer with `busy_from_rows`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from operator import attrgetter
from typing import Protocol

from django.db.models import BigIntegerField, Func

from apps.catalog.availability import Interval
from apps.core.registry import Hooks, Slot

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_BY_START = attrgetter("start")


class BusySource(Protocol):
    def __call__(
        self, *, staff_ids: Sequence[int], start: datetime, end: datetime, exclude_booking_id: int | None = None
    ) -> dict[int, list[Interval]]: ...


booked_time: Slot[BusySource] = Slot(
    "catalog.busy.booked_time", filled_by="BookingsConfig.ready() fills it: is apps.bookings installed?"
)
extra_busy: Hooks[BusySource] = Hooks("catalog.busy.extra_busy")


def busy_intervals(
    *,
    staff_ids: Sequence[int],
    start: datetime,
    end: datetime,
    exclude_booking_id: int | None = None,
    booked: BusySource | None = None,
) -> dict[int, list[Interval]]:
    """Per staff id, the widened intervals holding their time that overlap `[start, end)`.

    The time bookings hold comes from `booked` when given, else from the `booked_time` slot (required); every
    `extra_busy` source adds to it (the lists are then sorted by start). One query per source, so one in
    production; none for no staff.
    """
    if not staff_ids or not start < end:
        return {}
    ids = list(staff_ids)
    sources = (booked if booked is not None else booked_time.get(), *extra_busy.all())
    if len(sources) == 1:
        return sources[0](staff_ids=ids, start=start, end=end, exclude_booking_id=exclude_booking_id)
    out: dict[int, list[Interval]] = {}
    for source in sources:
        for staff_id, intervals in source(
            staff_ids=ids, start=start, end=end, exclude_booking_id=exclude_booking_id
        ).items():
            out.setdefault(staff_id, []).extend(intervals)
    for intervals in out.values():
        intervals.sort(key=_BY_START)
    return out


class EpochMicroseconds(Func):
    """A `timestamptz` column as integer microseconds since the Unix epoch (exact: EXTRACT gives a numeric)."""

    template = "(EXTRACT(EPOCH FROM %(expressions)s) * 1000000)::bigint"
    output_field = BigIntegerField()


def busy_from_rows(rows: Iterable[tuple[int, int, int]]) -> dict[int, list[Interval]]:
    """`(staff_id, start, end)` rows, the instants in epoch microseconds -> intervals (UTC) per staff id."""
    out: dict[int, list[Interval]] = {}
    for staff_id, start, end in rows:
        interval = Interval(_EPOCH + timedelta(microseconds=start), _EPOCH + timedelta(microseconds=end))
        out.setdefault(staff_id, []).append(interval)
    return out
