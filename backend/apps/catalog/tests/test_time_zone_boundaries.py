"""Closures are whole days of the business's calendar (Asia/Riyadh, UTC+3), not of UTC: a closed day starts at
local midnight (21:00 UTC the evening before) and ends at the next local midnight. Working hours just after
midnight and just before it tell the two apart; loading the schedules in UTC would get both ends wrong."""

from __future__ import annotations

from datetime import timedelta

import pytest

from apps.catalog import selectors
from apps.catalog.tests.conftest import DAY, NOW, at, give_hours, starts
from apps.catalog.tests.factories import ClosureFactory, StaffFactory

pytestmark = pytest.mark.django_db

NIGHT = ["00:00", "00:30", "01:00", "01:30"]  # 00:00-02:00 on a 30-minute step
LATE = ["22:00", "22:30", "23:00"]  # 22:00-23:30


@pytest.fixture
def night_owl(service, business):
    business.slot_step_minutes = 30
    business.save()
    member = StaffFactory(services=[service], hours=[])
    give_hours(member, ("00:00", "02:00"), ("22:00", "23:30"))  # every day but Friday; DAY is a Tuesday
    return member


def local_starts(staff, service, day):
    result = selectors.slot_list_available(staff=staff, service=service, date_from=day, date_to=day, now=NOW)
    return starts(result.slots)


def test_a_closure_covers_its_local_day_from_local_midnight_to_local_midnight(night_owl, service):
    ClosureFactory(name="National Day", start_date=DAY, end_date=DAY)

    # In UTC the closure would run from 03:00 local on DAY to 03:00 local the day after: DAY's first hours would
    # stay open and the next day's would close.
    assert local_starts(night_owl, service, DAY) == []
    assert local_starts(night_owl, service, DAY - timedelta(days=1)) == LATE  # its night: before NOW + notice
    assert local_starts(night_owl, service, DAY + timedelta(days=1)) == NIGHT + LATE


def test_the_schedule_of_a_closed_day_holds_the_local_day(night_owl, business):
    ClosureFactory(name="National Day", start_date=DAY, end_date=DAY)

    schedule = selectors.staff_schedules(staff_ids=[night_owl.pk], date_from=DAY, date_to=DAY, business=business)[
        night_owl.pk
    ]

    assert [(c.start, c.end) for c in schedule.closures] == [(at("00:00"), at("00:00", DAY + timedelta(days=1)))]


def test_slot_is_bookable_agrees_at_both_ends_of_a_closed_day(night_owl, service):
    ClosureFactory(name="National Day", start_date=DAY, end_date=DAY)

    def bookable(hhmm, day):
        return selectors.slot_is_bookable(staff=night_owl, service=service, start=at(hhmm, day), now=NOW)

    assert not bookable("00:00", DAY)
    assert not bookable("23:00", DAY)
    assert bookable("00:00", DAY + timedelta(days=1))
    assert bookable("23:00", DAY - timedelta(days=1))
