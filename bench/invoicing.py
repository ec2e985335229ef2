# ruff: noqa: T201, S101
# (backend/pyproject.toml ignores these for "bench/**", a glob relative to backend/ that misses ../bench.)
"""Invoicing benchmark: what a ZATCA simplified tax invoice costs the sale that issues it.

    .venv/bin/python bench/invoicing.py [--sales 300] [--threads 4] [--keep]

It creates its own database (`mawid_bench_invoicing`) on the server MAWID_BENCH_DATABASE_URL or DATABASE_URL names
(else the embedded PostgreSQL), migrates it, makes a VAT-registered business with its tax profile and `--sales`
completed bookings, measures in this process, and drops the database at the end.

  (a) baseline: one transaction that takes the business's invoice series row with SELECT ... FOR UPDATE and moves
      its counters (what numbering alone costs: the lock and one UPDATE), one sale at a time;
  (b) `invoicing.services.invoice_issue` for one sale at a time: the lock, the gap-free number, the UBL 2.1 XML, its
      C14N hash, the QR (TLV, base64), the row and its reporting job, committed. p50/p95 in ms and the ratio to (a);
  (c) `--threads` threads issuing for the same business at once (they queue on the series lock: the chain is one
      line per business): invoices per second, and a check that the numbers and the hash chain are unbroken.
"""

from __future__ import annotations

import argparse
import threading
import time
from datetime import timedelta

from _common import IN_PROCESS_ENV, drop_database, pct, recreate_database, say, server_url, setup_django

DB_NAME = "mawid_bench_invoicing"
PRICE = 11500  # 100.00 + 15.00 VAT


def seed(sales: int) -> list[int]:
    from django.utils import timezone

    from apps.accounts.models import User
    from apps.bookings.models import Booking
    from apps.catalog.models import Business, Service, Staff
    from apps.catalog.tests.factories import BranchFactory, BusinessFactory, ServiceFactory, StaffFactory
    from apps.invoicing.models import TaxProfile

    business: Business = BusinessFactory.create(slug="bench-vat", vat_number="310122393500003")
    TaxProfile.objects.create(
        business=business, legal_name_ar="صالون القياس", street="King Fahd Road", building_number="1234",
        district="Al Olaya", city="Riyadh", postal_code="12214",
    )  # fmt: skip
    branch = BranchFactory.create(business=business)
    service: Service = ServiceFactory.create(business=business, price_amount=PRICE, duration_minutes=30)
    staff: Staff = StaffFactory.create(business=business, branch=branch, services=[service])
    customer = User.objects.create_user(phone="+966559990001", name="Bench customer")
    start = timezone.now() - timedelta(days=2)
    rows = []
    for n in range(sales):
        at = start - timedelta(minutes=30 * n)
        booking = Booking(
            business=business, branch=branch, customer=customer, staff=staff, service=service, start=at,
            end=at + timedelta(minutes=30), busy_start=at, busy_end=at + timedelta(minutes=30),
            status=Booking.Status.COMPLETED, currency="SAR",
        )  # fmt: skip
        booking.set_price(PRICE, business)
        rows.append(booking)
    return [b.pk for b in Booking.objects.bulk_create(rows)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sales", type=int, default=300, help="sales per phase")
    parser.add_argument("--threads", type=int, default=4, help="threads issuing at once in (c)")
    parser.add_argument("--keep", action="store_true", help="keep the benchmark database")
    args = parser.parse_args()

    url = server_url()
    setup_django(recreate_database(url, DB_NAME), IN_PROCESS_ENV)
    from django.core.management import call_command
    from django.db import close_old_connections, connection, transaction

    from apps.core.scoping import platform
    from apps.invoicing.models import Invoice, InvoiceSeries
    from apps.invoicing.services import invoice_issue

    try:
        call_command("migrate", "--noinput", "-v", "0")
        ids = seed(3 * args.sales)
        business_id = Invoice._meta.apps.get_model("catalog", "Business").objects.get(slug="bench-vat").pk
        invoice_issue(booking_id=ids[0], gross=PRICE, means="card")  # the series row exists from here on
        say(f"invoicing bench: {args.sales} sales per phase, one VAT-registered business, PostgreSQL {url}")

        baseline = []
        for _ in range(args.sales):
            began = time.perf_counter()
            with transaction.atomic():
                series = InvoiceSeries.objects.select_for_update().get(business_id=business_id)
                InvoiceSeries.objects.filter(pk=series.pk).update(last_icv=series.last_icv)
            baseline.append((time.perf_counter() - began) * 1000)

        issued = []
        for booking_id in ids[1 : args.sales + 1]:
            began = time.perf_counter()
            with transaction.atomic():
                invoice_issue(booking_id=booking_id, gross=PRICE, means="card")
            issued.append((time.perf_counter() - began) * 1000)

        queue = list(ids[args.sales + 1 :])
        lock = threading.Lock()
        failures: list[BaseException] = []

        def worker() -> None:
            try:
                with platform():  # a new thread starts without the script's platform scope
                    while True:
                        with lock:
                            if not queue:
                                return
                            booking_id = queue.pop()
                        with transaction.atomic():
                            invoice_issue(booking_id=booking_id, gross=PRICE, means="card")
            except BaseException as exc:  # noqa: BLE001 - reported below, the run fails
                failures.append(exc)
            finally:
                close_old_connections()
                connection.close()

        threads = [threading.Thread(target=worker) for _ in range(args.threads)]
        began = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.perf_counter() - began
        if failures:
            raise failures[0]
        concurrent = len(ids) - args.sales - 1

        chain = list(
            Invoice.objects.filter(business_id=business_id)
            .order_by("icv")
            .values_list("icv", "previous_hash", "invoice_hash")
        )
        assert [icv for icv, _, _ in chain] == list(range(1, len(chain) + 1)), "ICV gap"
        assert all(chain[i][1] == chain[i - 1][2] for i in range(1, len(chain))), "broken hash chain"

        b50, b95 = pct(baseline, 0.5), pct(baseline, 0.95)
        i50, i95 = pct(issued, 0.5), pct(issued, 0.95)
        say(f"(a) numbering alone (lock + UPDATE), one at a time:  p50 {b50:6.2f} ms  p95 {b95:6.2f} ms")
        say(f"(b) invoice_issue, one at a time:                    p50 {i50:6.2f} ms  p95 {i95:6.2f} ms"
            f"  ({i50 / b50:.1f}x / {i95 / b95:.1f}x the baseline)")  # fmt: skip
        say(f"(c) {args.threads} threads, one business: {concurrent / elapsed:6.1f} invoices/s "
            f"({concurrent} in {elapsed:.2f} s); {len(chain)} invoices, ICV 1..{len(chain)} unbroken, chain intact")  # fmt: skip
        return 0
    finally:
        connection.close()
        if not args.keep:
            drop_database(url, DB_NAME)


if __name__ == "__main__":
    raise SystemExit(main())
