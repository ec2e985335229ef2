"""The business calendar shows seasonal hours: a staff member's week across a season's first day has their usual
hours before it and the season's after (the same loader and engine as availability)."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import Client

from apps.catalog import seasons
from apps.catalog.models import Membership
from apps.catalog.tests.factories import MembershipFactory, StaffFactory
from apps.web.views.calendar import Desk, _week_grid

pytestmark = pytest.mark.django_db

RIYADH = ZoneInfo("Asia/Riyadh")
PINNED = datetime(2027, 1, 12, 9, 30, tzinfo=RIYADH)  # a Tuesday morning
SUNDAY = PINNED.date() + timedelta(days=5)  # 17 January 2027
SEASON_START = SUNDAY + timedelta(days=3)  # the Wednesday of that week


@pytest.fixture(autouse=True)
def pinned():
    with time_machine.travel(PINNED, tick=False):
        yield


def test_the_week_view_follows_a_season(business, service):
    staff = StaffFactory.create(services=[service], hours=[(time(9), time(17))])
    seasons.season_save(
        business=business,
        fields={"name_en": "Evening", "start_date": SEASON_START, "end_date": SEASON_START + timedelta(days=30)},
        hours=[seasons.SeasonSpan(day, time(20), time(23)) for day in range(7)],
    )
    owner = MembershipFactory.create(business=business, role=Membership.Role.OWNER).user
    client = Client()
    client.cookies["mawid_lang"] = "en"
    client.force_login(owner)
    response = client.get(f"/calendar/{business.slug}/week?staff={staff.pk}&date={SEASON_START}")
    assert response.status_code == 200
    body = response.content.decode()
    assert f'data-key="day-{SUNDAY}"' in body  # the week of the season's start, from its Sunday
    assert "22:00" in body  # the evening hours are in the window

    grid = _week_grid(Desk(user=owner, business=business, role=Membership.Role.OWNER), staff, SUNDAY, "/")
    assert grid.columns[0].key == f"day-{SUNDAY}"
    assert grid.window.hours()[0][1] == "08:00"  # from 08:00 (the default start: nobody starts earlier) ...
    assert grid.window.hours()[-1][1] == "22:00"  # ... to the latest (the season's evening)

    def working(column) -> tuple[str, str]:
        """The first and last working row of a day, as wall-clock times (5-minute rows from 08:00)."""
        off = {r for b in column.blocks if b.kind == "off" for r in range(b.row, b.row + b.span)}
        rows = [r for r in range(1, grid.window.rows + 1) if r not in off]
        at = lambda r: (datetime.combine(SUNDAY, time(8)) + timedelta(minutes=5 * (r - 1))).strftime("%H:%M")  # noqa: E731
        return at(rows[0]), at(rows[-1] + 1)

    by_day = {column.key: working(column) for column in grid.columns}
    assert by_day[f"day-{SEASON_START - timedelta(days=1)}"] == ("09:00", "17:00")  # Tuesday: usual hours
    assert by_day[f"day-{SEASON_START}"] == ("20:00", "23:00")  # Wednesday: the season's
