"""Catalog fixtures: the salon (`apps.catalog.tests.fixtures`: one business in Asia/Riyadh, a 30-minute haircut)
with its staff member working 09:00-12:00 and 13:00-17:00 every day but Friday, a fixed `NOW`, and `busy`, a stand-in for bookings in `catalog.busy.booked_time`."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.db import connection

from apps.catalog.availability import Interval
from apps.catalog.busy import booked_time
from apps.catalog.models import Staff, WorkingHours

RIYADH = ZoneInfo("Asia/Riyadh")
DAY = date(2026, 12, 1)  # a Tuesday
FRIDAY = date(2026, 12, 4)
NOW = datetime(2026, 11, 30, 8, 0, tzinfo=RIYADH)  # the morning before DAY


def at(hhmm: str, day: date = DAY) -> datetime:
    """`at("10:00")`: that wall-clock time in Riyadh on `day` (DAY by default)."""
    hours, minutes = map(int, hhmm.split(":"))
    return datetime.combine(day, time(hours, minutes), tzinfo=RIYADH)


def starts(slots: Sequence[Interval]) -> list[str]:
    """Slot starts as local "HH:MM" (all on one day)."""
    return [s.start.astimezone(RIYADH).strftime("%H:%M") for s in slots]


def give_hours(staff: Staff, *hours: tuple[str, str], weekdays: Sequence[int] = (0, 1, 2, 3, 5, 6)) -> None:
    WorkingHours.objects.bulk_create(
        WorkingHours(
            business_id=staff.business_id,
            staff=staff,
            weekday=weekday,
            start_time=time.fromisoformat(a),
            end_time=time.fromisoformat(b),
        )
        for weekday in weekdays
        for a, b in hours
    )


def nothing_booked(
    *, staff_ids: Sequence[int], start: datetime, end: datetime, exclude_booking_id: int | None = None
) -> dict[int, list[Interval]]:
    """A busy source under which no time is booked, at no query."""
    return {}


@pytest.fixture(autouse=True)
def _nothing_booked() -> Iterator[None]:
    """Catalog tests never see another app's busy source; those that need bookings use `busy`."""
    with booked_time.override(nothing_booked):
        yield


@pytest.fixture
def staff_details() -> dict[str, Any]:
    """The salon's staff member (`apps.catalog.tests.fixtures`) is Sara, working 09:00-12:00 and 13:00-17:00 every
    day but Friday."""
    return {
        "display_name": "Sara",
        "hours": [(time(9), time(12)), (time(13), time(17))],
        "hours__weekdays": (0, 1, 2, 3, 5, 6),
    }


class BusyTable:
    """Busy intervals in a temporary table, served by a busy source that reads them in one query, like the
    bookings app's. `add` returns the row id, usable as `exclude_booking_id`."""

    def add(self, staff: Staff, start: datetime, end: datetime) -> int:
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO test_busy (staff_id, busy_start, busy_end) VALUES (%s, %s, %s) RETURNING id",
                [staff.pk, start, end],
            )
            return cursor.fetchone()[0]

    def add_many(self, staff: Staff, *, first: datetime, count: int, every: timedelta, length: timedelta) -> None:
        with connection.cursor() as cursor:
            cursor.executemany(
                "INSERT INTO test_busy (staff_id, busy_start, busy_end) VALUES (%s, %s, %s)",
                [(staff.pk, first + i * every, first + i * every + length) for i in range(count)],
            )

    @staticmethod
    def source(
        *, staff_ids: Sequence[int], start: datetime, end: datetime, exclude_booking_id: int | None = None
    ) -> dict[int, list[Interval]]:
        out: dict[int, list[Interval]] = {}
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT staff_id, busy_start, busy_end FROM test_busy WHERE staff_id = ANY(%s) AND busy_start < %s "
                "AND busy_end > %s AND id IS DISTINCT FROM %s ORDER BY staff_id, busy_start",
                [list(staff_ids), end, start, exclude_booking_id],
            )
            for staff_id, busy_start, busy_end in cursor.fetchall():
                out.setdefault(staff_id, []).append(Interval(busy_start, busy_end))
        return out


@pytest.fixture
def busy(db) -> Iterator[BusyTable]:
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMPORARY TABLE test_busy (id bigserial PRIMARY KEY, staff_id bigint NOT NULL, "
            "busy_start timestamptz NOT NULL, busy_end timestamptz NOT NULL)"
        )
    table = BusyTable()
    with booked_time.override(table.source):
        yield table
