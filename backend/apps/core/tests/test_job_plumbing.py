"""The job plumbing under the real worker: a job's deferred jobs commit or roll back with its data, a retry that
collides on its queueing lock cannot strand a job, and stuck jobs are recovered and shown.

The worker is wired the way `manage.py procrastinate worker` wires it (`app.replace_connector(worker connector)`),
on a throwaway app built like the real one (`install()`), with its own tasks.
"""

from __future__ import annotations

import socket
import threading
import time
from typing import Any

import psycopg
import pytest
from django.contrib.auth import get_user_model
from django.db import connection, connections, transaction
from django.test import Client
from procrastinate.contrib.django import DjangoApp, app
from procrastinate.contrib.django.utils import connector_params

from apps.core import metrics
from apps.core.jobconnector import JobConnector, WorkerConnector, worker_pool_size
from apps.core.jobcontext import install
from apps.core.jobs import retry_stalled_jobs
from apps.core.models import ThrottleHit
from apps.core.retry import Backoff
from apps.core.testing import job_rows, run_jobs
from apps.core.tests.test_metrics import sample

pytestmark = pytest.mark.django_db(transaction=True)


class Boom(Exception):
    pass


class Flaky(Exception):
    """A provider hiccup: retried."""


def visible_elsewhere(task_name: str) -> int:
    """Job rows of `task_name` that another session sees (committed ones only)."""
    with psycopg.connect(**connector_params(), autocommit=True) as other:
        row = other.execute("SELECT count(*) FROM procrastinate_jobs WHERE task_name = %s", [task_name]).fetchone()
        assert row is not None
        return int(row[0])


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


# --- 14. a retry that collides on its queueing lock -------------------------------------------------------------


@pytest.fixture
def twins(probe, settings):
    """`capture(payment_id)` with a queueing lock: its first run defers a twin (same lock) while it is `doing`,
    then fails with a retryable error, as two capture jobs for one payment did."""
    settings.MAWID_JOB_RETRY_BASE_SECONDS = 0.01
    runs: list[int] = []

    @probe.task(queue="probe", name="probe_capture", retry=Backoff(max_attempts=3, retry_exceptions=(Flaky,)))
    def capture(*, payment_id: int) -> None:
        runs.append(payment_id)
        if len(runs) == 1:
            capture.configure(queueing_lock=f"payment-capture-{payment_id}-forced").defer(payment_id=payment_id)
            raise Flaky("provider timeout")

    probe.capture, probe.runs = capture, runs
    return probe


def test_a_retry_colliding_with_a_waiting_twin_finishes_instead_of_stranding_the_job(twins, caplog):
    first = twins.capture.configure(queueing_lock="payment-capture-7-forced").defer(payment_id=7)
    before = sample("mawid_jobs_superseded_total", task="probe_capture")

    twins.run()

    rows = {row["id"]: row for row in job_rows("probe_capture")}
    assert rows[first]["status"] == "succeeded"  # not `doing` for good
    (twin,) = [row for job_id, row in rows.items() if job_id != first]
    assert twin["status"] == "succeeded"  # the twin did the work
    assert twins.runs == [7, 7]
    assert "job_retry_superseded" in caplog.text
    assert sample("mawid_jobs_superseded_total", task="probe_capture") == before + 1


def test_a_manual_retry_of_a_job_with_a_waiting_twin_does_not_fail(twins):
    """The admin's "Retry Job" action calls the manager's sync `retry_job_by_id`."""
    first = twins.capture.configure(queueing_lock="payment-capture-8-forced").defer(payment_id=8)
    with connection.cursor() as cursor:
        cursor.execute("UPDATE procrastinate_jobs SET status = 'doing' WHERE id = %s", [first])
    twin = twins.capture.configure(queueing_lock="payment-capture-8-forced", schedule_in={"hours": 1}).defer(
        payment_id=8
    )

    with transaction.atomic():  # as in a request: the collision must not break the caller's transaction
        app.job_manager.retry_job_by_id(first, retry_at=_db_now())
        assert ThrottleHit.objects.count() == 0  # the transaction is still usable

    rows = {row["id"]: row for row in job_rows("probe_capture")}
    assert rows[first]["status"] == "succeeded"
    assert rows[twin]["status"] == "todo"
    assert rows[twin]["scheduled_at"] <= _db_now()  # brought forward to the retry's time


def _db_now():
    with connection.cursor() as cursor:
        cursor.execute("SELECT now()")
        return cursor.fetchone()[0]


# --- 14. stuck jobs: over their time limit whatever the heartbeat; shown and recovered ---------------------------


def doing_job(*, task_name: str = "apps.accounts.jobs.otp_deliver", started_ago: str, heartbeat_ago: str) -> int:
    """A job `doing` on a worker whose last heartbeat was `heartbeat_ago`, started `started_ago` (SQL intervals)."""
    from apps.accounts.jobs import otp_deliver
    from apps.payments.jobs import payment_capture

    task: dict[str, Any] = {
        "apps.accounts.jobs.otp_deliver": otp_deliver,
        "apps.payments.jobs.payment_capture": payment_capture,
    }
    job_id = task[task_name].defer(**({"challenge_id": 1} if "otp" in task_name else {"payment_id": 1}))
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO procrastinate_workers (last_heartbeat) VALUES (now() - %s::interval) RETURNING id",
            [heartbeat_ago],
        )
        worker_id = cursor.fetchone()[0]
        cursor.execute("UPDATE procrastinate_jobs SET status = 'doing', worker_id = %s WHERE id = %s", [worker_id, job_id])
        cursor.execute(
            "UPDATE procrastinate_events SET at = now() - %s::interval WHERE job_id = %s AND type = 'started'",
            [started_ago, job_id],
        )
    return job_id


def test_a_job_doing_past_its_time_limit_is_stuck_whatever_the_heartbeat_and_is_retried(settings):
    settings.MAWID_JOB_MAX_RUNTIME_SECONDS = 600
    settings.MAWID_JOB_MAX_RUNTIME_BY_TASK = {}
    stuck = doing_job(task_name="apps.payments.jobs.payment_capture", started_ago="2 hours", heartbeat_ago="5 s")
    running = doing_job(task_name="apps.payments.jobs.payment_capture", started_ago="1 minute", heartbeat_ago="5 s")

    retry_stalled_jobs.defer(timestamp=0)
    run_jobs(queues=["maintenance"])

    rows = {row["id"]: row for row in job_rows("apps.payments.jobs.payment_capture")}
    assert rows[stuck]["status"] == "todo"  # back in the queue although its worker is alive
    assert rows[running]["status"] == "doing"  # a job within its limit is left alone


def test_a_task_can_have_a_time_limit_of_its_own(settings):
    settings.MAWID_JOB_MAX_RUNTIME_SECONDS = 3600
    settings.MAWID_JOB_MAX_RUNTIME_BY_TASK = {"apps.accounts.jobs.otp_deliver": 120}
    otp = doing_job(started_ago="5 minutes", heartbeat_ago="5 s")
    capture = doing_job(task_name="apps.payments.jobs.payment_capture", started_ago="5 minutes", heartbeat_ago="5 s")

    from apps.core import jobhealth

    assert [(row["id"], row["reason"]) for row in jobhealth.stuck_jobs()] == [(otp, "over_time_limit")]
    assert capture not in [row["id"] for row in jobhealth.stuck_jobs()]


def test_stuck_jobs_degrade_healthz_but_keep_it_200(api_client, settings):
    settings.MAWID_JOB_MAX_RUNTIME_BY_TASK = {}
    healthy = api_client.get("/healthz").json()
    assert (healthy["status"], healthy["job_queue"], healthy["jobs_stuck"]) == ("ok", "ok", 0)

    doing_job(started_ago="2 hours", heartbeat_ago="5 s")  # over the time limit, worker alive
    doing_job(started_ago="1 minute", heartbeat_ago="1 hour")  # worker gone

    response = api_client.get("/healthz")
    assert response.status_code == 200  # the web server itself is fine: it stays in the load balancer
    body = response.json()
    assert (body["status"], body["database"], body["job_queue"], body["jobs_stuck"]) == ("degraded", "ok", "degraded", 2)


def test_healthz_counts_the_jobs_due_now(api_client):
    from apps.accounts.jobs import otp_deliver

    otp_deliver.defer(challenge_id=1)  # due at once: no scheduled_at
    otp_deliver.configure(schedule_in={"hours": 1}).defer(challenge_id=2)  # not yet

    assert api_client.get("/healthz").json()["jobs_due"] == 1


def test_stuck_jobs_are_in_the_metrics(settings):
    settings.MAWID_JOB_MAX_RUNTIME_BY_TASK = {}
    doing_job(started_ago="2 hours", heartbeat_ago="5 s")
    doing_job(started_ago="1 minute", heartbeat_ago="5 s")  # running normally

    families = {family.name: family for family in metrics.JobQueueCollector().collect()}

    stuck = {s.labels["queue"]: s.value for s in families["mawid_jobs_stuck"].samples}
    assert stuck["otp"] == 1
    assert stuck["payments"] == 0  # every known queue is reported
    assert 7100 < families["mawid_jobs_stuck_oldest_seconds"].samples[0].value < 7300
    doing = {tuple(s.labels.values()): s.value for s in families["mawid_jobs"].samples}
    assert doing[("otp", "doing")] == 2


def test_the_admin_lists_stuck_jobs(make_user, settings):
    settings.MAWID_JOB_MAX_RUNTIME_BY_TASK = {}
    stuck = doing_job(started_ago="2 hours", heartbeat_ago="5 s")
    running = doing_job(started_ago="1 minute", heartbeat_ago="5 s")
    admin = make_user(role="manager", is_staff=True)
    get_user_model().objects.filter(pk=admin.pk).update(is_superuser=True)
    client = Client()
    client.force_login(admin)

    response = client.get("/admin/procrastinate/procrastinatejob/", {"stuck": "yes"})

    assert response.status_code == 200
    listed = [obj.pk for obj in response.context["cl"].result_list]
    assert listed == [stuck]
    assert running not in listed
    assert "over its time limit, running 120 min" in response.content.decode()


# --- 16. the worker's own connections follow its concurrency -----------------------------------------------------


def test_a_worker_sizes_its_pool_and_its_threads_for_sync_jobs_to_its_concurrency(probe):
    seen: dict[str, Any] = {}
    release = threading.Event()

    @probe.task(queue="probe", name="probe_async_size")
    async def async_probe(*, n: int) -> None:
        seen["pool_max_size"] = probe.connector.pool.max_size

    @probe.task(queue="probe", name="probe_sync_size")
    def sync_probe(*, n: int) -> None:
        seen.setdefault("sync_threads", set()).add(threading.current_thread().name)
        if len(seen["sync_threads"]) >= 12:  # 12 sync jobs at once: more than asyncio's min(32, CPUs + 4) here
            release.set()
        release.wait(timeout=5)

    async_probe.defer(n=0)
    for n in range(12):
        sync_probe.defer(n=n)
    probe.run(rounds=1, concurrency=16)

    assert seen["pool_max_size"] == worker_pool_size(16) == 20
    assert len(seen["sync_threads"]) == 12  # all ran at once (each waited for the others)
    assert all(name.startswith("job-sync") for name in seen["sync_threads"])


def test_the_sms_fake_accepts_a_burst_of_connections_without_dropping_handshakes():
    """A worker at concurrency 16+ opens that many connections at once (one per SMS: the fake speaks HTTP/1.0).
    A full listen backlog makes the kernel drop the handshake, and the connection waits >= 1 s to be retried."""
    from apps.accounts.providers.fake import AuthenticaFake

    burst = 64
    timings: list[float] = []
    sockets = []
    start = threading.Barrier(burst)
    lock = threading.Lock()

    def connect() -> None:
        start.wait()
        began = time.perf_counter()
        sock = socket.create_connection(("127.0.0.1", fake.port), timeout=5)
        with lock:
            timings.append(time.perf_counter() - began)
            sockets.append(sock)

    with AuthenticaFake() as fake:
        threads = [threading.Thread(target=connect) for _ in range(burst)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        for sock in sockets:
            sock.close()

    assert len(timings) == burst
    assert max(timings) < 0.9, sorted(timings)[-5:]
