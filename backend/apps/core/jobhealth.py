"""Stuck jobs: `doing`, and not going to finish by themselves.

A job is stuck when it is `doing` and either

- its worker is gone (`worker_gone`): no worker row, or no heartbeat for `MAWID_STALLED_JOB_SECONDS` — the worker
  died or lost the database; or
- it has run longer than its time limit (`over_time_limit`), whatever its worker's heartbeat: the task's entry in
  `MAWID_JOB_MAX_RUNTIME_BY_TASK`, else `MAWID_JOB_MAX_RUNTIME_SECONDS`. A live worker keeps sending heartbeats
  for a job whose bookkeeping failed (the job's row was never finished) or whose task hangs; only the clock tells.

`retry_stalled_jobs` (every 2 minutes) puts them back in the queue; `/healthz`, `/metrics` (`mawid_jobs_stuck`) and
the admin's job list (filter "stuck") show them. One query for all of them (`STUCK_JOBS`), run on Django's
connection (`stuck_jobs()`) or on the worker's pool (`stuck_jobs_async()`). The running time is counted from the
job's latest `started` event (procrastinate writes one each time a worker takes the job).
"""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from procrastinate.connector import BaseConnector
from procrastinate.contrib.django.django_connector import DjangoConnector

STUCK_JOBS = """
SELECT job.id, job.queue_name, job.task_name, job.attempts, job.queueing_lock, job.worker_id,
       started.at AS started_at,
       EXTRACT(EPOCH FROM now() - started.at)::float AS running_seconds,
       CASE WHEN w.id IS NULL OR w.last_heartbeat < now() - make_interval(secs => %(heartbeat_seconds)s)
            THEN 'worker_gone' ELSE 'over_time_limit' END AS reason
  FROM procrastinate_jobs AS job
  LEFT JOIN procrastinate_workers AS w ON w.id = job.worker_id
  LEFT JOIN LATERAL (
        SELECT max(event.at) AS at FROM procrastinate_events AS event
         WHERE event.job_id = job.id AND event.type = 'started'
       ) AS started ON true
 WHERE job.status = 'doing'
   AND (w.id IS NULL
        OR w.last_heartbeat < now() - make_interval(secs => %(heartbeat_seconds)s)
        OR started.at < now() - make_interval(
               secs => COALESCE((%(limits)s::jsonb ->> job.task_name)::float, %(max_runtime_seconds)s)))
 ORDER BY job.id
"""


def max_runtime_seconds(task_name: str) -> float:
    """The time limit of a task's jobs, in seconds."""
    limits = getattr(settings, "MAWID_JOB_MAX_RUNTIME_BY_TASK", {}) or {}
    return float(limits.get(task_name, settings.MAWID_JOB_MAX_RUNTIME_SECONDS))


def query_arguments() -> dict[str, Any]:
    """The parameters of `STUCK_JOBS` (pyformat, `%(name)s`), from settings."""
    limits = getattr(settings, "MAWID_JOB_MAX_RUNTIME_BY_TASK", {}) or {}
    return {
        "heartbeat_seconds": float(settings.MAWID_STALLED_JOB_SECONDS),
        "max_runtime_seconds": float(settings.MAWID_JOB_MAX_RUNTIME_SECONDS),
        "limits": json.dumps({name: float(seconds) for name, seconds in limits.items()}),
    }


def stuck_jobs(*, using: str = "default") -> list[dict[str, Any]]:
    """Every stuck job (id, queue_name, task_name, attempts, queueing_lock, worker_id, started_at,
    running_seconds, reason), read on Django's connection."""
    return DjangoConnector(alias=using).execute_query_all(query=STUCK_JOBS, **query_arguments())


async def stuck_jobs_async(connector: BaseConnector) -> list[dict[str, Any]]:
    """The same, on an async connector (the worker's pool)."""
    return await connector.execute_query_all_async(query=STUCK_JOBS, **query_arguments())
