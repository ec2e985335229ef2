"""Moyasar acting but answering after our read timeout: the operation lands at Moyasar after the job gave up on
its answer, Moyasar's webhook (or a sync) reports it, then the job's retry runs. Money must move exactly once.

The fake's `timeout` fault sleeps, then acts and answers: with the test client's 1 s read timeout, a delay of
1.5 s means the client has timed out (and re-read the payment, still unchanged) before Moyasar acts."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from apps.core.testing import run_jobs
from apps.payments import services
from apps.payments.models import Payment, Refund
from apps.payments.tests.conftest import fake_payment, make_capture_due, wait_until

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.urls("apps.payments.tests.urls")]

LATE = 1.5  # seconds; the client's read timeout is 1 s


@pytest.fixture
def retries_wait(settings):
    """A failed job's retry waits a minute: the test runs it when it wants (`run_retries`)."""
    settings.MAWID_JOB_RETRY_BASE_SECONDS = 60


def run_retries() -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE procrastinate_jobs SET scheduled_at = now() WHERE status = 'todo' AND task_name LIKE %s",
            ["apps.payments.jobs.%"],
        )
    run_jobs(queues=["payments"])


def _waiting_retry(task: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM procrastinate_jobs WHERE status = 'todo' AND attempts > 0 AND task_name = %s",
            [f"apps.payments.jobs.{task}"],
        )
        return cursor.fetchone()[0] == 1


def _webhook_processed(fake, event_type: str) -> None:
    """Moyasar's event for the late operation reaches the app, and its job runs (a re-read of the payment)."""
    attempts = fake.wait_for_webhook_attempts(1, timeout=10, predicate=lambda a: a["type"] == event_type)
    assert [a["status_code"] for a in attempts] == [200]
    run_jobs(queues=["payments"])


def _late_request_done(fake, endpoint: str) -> None:
    """The slow request has been handled at Moyasar (the fake logs a call when it has answered)."""
    wait_until(lambda: any(call["fault"] == "timeout" for call in fake.calls(endpoint)))


def _captured(authorized) -> Payment:
    _booking, payment = authorized()
    make_capture_due(payment)
    run_jobs(queues=["payments"])
    payment.refresh_from_db()
    assert payment.status == "captured"
    return payment


# --- refund -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("reread", ["webhook", "sync"])
def test_a_partial_refund_answered_late_is_paid_out_once(
    fake, authorized, manager_client, webhook_url, retries_wait, reread
):
    # given: 150.00 SAR captured; Moyasar will refund but answer after our read timeout
    payment = _captured(authorized)
    if reread == "webhook":
        fake.configure_webhooks(url=webhook_url)
    fake.set_fault("timeout", endpoint="refund", delay=LATE)
    # when: a manager refunds 50.00; the job times out and waits to retry
    resp = manager_client.post(
        f"/api/v1/payments/{payment.pk}/refund", {"amount": 5000, "reason": "late start"}, format="json"
    )
    assert resp.status_code == 202, resp.content
    run_jobs(queues=["payments"])
    assert _waiting_retry("payment_refund")
    assert Refund.objects.get().status == "pending"
    # and: the refund lands at Moyasar, and the payment is re-read (its webhook, or a sync)
    if reread == "webhook":
        _webhook_processed(fake, "payment_refunded")
    else:
        wait_until(lambda: fake.payment(str(payment.given_id))["refunded"] == 5000)
        services.payment_sync(payment_id=payment.pk)
    payment.refresh_from_db()
    assert payment.refunded_amount == 0  # ours, still being found out: not a refund "made outside Mawid"
    # and: the job's retry runs
    run_retries()
    # then: 50.00 refunded once, at Moyasar and in our books
    assert len(fake.calls("refund")) == 1
    assert fake_payment(fake, payment)["refunded"] == 5000
    payment.refresh_from_db()
    assert (payment.status, payment.refunded_amount, payment.operation) == ("partially_refunded", 5000, "")
    assert list(Refund.objects.values_list("kind", "status", "amount")) == [("manual", "succeeded", 5000)]
    assert not payment.needs_attention, payment.attention_reason


def test_a_refund_whose_late_answer_has_not_landed_yet_is_not_sent_again(fake, authorized, manager_client):
    # given: captured; Moyasar will refund 50.00 but answer after our read timeout
    payment = _captured(authorized)
    fake.set_fault("timeout", endpoint="refund", delay=3)
    # when: the job's retries come (quickly in tests) before Moyasar's refund has landed
    manager_client.post(f"/api/v1/payments/{payment.pk}/refund", {"amount": 5000, "reason": "x"}, format="json")
    run_jobs(queues=["payments"])
    _late_request_done(fake, "refund")
    # then: the retry waited for the first request instead of sending a second refund
    assert len(fake.calls("refund")) == 1
    assert fake_payment(fake, payment)["refunded"] == 5000
    payment.refresh_from_db()
    assert (payment.status, payment.refunded_amount) == ("partially_refunded", 5000)
    assert Refund.objects.get().status == "succeeded"


def test_a_second_refund_waits_while_the_first_ones_outcome_is_unknown(fake, authorized, manager, retries_wait):
    # given: a refund of 50.00 answered late, its retry waiting; Moyasar made it
    payment = _captured(authorized)
    fake.set_fault("timeout", endpoint="refund", delay=LATE)
    first = services.payment_refund(payment_id=payment.pk, amount=5000, actor=manager, reason="one")
    run_jobs(queues=["payments"])
    assert _waiting_retry("payment_refund")
    wait_until(lambda: fake.payment(str(payment.given_id))["refunded"] == 5000)
    # when: another 30.00 is refunded meanwhile
    second = services.payment_refund(payment_id=payment.pk, amount=3000, actor=manager, reason="two")
    run_jobs(queues=["payments"])
    # then: it was neither sent nor taken for done while the first one's outcome was unknown
    assert len(fake.calls("refund")) == 1
    second.refresh_from_db()
    assert second.status == "pending"
    # when: the retries run
    run_retries()
    run_retries()
    # then: each refund made once
    assert len(fake.calls("refund")) == 2
    assert fake_payment(fake, payment)["refunded"] == 8000
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, second.status) == ("succeeded", "succeeded")
    payment.refresh_from_db()
    assert (payment.status, payment.refunded_amount) == ("partially_refunded", 8000)


def test_a_refund_pending_for_over_an_hour_is_flagged_even_with_no_job_running(fake, authorized, manager):
    # given: a refund sent, its outcome never found out (no operation mark: no job is running)
    payment = _captured(authorized)
    refund = services.payment_refund(payment_id=payment.pk, amount=5000, actor=manager, reason="x")
    Refund.objects.filter(pk=refund.pk).update(
        created_at=timezone.now() - timedelta(hours=2), sent_at=timezone.now() - timedelta(hours=2)
    )
    # when
    services.payments_reconcile()
    # then
    payment.refresh_from_db()
    assert payment.needs_attention
    assert "A refund has been in progress for over an hour" in payment.attention_reason


# --- capture and void: the same sequence -------------------------------------------------------------------------


def test_a_capture_answered_late_captures_once(fake, authorized, manager_client, webhook_url, retries_wait):
    # given: authorized; Moyasar will capture but answer after our read timeout
    _booking, payment = authorized()
    fake.configure_webhooks(url=webhook_url)
    fake.set_fault("timeout", endpoint="capture", delay=LATE)
    # when: a manager captures; the job times out and waits to retry
    resp = manager_client.post(f"/api/v1/payments/{payment.pk}/capture", {"reason": "paid"}, format="json")
    assert resp.status_code == 202
    run_jobs(queues=["payments"])
    assert _waiting_retry("payment_capture")
    # and: the capture lands; its webhook is processed; then the retry runs
    _webhook_processed(fake, "payment_captured")
    run_retries()
    # then
    assert len(fake.calls("capture")) == 1
    payment.refresh_from_db()
    assert (payment.status, payment.captured_amount, payment.operation) == ("captured", 15000, "")
    assert fake_payment(fake, payment)["captured"] == 15000
    assert payment.events.filter(kind="status_changed", to_status="captured").count() == 1
    assert not payment.needs_attention, payment.attention_reason


def test_a_void_answered_late_voids_once(fake, authorized, manager_client, webhook_url, retries_wait):
    # given: authorized; Moyasar will void but answer after our read timeout
    _booking, payment = authorized()
    fake.configure_webhooks(url=webhook_url)
    fake.set_fault("timeout", endpoint="void", delay=LATE)
    # when: a manager voids; the job times out and waits to retry
    resp = manager_client.post(f"/api/v1/payments/{payment.pk}/void", {"reason": "goodwill"}, format="json")
    assert resp.status_code == 202
    run_jobs(queues=["payments"])
    assert _waiting_retry("payment_void")
    # and: the void lands; its webhook is processed; then the retry runs
    _webhook_processed(fake, "payment_voided")
    run_retries()
    # then
    assert len(fake.calls("void")) == 1
    payment.refresh_from_db()
    assert (payment.status, payment.captured_amount, payment.operation) == ("voided", 0, "")
    assert fake_payment(fake, payment)["status"] == "voided"
    assert payment.events.filter(kind="status_changed", to_status="voided").count() == 1
    assert not payment.needs_attention, payment.attention_reason
