"""The test clock: run the whole suite as if it were another day, at another time of day.

    MAWID_TEST_TODAY=2026-12-04   (or +3, -1: days from the real today)   the date in Asia/Riyadh the suite runs on
    MAWID_TEST_TIME=23:30                                                   the Riyadh wall time it starts at

(or `--today` / `--time-of-day`). With either set, the Python clock travels there for the whole session
(time_machine, ticking), so `timezone.now()`, `date.today()`, `time.time()` and every thread see that moment; the
test database's `now()` is moved by the same amount (see `install_database_clock`), so jobs scheduled in Python
come due in PostgreSQL when they would in production. Tests that need one particular moment still pin their own
with `time_machine.travel(...)`, which nests inside this one.

`--week` (or MAWID_TEST_WEEK=1) runs every selected test once for each of the next seven days, each day at
another Riyadh hour (WEEK_HOURS), in one session and on one test database: `.ci/week` runs the date-sensitive
part of the suite this way.

Unset (the default), nothing moves and the suite runs on the real clock. See docs/testing.md.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from datetime import time as wall_time
from zoneinfo import ZoneInfo

import pytest
import time_machine

RIYADH = ZoneInfo("Asia/Riyadh")


@dataclass(frozen=True)
class Shift:
    destination: datetime  # where the clock was at the start of the session
    offset: timedelta  # destination - the real moment it was started at; constant, both clocks tick


_shift: Shift | None = None
_traveller: time_machine.travel | None = None


def parse_today(value: str, real_today: date) -> date:
    value = value.strip()
    if re.fullmatch(r"[+-]\d+", value):
        return real_today + timedelta(days=int(value))
    return date.fromisoformat(value)


def destination(today: str | None, time_of_day: str | None, real_now: datetime) -> datetime | None:
    """The Riyadh moment to travel to for `today` / `time_of_day` (None: do not travel)."""
    if not today and not time_of_day:
        return None
    local = real_now.astimezone(RIYADH)
    day = parse_today(today, local.date()) if today else local.date()
    wall = wall_time.fromisoformat(time_of_day.strip()) if time_of_day else local.time()
    return datetime.combine(day, wall, tzinfo=RIYADH)


# One Riyadh wall time for each day of `--week`: just past midnight; 23:50 and 00:10 UTC; either side of 10:00,
# when tomorrow's first slot falls inside a 24-hour cut-off; the evening; just before midnight.
WEEK_HOURS = ("00:10", "02:50", "03:10", "09:55", "10:05", "21:00", "23:50")


def around_the_week(first_day: date) -> list[datetime]:
    """Seven Riyadh moments: each day of the week from `first_day`, at the WEEK_HOURS hour of its place in it
    (for a pinned test that must hold on every day, at every hour: `parametrize("now", around_the_week(...))`)."""
    return [
        datetime.combine(first_day + timedelta(days=n), wall_time.fromisoformat(hour), tzinfo=RIYADH)
        for n, hour in enumerate(WEEK_HOURS)
    ]


def _travel(target: datetime) -> tuple[time_machine.travel, Shift]:
    traveller = time_machine.travel(target.astimezone(UTC), tick=True)  # UTC: leave the TZ variable alone
    traveller.start()
    # The travelling clock starts ticking at its first reading: read it, then the real one, so the offset is exact
    # to a few microseconds (the database's clock a hair behind Python's: a job is never due before its time).
    moved_ns = time.time_ns()
    real_ns = time_machine.escape_hatch.time.time_ns()
    return traveller, Shift(destination=target, offset=timedelta(microseconds=(moved_ns - real_ns) // 1000))


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("mawid clock")
    group.addoption(
        "--today", default=os.environ.get("MAWID_TEST_TODAY") or None,
        help="run as if today (Asia/Riyadh) were YYYY-MM-DD or +N/-N days from now (env MAWID_TEST_TODAY)",
    )
    group.addoption(
        "--time-of-day", default=os.environ.get("MAWID_TEST_TIME") or None,
        help="run as if the Riyadh wall time were HH:MM at the start (env MAWID_TEST_TIME)",
    )
    group.addoption(
        "--week", action="store_true", default=os.environ.get("MAWID_TEST_WEEK", "") not in ("", "0"),
        help="run each test on each of the next 7 days, each at another Riyadh hour (env MAWID_TEST_WEEK=1)",
    )


def pytest_configure(config: pytest.Config) -> None:
    global _shift, _traveller  # noqa: PLW0603 - one clock per session
    real_now = datetime.now(RIYADH)
    target = destination(config.getoption("today"), config.getoption("time_of_day"), real_now)
    if target is None:
        return
    if config.getoption("week"):
        raise pytest.UsageError("--week moves the clock itself: leave out --today / --time-of-day")
    _traveller, _shift = _travel(target)


def pytest_unconfigure(config: pytest.Config) -> None:
    global _shift, _traveller  # noqa: PLW0603
    if _traveller is not None:
        _traveller.stop()
    _shift = _traveller = None


# The database's clock. time_machine moves Python's clock only; PostgreSQL's `now()` stays real, and procrastinate
# compares the `scheduled_at` Python wrote (a retry, a reminder, a capture) with the database's `now()`. So, for a
# moved session, the test database gets `now()` (and the other timestamp functions an application may call) in a
# schema of its own that comes before pg_catalog on its search path, each returning the real one plus the offset.
# Every connection opened afterwards (Django's, the worker's pool, the live server's thread) sees it. Column
# defaults are bound to pg_catalog.now() when a table is created, so procrastinate's two `DEFAULT now()` columns
# are pointed at the moved clock too. CURRENT_TIMESTAMP / CURRENT_DATE are SQL keywords that cannot be moved: the
# code uses none (apps/core/tests/test_test_support.py checks).
CLOCK_SCHEMA = "mawid_test_clock"
CLOCK_FUNCTIONS = ("now", "transaction_timestamp", "statement_timestamp", "clock_timestamp")
CLOCK_DEFAULTS = (("procrastinate_workers", "last_heartbeat"), ("procrastinate_events", "at"))


def install_database_clock(connection, offset: timedelta) -> None:
    """Move the database's `now()` by `offset` for every connection opened from now on."""
    micros = round(offset / timedelta(microseconds=1))
    name = connection.ops.quote_name(connection.settings_dict["NAME"])
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE SCHEMA IF NOT EXISTS {CLOCK_SCHEMA}")
        for function in CLOCK_FUNCTIONS:
            volatility = "VOLATILE" if function == "clock_timestamp" else "STABLE"
            cursor.execute(
                f"CREATE OR REPLACE FUNCTION {CLOCK_SCHEMA}.{function}() RETURNS timestamptz LANGUAGE sql "
                f"{volatility} PARALLEL SAFE AS $$ SELECT pg_catalog.{function}() "
                f"+ interval '{micros} microseconds' $$"
            )
        for table, column in CLOCK_DEFAULTS:
            cursor.execute(f"ALTER TABLE {table} ALTER COLUMN {column} SET DEFAULT {CLOCK_SCHEMA}.now()")
        cursor.execute(f'ALTER DATABASE {name} SET search_path = "$user", public, {CLOCK_SCHEMA}, pg_catalog')
    connection.close()  # the next connection starts with the new search path


def remove_database_clock(connection) -> None:
    """Put the database's real clock back (the test database may be kept with --reuse-db)."""
    name = connection.ops.quote_name(connection.settings_dict["NAME"])
    with connection.cursor() as cursor:
        cursor.execute(f"ALTER DATABASE {name} RESET search_path")
        for table, column in CLOCK_DEFAULTS:
            cursor.execute(f"ALTER TABLE {table} ALTER COLUMN {column} SET DEFAULT pg_catalog.now()")
        cursor.execute(f"DROP SCHEMA IF EXISTS {CLOCK_SCHEMA} CASCADE")
    connection.close()


@contextmanager
def moved_clock(destination: datetime) -> Iterator[timedelta]:
    """Python's clock and the test database's at `destination` (ticking) for the block; yields the offset.

    For a test that pins its own moment and runs scheduled jobs through the worker (plain `time_machine` moves
    Python's clock only). Transactional tests only (`django_db(transaction=True)`): it reconnects.
    """
    from django.db import connection

    with time_machine.travel(destination.astimezone(UTC), tick=True):
        moved_ns = time.time_ns()
        offset = timedelta(microseconds=(moved_ns - time_machine.escape_hatch.time.time_ns()) // 1000)
        install_database_clock(connection, offset)
        try:
            yield offset
        finally:
            if _shift is None:
                remove_database_clock(connection)
            else:
                install_database_clock(connection, _shift.offset)


@pytest.fixture(scope="session", autouse=True)
def _database_clock(request: pytest.FixtureRequest):
    """In a moved session, the test database's clock moves with Python's (created on first need, never otherwise)."""
    if _shift is None:
        yield
        return
    request.getfixturevalue("django_db_setup")
    blocker = request.getfixturevalue("django_db_blocker")
    from django.db import connection

    with blocker.unblock():
        install_database_clock(connection, _shift.offset)
    yield
    with blocker.unblock():
        remove_database_clock(connection)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if metafunc.config.getoption("week") and "_week_day" in metafunc.fixturenames:
        metafunc.parametrize(
            "_week_day", range(1, 8), indirect=True, scope="session", ids=lambda n: f"+{n}d-{WEEK_HOURS[n - 1]}"
        )


@pytest.fixture(scope="session", autouse=True)
def _week_day(request: pytest.FixtureRequest):
    """With --week: the clock (Python's and the test database's) on day `param` of the next seven, at its hour."""
    global _shift, _traveller  # noqa: PLW0603
    n = getattr(request, "param", None)
    if n is None:
        yield
        return
    request.getfixturevalue("django_db_setup")
    blocker = request.getfixturevalue("django_db_blocker")
    from django.db import connection

    target = destination(f"+{n}", WEEK_HOURS[n - 1], datetime.now(RIYADH))
    if target is None:  # a day is always given here
        raise RuntimeError("--week: no day to travel to")
    _traveller, _shift = _travel(target)
    with blocker.unblock():
        install_database_clock(connection, _shift.offset)
        # Each day starts like a session of its own: transactional tests leave committed job rows behind (flush
        # does not empty procrastinate's tables), which the next day's non-transactional tests would see.
        with connection.cursor() as cursor:
            cursor.execute("TRUNCATE procrastinate_jobs, procrastinate_periodic_defers RESTART IDENTITY CASCADE")
    try:
        yield
    finally:
        with blocker.unblock():
            remove_database_clock(connection)
        _traveller.stop()
        _shift = _traveller = None


def pytest_report_header(config: pytest.Config) -> str:
    if config.getoption("week"):
        return f"mawid clock: each test on each of the next 7 days, at {', '.join(WEEK_HOURS)} Asia/Riyadh"
    if _shift is None:
        return "mawid clock: real"
    d = _shift.destination
    return f"mawid clock: {d:%Y-%m-%d %A %H:%M} Asia/Riyadh (moved {_shift.offset.total_seconds() / 86400:+.3f} days)"
