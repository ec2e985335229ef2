"""The test suite's own machinery: the worker leaves no connection behind; the moved clock (apps/core/testclock.py)
moves PostgreSQL's `now()` with Python's."""

from __future__ import annotations

import pytest
from django.db import transaction

from apps.accounts.jobs import otp_deliver
from apps.core.testing import job_rows, other_database_sessions, run_jobs


@pytest.mark.django_db(transaction=True)
def test_running_the_worker_leaves_no_connection_to_the_database_open():
    with transaction.atomic():
        otp_deliver.defer(challenge_id=424242)

    run_jobs(queues=["otp"])

    assert [row["status"] for row in job_rows("apps.accounts.jobs.otp_deliver")] == ["succeeded"]
    assert other_database_sessions(wait=1.0) == []
