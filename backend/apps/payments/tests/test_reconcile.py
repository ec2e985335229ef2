"""The periodic reconciliation settles what webhooks, return pages and jobs missed."""

from __future__ import annotations

import time
from datetime import timedelta

import httpx
import pytest
from django.db import connection
from django.utils import timezone

from apps.bookings.models import Booking
from apps.core.testing import run_jobs
from apps.payments import services
from apps.payments.jobs import payments_reconcile
from apps.payments.models import Payment, Refund
from apps.payments.tests.conftest import fake_payment, make_capture_due, three_ds, wait_until

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.urls("apps.payments.tests.urls")]


@pytest.fixture
def now_please(settings):
    """Reconcile at once instead of after the usual grace periods."""
    settings.PAYMENTS_RECONCILE_AFTER_SECONDS = 0
    settings.PAYMENTS_OPERATION_TIMEOUT_SECONDS = 0


def _forget_jobs() -> None:
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM procrastinate_jobs WHERE task_name LIKE 'apps.payments.%%'")


def reconcile() -> None:
    payments_reconcile.defer(timestamp=int(time.time()))
    run_jobs(queues=["payments"])


def test_an_unknown_create_outcome_is_recovered_through_the_given_id(fake, book, pay, browser, now_please):
    # given: the create timed out and Moyasar could not be asked; Moyasar did create it
    booking = book("10:00")
    fake.set_fault("timeout", endpoint="create", delay=1.2)
    fake.set_fault("error_500", endpoint="fetch", count=1)
    assert pay(booking["id"]).status_code == 202  # answered pending
    wait_until(fake.payments)
    _forget_jobs()  # as if its recovery job were lost
    payment = Payment.objects.get()
    assert payment.provider_status == ""
    # when
    reconcile()
    # then: found, waiting for 3-D Secure
    payment.refresh_from_db()
    assert (payment.status, payment.provider_status) == ("initiated", "initiated")
    assert payment.transaction_url
    # and when the payer finishes 3-D Secure without coming back, the next run confirms the booking
    three_ds(payment.transaction_url)
    reconcile()
    payment.refresh_from_db()
    assert payment.status == "authorized"
    assert Booking.objects.get(pk=booking["id"]).status == "confirmed"


def test_an_attempt_that_never_reached_moyasar_is_abandoned(fake, book, now_please):
    booking = book("10:00")
    payment = Payment.objects.create(
        booking_id=booking["id"],
        flow="token",
        status="initiated",
        amount=15000,
        operation="create",
        operation_started_at=timezone.now() - timedelta(minutes=10),
    )
    reconcile()
    payment.refresh_from_db()
    assert (payment.status, payment.operation) == ("abandoned", "")


def test_a_due_capture_whose_job_was_lost_is_captured(fake, authorized):
    _booking, payment = authorized()
    _forget_jobs()
    Payment.objects.filter(pk=payment.pk).update(capture_due_at=timezone.now() - timedelta(minutes=1))
    reconcile()
    payment.refresh_from_db()
    assert payment.status == "captured"
    assert fake_payment(fake, payment)["status"] == "captured"


def test_an_authorization_held_for_an_expired_booking_is_voided(fake, authorized):
    booking, payment = authorized()
    Booking.objects.filter(pk=booking["id"]).update(status="cancelled")  # as if the event had been lost
    reconcile()
    payment.refresh_from_db()
    assert payment.status == "voided"
    assert fake_payment(fake, payment)["status"] == "voided"


def test_a_capture_whose_worker_died_is_recovered_from_moyasar(fake, authorized, moyasar_client, now_please):
    # given: the worker marked the capture, Moyasar captured, the worker died before recording it
    _booking, payment = authorized()
    Payment.objects.filter(pk=payment.pk).update(operation="capture", operation_started_at=timezone.now())
    moyasar_client.capture(payment_id=str(payment.given_id))
    # when
    reconcile()
    # then
    payment.refresh_from_db()
    assert (payment.status, payment.operation, payment.captured_amount) == ("captured", "", 15000)
    assert payment.events.filter(kind="operation_recovered").exists()


def test_a_refund_whose_answer_was_lost_is_not_sent_twice(fake, authorized, manager, now_please):
    # given: captured; a refund went through at Moyasar but its job died before recording it
    _booking, payment = authorized()
    make_capture_due(payment)
    run_jobs(queues=["payments"])
    refund = services.payment_refund(payment_id=payment.pk, amount=4000, actor=manager, reason="late")
    _forget_jobs()
    Payment.objects.filter(pk=payment.pk).update(operation="refund", operation_started_at=timezone.now())
    httpx.post(
        f"{fake.api_url}/payments/{payment.given_id}/refund", json={"amount": 4000}, auth=(fake.secret_key, "")
    ).raise_for_status()
    Refund.objects.filter(pk=refund.pk).update(created_at=timezone.now() - timedelta(minutes=5))
    # when
    reconcile()
    # then
    refund.refresh_from_db()
    payment.refresh_from_db()
    assert refund.status == "succeeded"
    assert (payment.status, payment.refunded_amount, payment.operation) == ("partially_refunded", 4000, "")
    assert len(fake.calls("refund")) == 1
    assert fake_payment(fake, payment)["refunded"] == 4000


def test_a_client_payment_made_without_our_given_id_is_found_by_its_metadata(fake, book, customer_client, now_please):
    # given: the SDK ignored given_id; the payer paid but the return page and the webhook never came
    booking = book("10:00")
    params = customer_client.post(f"/api/v1/bookings/{booking['id']}/pay", {}, format="json").json()["client"]
    created = httpx.post(
        f"{fake.api_url}/payments",
        auth=(params["publishable_key"], ""),
        json={
            "amount": params["amount"],
            "currency": params["currency"],
            "callback_url": params["callback_url"],
            "metadata": params["metadata"],
            "source": {
                "type": "creditcard",
                "name": "Sara Alqahtani",
                "number": "4111111111111111",
                "month": 12,
                "year": 2099,
                "cvc": "123",
                "manual": True,
                "3ds": False,
            },
        },
    ).json()
    assert created["id"] != params["given_id"]
    # when
    reconcile()
    # then
    payment = Payment.objects.get(given_id=params["given_id"])
    assert (payment.status, payment.provider_id) == ("authorized", created["id"])
    assert Booking.objects.get(pk=booking["id"]).status == "confirmed"


def test_client_parameters_for_a_booking_that_expired_are_abandoned(fake, book, customer_client, now_please):
    booking = book("10:00")
    resp = customer_client.post(f"/api/v1/bookings/{booking['id']}/pay", {}, format="json")
    Booking.objects.filter(pk=booking["id"]).update(status="expired")
    reconcile()
    assert Payment.objects.get(pk=resp.json()["id"]).status == "abandoned"


def test_inconsistencies_are_flagged_for_a_manager(fake, authorized, settings):
    _booking, old = authorized("10:00")
    _booking, refunded = authorized("11:00")
    Payment.objects.filter(pk=old.pk).update(
        authorized_at=timezone.now() - timedelta(days=8), capture_due_at=timezone.now() + timedelta(days=1)
    )
    Payment.objects.filter(pk=refunded.pk).update(
        status="partially_refunded", captured_amount=15000, refunded_amount=500
    )
    services.payments_reconcile()
    old.refresh_from_db()
    refunded.refresh_from_db()
    assert old.needs_attention
    assert "older than Moyasar keeps it" in old.attention_reason
    assert refunded.needs_attention
    assert "Refunds add up to 0, Moyasar says 500" in refunded.attention_reason


def test_a_mada_authorization_is_trusted_for_its_longer_window(fake, authorized):
    # given: two authorizations 8 days old, one on a mada card (held 14 days), one on a Visa card (about 7)
    _booking, visa = authorized("10:00")
    _booking, mada = authorized("11:00")
    eight_days_ago = timezone.now() - timedelta(days=8)
    Payment.objects.filter(pk=mada.pk).update(card_scheme="mada", authorized_at=eight_days_ago)
    Payment.objects.filter(pk=visa.pk).update(authorized_at=eight_days_ago)
    # when
    services.payments_reconcile()
    # then: only the Visa one is flagged; the mada one is, once past 14 days
    visa.refresh_from_db()
    mada.refresh_from_db()
    assert (visa.card_scheme, visa.needs_attention) == ("visa", True)
    assert not mada.needs_attention
    Payment.objects.filter(pk=mada.pk).update(authorized_at=timezone.now() - timedelta(days=15))
    services.payments_reconcile()
    mada.refresh_from_db()
    assert mada.needs_attention
