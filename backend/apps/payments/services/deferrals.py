"""Deferring payment jobs from inside the transaction that decided them (the job row commits with the data).

The jobs (`apps.payments.jobs`) call the services, so the services never import them: a job is looked up by its
name in procrastinate's registry (`_task`), filled when Django starts (`PROCRASTINATE_AUTODISCOVER_MODULE_NAME`).
An unknown name is a `KeyError` at once, never a job on the wrong queue.

No procrastinate `lock` here on purpose: a job with a lock waits behind every earlier job with the same lock,
even one scheduled days ahead (the capture at the appointment time). Payments serialise their own provider calls
with the `operation` column instead (see `operations.py`).
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from django.db import transaction
from procrastinate.contrib.django import app
from procrastinate.exceptions import AlreadyEnqueued
from procrastinate.tasks import ConfigureTaskOptions, Task

logger = logging.getLogger("mawid.payments")

JOBS_MODULE = "apps.payments.jobs"


def _task(name: str) -> Task[..., Any, ...]:
    """The registered job `apps.payments.jobs.<name>` (procrastinate names a task by its dotted path)."""
    return app.tasks[f"{JOBS_MODULE}.{name}"]


def _defer(
    task: Task[..., Any, ...], *, queueing_lock: str | None = None, at: datetime | None = None, **kwargs: Any
) -> bool:
    """Defer in a savepoint; False when an identical job (same queueing lock) is already waiting."""
    options: ConfigureTaskOptions = {"queueing_lock": queueing_lock} if queueing_lock else {}
    if at is not None:
        options["schedule_at"] = at
    try:
        with transaction.atomic():  # a savepoint: a queueing-lock conflict must not abort the caller's transaction
            task.configure(**options).defer(**kwargs)
    except AlreadyEnqueued:
        logger.info("payment_job_already_queued", extra={"task": task.name, "queueing_lock": queueing_lock})
        return False
    return True


def capture(payment_id: int, *, at: datetime | None = None, force: bool = False) -> bool:
    # Scheduled captures may pile up (one per reschedule); each re-checks the due time when it runs.
    lock = None if at is not None else f"payment-capture-{payment_id}-{'forced' if force else 'due'}"
    return _defer(_task("payment_capture"), queueing_lock=lock, at=at, payment_id=payment_id, force=force)


def void(payment_id: int) -> bool:
    return _defer(_task("payment_void"), queueing_lock=f"payment-void-{payment_id}", payment_id=payment_id)


def refund(refund_id: int) -> bool:
    return _defer(_task("payment_refund"), queueing_lock=f"payment-refund-{refund_id}", refund_id=refund_id)


def create_recover(payment_id: int) -> bool:
    return _defer(_task("payment_create_recover"), queueing_lock=f"payment-create-{payment_id}", payment_id=payment_id)


def sync(payment_id: int) -> bool:
    return _defer(_task("payment_sync"), queueing_lock=f"payment-sync-{payment_id}", payment_id=payment_id)


def webhook(event_pk: int) -> None:
    _task("payment_webhook_process").defer(event_pk=event_pk)
