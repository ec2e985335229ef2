"""The booking service follows seasonal hours (apps.catalog.seasons): inside a season a time of the usual hours is
refused and a seasonal one booked; after it, the other way round. Time is pinned; dates come from its today."""

from __future__ import annotations

from datetime import datetime, time, timedelta

import pytest
import time_machine

from apps.bookings.errors import SlotUnavailable
from apps.bookings.models import Booking
from apps.bookings.services import booking_create
from apps.catalog import seasons
from apps.catalog.tests.fixtures import RIYADH

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 12, 6, 8, 0, tzinfo=RIYADH)  # a Sunday morning
SEASON_DAY = NOW.date() + timedelta(days=7)
AFTER = SEASON_DAY + timedelta(days=1)


@pytest.fixture(autouse=True)
def _pinned():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def season(business, staff):
    """One day of evening hours (20:00-23:00) instead of the salon's 09:00-17:00."""
    return seasons.season_save(
        business=business,
        fields={"name_en": "Evening", "name_ar": "مساء", "start_date": SEASON_DAY, "end_date": SEASON_DAY},
        hours=[seasons.SeasonSpan(day, time(20), time(23)) for day in range(7)],
    )


def _at(day, hhmm: str) -> datetime:
    return datetime.combine(day, time.fromisoformat(hhmm), tzinfo=RIYADH)


def test_a_usual_time_inside_the_season_is_refused(season, staff, service, customer):
    with pytest.raises(SlotUnavailable):
        booking_create(customer=customer, staff_id=staff.pk, service=service, start=_at(SEASON_DAY, "10:00"))
    booking = booking_create(customer=customer, staff_id=staff.pk, service=service, start=_at(SEASON_DAY, "21:00"))
    assert booking.start == _at(SEASON_DAY, "21:00")


def test_a_seasonal_time_after_the_season_is_refused(season, staff, service, customer):
    with pytest.raises(SlotUnavailable):
        booking_create(customer=customer, staff_id=staff.pk, service=service, start=_at(AFTER, "21:00"))
    booking_create(customer=customer, staff_id=staff.pk, service=service, start=_at(AFTER, "10:00"))
    assert Booking.objects.count() == 1


def test_deleting_the_season_brings_the_usual_hours_back(season, business, staff, service, customer):
    seasons.season_delete(business=business, season=season)
    booking_create(customer=customer, staff_id=staff.pk, service=service, start=_at(SEASON_DAY, "10:00"))
    with pytest.raises(SlotUnavailable):
        booking_create(customer=customer, staff_id=staff.pk, service=service, start=_at(SEASON_DAY, "21:00"))
