"""Prometheus metrics, served at `/metrics`.

Metric names (all prefixed `mawid_`):

- `mawid_http_requests_total{method,route,status}` — requests by URL route *pattern* (`/api/v1/bookings/<int:
  booking_id>`, never the raw path, so cardinality stays bounded), method and status class (`2xx`..`5xx`).
- `mawid_http_request_duration_seconds{method,route}` — latency histogram, same labels minus the status.
- `mawid_provider_errors_total{provider,kind}` — provider failures; any app calls `provider_error("moyasar",
  "timeout")`. Keep `kind` to a small fixed vocabulary (timeout, unavailable, rate_limited, rejected, ...).
- `mawid_jobs_run_total{task,outcome}` and `mawid_job_duration_seconds{task}` — jobs run by workers
  (`outcome`: succeeded / failed; a failed attempt that will be retried counts as failed).
- `mawid_jobs{queue,status}` and `mawid_jobs_due{queue}` — the job table, read at scrape time with one query:
  every job by queue and procrastinate status (todo, doing, failed, ...), and the `todo` jobs that are due now
  (not waiting for a retry). These are cluster-wide: with several app servers, aggregate them with max(), not
  sum(). `mawid_jobs_scrape_ok` is 0 when that query failed (the database is unreachable).
- `mawid_jobs_stuck{queue}` and `mawid_jobs_stuck_oldest_seconds` — jobs `doing` whose worker is gone or that
  have run past their time limit (`apps.core.jobhealth`), read at scrape time like `mawid_jobs`: above zero for
  more than the 2-minute sweep means a job the sweep cannot recover. `mawid_jobs_stuck_retried_total{task,reason}`
  (from workers) counts the jobs the sweep put back, and `mawid_jobs_superseded_total{task}` the retries that
  found an identical job already waiting (same queueing lock) and were finished in its favour.

Several processes: under gunicorn each worker process has its own counters. Set `PROMETHEUS_MULTIPROC_DIR` to an
empty directory (the same one for every process of the machine, the job worker included, before they start) and
/metrics aggregates all of them (prometheus_client's multiprocess mode; see docs/deploy.md). Without it, /metrics
shows the counters of the process that answered, plus the usual process_* and python_* metrics.

Access: from loopback (and not relayed by a proxy) when `MAWID_METRICS_TOKEN` is unset; otherwise only with
`Authorization: Bearer <MAWID_METRICS_TOKEN>`.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
import os
from collections.abc import Iterable

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.http import require_GET
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector

from apps.core import jobhealth
from apps.core.api import error_body

logger = logging.getLogger("mawid.metrics")

HTTP_REQUESTS = Counter(
    "mawid_http_requests_total",
    "HTTP requests by route pattern, method and status class.",
    ["method", "route", "status"],
)
HTTP_LATENCY = Histogram(
    "mawid_http_request_duration_seconds",
    "Time to answer an HTTP request, by route pattern and method.",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
)
PROVIDER_ERRORS = Counter(
    "mawid_provider_errors_total",
    "Errors from external providers (Authentica, Moyasar, ...) by provider and kind.",
    ["provider", "kind"],
)
JOBS_RUN = Counter(
    "mawid_jobs_run_total",
    "Jobs run by workers, by task and outcome (a failed attempt that will be retried counts as failed).",
    ["task", "outcome"],
)
JOB_DURATION = Histogram(
    "mawid_job_duration_seconds",
    "Time to run a job, by task.",
    ["task"],
    buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0),
)

JOBS_STUCK_RETRIED = Counter(
    "mawid_jobs_stuck_retried_total",
    "Stuck jobs put back in the queue by retry_stalled_jobs, by task and reason (worker_gone, over_time_limit).",
    ["task", "reason"],
)
JOBS_SUPERSEDED = Counter(
    "mawid_jobs_superseded_total",
    "Job retries that found an identical job waiting (same queueing lock) and were finished in its favour.",
    ["task"],
)

_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
# Statuses reported for every known queue, even at zero, so alerts see a series instead of nothing.
_ALWAYS_REPORTED_STATUSES = ("todo", "doing", "failed")


def provider_error(provider: str, kind: str) -> None:
    """Count one provider error: `provider_error("authentica", "timeout")`. Never raises."""
    try:
        PROVIDER_ERRORS.labels(provider=provider, kind=kind).inc()
    except Exception:  # noqa: BLE001 - metrics must never break the caller
        logger.warning("metrics_failed", exc_info=True)


def observe_request(*, method: str, route: str, status: int, seconds: float) -> None:
    method = method if method in _METHODS else "other"
    HTTP_REQUESTS.labels(method=method, route=route, status=f"{status // 100}xx").inc()
    HTTP_LATENCY.labels(method=method, route=route).observe(seconds)


def job_finished(*, task: str, outcome: str, seconds: float) -> None:
    try:
        JOBS_RUN.labels(task=task, outcome=outcome).inc()
        JOB_DURATION.labels(task=task).observe(seconds)
    except Exception:  # noqa: BLE001
        logger.warning("metrics_failed", exc_info=True)


def job_stuck_retried(*, task: str, reason: str) -> None:
    try:
        JOBS_STUCK_RETRIED.labels(task=task, reason=reason).inc()
    except Exception:  # noqa: BLE001
        logger.warning("metrics_failed", exc_info=True)


def job_superseded(*, task: str) -> None:
    try:
        JOBS_SUPERSEDED.labels(task=task).inc()
    except Exception:  # noqa: BLE001
        logger.warning("metrics_failed", exc_info=True)


def route_of(request: HttpRequest) -> str:
    """The URL pattern that served the request (`/api/v1/staff/<int:staff_id>`), not the raw path."""
    match = getattr(request, "resolver_match", None)
    if match is not None and match.route:
        return "/" + match.route.lstrip("^")
    static_url = "/" + (settings.STATIC_URL or "static/").lstrip("/")
    if request.path.startswith(static_url):
        return "<static>"
    return "<unmatched>"


class JobQueueCollector:
    """`mawid_jobs{queue,status}`, `mawid_jobs_due{queue}` and the stuck jobs, read from procrastinate_jobs at
    scrape time."""

    # One query per scrape: the counts by queue and status, then one row per queue with stuck jobs.
    QUERY = (
        "SELECT queue_name, status::text, count(*),"  # noqa: S608 - constant SQL, values bound
        " count(*) FILTER (WHERE status = 'todo' AND (scheduled_at IS NULL OR scheduled_at <= now())),"
        " NULL::float"
        " FROM procrastinate_jobs GROUP BY queue_name, status"
        " UNION ALL"
        " SELECT queue_name, 'stuck', count(*), 0, max(running_seconds)"
        f" FROM ({jobhealth.STUCK_JOBS}) AS stuck GROUP BY queue_name"
    )

    def collect(self) -> Iterable[Metric]:
        jobs = GaugeMetricFamily(
            "mawid_jobs", "Jobs in the queue table by queue and status (cluster-wide).", labels=["queue", "status"]
        )
        due = GaugeMetricFamily(
            "mawid_jobs_due", "Jobs waiting to run now, not for a retry delay (cluster-wide).", labels=["queue"]
        )
        stuck = GaugeMetricFamily(
            "mawid_jobs_stuck",
            "Jobs doing whose worker is gone or that ran past their time limit (cluster-wide).",
            labels=["queue"],
        )
        stuck_oldest = GaugeMetricFamily(
            "mawid_jobs_stuck_oldest_seconds", "How long the longest-running stuck job has been running (0: none)."
        )
        ok = GaugeMetricFamily("mawid_jobs_scrape_ok", "1 when the job table could be read for this scrape.")
        try:
            with connection.cursor() as cursor:
                cursor.execute(self.QUERY, jobhealth.query_arguments())
                rows = cursor.fetchall()
        except Exception:  # noqa: BLE001 - a scrape must answer even with the database down
            logger.warning("job_metrics_unavailable", exc_info=True)
            ok.add_metric([], 0)
            yield ok
            return
        counts: dict[tuple[str, str], int] = {}
        due_counts: dict[str, int] = {}
        stuck_counts: dict[str, int] = {}
        oldest = 0.0
        for queue, status, count, due_count, running in rows:
            if status == "stuck":
                stuck_counts[queue] = count
                oldest = max(oldest, running or 0.0)
                continue
            counts[(queue, status)] = count
            due_counts[queue] = due_counts.get(queue, 0) + due_count
        for queue in _known_queues() | {queue for queue, _ in counts}:
            for status in _ALWAYS_REPORTED_STATUSES:
                counts.setdefault((queue, status), 0)
            due_counts.setdefault(queue, 0)
            stuck_counts.setdefault(queue, 0)
        for (queue, status), count in sorted(counts.items()):
            jobs.add_metric([queue, status], count)
        for queue, count in sorted(due_counts.items()):
            due.add_metric([queue], count)
        for queue, count in sorted(stuck_counts.items()):
            stuck.add_metric([queue], count)
        stuck_oldest.add_metric([], oldest)
        ok.add_metric([], 1)
        yield jobs
        yield due
        yield stuck
        yield stuck_oldest
        yield ok


def _known_queues() -> set[str]:
    from procrastinate.contrib.django import app

    try:
        return {task.queue for name, task in app.tasks.items() if not name.startswith("builtin:")}
    except Exception:  # noqa: BLE001
        return set()


_jobs_registry = CollectorRegistry(auto_describe=False)
_jobs_registry.register(JobQueueCollector())  # type: ignore[arg-type]


def render_process_metrics() -> bytes:
    """This process's metrics or, in multiprocess mode, those of every process sharing the directory."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        MultiProcessCollector(registry)
        return generate_latest(registry)
    return generate_latest(REGISTRY)


def render() -> bytes:
    """The exposition text: the process metrics, then the job queue read from the database."""
    return render_process_metrics() + generate_latest(_jobs_registry)


def _is_loopback(request: HttpRequest) -> bool:
    if any(h in request.META for h in ("HTTP_X_FORWARDED_FOR", "HTTP_FORWARDED", "HTTP_X_REAL_IP")):
        return False  # relayed by a proxy: the real client is elsewhere
    try:
        return ipaddress.ip_address(request.META.get("REMOTE_ADDR", "")).is_loopback
    except ValueError:
        return False


def _token_ok(request: HttpRequest, token: str) -> bool:
    header = request.META.get("HTTP_AUTHORIZATION", "")
    scheme, _, given = header.partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), token.encode())


@require_GET
def metrics_view(request: HttpRequest) -> HttpResponse:
    token = settings.MAWID_METRICS_TOKEN
    if token:
        if not _token_ok(request, token):
            response = JsonResponse(error_body("not_authenticated", "A metrics token is required."), status=401)
            response["WWW-Authenticate"] = 'Bearer realm="metrics"'
            return response
    elif not _is_loopback(request):
        return JsonResponse(
            error_body("permission_denied", "Metrics are served to loopback only; set MAWID_METRICS_TOKEN."),
            status=403,
        )
    response = HttpResponse(render(), content_type=CONTENT_TYPE_LATEST)
    response["Cache-Control"] = "no-store"
    return response
