# ruff: noqa: T201, S101
# (backend/pyproject.toml ignores these for "bench/**", a glob relative to backend/ that misses ../bench.)
"""Waitlist benchmark: what the offer job costs a busy business with a long line.

    .venv/bin/python bench/waitlist.py [--waiting 500] [--staff 10] [--days 14] [--runs 30] [--keep]

It creates its own database (`mawid_bench_waitlist`) on the server MAWID_BENCH_DATABASE_URL or DATABASE_URL names
(else the embedded PostgreSQL), migrates it, fills it, measures in this process, and drops it at the end.

Data: `--staff` staff members offering one 30-minute service, working 09:00-17:00 every day, fully booked for the
next `--days` days (16 bookings a day each), and `--waiting` customers in line, each for a 2-hour window on one or
two of those days, a third of them for a named staff member, the rest for anyone.

  (a) baseline: `slot_list_any_staff_range` for the service over the line's days (what the offer job and the
      booking pages compute to find free times), p50/p95 in ms;
  (b) `waitlist_offer_free_slots` when nothing is free (what the 5-minute sweep costs a business whose line waits
      in vain: the common case), p50/p95, its SQL statements, and the ratio to (a);
  (c) one booking cancelled, then `waitlist_offer_free_slots`: the freed time offered to the first in line who
      fits (the hold made through `booking_create` under the staff lock), p50/p95 and its statements.
"""

from __future__ import annotations

import argparse
import random
import time
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from _common import IN_PROCESS_ENV, bench_business, drop_database, pct, recreate_database, say, server_url, setup_django

DB_NAME = "mawid_bench_waitlist"
TZ = ZoneInfo("Asia/Riyadh")
PRICE = 10000
OPEN, CLOSE = 9 * 60, 17 * 60  # minutes of the local day


def seed(*, staff_count: int, days: int, waiting: int, today: date) -> dict[str, object]:
    from django.db import transaction
    from django.utils import timezone

    from apps.accounts.models import User
    from apps.bookings.models import Booking
    from apps.catalog.models import Service, Staff, WorkingHours
    from apps.waitlist.models import WaitlistEntry

    rng = random.Random(20261204)  # noqa: S311 - deterministic data, not security
    with transaction.atomic():
        business, branch = bench_business(
            timezone="Asia/Riyadh", slot_step_minutes=30, min_notice_minutes=60, max_advance_days=60,
            require_payment=False, max_pending_per_customer=3,
        )  # fmt: skip
        service = Service.objects.create(
            business=business, name_en="Haircut", name_ar="قص الشعر", duration_minutes=30, price_amount=PRICE
        )
        booker = User.objects.create_user(phone="+966509990000", name="Bench booker")
        staff: list[Staff] = []
        for n in range(staff_count):
            user = User.objects.create_user(phone=f"+96655{n:07d}", name=f"Staff {n}", role=User.Role.STAFF)
            member = Staff.objects.create(
                business=business, branch=branch, user=user, display_name=f"Staff {n}", display_order=n
            )
            member.services.add(service)
            WorkingHours.objects.bulk_create(
                WorkingHours(business=business, staff=member, weekday=d, start_time="09:00", end_time="17:00")
                for d in range(7)
            )
            staff.append(member)
        first_day = today + timedelta(days=1)
        rows = []
        for member in staff:
            for d in range(days):
                day = first_day + timedelta(days=d)
                for minute in range(OPEN, CLOSE, 30):
                    start = datetime.combine(day, datetime.min.time(), tzinfo=TZ) + timedelta(minutes=minute)
                    booking = Booking(
                        business=business, branch=branch, customer=booker, staff=member, service=service,
                        start=start, end=start + timedelta(minutes=30), busy_start=start,
                        busy_end=start + timedelta(minutes=30), status=Booking.Status.CONFIRMED, currency="SAR",
                    )  # fmt: skip
                    booking.set_price(PRICE, business)
                    rows.append(booking)
        Booking.objects.bulk_create(rows, batch_size=1000)
        customers = User.objects.bulk_create(
            User(phone=f"+96656{n:07d}", name=f"Waiting {n}", password="!") for n in range(waiting)
        )
        now = timezone.now()
        entries = []
        for n, customer in enumerate(customers):
            day = first_day + timedelta(days=rng.randrange(days))
            hour = rng.randrange(9, 15)
            entries.append(
                WaitlistEntry(
                    business=business,
                    customer=customer,
                    service=service,
                    staff=staff[rng.randrange(staff_count)] if n % 3 == 0 else None,
                    date_from=day,
                    date_to=min(day + timedelta(days=rng.randrange(2)), first_day + timedelta(days=days - 1)),
                    time_from=f"{hour:02d}:00",
                    time_to=f"{hour + 2:02d}:00",
                    created_at=now - timedelta(seconds=waiting - n),
                )  # fmt: skip
            )
        WaitlistEntry.objects.bulk_create(entries)
    return {
        "business": business,
        "service": service,
        "first_day": first_day,
        "last_day": first_day + timedelta(days=days - 1),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--waiting", type=int, default=500, help="customers in line")
    parser.add_argument("--staff", type=int, default=10, help="staff members, all fully booked")
    parser.add_argument("--days", type=int, default=14, help="days booked solid and waited for")
    parser.add_argument("--runs", type=int, default=30, help="measurements per phase")
    parser.add_argument("--keep", action="store_true", help="keep the benchmark database")
    args = parser.parse_args()

    url = server_url()
    setup_django(recreate_database(url, DB_NAME), IN_PROCESS_ENV)
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from apps.bookings.models import Booking
    from apps.catalog.selectors import slot_list_any_staff_range
    from apps.waitlist.models import WaitlistOffer
    from apps.waitlist.services import waitlist_offer_free_slots

    try:
        call_command("migrate", "--noinput", "-v", "0")
        today = timezone.localdate(timezone.now(), TZ)
        data = seed(staff_count=args.staff, days=args.days, waiting=args.waiting, today=today)
        business, service = data["business"], data["service"]
        say(
            f"waitlist bench: {args.waiting} waiting, {args.staff} staff booked solid for {args.days} days "
            f"({Booking.objects.count()} bookings), PostgreSQL {url}"
        )

        baseline = []
        for _ in range(args.runs):
            began = time.perf_counter()
            found = slot_list_any_staff_range(
                service=service,
                date_from=data["first_day"],
                date_to=data["last_day"],  # type: ignore[arg-type]
            )
            baseline.append((time.perf_counter() - began) * 1000)
        assert found == [], "the calendar is meant to be full"

        idle, idle_queries = [], 0
        for _ in range(args.runs):
            began = time.perf_counter()
            with CaptureQueriesContext(connection) as queries:
                made = waitlist_offer_free_slots(business_id=business.pk)  # type: ignore[attr-defined]
            idle.append((time.perf_counter() - began) * 1000)
            idle_queries = len(queries)
            assert made == []

        freeing = list(
            Booking.objects.filter(business=business, status=Booking.Status.CONFIRMED)  # type: ignore[misc]
            .order_by("?")
            .values_list("pk", flat=True)[: args.runs]
        )
        offering, offer_queries, offers = [], [], 0
        for booking_id in freeing:
            with transaction.atomic():  # the cancellation, as its own transaction (its event would defer the job)
                Booking.objects.filter(pk=booking_id).update(status=Booking.Status.CANCELLED)
            began = time.perf_counter()
            with CaptureQueriesContext(connection) as queries:
                made = waitlist_offer_free_slots(business_id=business.pk)  # type: ignore[attr-defined]
            offering.append((time.perf_counter() - began) * 1000)
            offer_queries.append(len(queries))
            offers += len(made)
        live = WaitlistOffer.objects.filter(status=WaitlistOffer.Status.OFFERED).count()

        b50, b95 = pct(baseline, 0.5), pct(baseline, 0.95)
        i50, i95 = pct(idle, 0.5), pct(idle, 0.95)
        o50, o95 = pct(offering, 0.5), pct(offering, 0.95)
        say(f"(a) free times of the service over {args.days} days (any staff):  p50 {b50:7.2f} ms  p95 {b95:7.2f} ms")
        say(f"(b) offer job, nothing free:                          p50 {i50:7.2f} ms  p95 {i95:7.2f} ms"
            f"  ({i50 / b50:.1f}x / {i95 / b95:.1f}x the baseline; {idle_queries} statements)")  # fmt: skip
        say(f"(c) one time freed, offer job:                        p50 {o50:7.2f} ms  p95 {o95:7.2f} ms"
            f"  ({o50 / b50:.1f}x the baseline; {min(offer_queries)}-{max(offer_queries)} statements); "
            f"{offers} offers for {len(freeing)} freed times, {live} live")  # fmt: skip
        return 0
    finally:
        connection.close()
        if not args.keep:
            drop_database(url, DB_NAME)


if __name__ == "__main__":
    raise SystemExit(main())
