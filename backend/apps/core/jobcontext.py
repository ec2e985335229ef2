"""The request id follows a request into the jobs it defers, and the worker logs with it.

Procrastinate 3.10 has no free metadata on a job (a row is queue, task, priority, lock, queueing_lock, args,
scheduled_at, attempts), and task signatures are fixed, so the id travels in the job's JSON arguments under one
reserved key, `_request_id`, and never reaches the task function:

- Defer side: `RequestIdJobManager` replaces the app's job manager and adds `_request_id` to every job deferred
  while `request_id_var` is set: sync or async, single or batch, from a request or from another job (the chain
  keeps the id of the request that started it). Periodic jobs, deferred by the worker's scheduler, carry none.
- Run side: `job_context` is a procrastinate *worker* middleware (it wraps every job, sync and async tasks alike).
  It takes `_request_id` out of the job's kwargs before the task is called, and sets `request_id_var` and
  `job_var` while the task runs, so every log line the task writes carries `request_id`, `job_id` and `task`.
  It also counts jobs and their duration for /metrics (see `apps.core.metrics`).

Both are installed by `install(app)`, which procrastinate calls when its Django app is ready
(`PROCRASTINATE_ON_APP_READY = "apps.core.jobcontext.install"` in settings). The key stays in the row, so a
retried job keeps its id, and `SELECT * FROM procrastinate_jobs WHERE args->>'_request_id' = '...'` finds every
job a request caused.

`install(app)` also wires the rest of the job plumbing of `apps.core`:

- the connector (`apps.core.jobconnector.JobConnector`): every synchronous defer/cancel runs on Django's
  connection, in the caller's transaction, in the worker too.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Any

from procrastinate import manager
from procrastinate.contrib.django import django_connector

from apps.core.jobconnector import JobConnector
from apps.core.logging import job_var, request_id_var

if TYPE_CHECKING:
    from procrastinate import App, JobContext, Worker
    from procrastinate.jobs import Job
    from procrastinate.middleware import AsyncCallNext

REQUEST_ID_KEY = "_request_id"
logger = logging.getLogger("mawid.jobs")


def _with_request_id(jobs: list[Job]) -> list[Job]:
    request_id = request_id_var.get()
    if not request_id:
        return jobs
    return [
        job if REQUEST_ID_KEY in job.task_kwargs
        else job.evolve(task_kwargs={**job.task_kwargs, REQUEST_ID_KEY: request_id})
        for job in jobs
    ]


class RequestIdJobManager(manager.JobManager):
    """A job manager that stamps deferred jobs with the current request id (single defers go through these)."""

    def batch_defer_jobs(self, jobs: list[Job], connection: Any | None = None) -> list[Job]:
        return super().batch_defer_jobs(jobs=_with_request_id(jobs), connection=connection)

    async def batch_defer_jobs_async(self, jobs: list[Job], connection: Any | None = None) -> list[Job]:
        return await super().batch_defer_jobs_async(jobs=_with_request_id(jobs), connection=connection)


async def job_context(call_next: AsyncCallNext, context: JobContext, worker: Worker) -> Any:
    """Worker middleware: run the job with its request id (if any) and its id in the logging context."""
    from apps.core import metrics  # imported late: this module is imported while Django apps are loading

    job = context.job
    # The worker calls the task with `**job.task_kwargs` of this same Job object: remove the key in place, so
    # task signatures stay as they are. (Guarded by apps/core/tests/test_metrics.py.)
    request_id = job.task_kwargs.pop(REQUEST_ID_KEY, None)
    request_token = request_id_var.set(str(request_id) if request_id else None)
    job_token = job_var.set((job.id, job.task_name))
    started = time.perf_counter()
    outcome = "failed"
    try:
        result = await call_next()
        outcome = "succeeded"
        return result
    finally:
        metrics.job_finished(task=job.task_name, outcome=outcome, seconds=time.perf_counter() - started)
        job_var.reset(job_token)
        request_id_var.reset(request_token)


def install(app: App) -> None:
    """`PROCRASTINATE_ON_APP_READY` hook: request ids into deferred jobs, and out again in the worker; job rows
    written in the caller's transaction (`JobConnector`)."""
    connector = app.connector
    if type(connector) is django_connector.DjangoConnector:
        connector = JobConnector(alias=connector.alias)
        app.connector = connector
    if not isinstance(app.job_manager, RequestIdJobManager):
        app.job_manager = RequestIdJobManager(connector=connector)
    app.job_manager.connector = connector
    existing = list(app.worker_defaults.get("worker_middleware") or [])
    if job_context not in existing:
        app.worker_defaults = {**app.worker_defaults, "worker_middleware": [job_context, *existing]}
