"""Procrastinate's job admin, with the stuck jobs findable: a "stuck" filter and a column saying why.

Procrastinate registers `ProcrastinateJobAdmin` (read-only list of jobs, with Retry / Cancel / Abort actions). This
module (imported by the admin's autodiscovery after procrastinate's, `apps.core` comes later in INSTALLED_APPS)
registers a subclass in its place. "Retry Job" on a stuck job goes through `RequestIdJobManager.retry_job_by_id`,
which finishes it as superseded when an identical job is already waiting.
"""

from __future__ import annotations

import threading
from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from procrastinate.contrib.django.admin import ProcrastinateJobAdmin
from procrastinate.contrib.django.models import ProcrastinateJob

from apps.core import jobhealth

_page = threading.local()  # the stuck jobs of the page being rendered (one request per thread)


class StuckFilter(admin.SimpleListFilter):
    title = "stuck"
    parameter_name = "stuck"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [
            ("yes", "Stuck (worker gone or over its time limit)"),
            ("worker_gone", "Stuck: worker gone"),
            ("over_time_limit", "Stuck: over its time limit"),
        ]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet | None:
        value = self.value()
        if not value:
            return None
        rows = jobhealth.stuck_jobs()
        return queryset.filter(id__in=[row["id"] for row in rows if value == "yes" or row["reason"] == value])


class JobAdmin(ProcrastinateJobAdmin):
    list_filter = [StuckFilter, *ProcrastinateJobAdmin.list_filter]
    list_display = [*ProcrastinateJobAdmin.list_display, "stuck"]

    def changelist_view(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> Any:
        # One query for the whole page: the stuck jobs and why.
        _page.stuck = {row["id"]: row for row in jobhealth.stuck_jobs()}
        try:
            response = super().changelist_view(request, extra_context)
            if hasattr(response, "render"):
                response.render()  # the rows are rendered here, while the page's stuck jobs are known
            return response
        finally:
            _page.stuck = {}

    @admin.display(description="Stuck")
    def stuck(self, instance: ProcrastinateJob) -> str:
        row = getattr(_page, "stuck", {}).get(instance.id)
        if row is None:
            return ""
        minutes = (row["running_seconds"] or 0.0) / 60
        why = "worker gone" if row["reason"] == "worker_gone" else "over its time limit"
        return f"{why}, running {minutes:.0f} min"


if admin.site.is_registered(ProcrastinateJob):
    admin.site.unregister(ProcrastinateJob)
admin.site.register(ProcrastinateJob, JobAdmin)
