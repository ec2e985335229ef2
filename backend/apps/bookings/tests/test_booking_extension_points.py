"""The places apps above bookings fill (`apps.core.registry`): rows on the booking admin page, the payment
summary in booking JSON. Payments' own registrations are checked in `apps/payments/tests/test_registrations.py`."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.test import Client

from apps.accounts.admin import ManagerAccessMixin
from apps.bookings.admin import booking_inlines, register_booking_inline
from apps.bookings.hooks import payment_summaries, payment_summary_source
from apps.bookings.models import Booking, BookingStatusChange
from apps.bookings.tests.factories import BookingFactory

pytestmark = pytest.mark.django_db


class MoreRowsInline(ManagerAccessMixin, admin.TabularInline):
    model = BookingStatusChange
    extra = 0


class BrokenInline(admin.TabularInline):
    model = BookingStatusChange
    fk_name = "no_such_field"


def test_an_inline_registered_by_an_app_above_shows_on_the_booking_page(manager, staff, service, at):
    booking = BookingFactory(staff=staff, service=service, start=at("10:00"))
    client = Client()
    client.force_login(manager)

    with booking_inlines.override():
        assert register_booking_inline(MoreRowsInline) is MoreRowsInline
        register_booking_inline(MoreRowsInline)  # twice: shown once
        shown = client.get(f"/admin/bookings/booking/{booking.pk}/change/").content.decode()
    gone = client.get(f"/admin/bookings/booking/{booking.pk}/change/").content.decode()

    # a second inline of the history model: its formset prefix is "history-2", after bookings' own "history"
    assert "history-TOTAL_FORMS" in shown
    assert "history-2-TOTAL_FORMS" in shown
    assert "history-3-TOTAL_FORMS" not in shown  # registered twice, shown once
    assert "history-TOTAL_FORMS" in gone
    assert "history-2-TOTAL_FORMS" not in gone


def test_the_admin_system_checks_see_the_registered_inlines():
    booking_admin = admin.site.get_model_admin(Booking)
    assert booking_admin.check() == []

    with booking_inlines.override(BrokenInline):
        errors = booking_admin.check()

    assert [e.id for e in errors] == ["admin.E202"]


def test_booking_json_has_no_payment_summary_while_the_slot_is_empty(db):
    with payment_summary_source.override(None):
        assert payment_summaries([1, 2]) == {}

    with payment_summary_source.override(lambda ids: {i: {"status": "paid"} for i in ids if i != 2}):
        assert payment_summaries([1, 2]) == {1: {"status": "paid"}}
        assert payment_summaries([]) == {}
