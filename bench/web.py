# ruff: noqa: T201, S101, S603
# (backend/pyproject.toml ignores these for "bench/**", a glob relative to backend/ that misses ../bench.)
"""Website benchmark: the server time of the pages people wait on, and the bytes a first visit costs.

    .venv/bin/python bench/web.py [--requests 200]

It creates its own database (`mawid_bench_web`) on the server MAWID_BENCH_DATABASE_URL or DATABASE_URL names (else
the embedded PostgreSQL), migrates it, fills it, collects the static files as production does (hashed names,
gzip and brotli copies), measures in-process with production settings (WhiteNoise serving the assets), and drops
the database at the end, even on failure.

Data: a salon with one branch, 20 staff working 09:00-21:00 every day, 10 services; the measured day is full: each
staff member has back-to-back 30-minute bookings (with a 5-minute buffer after) from opening to closing, 18 a
day, and so has every other day of the week around it (2,520 bookings); the manager is signed in for the calendar.

Pages (each measured --requests times after 10 warm-up requests; `Server-Timing: page` is the server's time for
the whole page below the first middleware; p50 / p95 in ms; every SQL statement counted):
  1. the business page                 /b/bench
  2. the free-times fragment            (the booking flow's times for one day, "anyone": 20 staff), on the full
                                        day and on an open day (20 staff free 09:00-21:00)
  3. the calendar day view              (the branch's day, 20 staff columns, 360 bookings)
Each beside its baseline measured in the same run, the API call that reads the same data (ratio page / API):
  the API's business profile, its any-staff availability for that day, and the manager API's bookings of the day.

Bytes: a first visit (no cache) = the page's HTML compressed as served (gzip) + every stylesheet and script it
links, as WhiteNoise serves them compressed; a second visit = the HTML only (the assets have hashed names and
`Cache-Control: max-age=315360000, immutable`, checked here). Aim (issue 14): p95 under 30 ms, first load under
150 kB compressed.
"""

from __future__ import annotations

import argparse
import gzip
import os
import re
import secrets
import statistics
import tempfile
import time
from datetime import date, datetime, timedelta
from datetime import time as dtime
from pathlib import Path
from zoneinfo import ZoneInfo

from _common import (
    bench_business,
    drop_database,
    manage,
    pct,
    recreate_database,
    say,
    server_url,
    setup_django,
)

BENCH_DB = "mawid_bench_web"
TZ = ZoneInfo("Asia/Riyadh")
STAFF = 20
OPEN, CLOSE = 9 * 60, 21 * 60
ASSET = re.compile(r'<(?:link[^>]+href|script[^>]+src)="(/static/[^"]+)"')


def bench_env(static_root: Path) -> dict[str, str]:
    return {
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(64),
        "DJANGO_SECURE_SSL_REDIRECT": "0",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost,testserver",
        "DJANGO_STATIC_ROOT": str(static_root),
        "MAWID_ALLOW_FAKE_PROVIDERS": "1",  # production settings, loopback fakes (no provider is called here)
        "MAWID_THROTTLE_ANON": "1000000/min",
        "MAWID_THROTTLE_USER": "1000000/min",
        "MAWID_LOG_LEVEL": "WARNING",
        "MAWID_DB_CONN_MAX_AGE": "60",
        "MAWID_DOTENV": "off",
    }


# --- data -----------------------------------------------------------------------------------------------


def seed(day: date) -> dict[str, int]:
    from django.db import transaction

    from apps.accounts.models import User
    from apps.bookings.models import Booking
    from apps.catalog.models import Membership, Service, Staff, WorkingHours

    with transaction.atomic():
        business, branch = bench_business(
            timezone="Asia/Riyadh", slot_step_minutes=15, min_notice_minutes=120, max_advance_days=60,
            name_ar="صالون القياس", description_en="A busy salon.", description_ar="صالون مزدحم.",
        )
        services = [
            Service.objects.create(
                business=business, name_en=f"Service {n}", name_ar=f"خدمة {n}", duration_minutes=30,
                price_amount=5000 + 1000 * n, buffer_after_minutes=5 if n == 0 else 0,
                description_en="Thirty minutes of care.", description_ar="ثلاثون دقيقة من العناية.",
            )
            for n in range(10)
        ]
        main = services[0]
        customer = User.objects.create_user(phone="+966500000101", name="Bench customer")
        manager = User.objects.create_user(phone="+966500000102", name="Bench manager")
        Membership.objects.create(business=business, user=manager, role=Membership.Role.OWNER)
        staff = []
        for n in range(STAFF):
            user = User.objects.create_user(phone=f"+96655{1000000 + n:07d}", name=f"Staff {n}", role=User.Role.STAFF)
            member = Staff.objects.create(
                business=business, branch=branch, user=user, display_name=f"Staff {n}", display_order=n,
                bio="Ten years with scissors.",
            )
            member.services.add(*services)
            staff.append(member)
        WorkingHours.objects.bulk_create(
            [
                WorkingHours(business=business, staff=member, weekday=weekday, start_time=dtime(OPEN // 60),
                             end_time=dtime(CLOSE // 60))
                for member in staff
                for weekday in range(7)
            ]
        )
        bookings = []
        for offset in range(-3, 4):
            when = day + timedelta(days=offset)
            for member in staff:
                for minutes in range(OPEN, CLOSE - 30, 40):  # 30 minutes + 5 of buffer, 5 minutes apart
                    start = datetime.combine(when, dtime(), tzinfo=TZ) + timedelta(minutes=minutes)
                    bookings.append(
                        Booking(
                            business=business, branch=branch, customer=customer, staff=member, service=main,
                            status=Booking.Status.CONFIRMED, start=start, end=start + timedelta(minutes=30),
                            busy_start=start, busy_end=start + timedelta(minutes=35), price_amount=5000,
                            price_net=5000, price_vat=0, currency="SAR",  # the business is not VAT-registered
                        )
                    )
        Booking.objects.bulk_create(bookings, batch_size=1000)
    return {
        "business": business.pk, "branch": branch.pk, "service": main.pk, "manager": manager.pk,
        "bookings": len(bookings), "bookings_day": sum(1 for b in bookings if b.start.date() == day),
    }


# --- measuring ------------------------------------------------------------------------------------------


def pages(ids: dict[str, int], day: date) -> list[tuple[str, str, str, bool]]:
    """(label, page path, baseline API path, needs the manager)."""
    s, b = ids["service"], ids["branch"]
    open_day = day + timedelta(days=4)  # past the booked week: every staff member free all day
    return [
        ("business page", "/b/bench", "/api/v1/businesses/bench", False),
        ("free times, full day", f"/b/bench/book/times?service={s}&staff=any&date={day}",
         f"/api/v1/businesses/bench/availability?service={s}&date={day}", False),
        ("free times, open day", f"/b/bench/book/times?service={s}&staff=any&date={open_day}",
         f"/api/v1/businesses/bench/availability?service={s}&date={open_day}", False),
        ("calendar day (20 staff)", f"/calendar/bench/day?branch={b}&date={day}",
         f"/api/v1/manage/businesses/bench/bookings?date_from={day}&date_to={day}", True),
    ]


def measure(client, path: str, n: int, *, api: bool) -> dict[str, object]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for _ in range(10):
        response = client.get(path)
        assert response.status_code == 200, (path, response.status_code, response.content[:300])
    server, wall = [], []
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path)
    statements = len(queries.captured_queries)
    for _ in range(n):
        started = time.perf_counter()
        response = client.get(path, HTTP_ACCEPT_ENCODING="gzip")
        wall.append((time.perf_counter() - started) * 1000)
        timing = response.get("Server-Timing", "")
        match = re.search(r"(?:page|app);dur=([\d.]+)", timing)
        server.append(float(match.group(1)) if match else wall[-1])
    body = response.content
    return {
        "p50": statistics.median(server), "p95": pct(server, 0.95), "wall95": pct(wall, 0.95),
        "queries": statements, "bytes": len(body), "gzip": response.get("Content-Encoding") == "gzip",
        "html": gzip.decompress(body).decode() if response.get("Content-Encoding") == "gzip" else body.decode(),
    }


def asset_bytes(client, html: str) -> tuple[int, list[str]]:
    """The compressed bytes of every stylesheet and script the page links, as WhiteNoise serves them, and a
    note per asset that is not cached for good."""
    total, problems = 0, []
    for url in sorted(set(ASSET.findall(html))):
        response = client.get(url, HTTP_ACCEPT_ENCODING="br, gzip")
        assert response.status_code == 200, (url, response.status_code)
        body = b"".join(response.streaming_content) if response.streaming else response.content
        total += len(body)
        if "immutable" not in response.get("Cache-Control", "") or "max-age=315360000" not in response.get(
            "Cache-Control", ""
        ):
            problems.append(f"{url}: Cache-Control {response.get('Cache-Control')!r}")
    return total, problems


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()

    base = server_url()
    database_url = recreate_database(base, BENCH_DB)
    static_root = Path(tempfile.mkdtemp(prefix="mawid-bench-web-static-"))
    env = bench_env(static_root)
    try:
        manage({**os.environ, **env, "DATABASE_URL": database_url}, "migrate", "--noinput", "-v", "0")
        manage({**os.environ, **env, "DATABASE_URL": database_url}, "collectstatic", "--noinput", "-v", "0")
        setup_django(database_url, env)
        from django.test import Client
        from django.utils import timezone

        from apps.accounts.models import User

        day = timezone.localdate(timezone=TZ) + timedelta(days=3)
        started = time.perf_counter()
        ids = seed(day)
        say(f"seeded {ids['bookings']} bookings ({ids['bookings_day']} on {day}) in {time.perf_counter() - started:.1f} s")

        anonymous = Client()
        manager = Client()
        manager.force_login(User.objects.get(pk=ids["manager"]))
        from rest_framework_simplejwt.tokens import RefreshToken

        token = str(RefreshToken.for_user(User.objects.get(pk=ids["manager"])).access_token)
        api_manager = Client(HTTP_AUTHORIZATION=f"Bearer {token}")

        say(f"\n{args.requests} requests each, in-process, production settings; server time p50 / p95 ms")
        worst = 0.0
        for label, page_path, api_path, needs_manager in pages(ids, day):
            client = manager if needs_manager else anonymous
            page = measure(client, page_path, args.requests, api=False)
            baseline = measure(api_manager if needs_manager else anonymous, api_path, args.requests, api=True)
            assets, problems = asset_bytes(client, str(page["html"]))
            worst = max(worst, float(page["p95"]))
            say(
                f"  {label:<24} page {page['p50']:6.2f} / {page['p95']:6.2f}   ({page['queries']} statements)   "
                f"API {baseline['p50']:6.2f} / {baseline['p95']:6.2f} ({baseline['queries']})   "
                f"ratio p50 {float(page['p50']) / float(baseline['p50']):.2f}"
            )
            say(
                f"  {'':<24} first load {(int(page['bytes']) + assets) / 1000:6.1f} kB compressed "
                f"(HTML {int(page['bytes']) / 1000:.1f} kB{'' if page['gzip'] else ' NOT gzipped'} + assets "
                f"{assets / 1000:.1f} kB); next visit {int(page['bytes']) / 1000:.1f} kB"
            )
            for problem in problems:
                say(f"  {'':<24} NOT CACHED: {problem}")
        say(f"\nworst page p95: {worst:.2f} ms (aim: under 30 ms)")
    finally:
        from django.db import connections

        connections.close_all()
        drop_database(base, BENCH_DB)


if __name__ == "__main__":
    main()
