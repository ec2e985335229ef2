"""`manage.py business_close`: a dry run changes nothing; with --confirm the business stops taking bookings, its
future bookings are cancelled as the business would cancel them, past ones stay, and its people are let go
(docs/privacy.md, "Closing a business")."""

from __future__ import annotations

from datetime import datetime, timedelta
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import CommandError, call_command

from apps.bookings.models import Booking, BookingStatusChange
from apps.bookings.tests.factories import BookingFactory
from apps.catalog.models import Business, Membership, Staff

pytestmark = pytest.mark.django_db

PINNED = datetime(2027, 1, 12, 9, 30, tzinfo=ZoneInfo("Asia/Riyadh"))


@pytest.fixture(autouse=True)
def pinned():
    with time_machine.travel(PINNED, tick=False):
        yield PINNED


@pytest.fixture
def bookings(business, service, staff):
    future = BookingFactory.create(service=service, staff=staff, start=PINNED + timedelta(days=2))
    past = BookingFactory.create(
        service=service, staff=staff, start=PINNED - timedelta(days=2), status=Booking.Status.COMPLETED
    )
    return future, past


def _run(*args: str) -> str:
    out = StringIO()
    call_command("business_close", *args, stdout=out)
    return out.getvalue()


def test_a_dry_run_changes_nothing(business, bookings):
    future, _past = bookings
    assert "would cancel 1 future booking(s)" in _run("--business", business.slug)
    future.refresh_from_db()
    business.refresh_from_db()
    assert (future.status, business.is_active) == ("confirmed", True)
    assert Membership.objects.filter(business=business).exists()


def test_closing_cancels_future_bookings_as_the_business_and_lets_its_people_go(business, bookings, staff):
    future, past = bookings
    out = _run("--business", business.slug, "--confirm")
    assert "1 future booking(s) cancelled" in out
    future.refresh_from_db()
    past.refresh_from_db()
    assert (future.status, future.cancel_reason) == ("cancelled", "business closed")
    change = BookingStatusChange.objects.filter(booking=future).latest("pk")
    assert (change.to_status, change.actor_id) == ("cancelled", None)  # as the business: nothing is kept
    assert past.status == "completed"
    business.refresh_from_db()
    assert (business.is_active, business.is_listed) == (False, False)
    assert not Membership.objects.filter(business=business).exists()
    assert not Staff.objects.get(pk=staff.pk).is_active
    assert Booking.objects.filter(business=business).count() == 2  # the records stay


def test_an_unknown_business_is_refused():
    with pytest.raises(CommandError):
        _run("--business", "nope")
    assert not Business.objects.filter(slug="nope").exists()
