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
  connection, in the caller's transaction, in the worker too;
- the job manager (`RequestIdJobManager`): a retry that collides with a waiting job of the same queueing lock
  finishes the job as superseded instead of crashing the worker and stranding it `doing`;
- a worker middleware that sizes the worker's pool and its thread pool for sync tasks to its concurrency.
"""

from __future__ import annotations

import asyncio
import datetime
import logging
import os
import time
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django_scopes.state import state as scoping_state
from procrastinate import exceptions, manager, sql
from procrastinate.contrib.django import django_connector
from procrastinate.jobs import Status

from apps.core.jobconnector import JobConnector, WorkerConnector, worker_pool_size
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


# The twin that takes over a superseded job runs no later than the retry would have.
_PULL_TWIN_FORWARD = """
UPDATE procrastinate_jobs AS twin SET scheduled_at = %(retry_at)s
  FROM procrastinate_jobs AS job
 WHERE job.id = %(job_id)s AND twin.queueing_lock = job.queueing_lock AND twin.status = 'todo'
   AND twin.scheduled_at > %(retry_at)s
"""
_JOB_STATE = "SELECT status::text AS status, task_name, queueing_lock FROM procrastinate_jobs WHERE id = %(job_id)s"


class RequestIdJobManager(manager.JobManager):
    """The app's job manager: stamps deferred jobs with the current request id (single defers go through these),
    and retries jobs with a queueing lock safely.

    Retrying a job sets it back to `todo`; when another job with the same queueing lock is already waiting (two
    capture jobs for one payment, both retried), PostgreSQL refuses the update (unique index on queueing_lock
    for `todo` jobs). Procrastinate raised that from the worker's bookkeeping (`Task exception was never
    retrieved`) and left the job `doing` for good. Here the job is finished instead (`succeeded`, logged as
    `job_retry_superseded`): the waiting twin does the same work, and is brought forward to the retry's time
    if it was due later.
    """

    def batch_defer_jobs(self, jobs: list[Job], connection: Any | None = None) -> list[Job]:
        return super().batch_defer_jobs(jobs=_with_request_id(jobs), connection=connection)

    async def batch_defer_jobs_async(self, jobs: list[Job], connection: Any | None = None) -> list[Job]:
        return await super().batch_defer_jobs_async(jobs=_with_request_id(jobs), connection=connection)

    async def retry_job_by_id_async(
        self,
        job_id: int,
        retry_at: datetime.datetime,
        priority: int | None = None,
        queue: str | None = None,
        lock: str | None = None,
    ) -> None:
        try:
            await super().retry_job_by_id_async(
                job_id=job_id, retry_at=retry_at, priority=priority, queue=queue, lock=lock
            )
        except exceptions.UniqueViolation as exc:
            if exc.constraint_name != manager.QUEUEING_LOCK_CONSTRAINT:
                raise
            await self.connector.execute_query_async(query=_PULL_TWIN_FORWARD, job_id=job_id, retry_at=retry_at)
            state = await self.connector.execute_query_one_async(query=_JOB_STATE, job_id=job_id)
            if state["status"] == Status.DOING.value:
                await self.finish_job_by_id_async(job_id=job_id, status=Status.SUCCEEDED, delete_job=False)
            _superseded(job_id=job_id, state=state, queueing_lock=exc.queueing_lock)

    def retry_job_by_id(
        self,
        job_id: int,
        retry_at: datetime.datetime,
        priority: int | None = None,
        queue: str | None = None,
        lock: str | None = None,
    ) -> None:
        """Sync version (the admin's "Retry Job"): same handling, in a savepoint of the caller's transaction."""
        sync = self.connector.get_sync_connector()
        savepoint = (
            transaction.atomic(using=sync.alias)
            if isinstance(sync, django_connector.DjangoConnector)
            else transaction.atomic()
        )
        try:
            with savepoint:
                super().retry_job_by_id(job_id=job_id, retry_at=retry_at, priority=priority, queue=queue, lock=lock)
        except exceptions.UniqueViolation as exc:
            if exc.constraint_name != manager.QUEUEING_LOCK_CONSTRAINT:
                raise
            sync.execute_query(query=_PULL_TWIN_FORWARD, job_id=job_id, retry_at=retry_at)
            state = sync.execute_query_one(query=_JOB_STATE, job_id=job_id)
            if state["status"] == Status.DOING.value:
                sync.execute_query(
                    query=sql.queries["finish_job"],
                    job_id=job_id,
                    status=Status.SUCCEEDED.value,
                    delete_job=False,
                )
            _superseded(job_id=job_id, state=state, queueing_lock=exc.queueing_lock)


def _superseded(*, job_id: int, state: dict[str, Any], queueing_lock: str | None) -> None:
    from apps.core import metrics

    logger.warning(
        "job_retry_superseded",
        extra={
            "job_id": job_id,
            "task": state["task_name"],
            "queueing_lock": queueing_lock or state["queueing_lock"],
            "status_was": state["status"],
        },
    )
    metrics.job_superseded(task=state["task_name"])


async def job_context(call_next: AsyncCallNext, context: JobContext, worker: Worker) -> Any:
    """Worker middleware: run the job with its request id (if any) and its id in the logging context."""
    from apps.core import metrics  # imported late: this module is imported while Django apps are loading

    await _prepare_worker(worker)
    job = context.job
    # The worker calls the task with `**job.task_kwargs` of this same Job object: remove the key in place, so
    # task signatures stay as they are. (Guarded by apps/core/tests/test_metrics.py.)
    request_id = job.task_kwargs.pop(REQUEST_ID_KEY, None)
    request_token = request_id_var.set(str(request_id) if request_id else None)
    job_token = job_var.set((job.id, job.task_name))
    started = time.perf_counter()
    outcome = "failed"
    # Jobs are platform code: each acts on rows it names by id, of whichever business (apps.core.scoping).
    scope_token = scoping_state.set({"_enabled": False})
    try:
        result = await call_next()
        outcome = "succeeded"
        return result
    finally:
        metrics.job_finished(task=job.task_name, outcome=outcome, seconds=time.perf_counter() - started)
        scoping_state.reset(scope_token)
        job_var.reset(job_token)
        request_id_var.reset(request_token)


async def _prepare_worker(worker: Worker) -> None:
    """Once per worker run (its event loop): size what its jobs share to its concurrency.

    - The worker's pool: one connection per job it may run at once (each finishes on one), plus its own.
    - The event loop's default executor, where procrastinate runs *sync* tasks (`sync_to_async(thread_sensitive=
      False)`): asyncio makes it min(32, CPUs + 4) threads, so on a 2-CPU host a worker started with
      `--concurrency 16` ran 6 sync jobs at a time while the other 10 held their slots, `doing`, waiting for a
      thread. It gets as many threads as the concurrency (never fewer than asyncio's default).
    """
    loop = asyncio.get_running_loop()
    if getattr(loop, "_mawid_worker_prepared", False):
        return
    loop._mawid_worker_prepared = True  # type: ignore[attr-defined]
    connector = worker.app.connector
    if isinstance(connector, WorkerConnector):
        await connector.resize(worker_pool_size(worker.concurrency))
    threads = max(worker.concurrency, min(32, (os.cpu_count() or 1) + 4))
    loop.set_default_executor(ThreadPoolExecutor(max_workers=threads, thread_name_prefix="job-sync"))


def install(app: App) -> None:
    """`PROCRASTINATE_ON_APP_READY` hook: request ids into deferred jobs, and out again in the worker; job rows
    written in the caller's transaction (`JobConnector`); retries that cannot strand a job."""
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
