"""What core holds about a person (docs/privacy.md): idempotency records and throttle counters; and the tables of
Django and the job queue that hold nobody's data. Imported from `CoreConfig.ready()`."""

from __future__ import annotations

from django.contrib.contenttypes.models import ContentType
from procrastinate.contrib.django.models import (
    ProcrastinateEvent,
    ProcrastinateJob,
    ProcrastinatePeriodicDefer,
    ProcrastinateWorker,
)

from apps.core.models import IdempotencyRecord, ThrottleHit
from apps.core.personal_data import delete_row, no_personal_data, register


def declare() -> None:
    register(
        IdempotencyRecord,
        rows=lambda user: IdempotencyRecord.objects.filter(user_id=user.pk),
        delete_rows=True,
        fields={"user key response_body": delete_row("replays of the person's requests; nobody sends them any more")},
        not_personal={"scope request_hash": "a route and a hash"},
    )
    register(
        ThrottleHit,
        rows=lambda user: ThrottleHit.objects.filter(key__endswith=f"_user_{user.pk}"),
        delete_rows=True,
        fields={"key": delete_row("a rate counter naming the account (others name a client address for a minute)")},
    )
    no_personal_data(ContentType, reason="Django's table of models")
    no_personal_data(
        ProcrastinateJob,
        reason="jobs name rows by id (apps/*/jobs.py), never a person's data",
        not_personal={"args lock queueing_lock queue_name task_name": "row ids, task and lock names"},
    )
    for model in (ProcrastinateEvent, ProcrastinatePeriodicDefer, ProcrastinateWorker):
        no_personal_data(
            model,
            reason="the job queue's bookkeeping",
            not_personal={"task_name": "a task's name"} if model is ProcrastinatePeriodicDefer else None,
        )
