"""Test helpers for background jobs: run the real procrastinate worker over the test database."""

from __future__ import annotations

import json
import time

from django.db import connection
from procrastinate.contrib.django import app


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
    while True:
        with app.replace_connector(app.connector.get_worker_connector()) as worker_app:
            worker_app.run_worker(
                queues=queues, wait=False, install_signal_handlers=False, listen_notify=False,
                concurrency=concurrency, delete_jobs="never",
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
