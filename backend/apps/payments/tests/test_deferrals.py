"""The services defer payment jobs by name (the jobs import the services, never the other way round): each name
is a registered job, deferred on the payments queue with its arguments, and a queueing lock still holds."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from apps.payments import jobs
from apps.payments.services import deferrals

pytestmark = pytest.mark.django_db


def _jobs() -> list[tuple[str, str, dict[str, object], bool]]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT task_name, queue_name, args, scheduled_at IS NOT NULL FROM procrastinate_jobs ORDER BY id"
        )
        rows = cursor.fetchall()
    return [(name, queue, json.loads(args) if isinstance(args, str) else args, due) for name, queue, args, due in rows]


def test_every_deferral_is_a_payments_job():
    # when: every kind of payment job is deferred
    assert deferrals.capture(1, at=timezone.now() + timedelta(days=1))
    assert deferrals.capture(2, force=True)
    assert deferrals.void(3)
    assert deferrals.refund(4)
    assert deferrals.create_recover(5)
    assert deferrals.sync(6)
    deferrals.webhook(7)
    # then: each is the registered job, on the payments queue
    assert _jobs() == [
        (jobs.payment_capture.name, "payments", {"payment_id": 1, "force": False}, True),
        (jobs.payment_capture.name, "payments", {"payment_id": 2, "force": True}, False),
        (jobs.payment_void.name, "payments", {"payment_id": 3}, False),
        (jobs.payment_refund.name, "payments", {"refund_id": 4}, False),
        (jobs.payment_create_recover.name, "payments", {"payment_id": 5}, False),
        (jobs.payment_sync.name, "payments", {"payment_id": 6}, False),
        (jobs.payment_webhook_process.name, "payments", {"event_pk": 7}, False),
    ]


def test_a_job_already_waiting_is_not_deferred_twice():
    assert deferrals.void(3)
    # when: the same void is asked for again while the first waits
    again = deferrals.void(3)
    # then: one job, and the caller's transaction goes on
    assert again is False
    assert len(_jobs()) == 1
