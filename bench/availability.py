# ruff: noqa: T201, S101, S603
# (backend/pyproject.toml ignores these for "bench/**", a glob relative to backend/ that misses ../bench.)
"""Availability benchmark: how long the two availability endpoints take on a busy calendar.

    .venv/bin/python bench/availability.py [--requests 300] [--skip-server]

It creates its own database (`mawid_bench_availability`) on the server MAWID_BENCH_DATABASE_URL or DATABASE_URL names
(else the embedded PostgreSQL), migrates it, fills it, measures, and drops it at the end, even on failure.

Data: one staff member ("A") working 08:00-13:00 and 14:00-22:00 every day, with 2,000 bookings (confirmed,
15 minutes each, 33 or 34 a day at random quarter hours of the next 60 days), 30 schedule exceptions (time off and
extra hours) and a two-day closure; 49 more staff offering the same service, each with their own hours,
exceptions and a dozen bookings around the day the "any staff" view is asked about. Bookings are inserted
through the bookings app's model; availability sees them through the busy source that app registers.

Endpoints:
  1. GET /api/v1/staff/A/availability?service=S&date_from=D&date_to=D+29   (one staff member, 30 days)
  2. GET /api/v1/staff/A/availability?service=S&date_from=D&date_to=D+59   (one staff member, 60 days)
  3. GET /api/v1/availability?service=S&date=D+7                           (50 staff, one day)

Each is measured twice:
  * in-process, through Django's test Client (full middleware stack, no network);
  * over HTTP against a real gunicorn server (1 sync worker, production settings, persistent DB connections)
    started on a free local port, with httpx.

Reported per endpoint: median and 95th percentile of the full request (client side), of the server-side time
(the `app` entry of the view's `Server-Timing` header: throttle + selectors + engine + serialization + JSON),
and the number of SQL queries: the view's own (`db`), the rate limiter's (`throttle`, its counters live in the
database cache), and, in-process, every query the request made.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import secrets
import statistics
import time
from datetime import date, datetime, timedelta
from datetime import time as dtime
from zoneinfo import ZoneInfo

from _common import (
    BACKEND,
    bench_business,
    drop_database,
    free_port,
    pct,
    recreate_database,
    server_url,
    setup_django,
    start_gunicorn,
    stop_process,
)

BENCH_DB = "mawid_bench_availability"
TZ = ZoneInfo("Asia/Riyadh")

# Settings for both runs: production settings, the rate limiter out of the way (its queries still run).
BENCH_ENV = {
    "DJANGO_SETTINGS_MODULE": "config.settings.production",
    "DJANGO_SECRET_KEY": secrets.token_urlsafe(64),
    "DJANGO_SECURE_SSL_REDIRECT": "0",
    "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost,testserver",
    "MAWID_ALLOW_FAKE_PROVIDERS": "1",  # production settings, loopback fakes
    "MAWID_THROTTLE_ANON": "1000000/min",
    "MAWID_LOG_LEVEL": "WARNING",
    "MAWID_DB_CONN_MAX_AGE": "60",
    "MAWID_DOTENV": "off",  # what is measured is set here, not in a developer's backend/.env
}


# --- data -----------------------------------------------------------------------------------------------


def seed(today: date) -> dict[str, int]:
    from django.db import transaction

    from apps.accounts.models import User
    from apps.bookings.models import Booking
    from apps.catalog.models import Closure, ScheduleException, Service, Staff, WorkingHours

    rng = random.Random(20261201)  # noqa: S311 - deterministic data, not security
    with transaction.atomic():
        business, branch = bench_business(
            timezone="Asia/Riyadh", slot_step_minutes=15, min_notice_minutes=120, max_advance_days=60
        )

        service = Service.objects.create(
            business=business,
            name_en="Haircut",
            name_ar="قص الشعر",
            duration_minutes=30,
            price_amount=15000,
            buffer_before_minutes=0,
            buffer_after_minutes=10,
        )
        quick = Service.objects.create(
            business=business,
            name_en="Quick trim", name_ar="تهذيب سريع", duration_minutes=15, price_amount=5000
        )
        customer = User.objects.create_user(phone="+966500000001", name="Bench customer")

        def local(day: date, minutes: int) -> datetime:
            return datetime.combine(day, datetime.min.time(), tzinfo=TZ) + timedelta(minutes=minutes)

        def booking(staff: Staff, day: date, minutes: int) -> Booking:
            start = local(day, minutes)
            return Booking(
                customer=customer,
                staff=staff,
                service=quick,
                status=Booking.Status.CONFIRMED,
                start=start,
                end=start + timedelta(minutes=15),
                busy_start=start,
                busy_end=start + timedelta(minutes=15),
                price_amount=5000,
                currency="SAR",
            )

        staff_members: list[Staff] = []
        for n in range(50):
            user = User.objects.create_user(phone=f"+9665{10000000 + n:08d}", name=f"Staff {n}", role=User.Role.STAFF)
            member = Staff.objects.create(
                business=business, branch=branch, user=user, display_name=f"Staff {n}", display_order=n
            )
            member.services.add(service, quick)
            staff_members.append(member)
        a = staff_members[0]

        hours = []
        for i, member in enumerate(staff_members):
            shifts = (
                [(8 * 60, 13 * 60), (14 * 60, 22 * 60)] if i == 0 else [(9 * 60 + 30 * (i % 4), 17 * 60 + 30 * (i % 5))]
            )
            for weekday in range(7):
                if i and weekday == (i % 7):
                    continue  # everyone but A has a day off
                for s, e in shifts:
                    hours.append(
                        WorkingHours(
                            staff=member,
                            weekday=weekday,
                            start_time=dtime(s // 60, s % 60),
                            end_time=dtime(e // 60, e % 60),
                        )
                    )
        for row in hours:
            row.business_id = business.pk
        WorkingHours.objects.bulk_create(hours)

        # A: 30 exceptions over the 60 days (25 two-hour time offs, 5 evenings of extra hours), 2,000 bookings.
        exceptions = []
        for k in range(30):
            day = today + timedelta(days=1 + 2 * k)
            if k % 6 == 5:
                exceptions.append(
                    ScheduleException(
                        staff=a,
                        kind=ScheduleException.Kind.EXTRA_HOURS,
                        start=local(day, 22 * 60),
                        end=local(day, 23 * 60 + 30),
                    )
                )
            else:
                start = rng.choice([9, 11, 15, 18]) * 60
                exceptions.append(
                    ScheduleException(
                        staff=a,
                        kind=ScheduleException.Kind.TIME_OFF,
                        start=local(day, start),
                        end=local(day, start + 120),
                    )
                )
        Closure.objects.create(business=business, name="Eid", start_date=today + timedelta(days=40), end_date=today + timedelta(days=41))

        bookings = []
        quarters = [m for m in range(8 * 60, 22 * 60, 15) if not 13 * 60 <= m < 14 * 60]  # A's working quarters
        for d in range(60):  # 2,000 bookings: 33 or 34 a day at random quarter hours of A's working time
            day = today + timedelta(days=d)
            for minutes in rng.sample(quarters, 2000 // 60 + (d < 2000 % 60)):
                bookings.append(booking(a, day, minutes))
        # The other 49: a dozen bookings each around the "any staff" day, a couple of exceptions.
        any_day = today + timedelta(days=7)
        for member in staff_members[1:]:
            for offset in (-1, 0, 1):
                day = any_day + timedelta(days=offset)
                for minutes in rng.sample(range(9 * 60, 17 * 60, 30), 4):
                    bookings.append(booking(member, day, minutes))
            exceptions.append(
                ScheduleException(staff=member, start=local(any_day, 12 * 60), end=local(any_day, 13 * 60))
            )
            exceptions.append(
                ScheduleException(
                    staff=member, start=local(any_day + timedelta(days=3), 0), end=local(any_day + timedelta(days=4), 0)
                )
            )
        for row in [*exceptions, *bookings]:
            row.business_id = business.pk
        ScheduleException.objects.bulk_create(exceptions)
        Booking.objects.bulk_create(bookings, batch_size=1000)

    return {
        "service": service.pk,
        "staff": a.pk,
        "bookings_a": Booking.objects.filter(staff=a).count(),
        "bookings_total": Booking.objects.count(),
        "exceptions_a": ScheduleException.objects.filter(staff=a).count(),
        "staff_offering": service.staff.count(),
    }


# --- an alternative busy source, for comparison ---------------------------------------------------------


def epoch_busy_source(*, staff_ids, start, end, exclude_booking_id=None):
    """The bookings app's busy query (same rows), reading each instant as integer microseconds since the epoch
    (`apps.catalog.busy.EpochMicroseconds`) instead of as a timestamptz, which psycopg parses at ~5 µs a value.
    Bench-only, to show what the endpoints cost once that is avoided (`--busy-source epoch`)."""
    from apps.bookings.models import HOLDING_STATUSES, Booking
    from apps.catalog.busy import EpochMicroseconds, busy_from_rows

    qs = Booking.objects.filter(
        staff_id__in=list(staff_ids), status__in=sorted(HOLDING_STATUSES), busy_start__lt=end, busy_end__gt=start
    )
    if exclude_booking_id is not None:
        qs = qs.exclude(pk=exclude_booking_id)
    return busy_from_rows(
        qs.order_by("staff_id", "busy_start").values_list(
            "staff_id", EpochMicroseconds("busy_start"), EpochMicroseconds("busy_end")
        )
    )


def merged_busy_source(*, staff_ids, start, end, exclude_booking_id=None):
    """Like `epoch_busy_source`, and PostgreSQL also merges touching or overlapping busy times (`range_agg`), so
    back-to-back bookings come back as one interval: fewer rows to load and fewer Interval objects. Bench-only
    (`--busy-source merged`); the engine merges busy time anyway, so the slots are the same."""
    from django.db import connection

    from apps.bookings.models import HOLDING_STATUSES, Booking
    from apps.catalog.busy import busy_from_rows

    sql = f"""
        SELECT staff_id, (EXTRACT(EPOCH FROM lower(r)) * 1000000)::bigint, (EXTRACT(EPOCH FROM upper(r)) * 1000000)::bigint
          FROM (SELECT staff_id, unnest(range_agg(tstzrange(busy_start, busy_end, '[)'))) AS r
                  FROM "{Booking._meta.db_table}"
                 WHERE staff_id = ANY(%s) AND status = ANY(%s) AND tstzrange(busy_start, busy_end, '[)') && tstzrange(%s, %s, '[)')
                   AND id IS DISTINCT FROM %s
                 GROUP BY staff_id) merged
         ORDER BY 1, 2
    """  # noqa: S608 - the table name only
    with connection.cursor() as cursor:
        cursor.execute(sql, [list(staff_ids), sorted(HOLDING_STATUSES), start, end, exclude_booking_id])
        return busy_from_rows(cursor.fetchall())


# --- measuring ------------------------------------------------------------------------------------------


_TIMING = re.compile(r'(\w+);dur=([\d.]+)(?:;desc="(\d+) queries")?')


def parse_timing(header: str) -> dict[str, tuple[float, int | None]]:
    return {name: (float(dur), int(n) if n else None) for name, dur, n in _TIMING.findall(header)}


class Samples:
    def __init__(self) -> None:
        self.full: list[float] = []
        self.cpu: list[float] = []  # in-process only: CPU time of this Python process (contention-proof)
        self.server: list[float] = []
        self.db_ms: list[float] = []
        self.queries: set[int] = set()
        self.throttle_queries: set[int] = set()
        self.all_queries: set[int] = set()
        self.slots = 0
        self.size = 0

    def add(
        self,
        full_ms: float,
        header: str,
        body: dict,
        size: int,
        all_queries: int | None = None,
        cpu_ms: float | None = None,
    ) -> None:
        timing = parse_timing(header)
        self.full.append(full_ms)
        if cpu_ms is not None:
            self.cpu.append(cpu_ms)
        self.server.append(timing["app"][0])
        self.db_ms.append(timing["db"][0])
        self.queries.add(timing["db"][1])
        self.throttle_queries.add(timing["throttle"][1])
        if all_queries is not None:
            self.all_queries.add(all_queries)
        self.slots = len(body["slots"])
        self.size = size

    def row(self, label: str) -> str:
        total = "/".join(map(str, sorted(self.all_queries))) if self.all_queries else "-"
        cpu = f"cpu {statistics.median(self.cpu):6.2f} ms   " if self.cpu else ""
        return (
            f"  {label:<25} full {min(self.full):6.2f} / {statistics.median(self.full):6.2f} / "
            f"{pct(self.full, 0.95):6.2f} ms   "
            f"server {min(self.server):6.2f} / {statistics.median(self.server):6.2f} / {pct(self.server, 0.95):6.2f} ms   "
            f"db {statistics.median(self.db_ms):5.2f} ms   {cpu}"
            f"queries view={'/'.join(map(str, sorted(self.queries)))} "
            f"throttle={'/'.join(map(str, sorted(self.throttle_queries)))} all={total}   "
            f"{self.slots} slots, {self.size / 1024:.0f} KiB"
        )


def endpoints(ids: dict[str, int], today: date) -> list[tuple[str, str]]:
    s, a = ids["service"], ids["staff"]
    return [
        (
            "one staff, 30 days",
            f"/api/v1/staff/{a}/availability?service={s}&date_from={today}&date_to={today + timedelta(days=29)}",
        ),
        (
            "one staff, 60 days",
            f"/api/v1/staff/{a}/availability?service={s}&date_from={today}&date_to={today + timedelta(days=59)}",
        ),
        ("any staff (50), one day", f"/api/v1/availability?service={s}&date={today + timedelta(days=7)}"),
    ]


def run_in_process(urls: list[tuple[str, str]], n: int, note: str) -> None:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client()
    print(f"\nIn-process (django.test.Client, {note}; {n} requests each after 20 warm-up; min / median / p95):")
    for label, url in urls:
        samples = Samples()
        for i in range(n + 20):
            connection.queries_log.clear()  # a bounded deque (9,000): once full, CaptureQueriesContext counts 0
            with CaptureQueriesContext(connection) as ctx:
                started, cpu_started = time.perf_counter(), time.process_time()
                response = client.get(url)
                full_ms = (time.perf_counter() - started) * 1000
                cpu_ms = (time.process_time() - cpu_started) * 1000
            assert response.status_code == 200, response.content[:500]
            if i >= 20:
                samples.add(
                    full_ms,
                    response["Server-Timing"],
                    response.json(),
                    len(response.content),
                    len(ctx.captured_queries),
                    cpu_ms,
                )
        print(samples.row(label))


def check_sources_agree(urls: list[tuple[str, str]]) -> None:
    """The alternative busy sources must give exactly the bookings app's answers."""
    from django.test import Client

    from apps.catalog.busy import booked_time

    client = Client()
    for _label, url in urls:
        expected = client.get(url).json()
        for source in (epoch_busy_source, merged_busy_source):
            with booked_time.override(source):
                if client.get(url).json() != expected:
                    raise SystemExit(f"{source.__name__} disagrees with the bookings app's source on {url}")
    print("the three busy sources give identical responses")


def run_server(urls: list[tuple[str, str]], n: int, database_url: str) -> None:
    import httpx

    port = free_port()
    env = {**os.environ, **BENCH_ENV, "DATABASE_URL": database_url, "PYTHONPATH": str(BACKEND)}
    args = ["config.wsgi:application", "--bind", f"127.0.0.1:{port}", "--workers", "1", "--worker-class", "sync",
            "--chdir", str(BACKEND), "--log-level", "warning"]  # fmt: skip
    server = start_gunicorn(args, env, port)
    base = f"http://127.0.0.1:{port}"
    try:
        print(
            f"\nReal server (gunicorn, 1 sync worker, production settings, httpx over loopback; "
            f"{n} requests each after 20 warm-up; min / median / p95):"
        )
        with httpx.Client(base_url=base, timeout=10) as client:
            for label, url in urls:
                samples = Samples()
                for i in range(n + 20):
                    started = time.perf_counter()
                    response = client.get(url)
                    full_ms = (time.perf_counter() - started) * 1000
                    assert response.status_code == 200, response.text[:500]
                    if i >= 20:
                        samples.add(full_ms, response.headers["Server-Timing"], response.json(), len(response.content))
                print(samples.row(label))
    finally:
        stop_process(server)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=300, help="measured requests per endpoint and run")
    parser.add_argument("--skip-server", action="store_true", help="only the in-process run")
    parser.add_argument(
        "--busy-source",
        choices=["bookings", "epoch", "merged", "all"],
        default="all",
        help="in-process: the bookings app's busy source, one of the bench's alternatives, or all three (default)",
    )
    args = parser.parse_args()

    base_url = server_url()
    bench_url = recreate_database(base_url, BENCH_DB)
    try:
        setup_django(bench_url, BENCH_ENV)
        from django.core.management import call_command

        print(f"database {BENCH_DB}: migrating ...", flush=True)
        call_command("migrate", verbosity=0)
        today = datetime.now(TZ).date()
        started = time.perf_counter()
        ids = seed(today)
        print(
            f"seeded in {time.perf_counter() - started:.1f} s: staff A has {ids['bookings_a']} bookings and "
            f"{ids['exceptions_a']} exceptions; {ids['staff_offering']} staff offer the service; "
            f"{ids['bookings_total']} bookings in all"
        )
        from apps.catalog.busy import booked_time

        source = booked_time.get()
        print(f"busy source registered: {source.__module__}.{source.__qualname__}")
        urls = endpoints(ids, today)
        check_sources_agree(urls)
        if args.busy_source in ("bookings", "all"):
            run_in_process(urls, args.requests, "the bookings app's busy source")
        if args.busy_source in ("epoch", "all"):
            with booked_time.override(epoch_busy_source):
                run_in_process(urls, args.requests, "bench epoch_busy_source: same rows, no timestamptz parsing")
        if args.busy_source in ("merged", "all"):
            with booked_time.override(merged_busy_source):
                run_in_process(urls, args.requests, "bench merged_busy_source: epoch, and merged in SQL")
        from django.db import connections

        connections.close_all()
        if not args.skip_server:
            run_server(urls, args.requests, bench_url)
    finally:
        try:
            from django.db import connections

            connections.close_all()
        except Exception:  # noqa: BLE001, S110 - Django may not be set up yet
            pass
        drop_database(base_url, BENCH_DB)
        print(f"\ndropped {BENCH_DB}")


if __name__ == "__main__":
    main()
