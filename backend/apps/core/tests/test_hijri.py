"""The Hijri helper at month edges, against the Umm al-Qura tables (hijridate's, the published calendar)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from apps.core.hijri import HijriDate, hijri_of, month_length, ramadan_range, to_gregorian

RIYADH = ZoneInfo("Asia/Riyadh")


@pytest.mark.parametrize(
    ("gregorian", "hijri"),
    [
        # Ramadan 1447: 30 days, 18 February - 19 March 2026
        (date(2026, 2, 17), (1447, 8, 29)),
        (date(2026, 2, 18), (1447, 9, 1)),
        (date(2026, 3, 19), (1447, 9, 30)),
        (date(2026, 3, 20), (1447, 10, 1)),
        # Dhu al-Hijjah 1447 ends on its 29th, and the Hijri year with it
        (date(2026, 5, 18), (1447, 12, 1)),
        (date(2026, 6, 15), (1447, 12, 29)),
        (date(2026, 6, 16), (1448, 1, 1)),
        # the Gregorian year boundary falls inside Rajab 1448
        (date(2026, 12, 31), (1448, 7, 22)),
        (date(2027, 1, 1), (1448, 7, 23)),
        # Ramadan 1448: 29 days, 8 February - 8 March 2027
        (date(2027, 2, 7), (1448, 8, 30)),
        (date(2027, 2, 8), (1448, 9, 1)),
        (date(2027, 3, 8), (1448, 9, 29)),
        (date(2027, 3, 9), (1448, 10, 1)),
    ],
)
def test_month_edges_both_ways(gregorian: date, hijri: tuple[int, int, int]) -> None:
    assert hijri_of(gregorian) == HijriDate(*hijri)
    assert to_gregorian(*hijri) == gregorian


def test_month_lengths_at_those_edges() -> None:
    assert month_length(1447, 9) == 30
    assert month_length(1447, 12) == 29
    assert month_length(1448, 9) == 29
    with pytest.raises(ValueError):
        to_gregorian(1447, 12, 30)  # Dhu al-Hijjah 1447 has no 30th


@pytest.mark.parametrize(
    ("year", "first", "last"),
    [
        (1447, date(2026, 2, 18), date(2026, 3, 19)),
        (1448, date(2027, 2, 8), date(2027, 3, 8)),
        (1449, date(2028, 1, 28), date(2028, 2, 25)),
    ],
)
def test_the_ramadan_range(year: int, first: date, last: date) -> None:
    assert ramadan_range(year) == (first, last)
    every_day = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    assert {(h.year, h.month) for h in map(hijri_of, every_day) if h} == {(year, 9)}
    assert hijri_of(first - timedelta(days=1)) == HijriDate(year, 8, month_length(year, 8))
    assert hijri_of(last + timedelta(days=1)) == HijriDate(year, 10, 1)


def test_written_out_in_arabic_and_english() -> None:
    h = hijri_of(date(2026, 12, 4))
    assert h is not None
    assert h == HijriDate(1448, 6, 24)
    assert h.full("ar") == h.ar == "24 جمادى الآخرة 1448 هـ"
    assert h.full("en") == h.en == "24 Jumada al-Akhirah 1448 AH"
    assert h.short("ar") == "24 جمادى الآخرة"
    assert h.short("en") == "24 Jumada al-Akhirah"


def test_a_moment_is_taken_to_its_day_in_the_time_zone_given() -> None:
    # 22:30 UTC on 17 February 2026 is already 18 February (1 Ramadan) in Riyadh
    moment = datetime(2026, 2, 17, 22, 30, tzinfo=UTC)
    assert hijri_of(moment) == HijriDate(1447, 8, 29)
    assert hijri_of(moment, RIYADH) == HijriDate(1447, 9, 1)


def test_outside_the_tables_there_is_no_hijri_date() -> None:
    assert hijri_of(date(1900, 1, 1)) is None
    assert hijri_of(date(2100, 1, 1)) is None
