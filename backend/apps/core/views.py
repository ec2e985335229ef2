from __future__ import annotations

from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_GET


@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    checks: dict[str, str] = {}
    status = 200
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        checks["database"] = "ok"
    except Exception:  # noqa: BLE001 - any failure means unhealthy
        checks["database"] = "unavailable"
        status = 503
    if status == 200:
        try:
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT count(*) FILTER (WHERE status = 'todo' AND scheduled_at <= now()), "
                    "count(*) FILTER (WHERE status = 'failed') FROM procrastinate_jobs"
                )
                due, failed = cursor.fetchone()
            checks["job_queue"] = "ok"
            checks["jobs_due"] = due
            checks["jobs_failed"] = failed
        except Exception:  # noqa: BLE001
            checks["job_queue"] = "unavailable"
            status = 503
    return JsonResponse({"status": "ok" if status == 200 else "unavailable", **checks}, status=status)
