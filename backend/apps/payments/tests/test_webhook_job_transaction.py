"""The Moyasar webhook job confirms a booking inside the real worker: the notification jobs it defers commit (or
roll back) with the notification rows, so no `notification_send` job can run before its row exists.

Before, the worker deferred on its own pool connection: the jobs were visible (and ran, `notification_missing`)
about 10 ms before the rows were committed, and stayed when the job's transaction rolled back.
"""

from __future__ import annotations

import psycopg
import pytest
from procrastinate.contrib.django.utils import connector_params

from apps.accounts.tests.fakes import authentica_fake, authentica_fake_factory  # noqa: F401
from apps.bookings import events as booking_events
from apps.bookings.models import Booking
from apps.core import events
from apps.core.testing import job_rows, run_jobs
from apps.notifications.models import Notification
from apps.payments.models import Payment, WebhookEvent
from apps.payments.tests.conftest import three_ds

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.urls("apps.payments.tests.urls")]

SEND = "apps.notifications.jobs.notification_send"


def committed_send_jobs() -> int:
    """`notification_send` jobs another session (a worker) can see now."""
    with psycopg.connect(**connector_params(), autocommit=True) as other:
        row = other.execute("SELECT count(*) FROM procrastinate_jobs WHERE task_name = %s", [SEND]).fetchone()
        assert row is not None
        return int(row[0])


@pytest.fixture
def sms(settings, authentica_fake):  # noqa: F811 - the fixture imported above
    """The notifications' SMS go to the Authentica fake."""
    settings.AUTHENTICA_BASE_URL = authentica_fake.base_url
    settings.AUTHENTICA_API_KEY = authentica_fake.api_key
    settings.AUTHENTICA_CONNECT_TIMEOUT = settings.AUTHENTICA_READ_TIMEOUT = 1.0
    authentica_fake.configure(send_cap_per_window=None)
    return authentica_fake


@pytest.fixture
def inside_the_job():
    """A subscriber that runs after the notifications one, inside the webhook job's transaction: records what a
    worker could already see, and (with `fail`) makes the job's transaction roll back after the rows were made."""
    state = {"fail": False, "seen": []}

    def probe(event: booking_events.BookingConfirmed) -> None:
        rows = Notification.objects.filter(booking_id=event.booking_id).count()
        state["seen"].append({"rows_in_transaction": rows, "jobs_visible_to_workers": committed_send_jobs()})
        if state["fail"]:
            raise RuntimeError("something after the notifications failed: the confirmation rolls back")

    events.subscribe(booking_events.BookingConfirmed, probe)
    try:
        yield state
    finally:
        events.unsubscribe(booking_events.BookingConfirmed, probe)


def _webhook_confirms(fake, webhook_url, book, pay) -> tuple[dict, Payment]:
    fake.configure_webhooks(url=webhook_url)
    booking = book("10:00")
    resp = pay(booking["id"])
    three_ds(resp.json()["transaction_url"])  # the payer never comes back: only the webhook tells us
    assert fake.wait_for_webhook_attempts(1, timeout=10)
    assert fake.wait_for_webhooks_idle(timeout=10)
    assert WebhookEvent.objects.count() == 1
    return booking, Payment.objects.get(pk=resp.json()["id"])


def test_the_notification_jobs_of_a_webhook_confirmation_commit_with_their_rows(
    fake, webhook_url, book, pay, inside_the_job, sms, caplog
):
    booking, payment = _webhook_confirms(fake, webhook_url, book, pay)

    run_jobs(queues=["payments"])  # the real worker runs payment_webhook_process

    assert Booking.objects.get(pk=booking["id"]).status == "confirmed"
    (seen,) = inside_the_job["seen"]
    assert seen["rows_in_transaction"] >= 2  # confirmation and staff notice (plus reminders), not yet committed
    assert seen["jobs_visible_to_workers"] == 0  # ... and so no worker can see their jobs yet
    rows = list(Notification.objects.filter(booking_id=booking["id"]))
    jobs = {row["id"]: row for row in job_rows(SEND)}
    assert rows
    assert all(row.job_id in jobs for row in rows)  # after the commit: every row with its job

    run_jobs(queues=["notifications"])

    immediate = Notification.objects.filter(booking_id=booking["id"], scheduled_for__isnull=True)
    assert set(immediate.values_list("status", flat=True)) == {"sent"}
    assert len(sms.messages()) == immediate.count()
    assert "notification_missing" not in caplog.text


def test_a_webhook_confirmation_that_rolls_back_leaves_no_notification_job(
    fake, webhook_url, book, pay, inside_the_job
):
    inside_the_job["fail"] = True
    booking, payment = _webhook_confirms(fake, webhook_url, book, pay)

    run_jobs(queues=["payments"])

    assert inside_the_job["seen"][0]["rows_in_transaction"] >= 2  # the rows had been written...
    assert Notification.objects.filter(booking_id=booking["id"]).count() == 0  # ...and rolled back
    assert job_rows(SEND) == []  # with their jobs
    assert Booking.objects.get(pk=booking["id"]).status == "pending_payment"
    assert [row["status"] for row in job_rows("apps.payments.jobs.payment_webhook_process")] == ["failed"]
