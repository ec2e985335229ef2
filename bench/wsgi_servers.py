#!/usr/bin/env python3
"""Measure WSGI servers against the real app on this machine, loopback only, bounded in time.

    .venv/bin/python bench/wsgi_servers.py                       # every candidate, 2 rounds x 12 s, 16 connections
    .venv/bin/python bench/wsgi_servers.py --seconds 20 --concurrency 32 --path /healthz
    .venv/bin/python bench/wsgi_servers.py --only gunicorn-gthread-2x8

Each candidate serves `config.wsgi` with production settings (DJANGO_SECURE_SSL_REDIRECT=0) over its own database
(`mawid_bench`, migrated and seeded with the demo salon) on the server `MAWID_BENCH_DATABASE_URL` or `DATABASE_URL`
names, else the embedded PostgreSQL. A threaded client with keep-alive connections (reconnecting when the server closes them)
drives GET requests for `--seconds` after a short warm-up, and the script prints requests/s, p50, p95 and p99.

The client runs on the same machine and takes CPU from the server (and so does PostgreSQL): the numbers compare the
candidates with each other on this machine, they are not a capacity figure. p50/p95/p99 are nearest-rank
percentiles (bench/_common.py `pct`).
"""

from __future__ import annotations

import argparse
import http.client
import math
import os
import shutil
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from _common import (
    BIN,
    Stack,
    free_port,
    pct,
    prepare,
    production_env,
    recreate_database,
    say,
    server_url,
    with_database,
)

# --- the client ---------------------------------------------------------------------------------------------------


@dataclass
class Result:
    latencies: list[float] = field(default_factory=list)
    statuses: Counter = field(default_factory=Counter)
    errors: int = 0
    error_kinds: Counter = field(default_factory=Counter)
    seconds: float = 0.0


def drive(port: int, path: str, seconds: float, concurrency: int) -> Result:
    """`concurrency` threads, each with one keep-alive connection, GET `path` until `seconds` have passed."""
    result = Result()
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds

    def worker() -> None:
        latencies: list[float] = []
        statuses: Counter = Counter()
        errors = 0
        kinds: Counter = Counter()
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        while time.monotonic() < stop_at:
            started = time.perf_counter()
            try:
                conn.request("GET", path, headers={"Accept": "application/json"})
                response = conn.getresponse()
                response.read()
                if response.will_close:
                    conn.close()
            except (OSError, http.client.HTTPException) as exc:
                errors += 1
                kinds[type(exc).__name__] += 1
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
                continue
            latencies.append(time.perf_counter() - started)
            statuses[response.status] += 1
        conn.close()
        with lock:
            result.latencies.extend(latencies)
            result.statuses.update(statuses)
            result.errors += errors
            result.error_kinds.update(kinds)

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(concurrency)]
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=seconds + 30)
    result.seconds = time.monotonic() - started
    return result


# --- the candidates -----------------------------------------------------------------------------------------------


def candidates(port: int) -> dict[str, list[str]]:
    bind = f"127.0.0.1:{port}"
    gunicorn = [str(BIN / "gunicorn"), "config.wsgi:application", "-b", bind, "--config", "/dev/null",
                "--keep-alive", "5", "--log-level", "warning"]
    found = {
        "gunicorn-sync-5": [*gunicorn, "-k", "sync", "-w", "5"],
        "gunicorn-gthread-2x8": [*gunicorn, "-k", "gthread", "-w", "2", "--threads", "8"],
        "gunicorn-gthread-3x4": [*gunicorn, "-k", "gthread", "-w", "3", "--threads", "4"],
        "gunicorn-gthread-5x4": [*gunicorn, "-k", "gthread", "-w", "5", "--threads", "4"],
    }
    if (BIN / "granian").exists():
        granian = [str(BIN / "granian"), "--interface", "wsgi", "--host", "127.0.0.1", "--port", str(port),
                   "--no-ws", "--log-level", "warning"]
        found["granian-2x8"] = [*granian, "--workers", "2", "--blocking-threads", "8", "config.wsgi:application"]
        found["granian-3x4"] = [*granian, "--workers", "3", "--blocking-threads", "4", "config.wsgi:application"]
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=12.0, help="measured seconds per candidate")
    parser.add_argument("--warmup", type=float, default=3.0)
    parser.add_argument("--concurrency", type=int, default=16, help="client connections")
    parser.add_argument("--path", default="/api/v1/services")
    parser.add_argument("--rounds", type=int, default=2, help="rounds over all candidates, interleaved")
    parser.add_argument("--only", action="append", help="run only these candidates (repeatable)")
    parser.add_argument("--keep-database", action="store_true", help="reuse mawid_bench instead of recreating it")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="mawid-bench-"))
    stack = Stack(logs=workdir)
    url = server_url()
    database_url = with_database(url, "mawid_bench") if args.keep_database else recreate_database(url, "mawid_bench")
    env = production_env(database_url, workdir / "static")
    say(f"database {database_url.split('?')[0]}; logs in {workdir}")
    prepare(env)  # with --keep-database: new migrations only, the demo data is loaded once

    chosen = {name: cmd for name, cmd in candidates(free_port()).items() if not args.only or name in args.only}
    results: dict[str, list[Result]] = {name: [] for name in chosen}
    say(f"load average before: {os.getloadavg()[0]:.2f}")
    try:
        # Rounds interleave the candidates so that load from anything else on the machine hits them alike.
        for round_no in range(1, args.rounds + 1):
            for name, command in chosen.items():
                port = int(command[command.index("--port") + 1]) if "--port" in command else int(
                    command[command.index("-b") + 1].rsplit(":", 1)[1])
                proc = stack.start(name, command, env)
                try:
                    stack.wait_http(proc, port)
                    drive(port, args.path, args.warmup, args.concurrency)
                    result = drive(port, args.path, args.seconds, args.concurrency)
                finally:
                    stack.stop(proc)
                results[name].append(result)
                say(f"  round {round_no} {name}: {len(result.latencies) / result.seconds:.1f} req/s "
                    f"(load average {os.getloadavg()[0]:.2f})")
                time.sleep(1)
    finally:
        stack.stop()

    say(f"\nGET {args.path}, {args.concurrency} keep-alive connections, {args.rounds} x {args.seconds:.0f} s each, "
        f"{os.cpu_count()} CPUs shared by client, server and PostgreSQL")
    say(f"{'server':24} {'req/s':>8} {'rounds':>22} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'errors':>7}")
    summary = []
    for name, runs in results.items():
        latencies = [x for run in runs for x in run.latencies]
        seconds = sum(run.seconds for run in runs)
        failed = sum(n for run in runs for status, n in run.statuses.items() if status >= 400)
        errors = failed + sum(run.errors for run in runs)
        per_round = "/".join(f"{len(run.latencies) / run.seconds:.0f}" for run in runs)
        rps = len(latencies) / seconds if seconds else 0.0
        summary.append((name, rps))
        kinds = Counter()
        for run in runs:
            kinds.update(run.error_kinds)
            kinds.update({f"HTTP {status}": n for status, n in run.statuses.items() if status >= 400})
        quantiles = "".join(f" {pct(latencies, q) * 1000 if latencies else math.nan:8.1f}" for q in (0.5, 0.95, 0.99))
        say(f"{name:24} {rps:8.1f} {per_round:>22}{quantiles} {errors:7d}" + (f"  {dict(kinds)}" if kinds else ""))
    if summary:
        best = max(summary, key=lambda row: row[1])
        say(f"\nhighest throughput: {best[0]}; median of all: {statistics.median(r[1] for r in summary):.1f} req/s")
    shutil.rmtree(workdir / "static", ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
