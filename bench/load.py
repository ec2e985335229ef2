#!/usr/bin/env python3
"""Drive a realistic mix of traffic against the production-shaped server and report per endpoint.

    .venv/bin/python bench/load.py --users 10 --duration 60
    .venv/bin/python bench/load.py --users 100 --duration 60
    .venv/bin/python bench/load.py --base-url http://127.0.0.1:8000 --authentica-url http://127.0.0.1:8101 --users 10

By default it starts the whole stack itself, on loopback ports of its own, and stops it at the end: a fresh
database (`mawid_load`, migrated, demo salon seeded, dropped at the end; on the server BENCH_DATABASE_URL or
DATABASE_URL names, else the embedded PostgreSQL), gunicorn with config/gunicorn.conf.py serving config.wsgi
with production settings (DJANGO_SECURE_SSL_REDIRECT=0), the procrastinate worker, and the Authentica and Moyasar
fakes. With `--base-url` it drives a server that is already running instead (and `--authentica-url` names the fake
whose /_fake/messages holds the codes).

Each simulated user (asyncio tasks sharing one httpx client, starts spread over --ramp seconds) follows what a
person does, with a random pause (--think, mean seconds) between steps:
  browse services and staff, read availability, log in once (OTP request, code read from the Authentica fake's
  /_fake/messages once the worker delivered it, verify), then in a loop: browse, read availability, book a free
  slot (Idempotency-Key), pay (when POST /bookings/{id}/pay exists in the schema: a card token made at the
  Moyasar fake with the publishable key, POST /pay, the 3-D Secure page approved at the fake, the redirect back
  to /payments/return, the payment read until final), read the booking, list bookings, cancel (a refund starts).
Steps in parentheses in the report are not our server (the fakes, or the worker's delivery delay).
The run stops after --duration seconds (users finish the request in flight). It prints throughput, median and p95
latency per endpoint, and errors: 5xx, transport failures and unexpected 4xx. Expected refusals (409 when another
user took the slot first) are counted apart.

One client address drives every user, so the stack it starts lifts the per-IP and per-phone OTP limits, the DRF
throttles and the hourly booking limit (MAWID_OTP_*, MAWID_THROTTLE_*, MAWID_BOOKINGS_MAX_PER_CUSTOMER_PER_HOUR); a
server started elsewhere needs the same, or logins and bookings get 429.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
from _common import (
    BIN,
    PY,
    Stack,
    drop_database,
    free_port,
    pct,
    prepare,
    production_env,
    recreate_database,
    say,
    server_url,
)

RIYADH = ZoneInfo("Asia/Riyadh")
# The fakes' made-up credentials (the same defaults as `python3 dev.py run`).
FAKE_KEYS = {
    "AUTHENTICA_API_KEY": "fake-authentica-key",
    "MOYASAR_SECRET_KEY": "sk_test_fake",
    "MOYASAR_PUBLISHABLE_KEY": "pk_test_fake",
    "MOYASAR_WEBHOOK_SECRET": "fake-webhook-secret",
}
LOAD_DB = "mawid_load"  # its own database, made afresh and dropped at the end (when it starts the stack)
EXPECTED = {"book": {409}, "pay": {409}, "cancel": {409}, "otp_verify": set(), "otp_request": set()}


@dataclass
class Stats:
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    statuses: dict[str, dict[int, int]] = field(default_factory=lambda: defaultdict(lambda: defaultdict(int)))
    errors: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    refused: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    samples: list[str] = field(default_factory=list)
    flows: dict[str, int] = field(default_factory=lambda: defaultdict(int))

    def record(self, name: str, seconds: float, status: int | None, body: str = "") -> None:
        self.latencies[name].append(seconds)
        if status is None:
            self.errors[name] += 1
            return
        self.statuses[name][status] += 1
        if status >= 500 or (status >= 400 and status not in EXPECTED.get(name, set())):
            self.errors[name] += 1
            if len(self.samples) < 12:
                self.samples.append(f"{name} -> {status}: {body[:200]}")
        elif status >= 400:
            self.refused[name] += 1


class User:
    def __init__(self, n: int, client: httpx.AsyncClient, fake: httpx.AsyncClient, moyasar: httpx.AsyncClient | None,
                 stats: Stats, args) -> None:
        self.n = n
        self.client = client
        self.fake = fake
        self.moyasar = moyasar
        self.stats = stats
        self.args = args
        # A valid Saudi mobile number (050, 053-059 ranges), random so that runs don't collide.
        self.phone = f"+9665{random.choice('0345689')}{random.randint(1_000_000, 9_999_999)}"
        self.token: str | None = None
        self.rng = random.Random(n)  # noqa: S311

    async def call(self, name: str, method: str, path: str, **kwargs) -> httpx.Response | None:
        headers = kwargs.pop("headers", {})
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        started = time.perf_counter()
        try:
            response = await self.client.request(method, path, headers=headers, **kwargs)
        except httpx.HTTPError as exc:
            self.stats.record(name, time.perf_counter() - started, None)
            if len(self.stats.samples) < 12:
                self.stats.samples.append(f"{name} -> {type(exc).__name__}: {exc}")
            return None
        self.stats.record(name, time.perf_counter() - started, response.status_code, response.text)
        return response

    async def think(self) -> None:
        if self.args.think > 0:
            await asyncio.sleep(self.rng.expovariate(1 / self.args.think))

    async def browse(self) -> tuple[int, int] | None:
        # A marketplace: find a business (discovery, with next available), then its catalog.
        response = await self.call("discover", "GET", "/api/v1/businesses")
        if response is None or response.status_code != 200:
            return None
        businesses = [b for b in _items(response.json()) if not b.get("serves_at_home")]
        if not businesses:
            return None
        slug = self.rng.choice(businesses)["slug"]
        response = await self.call("services", "GET", f"/api/v1/businesses/{slug}/services")
        if response is None or response.status_code != 200:
            return None
        services = _items(response.json())
        if not services:
            return None
        service = self.rng.choice(services)["id"]
        await self.think()
        response = await self.call("staff", "GET", f"/api/v1/businesses/{slug}/staff", params={"service": service})
        if response is None or response.status_code != 200:
            return None
        staff = [s for s in _items(response.json()) if service in s.get("services", [service])]
        if not staff:
            return None
        return service, self.rng.choice(staff)["id"]

    async def availability(self, service: int, staff: int) -> list[dict]:
        start = datetime.now(RIYADH).date() + timedelta(days=self.rng.randint(1, 13))
        response = await self.call(
            "availability", "GET", f"/api/v1/staff/{staff}/availability",
            params={"service": service, "date_from": start.isoformat(),
                    "date_to": (start + timedelta(days=1)).isoformat()},
        )
        if response is None or response.status_code != 200:
            return []
        return response.json().get("slots", [])

    async def login(self) -> bool:
        response = await self.call("otp_request", "POST", "/api/v1/auth/otp/request", json={"phone": self.phone})
        if response is None or response.status_code != 202:
            return False
        code = await self.read_code()
        if code is None:
            self.stats.flows["otp_not_delivered"] += 1
            return False
        response = await self.call("otp_verify", "POST", "/api/v1/auth/otp/verify",
                                   json={"phone": self.phone, "code": code})
        if response is None or response.status_code != 200:
            return False
        self.token = response.json()["access"]
        return True

    async def read_code(self) -> str | None:
        """The worker sends the code in the background: poll the fake's outbox for it."""
        started = time.perf_counter()
        deadline = time.monotonic() + self.args.otp_wait
        delay = 0.1
        while time.monotonic() < deadline:
            try:
                response = await self.fake.get("/_fake/messages", params={"to": self.phone})
                messages = response.json().get("messages", [])
            except (httpx.HTTPError, ValueError):
                messages = []
            codes = [m["code"] for m in messages if m.get("code")]
            if codes:
                self.stats.latencies["(otp delivered by worker)"].append(time.perf_counter() - started)
                return str(codes[0])
            await asyncio.sleep(delay)
            delay = min(delay * 1.5, 1.0)
        return None

    async def book_cycle(self, pay: bool) -> None:
        picked = await self.browse()
        if picked is None:
            return
        service, staff = picked
        await self.think()
        slots = await self.availability(service, staff)
        if not slots:
            self.stats.flows["no_free_slot"] += 1
            return
        await self.think()
        slot = self.rng.choice(slots[: max(1, len(slots) // 2)] if self.rng.random() < 0.5 else slots)
        response = await self.call(
            "book", "POST", "/api/v1/bookings",
            json={"staff": staff, "service": service, "start": slot["start"], "notes": "load test"},
            headers={"Idempotency-Key": str(uuid.uuid4())},
        )
        if response is None or response.status_code != 201:
            return
        booking = response.json()["id"]
        self.stats.flows["booked"] += 1
        if pay:
            await self.think()
            await self.pay(booking)
        await self.think()
        await self.call("booking", "GET", f"/api/v1/bookings/{booking}")
        await self.call("bookings", "GET", "/api/v1/bookings")
        await self.think()
        response = await self.call("cancel", "POST", f"/api/v1/bookings/{booking}/cancel",
                                   json={"reason": "load test"})
        if response is not None and response.status_code == 200:
            self.stats.flows["cancelled"] += 1

    async def pay(self, booking: int) -> None:
        """Card payment as the app does it: a Moyasar token made with the publishable key (at the fake), the
        payment created by our server, the 3-D Secure page approved, the browser sent back to /payments/return,
        then the payment read until Moyasar's webhook or the return made it final."""
        body: dict = {}
        if self.args.pay_with == "token" and self.moyasar is not None:
            started = time.perf_counter()
            try:
                token = await self.moyasar.post("/v1/tokens", auth=(FAKE_KEYS["MOYASAR_PUBLISHABLE_KEY"], ""), json={
                    "name": "Load Test", "number": "4111111111111111", "month": 12, "year": 2031, "cvc": "123",
                    "save_only": True, "callback_url": f"{self.args.base}/payments/return",
                })
                body = {"source": {"type": "token", "token": token.json()["id"]}}
            except (httpx.HTTPError, ValueError, KeyError) as exc:
                self.stats.samples.append(f"moyasar token -> {exc!r}")
                return
            self.stats.latencies["(moyasar token, client side)"].append(time.perf_counter() - started)
        paid = await self.call("pay", "POST", f"/api/v1/bookings/{booking}/pay", json=body,
                               headers={"Idempotency-Key": str(uuid.uuid4())})
        if paid is None or paid.status_code != 201:
            return
        payment = paid.json()
        self.stats.flows["payment_started"] += 1
        url = payment.get("transaction_url")
        if not url or self.moyasar is None:
            return
        try:  # the payer approves the 3-D Secure challenge; Moyasar redirects the browser back to us
            challenge = await self.moyasar.get(url, params={"result": "approve"}, follow_redirects=False)
        except httpx.HTTPError as exc:
            self.stats.samples.append(f"3ds -> {exc!r}")
            return
        back = challenge.headers.get("location", "")
        if back.startswith(self.args.base):
            await self.call("payment_return", "GET", back[len(self.args.base):])
        for _ in range(10):
            response = await self.call("payment", "GET", f"/api/v1/payments/{payment['id']}")
            if response is None or response.status_code != 200:
                return
            if response.json().get("status") not in {"initiated", "pending", "awaiting_client"}:
                self.stats.flows[f"payment_{response.json().get('status')}"] += 1
                return
            await asyncio.sleep(0.5)

    async def run(self, stop_at: float, pay: bool) -> None:
        await asyncio.sleep(self.rng.uniform(0, self.args.ramp))
        picked = await self.browse()
        if picked:
            await self.think()
            await self.availability(*picked)
        await self.think()
        if not await self.login():
            self.stats.flows["login_failed"] += 1
            return
        self.stats.flows["logged_in"] += 1
        while time.monotonic() < stop_at:
            await self.book_cycle(pay)
            await self.think()


def _items(body) -> list[dict]:
    return body.get("results", []) if isinstance(body, dict) else body


async def drive(args, base_url: str, authentica_url: str, moyasar_url: str | None) -> tuple[Stats, float, bool]:
    stats = Stats()
    # Idle connections are dropped before gunicorn's 5 s keep-alive ends, so a request never races the server's
    # close (a proxy in front needs the same: its upstream keep-alive shorter than the app server's).
    limits = httpx.Limits(max_connections=args.users, max_keepalive_connections=args.users, keepalive_expiry=4.0)
    timeout = httpx.Timeout(30.0, connect=10.0)
    args.base = base_url
    async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=timeout) as client, \
            httpx.AsyncClient(base_url=authentica_url, timeout=timeout) as fake, \
            httpx.AsyncClient(base_url=moyasar_url or "http://127.0.0.1:9", limits=limits, timeout=timeout) as moyasar:
        schema = (await client.get("/api/schema/", params={"format": "json"})).json()
        pay = any(path.rstrip("/").endswith("/pay") for path in schema.get("paths", {}))
        started = time.monotonic()
        stop_at = started + args.duration
        users = [User(n, client, fake, moyasar if moyasar_url else None, stats, args) for n in range(args.users)]
        tasks = [asyncio.create_task(user.run(stop_at, pay)) for user in users]
        done, pending = await asyncio.wait(tasks, timeout=args.duration + 60)
        for task in pending:
            task.cancel()
        for task in done:
            if task.exception():
                stats.samples.append(f"user crashed: {task.exception()!r}")
        elapsed = time.monotonic() - started
    return stats, elapsed, pay


def report(stats: Stats, elapsed: float, args, pay: bool) -> None:
    total = sum(len(v) for k, v in stats.latencies.items() if not k.startswith("("))
    errors = sum(stats.errors.values())
    say(f"\n{args.users} users, {elapsed:.0f} s, think time {args.think:.2f} s mean, "
        f"payments {'exercised' if pay else 'skipped (no POST /bookings/{id}/pay in the schema yet)'}")
    say(f"throughput: {total / elapsed:.1f} requests/s ({total} requests), errors: {errors}")
    say(f"{'endpoint':28} {'count':>6} {'req/s':>7} {'median ms':>10} {'p95 ms':>8} {'errors':>7} {'refused':>8}  statuses")
    for name in sorted(stats.latencies, key=lambda k: (k.startswith("("), k)):
        values = stats.latencies[name]
        statuses = dict(sorted(stats.statuses[name].items())) if name in stats.statuses else ""
        say(f"{name:28} {len(values):6d} {len(values) / elapsed:7.1f} {pct(values, 0.5) * 1000:10.1f} "
            f"{pct(values, 0.95) * 1000:8.1f} {stats.errors.get(name, 0):7d} {stats.refused.get(name, 0):8d}  "
            f"{statuses}")
    say("flows: " + ", ".join(f"{k}={v}" for k, v in sorted(stats.flows.items())))
    for line in stats.samples:
        say(f"  sample error: {line}")


def server_side(metrics: str) -> None:
    """What the server itself measured (/metrics): time in Django per route, and the job queue at the end."""
    sums: dict[str, float] = defaultdict(float)
    counts: dict[str, float] = defaultdict(float)
    for line in metrics.splitlines():
        if line.startswith(("mawid_http_request_duration_seconds_sum{", "mawid_http_request_duration_seconds_count{")):
            labels, value = line.rsplit(" ", 1)
            route = labels.split('route="', 1)[1].split('"', 1)[0]
            method = labels.split('method="', 1)[1].split('"', 1)[0]
            target = sums if "_sum{" in labels else counts
            target[f"{method} {route}"] += float(value)
    say("server-side mean time per request (gunicorn process, from /metrics):")
    for key in sorted(counts, key=lambda k: -counts[k]):
        if counts[key] and not key.endswith(("/metrics", "/healthz", "/api/schema/")):
            say(f"  {key:48} {sums[key] / counts[key] * 1000:8.1f} ms  ({counts[key]:.0f})")
    depth = [line for line in metrics.splitlines()
             if line.startswith(("mawid_jobs{", "mawid_jobs_due{")) and not line.endswith(" 0.0")]
    say("job queue at the end: " + (", ".join(depth) or "empty"))
    runs = [line for line in metrics.splitlines() if line.startswith("mawid_jobs_run_total{")]
    if runs:
        say("jobs run by the worker: " + ", ".join(runs))


def start_stack(args, stack: Stack) -> tuple[str, str, str]:
    workdir = stack.logs
    database_url = recreate_database(server_url(), LOAD_DB)
    app_port, authentica_port, moyasar_port = free_port(), free_port(), free_port()
    base_url = f"http://127.0.0.1:{app_port}"
    env = production_env(
        database_url, workdir / "static",
        MAWID_BIND=f"127.0.0.1:{app_port}",
        MAWID_PUBLIC_BASE_URL=base_url,
        MAWID_WORKER_CONCURRENCY=str(args.worker_concurrency),
        AUTHENTICA_BASE_URL=f"http://127.0.0.1:{authentica_port}",
        MOYASAR_BASE_URL=f"http://127.0.0.1:{moyasar_port}/v1",
        **FAKE_KEYS,
        # One address and many users: lift the limits meant for one person (production keeps its defaults).
        MAWID_OTP_MAX_PER_IP_PER_HOUR="1000000",
        MAWID_OTP_MAX_PER_PHONE_PER_HOUR="1000",
        MAWID_BOOKINGS_MAX_PER_CUSTOMER_PER_HOUR="1000",  # a user books and cancels every few seconds
        MAWID_OTP_RESEND_COOLDOWN_SECONDS="0",
        MAWID_JOB_RETRY_BASE_SECONDS="0.5",
        PROMETHEUS_MULTIPROC_DIR=str(workdir / "metrics"),
        MAWID_LOG_LEVEL=args.log_level,
    )
    if args.web_workers:
        env["WEB_CONCURRENCY"] = str(args.web_workers)
    if args.web_threads:
        env["MAWID_WEB_THREADS"] = str(args.web_threads)
    (workdir / "metrics").mkdir()
    say(f"preparing database {database_url.split('?')[0]} (logs in {workdir})")
    prepare(env)
    fakes = [
        ("authentica-fake", [str(PY), "-m", "apps.accounts.providers.fake", "--host", "127.0.0.1",
                             "--port", str(authentica_port), "--api-key", env["AUTHENTICA_API_KEY"],
                             "--send-cap", "0", "--quiet"]),
        ("moyasar-fake", [str(PY), "-m", "apps.payments.providers.fake", "--host", "127.0.0.1",
                          "--port", str(moyasar_port), "--secret-key", env["MOYASAR_SECRET_KEY"],
                          "--publishable-key", env["MOYASAR_PUBLISHABLE_KEY"],
                          "--webhook-url", f"{base_url}/api/v1/webhooks/moyasar",
                          "--webhook-secret", env["MOYASAR_WEBHOOK_SECRET"]]),
    ]
    started = {name: stack.start(name, command, env) for name, command in fakes}
    stack.start("worker", [str(PY), "manage.py", "procrastinate", "worker"], env)
    web = stack.start("web", [str(BIN / "gunicorn"), "-c", "config/gunicorn.conf.py"], env)
    stack.wait_http(started["authentica-fake"], authentica_port, "/_fake/health")
    stack.wait_http(web, app_port, "/healthz")
    return base_url, f"http://127.0.0.1:{authentica_port}", f"http://127.0.0.1:{moyasar_port}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=10)
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of load after the first user starts")
    parser.add_argument("--ramp", type=float, default=5.0, help="user starts are spread over this many seconds")
    parser.add_argument("--think", type=float, default=0.5, help="mean pause between a user's steps (s)")
    parser.add_argument("--otp-wait", type=float, default=30.0, help="how long a user waits for its code (s)")
    parser.add_argument("--base-url", help="drive this running server instead of starting the stack")
    parser.add_argument("--authentica-url", default="http://127.0.0.1:8101")
    parser.add_argument("--moyasar-url", help="the Moyasar fake (with --base-url); without it payments use the form")
    parser.add_argument("--pay-with", choices=["token", "form"], default="token",
                        help="token: card token + 3-D Secure at the fake; form: POST /pay {} only")
    parser.add_argument("--web-workers", type=int, default=0, help="gunicorn processes (default: its config)")
    parser.add_argument("--web-threads", type=int, default=0, help="threads per process (default: its config)")
    parser.add_argument("--worker-concurrency", type=int, default=4, help="procrastinate worker concurrency")
    parser.add_argument("--log-level", default="INFO", help="the stack's MAWID_LOG_LEVEL (production: INFO)")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    random.seed(args.seed)

    stack = Stack(logs=Path(tempfile.mkdtemp(prefix="mawid-load-")))
    try:
        if args.base_url:
            base_url, authentica_url = args.base_url.rstrip("/"), args.authentica_url.rstrip("/")
            moyasar_url = args.moyasar_url.rstrip("/") if args.moyasar_url else None
        else:
            base_url, authentica_url, moyasar_url = start_stack(args, stack)
        say(f"driving {base_url} with {args.users} users for {args.duration:.0f} s "
            f"(load average {os.getloadavg()[0]:.2f})")
        stats, elapsed, pay = asyncio.run(drive(args, base_url, authentica_url, moyasar_url))
        report(stats, elapsed, args, pay)
        if not args.base_url:
            server_side(httpx.get(f"{base_url}/metrics", timeout=10).text)
    finally:
        stack.stop()
        if not args.base_url:
            drop_database(server_url(), LOAD_DB)
    return 0


if __name__ == "__main__":
    sys.exit(main())
