"""Seasons from several connections at once: real threads on PostgreSQL. Overlapping seasons racing each other
give exactly one season (the business row is locked first), through the API's service and through the admin, and a booking racing a season is decided against
either the old hours or the new ones (the staff row lock), never both."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import date, datetime, time, timedelta

import pytest
import time_machine
from django.db import transaction
from django.test import Client

from apps.accounts.tests.factories import UserFactory
from apps.catalog import seasons
from apps.catalog.models import Season, SeasonalHours, Staff
from apps.catalog.tests.factories import BusinessFactory, StaffFactory
from apps.catalog.tests.fixtures import RIYADH
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


def test_overlapping_seasons_saved_from_two_admin_pages_at_once_give_one():
    business = BusinessFactory.create()
    StaffFactory.create(business=business)
    operator = UserFactory.create(is_staff=True, is_superuser=True)
    n = 4

    def page(i: int) -> Callable[[], int]:
        first = TODAY + timedelta(days=10 + i)  # every range shares days with every other
        form = {
            "business": business.pk,
            "name_en": f"Season {i}",
            "name_ar": "",
            "start_date": str(first),
            "end_date": str(first + timedelta(days=10)),
            "hours-TOTAL_FORMS": 0,
            "hours-INITIAL_FORMS": 0,
        }

        def post() -> int:
            client = Client()
            client.force_login(operator)
            return client.post("/admin/catalog/season/add/", form).status_code

        return post

    with time_machine.travel(datetime(2026, 12, 4, 9, 0, tzinfo=RIYADH), tick=True):
        statuses = run_each([page(i) for i in range(n)])
    assert sorted(statuses) == [200] * (n - 1) + [302], statuses  # one saved; the others get the form with the error
    with platform():
        assert Season.objects.filter(business=business).count() == 1


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
