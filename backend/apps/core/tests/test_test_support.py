"""The test suite's own machinery: the worker leaves no connection behind; the moved clock (apps/core/testclock.py)
moves PostgreSQL's `now()` with Python's."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from django.db import connection, transaction
from django.utils import timezone

from apps.accounts.jobs import otp_deliver
from apps.core.testclock import RIYADH, destination, moved_clock
from apps.core.testing import job_rows, other_database_sessions, run_jobs


@pytest.mark.django_db(transaction=True)
def test_running_the_worker_leaves_no_connection_to_the_database_open():
    with transaction.atomic():
        otp_deliver.defer(challenge_id=424242)

    run_jobs(queues=["otp"])

    assert [row["status"] for row in job_rows("apps.accounts.jobs.otp_deliver")] == ["succeeded"]
    assert other_database_sessions(wait=1.0) == []


# --- the moved clock -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("today", "time_of_day", "expected"),
    [
        (None, None, None),
        ("2026-12-04", None, datetime(2026, 12, 4, 10, 20, 30, tzinfo=RIYADH)),
        ("+3", None, datetime(2026, 12, 6, 10, 20, 30, tzinfo=RIYADH)),
        ("-1", "23:30", datetime(2026, 12, 2, 23, 30, tzinfo=RIYADH)),
        (None, "00:30", datetime(2026, 12, 3, 0, 30, tzinfo=RIYADH)),
    ],
)
def test_the_session_clock_goes_to_the_riyadh_day_and_wall_time_asked_for(today, time_of_day, expected):
    real_now = datetime(2026, 12, 3, 7, 20, 30, tzinfo=UTC)  # 10:20:30 in Riyadh

    assert destination(today, time_of_day, real_now) == expected


def test_riyadh_s_today_is_the_date_asked_for_even_when_utc_is_still_on_the_day_before():
    real_now = datetime(2026, 12, 3, 22, 0, tzinfo=UTC)  # already 01:00 on the 4th in Riyadh

    assert destination("+1", None, real_now) == datetime(2026, 12, 5, 1, 0, tzinfo=RIYADH)


@pytest.mark.django_db(transaction=True)
def test_a_moved_clock_moves_the_database_s_now_and_scheduled_jobs_come_due_by_it():
    later = timezone.now() + timedelta(days=4, hours=7)

    with moved_clock(later):
        with connection.cursor() as cursor:
            cursor.execute("SELECT now(), statement_timestamp(), clock_timestamp(), transaction_timestamp()")
            database_times = cursor.fetchone()
        python_now = timezone.now()
        assert all(abs(t - python_now) < timedelta(seconds=5) for t in database_times), (database_times, python_now)
        otp_deliver.configure(schedule_at=timezone.now() + timedelta(seconds=1)).defer(challenge_id=424242)
        run_jobs(queues=["otp"], timeout=10)
        assert [row["status"] for row in job_rows("apps.accounts.jobs.otp_deliver")] == ["succeeded"]

    with connection.cursor() as cursor:
        cursor.execute("SELECT now()")
        assert abs(cursor.fetchone()[0] - timezone.now()) < timedelta(seconds=5)  # back with Python's clock


def test_the_code_uses_no_database_clock_the_moved_clock_cannot_move():
    """CURRENT_TIMESTAMP, CURRENT_DATE, LOCALTIMESTAMP... are SQL keywords, not functions: a moved session cannot
    move them. The code says now() (or Django's Now(), i.e. statement_timestamp())."""
    keyword = re.compile(r"\b(CURRENT_TIMESTAMP|CURRENT_DATE|CURRENT_TIME|LOCALTIMESTAMP|LOCALTIME)\b", re.IGNORECASE)
    apps = Path(__file__).resolve().parents[2]
    found = [
        f"{path.relative_to(apps)}:{n}"
        for path in sorted(apps.rglob("*.py"))
        if "tests" not in path.parts
        for n, line in enumerate(path.read_text().splitlines(), 1)
        if keyword.search(line.replace("localtime(", "")) and not line.lstrip().startswith("#")
    ]
    assert found == []
