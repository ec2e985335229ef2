"""Accepting the public holidays from several connections at once creates each closure once (the business row is
locked first): real threads on PostgreSQL."""

from __future__ import annotations

from datetime import date

import pytest

from apps.catalog import services
from apps.catalog.holidays import saudi_holidays
from apps.catalog.models import Closure
from apps.catalog.tests.factories import BusinessFactory
from apps.core.scoping import platform
from apps.core.testing import run_together

pytestmark = pytest.mark.django_db(transaction=True)

TODAY = date(2026, 12, 4)


def test_simultaneous_accepts_create_each_holiday_once():
    business = BusinessFactory.create()
    keys = [h.key for h in saudi_holidays(TODAY)]
    n = 8
    results = run_together(n, lambda _: services.holidays_accept(business=business, keys=keys, today=TODAY))

    assert not [r for r in results if isinstance(r, Exception)]
    assert sorted(len(r) for r in results) == [0] * (n - 1) + [len(keys)]
    with platform():
        closures = list(Closure.objects.filter(business=business).order_by("start_date"))
    assert [(c.start_date, c.end_date) for c in closures] == [(h.start_date, h.end_date) for h in saudi_holidays(TODAY)]
