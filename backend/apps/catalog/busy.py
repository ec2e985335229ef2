"""Where availability learns which time is already taken, without catalog importing bookings.

The bookings app registers its selector in its `AppConfig.ready()`:

    register_busy_source(booking_busy_intervals)

A source is called as `fn(*, staff_ids, start, end, exclude_booking_id=None)` and returns, per staff id, the
intervals overlapping `[start, end)` that hold that staff member's time, ALREADY WIDENED by each booking's own
buffers (staff ids with nothing busy may be missing). It must cost exactly one query. While nothing is
registered (or for an empty list of staff) there is nothing busy and no query at all.

A month of one busy staff member is a thousand rows or more, and psycopg parses a text `timestamptz` at about
5 µs a value, which alone would cost ~10 ms. A source can select `EpochMicroseconds("busy_start")` (a bigint,
~20 times cheaper to load) and build its answer with `busy_from_rows`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Protocol

from django.db.models import BigIntegerField, Func

from apps.catalog.availability import Interval

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class BusySource(Protocol):
    def __call__(
        self, *, staff_ids: Sequence[int], start: datetime, end: datetime, exclude_booking_id: int | None = None
    ) -> dict[int, list[Interval]]: ...


_source: BusySource | None = None


def register_busy_source(fn: BusySource | None) -> BusySource | None:
    """Register (or, with None, remove) the busy source. The last registration wins; returns `fn`."""
    global _source
    _source = fn
    return fn


def busy_source() -> BusySource | None:
    return _source


@contextmanager
def use_busy_source(fn: BusySource | None) -> Iterator[None]:
    """Swap the source for a block (tests, the benchmark), then put the previous one back."""
    previous = _source
    register_busy_source(fn)
    try:
        yield
    finally:
        register_busy_source(previous)


def busy_intervals(
    *, staff_ids: Sequence[int], start: datetime, end: datetime, exclude_booking_id: int | None = None
) -> dict[int, list[Interval]]:
    """Per staff id, the widened intervals holding their time that overlap `[start, end)` (one query, or none)."""
    source = _source
    if source is None or not staff_ids or not start < end:
        return {}
    return source(staff_ids=list(staff_ids), start=start, end=end, exclude_booking_id=exclude_booking_id)


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
