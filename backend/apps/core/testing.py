"""Test helpers: run the real procrastinate worker over the test database, and race real connections."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

from asgiref.sync import SyncToAsync
from django.db import connection, connections
from procrastinate.contrib.django import app

from apps.core.scoping import platform


def pending_jobs(task_name: str | None = None, statuses: tuple[str, ...] = ("todo", "doing")) -> int:
    with connection.cursor() as cursor:
        sql = "SELECT count(*) FROM procrastinate_jobs WHERE status = ANY(%s)"
        params: list[object] = [list(statuses)]
        if task_name:
            sql += " AND task_name = %s"
            params.append(task_name)
        cursor.execute(sql, params)
        return cursor.fetchone()[0]


def job_rows(task_name: str | None = None) -> list[dict]:
    with connection.cursor() as cursor:
        sql = "SELECT id, task_name, status, attempts, args, scheduled_at FROM procrastinate_jobs"
        params: list[object] = []
        if task_name:
            sql += " WHERE task_name = %s"
            params.append(task_name)
        cursor.execute(sql + " ORDER BY id", params)
        columns = [c[0] for c in cursor.description]
        rows = [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]
    for row in rows:
        if isinstance(row["args"], str):
            row["args"] = json.loads(row["args"])
    return rows


def run_jobs(*, queues: list[str] | None = None, timeout: float = 10.0, concurrency: int = 1) -> None:
    """Run the real worker until no job is due or scheduled soon (retries included), or `timeout` passes.

    Wired as `manage.py procrastinate worker` wires it: the app's connector is replaced by its worker connector
    for the run (so jobs that defer jobs do it the way they do in production). Needs committed data: use it in
    `django_db(transaction=True)` tests.
    """
    deadline = time.monotonic() + timeout
    try:
        while True:
            with app.replace_connector(app.connector.get_worker_connector()) as worker_app:
                worker_app.run_worker(
                    queues=queues,
                    wait=False,
                    install_signal_handlers=False,
                    listen_notify=False,
                    concurrency=concurrency,
                    delete_jobs="never",
                )
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT count(*) FROM procrastinate_jobs WHERE status = 'todo'"
                    " AND scheduled_at < now() + interval '30 seconds'"
                    " AND (%s::varchar[] IS NULL OR queue_name = ANY(%s::varchar[]))",
                    [queues, queues],
                )
                remaining = cursor.fetchone()[0]
            if remaining == 0 or time.monotonic() > deadline:
                return
            time.sleep(0.05)
    finally:
        close_worker_thread_connections()


def close_worker_thread_connections() -> None:
    """Close the Django connection the worker opened from asgiref's shared sync thread.

    The worker's periodic deferrer defers through the tasks' own app, whose connector is procrastinate's Django
    connector: it runs Django's connection in `sync_to_async`'s one long-lived thread-sensitive thread, which
    outlives the worker, and so would that connection (until the end of the run, where it kept the test database
    from being dropped).
    """
    SyncToAsync.single_thread_executor.submit(connections.close_all).result()


def other_database_sessions(*, wait: float = 0.0, terminate: bool = False) -> list[dict]:
    """Sessions on this connection's database other than this one (waiting up to `wait` seconds for them to go);
    `terminate` ends those still there."""
    deadline = time.monotonic() + wait
    while True:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pid, application_name, state, backend_start, left(query, 200) AS last_query"
                " FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
                " AND backend_type = 'client backend'"
            )
            columns = [c[0] for c in cursor.description]
            rows = [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]
            if not rows or time.monotonic() >= deadline:
                if rows and terminate:
                    cursor.execute(
                        "SELECT pg_terminate_backend(pid) FROM unnest(%s::int[]) AS pid", [[r["pid"] for r in rows]]
                    )
                return rows
        time.sleep(0.05)


def run_together(n: int, fn: Callable[[int], Any], *, timeout: float = 120) -> list[Any]:
    """Run fn(0) … fn(n-1) in n threads released at the same instant, each on a database connection of its own, as
    platform code (a thread starts with no business scope); returns each result, or the exception it raised, in
    order. A racer still running after `timeout` seconds fails the test (a deadlock, a lock never released)."""
    barrier = threading.Barrier(n)
    results: list[Any] = [None] * n

    def worker(i: int) -> None:
        try:
            barrier.wait(timeout=30)
            with platform():
                results[i] = fn(i)
        except Exception as exc:  # noqa: BLE001 - the test inspects every outcome
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=timeout)
    if any(thread.is_alive() for thread in threads):
        raise AssertionError("a racer hung")
    return results


def run_each(fns: Sequence[Callable[[], Any]], *, timeout: float = 120) -> list[Any]:
    """`run_together` for different functions: each of `fns` in its own thread, released at the same instant."""
    return run_together(len(fns), lambda i: fns[i](), timeout=timeout)


def wait_until_another_session_waits_for_a_lock(timeout: float = 20) -> None:
    """Return once another session on this database waits for a lock (a racer has queued behind ours); fails the
    test after `timeout` seconds. For races made deterministic: hold a lock, wait here, then let go."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_stat_clear_snapshot()")  # inside a transaction the view would not change
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                " AND pid <> pg_backend_pid() AND wait_event_type = 'Lock'"
            )
            if cursor.fetchone()[0]:
                return
        time.sleep(0.02)
    raise AssertionError("no other session queued for the lock")
