"""The job plumbing under the real worker: a job's deferred jobs commit or roll back with its data, a retry that
collides on its queueing lock cannot strand a job, and stuck jobs are recovered and shown.

The worker is wired the way `manage.py procrastinate worker` wires it (`app.replace_connector(worker connector)`),
on a throwaway app built like the real one (`install()`), with its own tasks.
"""

from __future__ import annotations

import psycopg
import pytest
from django.db import connections, transaction
from procrastinate.contrib.django import DjangoApp, app
from procrastinate.contrib.django.utils import connector_params

from apps.core.jobconnector import JobConnector, WorkerConnector
from apps.core.jobcontext import install
from apps.core.models import ThrottleHit
from apps.core.testing import job_rows

pytestmark = pytest.mark.django_db(transaction=True)


class Boom(Exception):
    pass


class Flaky(Exception):
    """A provider hiccup: retried."""


def visible_elsewhere(task_name: str) -> int:
    """Job rows of `task_name` that another session sees (committed ones only)."""
    with psycopg.connect(**connector_params(), autocommit=True) as other:
        return other.execute("SELECT count(*) FROM procrastinate_jobs WHERE task_name = %s", [task_name]).fetchone()[0]


@pytest.fixture
def probe():
    """A throwaway app wired like the real one, and a worker run wired like production's."""
    probe = DjangoApp(connector=app.connector)
    install(probe)
    probe.seen = []

    def run(*, queues: list[str] | None = None, rounds: int = 3, concurrency: int = 1) -> None:
        for _ in range(rounds):
            with probe.replace_connector(probe.connector.get_worker_connector()) as worker_app:
                worker_app.run_worker(
                    queues=queues or ["probe"], wait=False, install_signal_handlers=False, listen_notify=False,
                    delete_jobs="never", concurrency=concurrency,
                )

    probe.run = run
    return probe


# --- 12. jobs deferred by a job are in its transaction ------------------------------------------------------------


@pytest.fixture
def chain(probe):
    """`parent(key, fail)`: writes a row and defers `child` in one transaction, like the webhook job confirming a
    booking (rows + their notification jobs); notes what another session can see before the commit."""

    @probe.task(queue="probe", name="probe_child")
    def child(*, key: str) -> None:
        probe.seen.append(("child", key, ThrottleHit.objects.filter(key=key).exists()))

    @probe.task(queue="probe", name="probe_parent")
    def parent(*, key: str, fail: bool) -> None:
        with transaction.atomic():
            ThrottleHit.objects.create(key=key, window_start=0, hits=1)
            child.defer(key=key)
            probe.seen.append(("parent", key, visible_elsewhere("probe_child")))
            if fail:
                raise Boom("the job's transaction rolls back")

    probe.parent, probe.child = parent, child
    return probe


def test_a_job_deferred_by_a_job_whose_transaction_rolls_back_never_exists(chain):
    chain.parent.defer(key="k-rollback", fail=True)

    chain.run()

    assert ("parent", "k-rollback", 0) in chain.seen  # not visible outside before the job's commit
    assert not ThrottleHit.objects.filter(key="k-rollback").exists()
    assert job_rows("probe_child") == []  # rolled back with the row it belongs to
    assert [row["status"] for row in job_rows("probe_parent")] == ["failed"]


def test_a_job_deferred_by_a_job_appears_with_its_data_and_finds_it(chain):
    chain.parent.defer(key="k-commit", fail=False)

    chain.run()

    assert ("parent", "k-commit", 0) in chain.seen  # nothing a worker could take before the commit
    assert ("child", "k-commit", True) in chain.seen  # the child found its row
    assert [row["status"] for row in job_rows("probe_child")] == ["succeeded"]


def test_every_process_defers_through_djangos_connection():
    assert isinstance(app.connector, JobConnector)
    worker_connector = app.connector.get_worker_connector()
    assert isinstance(worker_connector, WorkerConnector)
    # The job manager's synchronous calls (defer, cancel, status) in the worker: Django's connection, not the pool.
    assert worker_connector.get_sync_connector().connection is connections["default"]
