from __future__ import annotations

from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_GET

from apps.core import jobhealth

_JOB_QUEUE = (
    "SELECT count(*) FILTER (WHERE status = 'todo' AND (scheduled_at IS NULL OR scheduled_at <= now())),"  # noqa: S608 - constant SQL, values bound
    " count(*) FILTER (WHERE status = 'failed'),"
    f" (SELECT count(*) FROM ({jobhealth.STUCK_JOBS}) AS stuck)"
    " FROM procrastinate_jobs"
)


@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """200 while the database answers (this server can serve), 503 otherwise.

    The job queue is reported alongside: `jobs_due`, `jobs_failed` and `jobs_stuck` (jobs `doing` whose worker is
    gone or that ran past their time limit, see `apps.core.jobhealth`). Stuck jobs make the answer
    `"status": "degraded"` and `"job_queue": "degraded"` but keep the 200: the web server is fine and must stay
    in the load balancer; monitors alert on the body.
    """
    checks: dict[str, str | int] = {}
    status = 200
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        checks["database"] = "ok"
    except Exception:  # noqa: BLE001 - any failure means unhealthy
        checks["database"] = "unavailable"
        status = 503
    degraded = False
    if status == 200:
        try:
            with connection.cursor() as cursor:
                cursor.execute(_JOB_QUEUE, jobhealth.query_arguments())
                due, failed, stuck = cursor.fetchone()
            degraded = stuck > 0
            checks["job_queue"] = "degraded" if degraded else "ok"
            checks["jobs_due"] = due
            checks["jobs_failed"] = failed
            checks["jobs_stuck"] = stuck
        except Exception:  # noqa: BLE001
            checks["job_queue"] = "unavailable"
            status = 503
    overall = "unavailable" if status != 200 else ("degraded" if degraded else "ok")
    return JsonResponse({"status": overall, **checks}, status=status)
