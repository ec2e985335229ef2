"""Jobs commit or roll back with their data; stalled jobs are recovered."""

from __future__ import annotations

import pytest
from django.db import connection, transaction

from apps.accounts.jobs import otp_deliver
from apps.core.jobs import retry_stalled_jobs
from apps.core.testing import job_rows, run_jobs

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_job_deferred_in_a_transaction_that_rolls_back_never_runs():
    class Abort(Exception):
        pass

    def defer_then_fail():
        with transaction.atomic():
            otp_deliver.defer(challenge_id=424242)
            assert len(job_rows("apps.accounts.jobs.otp_deliver")) == 1  # visible inside the transaction
            raise Abort

    with pytest.raises(Abort):
        defer_then_fail()
    assert job_rows("apps.accounts.jobs.otp_deliver") == []
    run_jobs(queues=["otp"])
    assert job_rows("apps.accounts.jobs.otp_deliver") == []


def test_a_job_deferred_in_a_committed_transaction_runs():
    with transaction.atomic():
        otp_deliver.defer(challenge_id=424242)
    run_jobs(queues=["otp"])
    assert [row["status"] for row in job_rows("apps.accounts.jobs.otp_deliver")] == ["succeeded"]


def test_a_job_left_doing_by_a_dead_worker_is_retried_and_then_runs():
    otp_deliver.defer(challenge_id=424242)
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO procrastinate_workers (last_heartbeat) VALUES (now() - interval '1 hour') RETURNING id"
        )
        worker_id = cursor.fetchone()[0]
        cursor.execute(
            "UPDATE procrastinate_jobs SET status = 'doing', worker_id = %s WHERE task_name = %s",
            [worker_id, "apps.accounts.jobs.otp_deliver"],
        )
    retry_stalled_jobs.defer(timestamp=0)
    run_jobs(queues=["maintenance"])
    assert [row["status"] for row in job_rows("apps.accounts.jobs.otp_deliver")] == ["todo"]
    run_jobs(queues=["otp"])
    assert [row["status"] for row in job_rows("apps.accounts.jobs.otp_deliver")] == ["succeeded"]
