#!/usr/bin/env python3
# ruff: noqa: T201, S101, S603 - a command-line benchmark: it prints, asserts and starts the worker process
"""Benchmark: notifications stay off the request path, and how fast the worker sends them.

1. Latency: POST /api/v1/bookings (Django's test client, in-process, JWT auth) while the real worker
   (`manage.py procrastinate worker`, a separate process) sends the SMS of those bookings through the Authentica
   fake over HTTP: first with the fake answering at once, then with every send-sms answered after DELAY seconds
   (fault "timeout", read timeout above the delay, so each send succeeds slowly). Prints both and the ratio.
2. Throughput: messages per second the worker delivers at a given concurrency, with the fake instant and with the
   fake slow (a slow provider makes the worker wait, never the request).

It creates its own database (`mawid_bench_notifications`) on the server MAWID_BENCH_DATABASE_URL or DATABASE_URL names
(else the embedded PostgreSQL) and drops it at the end. Only the SMS channel is on (email would go to a local backend).

    .venv/bin/python bench/notifications.py [--bookings 60] [--concurrency 4,16] [--delay 2] [--messages 400]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from _common import (
    PY,
    bench_business,
    drop_database,
    pct,
    recreate_database,
    server_url,
    setup_django,
    start_process,
    stop_process,
)

# Its own throwaway database; set MAWID_BENCH_DB to run two copies side by side on one server.
DB_NAME = os.environ.get("MAWID_BENCH_DB", "mawid_bench_notifications")
RIYADH = ZoneInfo("Asia/Riyadh")


def summary(values: list[float]) -> str:
    return (
        f"median {statistics.median(values):6.1f} ms   p95 {pct(values, 0.95):6.1f} ms   "
        f"mean {statistics.mean(values):6.1f} ms   (n={len(values)})"
    )


class Worker:
    """The real procrastinate worker as a separate process, on the notifications queue."""

    def __init__(self, concurrency: int) -> None:
        self.concurrency = concurrency
        self.proc: subprocess.Popen | None = None

    def __enter__(self) -> Worker:
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute("SELECT coalesce(max(id), 0) FROM procrastinate_workers")
            before = cursor.fetchone()[0]
        self.proc = start_process(
            [str(PY), "manage.py", "procrastinate", "worker", "--queues", "notifications",
             "--concurrency", str(self.concurrency)],
            os.environ.copy(),
        )  # fmt: skip
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:  # ready once it has registered itself
            with connection.cursor() as cursor:
                cursor.execute("SELECT count(*) FROM procrastinate_workers WHERE id > %s", [before])
                if cursor.fetchone()[0]:
                    return self
            time.sleep(0.05)
        raise RuntimeError("the worker did not start")

    def __exit__(self, *exc: object) -> None:
        if self.proc is not None:
            stop_process(self.proc, timeout=30)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bookings", type=int, default=60, help="bookings per latency phase (0: skip it)")
    parser.add_argument("--delay", type=float, default=2.0, help="seconds the slow fake takes per send-sms")
    parser.add_argument("--messages", type=int, default=400, help="messages for the instant-provider throughput")
    parser.add_argument(
        "--concurrency",
        default="",
        help="worker concurrencies to measure, e.g. 4,16 (default: MAWID_WORKER_CONCURRENCY, then 16)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the benchmark database")
    args = parser.parse_args()

    from apps.accounts.providers.fake import AuthenticaFake

    fake = AuthenticaFake(send_cap_per_window=None, balance=10**9).start()
    url = server_url()
    setup_django(
        recreate_database(url, DB_NAME),
        {
            "DJANGO_SETTINGS_MODULE": "config.settings.development",
            "DJANGO_DEBUG": "0",
            "AUTHENTICA_BASE_URL": fake.base_url,
            "AUTHENTICA_API_KEY": fake.api_key,
            "AUTHENTICA_READ_TIMEOUT": str(max(5.0, args.delay + 3)),  # above the delay: slow sends succeed
            "MAWID_NOTIFY_CHANNELS": "sms",
            "MAWID_EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
            "MAWID_LOG_LEVEL": "ERROR",
            "MAWID_PROCRASTINATE_LOG_LEVEL": "ERROR",
            "MAWID_BOOKINGS_MAX_PER_CUSTOMER_PER_HOUR": "1000000",  # 10 customers make every booking of the run
            # persistent connections, as production.py sets
            "MAWID_DB_CONN_MAX_AGE": os.environ.get("MAWID_DB_CONN_MAX_AGE", "60"),
            "MAWID_DOTENV": "off",  # what is measured is set here, not in a developer's backend/.env
        },
    )
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.db.models import Max, Min
    from django.utils import timezone
    from rest_framework.test import APIClient
    from rest_framework_simplejwt.tokens import RefreshToken

    from apps.accounts.models import User
    from apps.bookings.models import Booking
    from apps.catalog.models import Service, Staff, WorkingHours
    from apps.notifications.models import Notification, NotificationAttempt
    from apps.notifications.services import Plan, notifications_create

    default_concurrency = settings.PROCRASTINATE_WORKER_DEFAULTS["concurrency"]
    concurrencies = [int(c) for c in args.concurrency.split(",") if c] or sorted({default_concurrency, 16})
    try:
        call_command("migrate", verbosity=0)
        business, branch = bench_business(
            timezone="Asia/Riyadh",
            require_payment=False,
            max_advance_days=365,
            min_notice_minutes=60,
            slot_step_minutes=15,
            max_upcoming_per_customer=10_000,
        )
        service = Service.objects.create(
            business=business, name_en="Haircut", name_ar="قص شعر", duration_minutes=30, price_amount=15000
        )
        staff_user = User.objects.create_user(phone="+966500000100", name="Noura", role=User.Role.STAFF, language="en")
        staff = Staff.objects.create(business=business, branch=branch, user=staff_user, display_name="Noura")
        staff.services.add(service)
        WorkingHours.objects.bulk_create(
            WorkingHours(business=business, staff=staff, weekday=d, start_time="08:00", end_time="22:00")
            for d in range(7)
        )
        customers = [
            User.objects.create_user(phone=f"+9665010{i:05d}", name=f"Customer {i}", language="ar" if i % 2 else "en")
            for i in range(10)
        ]
        clients = []
        for customer in customers:
            client = APIClient()
            client.credentials(HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(customer).access_token}")
            clients.append(client)
        today = datetime.now(RIYADH).date()
        slots = (
            datetime(d.year, d.month, d.day, h, m, tzinfo=RIYADH)
            for d in (today + timedelta(days=n) for n in range(2, 365))
            for h in range(8, 22)
            for m in (0, 30)
        )

        def post_bookings(n: int) -> list[float]:
            timings = []
            for i in range(n):
                body = {"staff": staff.pk, "service": service.pk, "start": next(slots).isoformat()}
                started = time.perf_counter()
                response = clients[i % len(clients)].post("/api/v1/bookings", body, format="json")
                timings.append((time.perf_counter() - started) * 1000)
                assert response.status_code == 201, response.content
            return timings

        def sent() -> int:
            return Notification.objects.filter(status="sent").count()

        print(
            f"# Mawid notifications benchmark  ({time.strftime('%Y-%m-%d %H:%M:%S')}, PostgreSQL {connection.pg_version})"
        )
        print(
            f"SMS through the Authentica fake at {fake.base_url} (real HTTP); client read timeout "
            f"{settings.AUTHENTICA_READ_TIMEOUT:.0f} s; worker concurrency setting "
            f"MAWID_WORKER_CONCURRENCY={default_concurrency}; {os.cpu_count()} CPUs; "
            f"MAWID_DB_CONN_MAX_AGE={settings.DATABASES['default']['CONN_MAX_AGE']}"
        )

        # 1. Latency of POST /bookings while the worker sends, provider instant vs provider slow.
        post_bookings(5)  # warm-up (imports, caches, connections), not measured
        if args.bookings:  # 0: only the throughput phase
            instant: list[float] = []
            slow: list[float] = []
            with Worker(default_concurrency):
                # Alternate blocks of 10 so that drift (caches, table growth, the worker's backlog) hits both alike.
                for done in range(0, args.bookings, 10):
                    block = min(10, args.bookings - done)
                    fake.clear_faults()
                    instant += post_bookings(block)
                    fake.set_faults("timeout", count=None, endpoint="send-sms", delay=args.delay)
                    slow += post_bookings(block)
                backlog = Notification.objects.filter(status__in=["pending", "sending"], scheduled_for__isnull=True).count()
            fake.clear_faults()
            print()
            print(
                f"## POST /api/v1/bookings latency (worker running, concurrency {default_concurrency}; "
                "blocks of 10 alternating)"
            )
            print(f"provider instant        : {summary(instant)}")
            print(f"provider {args.delay:.0f} s per SMS   : {summary(slow)}")
            print(
                f"ratio slow/instant      : median {statistics.median(slow) / statistics.median(instant):.2f}   "
                f"p95 {pct(slow, 0.95) / pct(instant, 0.95):.2f}"
            )
            print(
                f"(each booking commits 3 notification rows + 3 jobs: confirmation, 2 reminders — days ahead, the staff "
                f"member hears in that day's agenda; "
                f"{backlog} immediate messages were still queued behind the slow provider when the requests ended)"
            )
        with connection.cursor() as cursor:  # leave the latency phase's backlog out of the throughput phase
            cursor.execute("DELETE FROM procrastinate_jobs WHERE status IN ('todo', 'doing')")
        Notification.objects.filter(status__in=["pending", "sending"]).update(status="cancelled")
        assert Booking.objects.count() == 2 * args.bookings + 5

        # 2. Worker throughput.
        booking = Booking.objects.order_by("pk").first()
        batch = 0

        def enqueue(n: int) -> None:
            nonlocal batch
            batch += 1
            with transaction.atomic():
                notifications_create(
                    plans=[
                        Plan(
                            "payment_receipt",
                            customers[i % len(customers)],
                            f"bench:{batch}:{i}",
                            booking.pk,
                            {"amount": {"amount": 15000, "currency": "SAR"}},
                        )
                        for i in range(n)
                    ]
                )

        def throughput(n: int, concurrency: int) -> tuple[float, float, float]:
            """(msg/s from the first provider call to the last message recorded sent, seconds from the commit to
            the first provider call, seconds from the commit to the last message recorded sent)."""
            with Worker(concurrency):
                time.sleep(1.0)  # let it finish starting (LISTEN), so the batch is not found by a later poll
                first_id = (Notification.objects.order_by("-pk").values_list("pk", flat=True).first() or 0) + 1
                enqueue(n)
                committed = timezone.now()
                started = time.perf_counter()
                batch_rows = Notification.objects.filter(pk__gte=first_id)
                while batch_rows.filter(status="sent").count() < n:
                    if time.perf_counter() - started > 600:
                        raise RuntimeError("the worker did not finish in 10 minutes")
                    time.sleep(0.02)
            first_call = NotificationAttempt.objects.filter(notification_id__gte=first_id).aggregate(
                t=Min("started_at")
            )["t"]
            last_sent = batch_rows.aggregate(t=Max("sent_at"))["t"]
            return (
                n / (last_sent - first_call).total_seconds(),
                (first_call - committed).total_seconds(),
                (last_sent - committed).total_seconds(),
            )

        print()
        print("## Worker throughput (messages per second, first provider call to last message recorded `sent`)")
        for concurrency in concurrencies:
            rate, first, wall = throughput(args.messages, concurrency)
            print(
                f"concurrency {concurrency:>3}, provider instant        : {rate:7.1f} msg/s  ({args.messages} SMS; "
                f"commit to first send {first:.2f} s, to last {wall:.1f} s)"
            )
        fake.set_faults("timeout", count=None, endpoint="send-sms", delay=args.delay)
        for concurrency in concurrencies:
            n = max(20, concurrency * 5)
            rate, first, wall = throughput(n, concurrency)
            print(
                f"concurrency {concurrency:>3}, provider {args.delay:.0f} s per SMS   : {rate:7.2f} msg/s  ({n} SMS; "
                f"commit to first send {first:.2f} s, to last {wall:.1f} s; "
                f"bound: concurrency / delay = {concurrency / args.delay:.2f})"
            )
        fake.clear_faults()
        delivered = len(fake.messages())
        recorded = Notification.objects.filter(status="sent").count()
        print()
        print(
            f"SMS received by the fake: {delivered}; notifications recorded sent: {recorded}"
            f"{'  (every message exactly once)' if delivered == recorded else '  MISMATCH'}"
        )
    finally:
        from django.db import connections

        connections.close_all()
        fake.stop()
        if not args.keep:
            drop_database(url, DB_NAME)
    return 0


if __name__ == "__main__":
    sys.exit(main())
