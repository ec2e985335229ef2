# ruff: noqa: T201, S101, S311, S603, S607
# (backend/pyproject.toml ignores these for "bench/**", a glob relative to backend/ that misses ../bench.)
"""Bookings benchmark: how many bookings per second the API makes, against a raw-SQL ceiling, and how it answers
50 simultaneous requests for one slot.

    .venv/bin/python bench/bookings.py [--seconds 5] [--reps 3] [--workers 4] [--threads 4] [--clients 8]
                                       [--rounds 5] [--keep-db]

It creates its own database (`mawid_bench_bookings`) on the server the settings point at (DATABASE_URL, or the
embedded PostgreSQL), migrates and fills it, starts gunicorn the way the Procfile's `web` runs it
(`gunicorn -c config/gunicorn.conf.py`: `config.wsgi`, gthread workers, production settings, persistent database
connections, DATABASE_URL pointing at the bench database), measures, and drops the database at the end, even on
failure.

Data: 50 staff members working 08:00-22:00 every day, one 30-minute service, a 30-minute slot step, payment
required (bookings are `pending_payment` with a hold, the realistic path: customer row lock, pending count,
staff row lock, every availability rule, insert, audit row, events), 600 customers.

  (a) API: `--clients` keep-alive connections POST /api/v1/bookings for distinct free slots, taken round-robin
      over the staff so that concurrent requests rarely share a staff member; bookings/s.
  (b) Ceiling: the same pattern in raw SQL with psycopg (BEGIN; lock the staff row; overlap check; INSERT;
      COMMIT), `--workers` processes (the server's process count), each with one connection.
      (a) and (b) alternate in `--reps` slices of `--seconds` each, so other load on the machine weighs on both.
  (c) a / b.
  (d) Contention: 50 requests for one slot released together (threading.Barrier), `--rounds` times: time until
      all have answered, and the count of 201 / 409 / other.
"""

from __future__ import annotations

import argparse
import http.client
import itertools
import json
import multiprocessing
import os
import secrets
import statistics
import subprocess
import threading
import time
from collections import Counter
from datetime import date, datetime, timedelta
from datetime import time as dtime
from pathlib import Path
from zoneinfo import ZoneInfo

from _common import (
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

REPO = Path(__file__).resolve().parents[1]
BACKEND = REPO / "backend"
BENCH_DB = "mawid_bench_bookings"
TZ = ZoneInfo("Asia/Riyadh")
STAFF = 50
CUSTOMERS = 600
OPEN, CLOSE = 8, 22  # working hours, every day
SLOT_MINUTES = 30
API_DAYS = range(1, 26)  # (a) books on these days ahead
RAW_DAYS = range(26, 51)  # (b) on these, so the two runs never meet
CONTENTION_DAY = 55

BENCH_ENV = {
    "DJANGO_SETTINGS_MODULE": "config.settings.production",
    "DJANGO_SECRET_KEY": secrets.token_urlsafe(64),
    "DJANGO_SECURE_SSL_REDIRECT": "0",
    "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
    "MAWID_ALLOW_FAKE_PROVIDERS": "1",  # production settings, loopback fakes
    "MAWID_LOG_LEVEL": "ERROR",
    "MAWID_DB_CONN_MAX_AGE": "60",
    "MAWID_DOTENV": "off",  # what is measured is set here, not in a developer's backend/.env
    "MAWID_BOOKINGS_MAX_PER_CUSTOMER_PER_HOUR": "1000000",  # each customer books many times in a minute here
}


# --- database -------------------------------------------------------------------------------------------



# --- data -----------------------------------------------------------------------------------------------


def seed() -> dict[str, object]:
    from django.db import transaction
    from rest_framework_simplejwt.tokens import AccessToken

    from apps.accounts.models import User
    from apps.catalog.models import Service, Staff, WorkingHours

    with transaction.atomic():
        business, branch = bench_business(
            timezone="Asia/Riyadh",
            slot_step_minutes=SLOT_MINUTES,
            min_notice_minutes=120,
            max_advance_days=60,
            require_payment=True,
            hold_minutes=30,
            max_pending_per_customer=10_000,
            max_upcoming_per_customer=10_000,
        )
        service = Service.objects.create(
            business=business, name_en="Haircut", name_ar="قص الشعر", duration_minutes=30, price_amount=15000
        )
        staff_ids = []
        for n in range(STAFF):
            user = User.objects.create_user(phone=f"+9665{10000000 + n:08d}", name=f"Staff {n}", role=User.Role.STAFF)
            member = Staff.objects.create(
                business=business, branch=branch, user=user, display_name=f"Staff {n}", display_order=n
            )
            member.services.add(service)
            staff_ids.append(member.pk)
        WorkingHours.objects.bulk_create(
            WorkingHours(business=business, staff_id=pk, weekday=d, start_time=dtime(OPEN), end_time=dtime(CLOSE))
            for pk in staff_ids
            for d in range(7)
        )
        customers = [
            User.objects.create_user(phone=f"+9665{30000000 + n:08d}", name=f"Customer {n}") for n in range(CUSTOMERS)
        ]
    tokens = [str(AccessToken.for_user(user)) for user in customers]
    return {"service": service.pk, "staff": staff_ids, "tokens": tokens, "customer_ids": [u.pk for u in customers]}


def slots(staff_ids: list[int], days: range, today: date):
    """Every (staff, start) on those days, round-robin over the staff: consecutive items differ in staff."""
    for d in days:
        day = today + timedelta(days=d)
        for minutes in range(OPEN * 60, CLOSE * 60, SLOT_MINUTES):
            start = datetime.combine(day, dtime(), tzinfo=TZ) + timedelta(minutes=minutes)
            for staff_id in staff_ids:
                yield staff_id, start


# --- HTTP -----------------------------------------------------------------------------------------------



class Client:
    """One keep-alive HTTP/1.1 connection (gthread keeps it open), re-opened when the server closed it."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.conn: http.client.HTTPConnection | None = None

    def post(self, path: str, body: dict, token: str) -> int:
        for attempt in (1, 2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
            try:
                self.conn.request(
                    "POST",
                    path,
                    body=json.dumps(body),
                    headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
                )
                response = self.conn.getresponse()
                response.read()
                return response.status
            except (http.client.RemoteDisconnected, ConnectionError, http.client.CannotSendRequest):
                self.close()
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None


def start_server(port: int, workers: int, threads: int, database_url: str) -> subprocess.Popen:
    """gunicorn as the Procfile's `web` runs it: `gunicorn -c config/gunicorn.conf.py` (gthread workers)."""
    env = {
        **os.environ,
        **BENCH_ENV,
        "DATABASE_URL": database_url,
        "PYTHONPATH": str(BACKEND),
        "MAWID_BIND": f"127.0.0.1:{port}",
        "WEB_CONCURRENCY": str(workers),
        "MAWID_WEB_THREADS": str(threads),
        "MAWID_GUNICORN_LOG_LEVEL": "warning",
    }
    return start_gunicorn(["-c", "config/gunicorn.conf.py"], env, port)


def run_api(port: int, data: dict, work, *, clients: int, seconds: float, warmup: float) -> dict:
    """(a): `clients` threads booking distinct free slots (from `work`) as fast as the server answers."""
    lock = threading.Lock()
    tokens = itertools.cycle(data["tokens"])
    counts: Counter[str] = Counter()
    latencies: list[float] = []
    t0 = time.monotonic()
    measure_from, measure_to = t0 + warmup, t0 + warmup + seconds

    def client() -> None:
        http_client = Client(port)
        while True:
            with lock:
                item = next(work, None)
                token = next(tokens)
            now = time.monotonic()
            if item is None or now >= measure_to:
                http_client.close()
                return
            staff_id, start = item
            started = time.perf_counter()
            body = {"staff": staff_id, "service": data["service"], "start": start.isoformat()}
            status = http_client.post("/api/v1/bookings", body, token)
            elapsed = time.perf_counter() - started
            if measure_from <= time.monotonic() < measure_to:
                with lock:
                    counts["201" if status == 201 else f"other:{status}"] += 1
                    latencies.append(elapsed * 1000)

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    made = counts["201"]
    return {"per_second": made / seconds, "made": made, "counts": dict(counts), "latencies": latencies}


def run_contention(port: int, data: dict, today: date, *, racers: int, rounds: int) -> list[dict]:
    """(d): `racers` requests for one slot released together; time until the last has answered."""
    results = []
    day = today + timedelta(days=CONTENTION_DAY)
    for r in range(rounds):
        staff_id = data["staff"][r % len(data["staff"])]
        start = datetime.combine(day, dtime(10 + r), tzinfo=TZ)
        body = {"staff": staff_id, "service": data["service"], "start": start.isoformat()}
        barrier = threading.Barrier(racers + 1)
        statuses: list[int] = [0] * racers
        done_at: list[float] = [0.0] * racers

        def racer(i: int, body=body, barrier=barrier, statuses=statuses, done_at=done_at) -> None:
            http_client = Client(port)  # each racer its own connection, opened when released
            barrier.wait()
            try:
                statuses[i] = http_client.post("/api/v1/bookings", body, data["tokens"][i])
            except OSError:
                statuses[i] = -1
            done_at[i] = time.perf_counter()
            http_client.close()

        threads = [threading.Thread(target=racer, args=(i,)) for i in range(racers)]
        for thread in threads:
            thread.start()
        barrier.wait()
        released = time.perf_counter()
        for thread in threads:
            thread.join()
        counts = Counter("201" if s == 201 else "409" if s == 409 else "other" for s in statuses)
        results.append({"seconds": max(done_at) - released, "counts": counts})
    return results


# --- raw SQL ceiling ------------------------------------------------------------------------------------

RAW_LOCK = "SELECT id FROM catalog_staff WHERE id = %s FOR NO KEY UPDATE"
RAW_CHECK = """
    SELECT EXISTS (SELECT 1 FROM bookings_booking
                   WHERE staff_id = %s AND status IN ('pending_payment', 'confirmed')
                     AND tstzrange(busy_start, busy_end, '[)') && tstzrange(%s, %s, '[)'))
"""
RAW_INSERT = """
    INSERT INTO bookings_booking (customer_id, staff_id, service_id, status, start, "end", busy_start, busy_end,
                                  price_amount, price_net, price_vat, currency, notes, hold_expires_at, cancel_reason,
                                  created_at, updated_at)
    VALUES (%s, %s, %s, 'pending_payment', %s, %s, %s, %s, 15000, 15000, 0, 'SAR', '', now() + interval '30 minutes',
            '', now(), now())
    RETURNING id
"""


def raw_worker(args: tuple) -> int:
    """One process, one connection: lock the staff row, check, insert, commit, until the deadline."""
    import psycopg

    params, items, service_id, customer_ids, start_at, stop_at = args
    made = 0
    customers = itertools.cycle(customer_ids)
    with psycopg.connect(**params) as conn:
        while time.time() < start_at:
            time.sleep(0.001)
        for staff_id, start in items:
            if time.time() >= stop_at:
                break
            end = start + timedelta(minutes=SLOT_MINUTES)
            with conn.transaction(), conn.cursor() as cur:
                cur.execute(RAW_LOCK, (staff_id,))
                cur.execute(RAW_CHECK, (staff_id, start, end))
                if cur.fetchone()[0]:
                    continue
                cur.execute(RAW_INSERT, (next(customers), staff_id, service_id, start, end, start, end))
            made += 1
    return made


def run_raw(database_url: str, data: dict, days: range, today: date, *, processes: int, seconds: float) -> dict:
    """(b): the same pattern in raw SQL, `processes` processes, each taking every n-th slot (round-robin staff)."""
    all_items = list(slots(data["staff"], days, today))
    params = connect_params(database_url)
    start_at = time.time() + 2.0
    stop_at = start_at + seconds
    jobs = [
        (params, all_items[i::processes], data["service"], data["customer_ids"], start_at, stop_at)
        for i in range(processes)
    ]
    with multiprocessing.get_context("spawn").Pool(processes) as pool:
        made = sum(pool.map(raw_worker, jobs))
    return {"per_second": made / seconds, "made": made}


# --- main -----------------------------------------------------------------------------------------------


def count_overlaps(database_url: str) -> int:
    import psycopg

    with psycopg.connect(**connect_params(database_url)) as conn:
        return conn.execute(
            """
            SELECT count(*) FROM bookings_booking a JOIN bookings_booking b
              ON a.staff_id = b.staff_id AND a.id < b.id
             AND tstzrange(a.busy_start, a.busy_end) && tstzrange(b.busy_start, b.busy_end)
             AND a.status IN ('pending_payment', 'confirmed') AND b.status IN ('pending_payment', 'confirmed')
            """
        ).fetchone()[0]



def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="measured seconds of each slice of (a) and (b)")
    parser.add_argument("--reps", type=int, default=3, help="alternating slices of (a) and (b)")
    parser.add_argument("--warmup", type=float, default=1.0, help="seconds of each slice of (a) before measuring")
    cpus = os.cpu_count() or 1
    parser.add_argument(
        "--workers", type=int, default=max(2, min(8, 2 * cpus)),
        help="gunicorn processes (WEB_CONCURRENCY; gunicorn.conf.py's default) = raw SQL processes",
    )  # fmt: skip
    parser.add_argument("--threads", type=int, default=4, help="threads per gunicorn process (MAWID_WEB_THREADS)")
    parser.add_argument("--clients", type=int, default=8, help="client connections (threads) for (a)")
    parser.add_argument("--racers", type=int, default=50, help="simultaneous requests for one slot in (d)")
    parser.add_argument("--rounds", type=int, default=5, help="rounds of (d)")
    parser.add_argument("--keep-db", action="store_true", help="leave the bench database behind")
    args = parser.parse_args()

    base_url = server_url()
    bench_url = recreate_database(base_url, BENCH_DB)
    server = None
    try:
        setup_django(bench_url, BENCH_ENV)
        from django.core.management import call_command
        from django.db import connections

        call_command("migrate", verbosity=0)
        data = seed()
        connections.close_all()
        today = datetime.now(TZ).date()
        print(
            f"bench database {BENCH_DB}: {STAFF} staff, {CUSTOMERS} customers, {os.cpu_count()} CPUs; "
            f"gunicorn -c config/gunicorn.conf.py: {args.workers} gthread processes x {args.threads} threads; "
            f"{args.clients} keep-alive client connections"
        )

        port = free_port()
        server = start_server(port, args.workers, args.threads, bench_url)
        # (a) and (b) alternate in `--reps` slices so that other load on the machine weighs on both alike.
        api_work = slots(data["staff"], API_DAYS, today)
        raw_days = [range(RAW_DAYS.start + i, RAW_DAYS.stop, args.reps) for i in range(args.reps)]
        api = {"made": 0, "counts": Counter(), "latencies": []}
        raw = {"made": 0}
        for rep in range(args.reps):
            part = run_api(port, data, api_work, clients=args.clients, seconds=args.seconds, warmup=args.warmup)
            api["made"] += part["made"]
            api["counts"].update(part["counts"])
            api["latencies"] += part["latencies"]
            raw_part = run_raw(bench_url, data, raw_days[rep], today, processes=args.workers, seconds=args.seconds)
            raw["made"] += raw_part["made"]
            print(f"    slice {rep + 1}: API {part['per_second']:7.1f}/s   raw SQL {raw_part['per_second']:7.1f}/s")
        total = args.seconds * args.reps
        api["per_second"] = api["made"] / total
        raw["per_second"] = raw["made"] / total
        print(
            f"(a) API      {api['per_second']:8.1f} bookings/s   ({api['made']} in {total:.0f} s, {args.clients} "
            f"clients; latency median {statistics.median(api['latencies']):.1f} ms, "
            f"p95 {pct(api['latencies'], 0.95):.1f} ms; statuses {dict(api['counts'])})"
        )
        print(f"(b) raw SQL  {raw['per_second']:8.1f} bookings/s   ({raw['made']} in {total:.0f} s, "
              f"{args.workers} processes)")  # fmt: skip
        contention = run_contention(port, data, today, racers=args.racers, rounds=args.rounds)
        stop_process(server)
        server = None

        ratio = api["per_second"] / raw["per_second"] if raw["per_second"] else float("nan")
        print(f"(c) a / b    {ratio:8.2f}")
        totals: Counter[str] = Counter()
        for r, result in enumerate(contention, 1):
            totals.update(result["counts"])
            print(
                f"(d) round {r}: {args.racers} requests for one slot answered in {result['seconds'] * 1000:7.1f} ms   "
                f"201={result['counts']['201']} 409={result['counts']['409']} other={result['counts']['other']}"
            )
        times = [result["seconds"] * 1000 for result in contention]
        print(
            f"(d) all rounds: median {statistics.median(times):.1f} ms, max {max(times):.1f} ms; "
            f"201={totals['201']} 409={totals['409']} other={totals['other']}"
        )
        overlaps = count_overlaps(bench_url)
        print(f"overlapping bookings in the database: {overlaps}")
        assert overlaps == 0
        assert totals["other"] == 0
        assert totals["201"] == args.rounds
        assert not [k for k in api["counts"] if k != "201"], api["counts"]
    finally:
        if server is not None:
            stop_process(server)
        try:
            from django.db import connections

            connections.close_all()
        except Exception:  # noqa: BLE001, S110 - Django may not be set up yet
            pass
        if not args.keep_db:
            drop_database(base_url, BENCH_DB)


if __name__ == "__main__":
    main()
