"""Seasons from several connections at once: real threads on PostgreSQL. Overlapping seasons racing each other
give exactly one season (the business row is locked first), and a booking racing a season is decided against
either the old hours or the new ones (the staff row lock), never both."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import date, time, timedelta

import pytest
from django.db import transaction

from apps.catalog import seasons
from apps.catalog.models import Season, SeasonalHours, Staff
from apps.catalog.tests.factories import BusinessFactory, StaffFactory
from apps.core.scoping import platform
from apps.core.testing import run_each

pytestmark = pytest.mark.django_db(transaction=True)

TODAY = date(2026, 12, 4)


def test_overlapping_seasons_made_at_once_give_one():
    business = BusinessFactory.create()
    StaffFactory.create(business=business)
    n = 6

    def make(i: int) -> Callable[[], Season]:
        first = TODAY + timedelta(days=10 + i)  # every range shares the days 15..20 with every other
        return lambda: seasons.season_save(
            business=business,
            fields={"name_en": f"Season {i}", "start_date": first, "end_date": first + timedelta(days=10)},
            hours=[seasons.SeasonSpan(0, time(20), time(23))],
            today=TODAY,
        )

    results = run_each([make(i) for i in range(n)])
    made = [r for r in results if isinstance(r, Season)]
    refused = [r for r in results if isinstance(r, seasons.SeasonOverlaps)]
    assert (len(made), len(refused)) == (1, n - 1), results
    with platform():
        assert Season.objects.filter(business=business).count() == 1
        assert SeasonalHours.objects.filter(business=business).count() == 1  # nothing half-written


def test_a_season_waits_for_the_staff_lock_a_booking_holds():
    """The season takes the staff row lock bookings take: while a transaction holds it, the season waits (without
    the lock it would be made within the second the holder waits)."""
    business = BusinessFactory.create()
    staff = StaffFactory.create(business=business)
    locked, release = threading.Event(), threading.Event()
    order: list[str] = []

    def booking_like() -> None:
        with transaction.atomic():
            Staff.objects.select_for_update(no_key=True).get(pk=staff.pk)
            locked.set()
            release.wait(timeout=30)
            order.append("booking")

    def season() -> Season:
        locked.wait(timeout=30)
        timer = threading.Timer(1.0, release.set)
        timer.start()
        made = seasons.season_save(
            business=business,
            fields={"name_en": "S", "start_date": TODAY, "end_date": TODAY},
            hours=[],
            today=TODAY,
        )
        order.append("season")
        return made

    results = run_each([booking_like, season])
    assert isinstance(results[1], Season), results
    assert order == ["booking", "season"]
