"""The Saudi week starts on Sunday: the calendar's week view, whatever day of it is asked for."""

from __future__ import annotations

from datetime import date, timedelta

from apps.web.views.calendar import _week_start


def test_every_day_of_a_week_belongs_to_the_week_from_its_sunday():
    sunday = date(2027, 1, 10)
    assert sunday.weekday() == 6
    for offset in range(7):  # Sunday .. Saturday
        assert _week_start(sunday + timedelta(days=offset)) == sunday
    assert _week_start(sunday - timedelta(days=1)) == sunday - timedelta(days=7)  # the Saturday before
