"""Housekeeping jobs: recover jobs whose worker died, drop expired idempotency records."""

from __future__ import annotations

import logging

from django.conf import settings
from django.utils import timezone
from procrastinate import JobContext
from procrastinate.contrib.django import app

from apps.core.idempotency import TTL
from apps.core.models import IdempotencyRecord

logger = logging.getLogger("mawid.jobs")


@app.periodic(cron="*/2 * * * *", periodic_id="retry_stalled_jobs")
@app.task(queue="maintenance", queueing_lock="retry_stalled_jobs", pass_context=True)
async def retry_stalled_jobs(context: JobContext, timestamp: int) -> int:
    """Put back in the queue every job left `doing` by a worker that stopped sending heartbeats."""
    manager = context.app.job_manager
    stalled = await manager.get_stalled_jobs(seconds_since_heartbeat=settings.MAWID_STALLED_JOB_SECONDS)
    for job in stalled:
        logger.warning("stalled_job_retried", extra={"job_id": job.id, "task": job.task_name})
        await manager.retry_job(job)
    return len(stalled)


@app.periodic(cron="17 * * * *", periodic_id="idempotency_cleanup")
@app.task(queue="maintenance", queueing_lock="idempotency_cleanup")
def idempotency_cleanup(timestamp: int) -> int:
    deleted, _ = IdempotencyRecord.objects.filter(created_at__lt=timezone.now() - TTL).delete()
    return deleted


@app.periodic(cron="*/10 * * * *", periodic_id="throttle_cleanup")
@app.task(queue="maintenance", queueing_lock="throttle_cleanup")
def throttle_cleanup(timestamp: int) -> int:
    """Forget throttle windows older than a day (the longest rate we use)."""
    from apps.core.models import ThrottleHit

    deleted, _ = ThrottleHit.objects.filter(window_start__lt=timestamp - 86400).delete()
    return deleted
