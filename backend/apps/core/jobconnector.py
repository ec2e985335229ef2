"""Where procrastinate's queries run, so that a job row commits or rolls back with the data it belongs to.

Procrastinate's Django contrib gives the app a `DjangoConnector` (every query on Django's connection of the calling
thread, so a `.defer()` inside `transaction.atomic()` is part of that transaction), but `manage.py procrastinate
worker` swaps it for a psycopg pool for the whole process (`app.replace_connector(get_worker_connector())`). A job
that wrote rows and deferred jobs (the Moyasar webhook job confirming a booking: notification rows + their
`notification_send` jobs) then inserted the job rows on a pool connection in autocommit: they were visible, and
ran, before the rows were committed (`notification_missing`, then the 5-minute sweep), and stayed when the job's
transaction rolled back.

Here every *synchronous* call of the job manager — `defer`, `batch_defer_jobs`, `cancel_job_by_id`,
`get_job_status`, `retry_job_by_id`, `list_jobs` — runs on `django.db.connection` of the calling thread, in a web
process, a shell or a job alike, i.e. inside whatever transaction that thread has open. Only the worker's own
*asynchronous* queries (fetch, finish, retry, heartbeats, periodic defers, LISTEN) use the worker's pool:

- `JobConnector` is the app's connector in every process (installed by `apps.core.jobcontext.install`): a
  `DjangoConnector` whose `get_worker_connector()` returns a `WorkerConnector`.
- `WorkerConnector` is a psycopg pool connector for the worker loop whose `get_sync_connector()` is a
  `DjangoConnector`. Its pool is sized for the worker's concurrency (each running job finishes on a pool
  connection, besides the fetch loop, heartbeats, abort polling and the periodic deferrer).

An *async* task that defers with `await task.defer_async()` still uses the pool (Django's ORM and transactions are
synchronous): do the writes and the defers together in a sync function (as `notification_send` does in its thread).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from procrastinate import connector as connector_module
from procrastinate import psycopg_connector
from procrastinate.contrib.django import django_connector, utils

# Connections the worker loop may hold besides one per running job: the fetch loop, the heartbeat, the abort
# poller and the periodic deferrer. (LISTEN has a connection of its own, outside the pool.)
POOL_HEADROOM = 4


def worker_pool_size(concurrency: int | None = None) -> int:
    """The pool size for a worker running `concurrency` jobs at once (default: the configured concurrency)."""
    configured = int(getattr(settings, "MAWID_WORKER_DB_POOL_SIZE", 0) or 0)
    if configured > 0:
        return configured
    if concurrency is None:
        concurrency = int((getattr(settings, "PROCRASTINATE_WORKER_DEFAULTS", None) or {}).get("concurrency", 1))
    return max(1, concurrency) + POOL_HEADROOM


class WorkerConnector(psycopg_connector.PsycopgConnector):
    """The worker's connector: async queries on its own psycopg pool, sync queries on Django's connection."""

    def __init__(self, *, alias: str = "default", max_size: int | None = None, **kwargs: Any) -> None:
        size = max_size or worker_pool_size()
        kwargs.setdefault("kwargs", utils.connector_params(alias))
        kwargs.setdefault("min_size", min(2, size))
        kwargs.setdefault("max_size", size)
        super().__init__(**kwargs)
        self.alias = alias
        self._django = django_connector.DjangoConnector(alias=alias)

    def get_sync_connector(self) -> connector_module.BaseConnector:
        # Called by every synchronous JobManager method: that code runs in a job's thread, inside its transaction.
        return self._django

    async def resize(self, max_size: int) -> None:
        """Grow (or shrink) the open pool, e.g. to the concurrency a worker was started with."""
        pool = self._async_pool
        if pool is None or pool.max_size == max_size:
            return
        await pool.resize(min_size=min(pool.min_size, max_size), max_size=max_size)


class JobConnector(django_connector.DjangoConnector):
    """The app's connector: Django's connection for everything; its worker connector is a `WorkerConnector`."""

    def get_worker_connector(self) -> WorkerConnector:
        return WorkerConnector(alias=self.alias)
