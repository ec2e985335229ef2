# ruff: noqa: T201, S101, S311, S603, S607
# (backend/pyproject.toml ignores these for "bench/**", a glob relative to backend/ that misses ../bench.)
"""Payments benchmark: latency of `POST /api/v1/bookings/ID/pay` and of `POST /api/v1/webhooks/moyasar` with the
Moyasar fake answering at once, and the webhook endpoint's throughput.

    .venv/bin/python bench/payments.py [--pays 300] [--webhooks 500] [--seconds 10] [--workers 3] [--clients 8]
                                       [--keep-db]

It creates its own database (`mawid_bench_payments`) on the server MAWID_BENCH_DATABASE_URL or DATABASE_URL names (else
the embedded PostgreSQL), migrates and fills it, starts the Moyasar fake in this process (no delays, no faults,
webhooks off) and gunicorn the way production runs it (`config.wsgi`, production settings, sync workers,
persistent database connections), measures, and drops the database at the end, even on failure. No job worker
runs: the numbers are the requests alone (the webhook's work happens later in a job).

  (a) POST /pay with a Moyasar token, one request at a time (after a warm-up): the full record-then-call path
      (booking lock, payment row committed, the create at Moyasar over loopback HTTP, the outcome in a second
      transaction; the answer is `initiated` with a 3-D Secure URL). Median and p95 in ms.
  (b) The webhook endpoint, one request at a time: secret check, one INSERT ... ON CONFLICT, the job deferred in
      the same transaction. Median and p95 in ms. Payloads are Moyasar events for the payments made in (a), each
      with its own event id.
  (c) The webhook endpoint's throughput: `--clients` threads posting distinct events for `--seconds`; events/s,
      the status counts, and a check that every event was stored exactly once with one job each.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import secrets
import subprocess
import threading
import time
import uuid
from collections import Counter
from datetime import datetime, timedelta
from datetime import time as dtime
from zoneinfo import ZoneInfo

from _common import (
    BACKEND,
    bench_business,
    connect_params,
    drop_database,
    free_port,
    pct,
    recreate_database,
    server_url,
    setup_django,
    start_gunicorn,
    stop_process,
)

BENCH_DB = "mawid_bench_payments"
TZ = ZoneInfo("Asia/Riyadh")
STAFF = 20
WEBHOOK_SECRET = "bench-webhook-secret"  # noqa: S105 - a throwaway value for the fake and the app

BENCH_ENV = {
    "DJANGO_SETTINGS_MODULE": "config.settings.production",
    "DJANGO_SECRET_KEY": secrets.token_urlsafe(64),
    "DJANGO_SECURE_SSL_REDIRECT": "0",
    "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
    "MAWID_ALLOW_FAKE_PROVIDERS": "1",  # production settings, loopback fakes
    "MAWID_LOG_LEVEL": "ERROR",
    "MAWID_DB_CONN_MAX_AGE": "60",
    "MAWID_DOTENV": "off",  # what is measured is set here, not in a developer's backend/.env
    "MOYASAR_WEBHOOK_SECRET": WEBHOOK_SECRET,
    "MOYASAR_LIVE": "0",
    "MAWID_PAYMENTS_CALLBACK_URL": "http://127.0.0.1/payments/return",
}


# --- data -----------------------------------------------------------------------------------------------


def seed(bookings: int) -> list[tuple[int, str]]:
    """`bookings` pending bookings, each of its own customer, at distinct times: [(booking id, access token)]."""
    from django.db import transaction
    from django.utils import timezone
    from rest_framework_simplejwt.tokens import AccessToken

    from apps.accounts.models import User
    from apps.bookings.models import Booking
    from apps.catalog.models import Service, Staff

    now = timezone.now()
    with transaction.atomic():
        business, branch = bench_business(require_payment=True, hold_minutes=120)
        service = Service.objects.create(
            business=business, name_en="Haircut", name_ar="قص الشعر", duration_minutes=30, price_amount=15000
        )
        staff = []
        for n in range(STAFF):
            user = User.objects.create_user(phone=f"+9665{10000000 + n:08d}", name=f"Staff {n}", role=User.Role.STAFF)
            member = Staff.objects.create(business=business, branch=branch, user=user, display_name=f"Staff {n}")
            member.services.add(service)
            staff.append(member)
        customers = [
            User.objects.create_user(phone=f"+9665{30000000 + n:08d}", name=f"Customer {n}") for n in range(bookings)
        ]
        first_day = now.astimezone(TZ).date() + timedelta(days=2)
        rows = []
        for n, customer in enumerate(customers):
            member = staff[n % STAFF]
            slot = n // STAFF
            start = datetime.combine(first_day + timedelta(days=slot // 20), dtime(9), tzinfo=TZ) + timedelta(
                minutes=30 * (slot % 20)
            )
            rows.append(
                Booking(
                    business=business, branch=branch, customer=customer, staff=member, service=service, status=Booking.Status.PENDING_PAYMENT,
                    start=start, end=start + timedelta(minutes=30), busy_start=start,
                    busy_end=start + timedelta(minutes=30), price_amount=15000, price_net=15000, price_vat=0, currency="SAR",
                    hold_expires_at=now + timedelta(hours=2),
                )
            )  # fmt: skip
        created = Booking.objects.bulk_create(rows)
    return [(booking.pk, str(AccessToken.for_user(booking.customer))) for booking in created]


# --- HTTP -----------------------------------------------------------------------------------------------


def post(port: int, path: str, body: dict, token: str | None = None) -> tuple[int, dict]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    try:
        conn.request("POST", path, body=json.dumps(body), headers=headers)
        response = conn.getresponse()
        raw = response.read()
        try:
            return response.status, json.loads(raw) if raw else {}
        except ValueError:
            return response.status, {}
    finally:
        conn.close()


def start_server(port: int, workers: int, database_url: str, fake) -> subprocess.Popen:
    env = {
        **os.environ, **BENCH_ENV, "DATABASE_URL": database_url, "PYTHONPATH": str(BACKEND),
        "MOYASAR_BASE_URL": fake.api_url, "MOYASAR_SECRET_KEY": fake.secret_key,
        "MOYASAR_PUBLISHABLE_KEY": fake.publishable_key,
    }  # fmt: skip
    args = [
        "config.wsgi:application",
        "--bind", f"127.0.0.1:{port}", "--workers", str(workers), "--worker-class", "sync",
        "--backlog", "2048", "--chdir", str(BACKEND), "--log-level", "warning",
    ]  # fmt: skip
    return start_gunicorn(args, env, port)


def summary(name: str, latencies: list[float]) -> str:
    return (
        f"{name}: n={len(latencies)}  median {pct(latencies, 0.5):6.1f} ms  p95 {pct(latencies, 0.95):6.1f} ms  "
        f"max {max(latencies):6.1f} ms"
    )


# --- the measurements -----------------------------------------------------------------------------------


def run_pays(port: int, fake, bookings: list[tuple[int, str]], warmup: int) -> tuple[list[float], Counter[int]]:
    latencies: list[float] = []
    statuses: Counter[int] = Counter()
    for n, (booking_id, token) in enumerate(bookings):
        card = fake.create_token(number="4111111111111111", save_only=True)["id"]  # the app's job, not ours
        started = time.perf_counter()
        status, body = post(port, f"/api/v1/bookings/{booking_id}/pay", {"source": {"type": "token", "token": card}},
                            token)  # fmt: skip
        elapsed = (time.perf_counter() - started) * 1000
        if status != 201 or body.get("status") != "initiated":
            raise RuntimeError(f"POST /pay answered {status}: {body}")
        statuses[status] += 1
        if n >= warmup:
            latencies.append(elapsed)
    return latencies, statuses


def event_for(payment: dict) -> dict:
    data = {key: value for key, value in payment.items() if key != "_fake"}
    return {
        "id": str(uuid.uuid4()), "type": "payment_authorized", "created_at": data["updated_at"],
        "secret_token": WEBHOOK_SECRET, "account_name": "Mawid", "live": False, "data": data,
    }  # fmt: skip


def run_webhook_latency(port: int, payments: list[dict], count: int, warmup: int) -> list[float]:
    latencies = []
    for n in range(count + warmup):
        event = event_for(payments[n % len(payments)])
        started = time.perf_counter()
        status, _ = post(port, "/api/v1/webhooks/moyasar", event)
        elapsed = (time.perf_counter() - started) * 1000
        if status != 200:
            raise RuntimeError(f"the webhook answered {status}")
        if n >= warmup:
            latencies.append(elapsed)
    return latencies


def run_webhook_throughput(port: int, payments: list[dict], *, clients: int, seconds: float) -> dict:
    lock = threading.Lock()
    counts: Counter[str] = Counter()
    stop_at = time.monotonic() + seconds

    def client(n: int) -> None:
        i = n
        while time.monotonic() < stop_at:
            status, _ = post(port, "/api/v1/webhooks/moyasar", event_for(payments[i % len(payments)]))
            i += clients
            with lock:
                counts[str(status)] += 1

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    return {"per_second": counts["200"] / elapsed, "counts": dict(counts), "seconds": elapsed}


def stored(database_url: str) -> tuple[int, int]:
    import psycopg

    with psycopg.connect(**connect_params(database_url)) as conn:
        events = conn.execute("SELECT count(*) FROM payments_webhookevent").fetchone()[0]
        jobs = conn.execute(
            "SELECT count(*) FROM procrastinate_jobs WHERE task_name = 'apps.payments.jobs.payment_webhook_process'"
        ).fetchone()[0]
    return events, jobs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pays", type=int, default=300, help="measured POST /pay requests (a)")
    parser.add_argument("--webhooks", type=int, default=500, help="measured sequential webhook requests (b)")
    parser.add_argument("--warmup", type=int, default=20, help="unmeasured requests before (a) and (b)")
    parser.add_argument("--seconds", type=float, default=10.0, help="duration of the throughput run (c)")
    parser.add_argument("--workers", type=int, default=3, help="gunicorn sync workers")
    parser.add_argument("--clients", type=int, default=8, help="client threads for (c)")
    parser.add_argument("--keep-db", action="store_true", help="leave the bench database behind")
    args = parser.parse_args()

    base_url = server_url()
    bench_url = recreate_database(base_url, BENCH_DB)
    server = None
    fake = None
    try:
        setup_django(bench_url, BENCH_ENV)
        from django.core.management import call_command
        from django.db import connections

        from apps.payments.providers.fake import MoyasarFake

        call_command("migrate", verbosity=0)
        bookings = seed(args.pays + args.warmup)
        connections.close_all()
        fake = MoyasarFake(host="127.0.0.1", port=0, webhook_url=None, webhook_secret=WEBHOOK_SECRET).start()
        port = free_port()
        server = start_server(port, args.workers, bench_url, fake)
        print(
            f"bench database {BENCH_DB}; {os.cpu_count()} CPUs; gunicorn {args.workers} sync workers; "
            f"Moyasar fake at {fake.api_url} (answers at once)"
        )

        pay_latencies, _ = run_pays(port, fake, bookings, args.warmup)
        print(summary("(a) POST /pay (token, 3-D Secure pending)", pay_latencies))

        payments = fake.payments()
        hook_latencies = run_webhook_latency(port, payments, args.webhooks, args.warmup)
        print(summary("(b) POST /webhooks/moyasar            ", hook_latencies))

        before, _ = stored(bench_url)
        result = run_webhook_throughput(port, payments, clients=args.clients, seconds=args.seconds)
        events, jobs = stored(bench_url)
        print(
            f"(c) webhook throughput: {result['per_second']:.0f} events/s with {args.clients} clients over "
            f"{result['seconds']:.1f} s; statuses {result['counts']}; stored {events - before} new events "
            f"({events} in all, {jobs} processing jobs: one each)"
        )
        if not events == jobs == before + result["counts"].get("200", 0):
            raise RuntimeError("every accepted event must be stored once, with one job")
    finally:
        if server is not None:
            stop_process(server)
        if fake is not None:
            fake.stop()
        try:
            from django.db import connections

            connections.close_all()
        except Exception:  # noqa: BLE001, S110 - Django may not be set up yet
            pass
        if not args.keep_db:
            drop_database(base_url, BENCH_DB)


if __name__ == "__main__":
    main()
