"""Housekeeping jobs: recover stuck jobs (dead worker, or over their time limit), the daily retention purge, old throttle windows."""

from __future__ import annotations

import logging

from procrastinate import JobContext, exceptions, utils
from procrastinate.contrib.django import app

from apps.core import jobhealth

logger = logging.getLogger("mawid.jobs")


@app.periodic(cron="*/2 * * * *", periodic_id="retry_stalled_jobs")
@app.task(queue="maintenance", queueing_lock="retry_stalled_jobs", pass_context=True)
async def retry_stalled_jobs(context: JobContext, timestamp: int) -> int:
    """Put back in the queue every stuck job (`apps.core.jobhealth`): left `doing` by a worker that stopped sending
    heartbeats, or `doing` for longer than its time limit whatever the heartbeat."""
    from apps.core import metrics

    manager = context.app.job_manager
    retried = 0
    for job in await jobhealth.stuck_jobs_async(manager.connector):
        extra = {
            "job_id": job["id"],
            "task": job["task_name"],
            "reason": job["reason"],
            "running_s": round(job["running_seconds"] or 0.0, 1),
            "worker_id": job["worker_id"],
        }
        try:
            # A retry colliding with a waiting twin (same queueing lock) finishes it as superseded (jobcontext).
            await manager.retry_job_by_id_async(job_id=job["id"], retry_at=utils.utcnow())
        except exceptions.ConnectorException:  # finished meanwhile: nothing to do
            logger.info("stalled_job_gone", extra=extra)
            continue
        logger.warning("stalled_job_retried", extra=extra)
        metrics.job_stuck_retried(task=job["task_name"], reason=job["reason"])
        retried += 1
    return retried


@app.periodic(cron="23 1 * * *", periodic_id="retention_purge")
@app.task(queue="maintenance", queueing_lock="retention_purge")
def retention_purge(timestamp: int) -> dict[str, int]:
    """Once a day (04:23 in Riyadh): every retention rule, in short batches (apps.core.retention, docs/privacy.md).
    Idempotency keys are one of the rules (this replaced the hourly `idempotency_cleanup`)."""
    from apps.core.retention import retention_run

    return retention_run().counts


@app.periodic(cron="*/10 * * * *", periodic_id="throttle_cleanup")
@app.task(queue="maintenance", queueing_lock="throttle_cleanup")
def throttle_cleanup(timestamp: int) -> int:
    """Forget throttle windows older than a day (the longest rate we use)."""
    from apps.core.models import ThrottleHit

    deleted, _ = ThrottleHit.objects.filter(window_start__lt=timestamp - 86400).delete()
    return deleted
