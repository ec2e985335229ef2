"""Notification jobs: send one message (now, or at its `schedule_at`), the periodic repair sweep, and the staff's
morning agendas (`staff_agendas`, every 15 minutes).

`notification_send` is an async task that runs the (synchronous, Django) delivery in a thread pool of its own.
Procrastinate runs a *sync* task in the event loop's default executor, which has min(32, CPUs + 4) threads: on a
2-CPU machine a worker started with `--concurrency 16` would still send only 6 messages at a time, and a slow
provider (2 s per SMS) would cap it at 3 messages per second. With its own pool, the worker's concurrency
setting is what bounds parallel sends.
"""

from __future__ import annotations

import asyncio
import contextvars
from concurrent.futures import ThreadPoolExecutor

from django.db import close_old_connections
from django.utils import timezone
from procrastinate import JobContext
from procrastinate.contrib.django import app

from apps.core.retry import Backoff
from apps.notifications import services
from apps.notifications.channels import ChannelError

# Timeouts, 5xx and 429 (retryable ChannelErrors) and "another attempt is in flight" are retried with exponential
# backoff; a permanent error or giving up (DeliveryGaveUp, retryable=False) ends the job at once.
send_retry = Backoff(
    max_attempts="NOTIFICATIONS_MAX_ATTEMPTS",
    retry_exceptions=(ChannelError, services.DeliveryInFlight),
    cap_seconds=1800,
)

# Threads are made on demand, so the pool never holds more than the worker's concurrency uses at once.
_senders = ThreadPoolExecutor(max_workers=128, thread_name_prefix="notification-send")


def _deliver(notification_id: int, job_id: int | None) -> None:
    close_old_connections()  # a long-lived thread must not keep using a connection the server dropped
    try:
        services.notification_deliver(notification_id=notification_id, job_id=job_id)
    finally:
        close_old_connections()


@app.task(queue="notifications", retry=send_retry, pass_context=True)
async def notification_send(context: JobContext, *, notification_id: int) -> None:
    """Deliver one notification. Safe to run twice: the row says whether it was sent."""
    job_id = context.job.id if context.job else None
    run = contextvars.copy_context().run  # the job's log context (request id, job id) follows into the thread
    await asyncio.get_running_loop().run_in_executor(_senders, run, _deliver, notification_id, job_id)


@app.periodic(cron="*/5 * * * *", periodic_id="notifications_sweep")
@app.task(queue="notifications", queueing_lock="notifications_sweep")
def notifications_sweep(timestamp: int) -> dict[str, int]:
    """Every 5 minutes: create missing reminders and give lost messages a job again."""
    close_old_connections()
    try:
        return services.notifications_sweep()
    finally:
        close_old_connections()


@app.periodic(cron="*/15 * * * *", periodic_id="staff_agendas")
@app.task(queue="notifications", queueing_lock="staff_agendas")
def staff_agendas(timestamp: int) -> dict[str, int]:
    """Every 15 minutes: each staff member's agenda of the day, once their business's agenda time has come (a
    run after downtime catches up the same morning; the event key makes it once a day)."""
    close_old_connections()
    try:
        return {"agendas_created": services.staff_agendas_create(now=timezone.now())}
    finally:
        close_old_connections()
