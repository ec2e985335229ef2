"""After authorization: capture, cancel (void / full refund / refund minus the fee), no-show, a hold running out
while 3-D Secure is pending, and races. Jobs run in the real worker; Moyasar is the fake, over HTTP."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.utils import timezone

from apps.bookings import events as booking_events
from apps.bookings.models import Booking
from apps.bookings.services import booking_expire_due, booking_mark_no_show, booking_reschedule
from apps.core.events import publish
from apps.core.scoping import platform
from apps.core.testing import job_rows, run_jobs
from apps.payments import services
from apps.payments.errors import PaymentBusy
from apps.payments.models import Payment, Refund
from apps.payments.tests.conftest import fake_payment, make_capture_due, return_to, three_ds

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.urls("apps.payments.tests.urls")]


def _captured(fake, authorized) -> tuple[dict, Payment]:
    booking, payment = authorized()
    make_capture_due(payment)
    run_jobs(queues=["payments"])
    payment.refresh_from_db()
    assert payment.status == "captured"
    return booking, payment


# --- capture ----------------------------------------------------------------------------------------------------


def test_the_capture_job_captures_when_due(fake, authorized, customer_client):
    # given: authorized; the capture is scheduled for the appointment time
    booking, payment = authorized()
    scheduled = job_rows("apps.payments.jobs.payment_capture")
    assert [row["status"] for row in scheduled] == ["todo"]
    assert scheduled[0]["scheduled_at"] == payment.capture_due_at
    run_jobs(queues=["payments"])
    assert fake_payment(fake, payment)["status"] == "authorized"  # not due yet: nothing happens
    # when: the appointment time comes
    make_capture_due(payment)
    run_jobs(queues=["payments"])
    # then
    payment.refresh_from_db()
    assert (payment.status, payment.captured_amount) == ("captured", 15000)
    assert fake_payment(fake, payment)["status"] == "captured"
    assert customer_client.get(f"/api/v1/payments/{payment.pk}").json()["captured"] == {
        "amount": 15000,
        "currency": "SAR",
    }


def test_capture_is_due_n_days_after_authorization_when_that_comes_first(fake, authorized, settings):
    settings.PAYMENTS_CAPTURE_AFTER_DAYS = 1
    _booking, payment = authorized()
    assert payment.capture_due_at - payment.authorized_at == timedelta(days=1)


def test_immediate_capture_setting(fake, authorized, settings):
    settings.PAYMENTS_CAPTURE_IMMEDIATELY = True
    _booking, payment = authorized()
    run_jobs(queues=["payments"])
    payment.refresh_from_db()
    assert payment.status == "captured"
    assert fake_payment(fake, payment)["status"] == "captured"


def test_a_reschedule_moves_the_capture(fake, authorized, at, customer):
    booking, payment = authorized("10:00")
    booking_reschedule(booking_id=booking["id"], start=at("11:00", days=1), actor=customer)
    payment.refresh_from_db()
    assert payment.capture_due_at == at("11:00", days=1)


def test_two_captures_at_once_make_one_capture_at_moyasar(fake, authorized):
    # given: a due capture, and Moyasar slow to answer it
    _booking, payment = authorized()
    Payment.objects.filter(pk=payment.pk).update(capture_due_at=timezone.now())
    fake.set_fault("ambiguous", endpoint="capture", delay=0.4)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def capture() -> None:
        barrier.wait()
        try:
            with platform():
                services.payment_capture(payment_id=payment.pk)
            outcomes.append("done")
        except PaymentBusy:
            outcomes.append("busy")
        finally:
            connection.close()

    threads = [threading.Thread(target=capture) for _ in range(2)]
    # when
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # then
    assert len(fake.calls("capture")) == 1
    assert sorted(outcomes) in (["busy", "done"], ["done", "done"])
    payment.refresh_from_db()
    assert (payment.status, payment.operation) == ("captured", "")


def test_the_capture_job_run_twice_concurrently_captures_once(fake, authorized):
    from apps.payments.jobs import payment_capture

    _booking, payment = authorized()
    Payment.objects.filter(pk=payment.pk).update(capture_due_at=timezone.now())
    fake.set_fault("ambiguous", endpoint="capture", delay=0.4)
    payment_capture.defer(payment_id=payment.pk)
    payment_capture.defer(payment_id=payment.pk)
    run_jobs(queues=["payments"], concurrency=2)
    assert len(fake.calls("capture")) == 1
    payment.refresh_from_db()
    assert payment.status == "captured"


# --- cancellation -----------------------------------------------------------------------------------------------


def test_cancel_before_capture_voids_and_the_customer_is_never_charged(fake, authorized, customer_client):
    booking, payment = authorized()
    resp = customer_client.post(f"/api/v1/bookings/{booking['id']}/cancel", {"reason": "plans changed"}, format="json")
    assert resp.status_code == 200
    run_jobs(queues=["payments"])
    payment.refresh_from_db()
    assert payment.status == "voided"
    assert payment.captured_amount == 0
    assert fake_payment(fake, payment)["status"] == "voided"
    assert fake.calls("capture") == []
    # the capture scheduled for the appointment does nothing when its time comes
    make_capture_due(payment)
    run_jobs(queues=["payments"])
    assert fake.calls("capture") == []


def test_cancel_after_capture_before_the_cutoff_refunds_in_full(fake, authorized, customer_client):
    booking, payment = _captured(fake, authorized)
    resp = customer_client.post(f"/api/v1/bookings/{booking['id']}/cancel", {}, format="json")
    assert resp.status_code == 200
    assert resp.json()["payment"]["status"] == "captured"  # the refund has started
    assert Refund.objects.get(payment=payment).status == "pending"
    run_jobs(queues=["payments"])
    payment.refresh_from_db()
    refund = Refund.objects.get(payment=payment)
    assert (refund.kind, refund.status, refund.amount) == ("cancellation", "succeeded", 15000)
    assert (payment.status, payment.refunded_amount) == ("refunded", 15000)
    assert fake_payment(fake, payment)["refunded"] == 15000


def test_cancel_after_capture_after_the_cutoff_refunds_minus_the_fee(fake, authorized):
    # given: captured; the customer cancels after the cut-off (a policy that allows it; bookings refuses it today)
    booking, payment = _captured(fake, authorized)
    with transaction.atomic():
        Booking.objects.filter(pk=booking["id"]).update(status="cancelled")
        publish(booking_events.BookingCancelled(booking_id=booking["id"], by_business=False, before_cutoff=False))
    # when
    run_jobs(queues=["payments"])
    # then: 20% fee kept
    payment.refresh_from_db()
    assert (payment.status, payment.refunded_amount) == ("partially_refunded", 12000)
    assert fake_payment(fake, payment)["refunded"] == 12000
    assert Refund.objects.get(payment=payment).amount == 12000


def test_the_business_cancelling_refunds_in_full(fake, authorized, manager_client):
    booking, payment = _captured(fake, authorized)
    resp = manager_client.post(f"/api/v1/bookings/{booking['id']}/cancel", {"reason": "staff ill"}, format="json")
    assert resp.status_code == 200
    run_jobs(queues=["payments"])
    payment.refresh_from_db()
    assert (payment.status, payment.refunded_amount) == ("refunded", 15000)
    assert fake_payment(fake, payment)["refunded"] == 15000


def test_a_replayed_cancellation_never_refunds_twice(fake, authorized, customer_client):
    booking, payment = _captured(fake, authorized)
    customer_client.post(f"/api/v1/bookings/{booking['id']}/cancel", {}, format="json")
    with transaction.atomic():
        publish(booking_events.BookingCancelled(booking_id=booking["id"], by_business=False, before_cutoff=True))
    run_jobs(queues=["payments"])
    assert Refund.objects.filter(payment=payment).count() == 1
    assert len(fake.calls("refund")) == 1


# --- no-show ----------------------------------------------------------------------------------------------------


def test_a_no_show_keeps_the_payment_by_capturing_it(fake, authorized, manager):
    booking, payment = authorized()
    start = Booking.objects.get(pk=booking["id"]).start
    booking_mark_no_show(booking_id=booking["id"], actor=manager, now=start + timedelta(minutes=15))
    run_jobs(queues=["payments"])
    payment.refresh_from_db()
    assert (payment.status, payment.captured_amount) == ("captured", 15000)
    assert fake_payment(fake, payment)["status"] == "captured"


# --- holds --------------------------------------------------------------------------------------------------------


def test_a_hold_that_expires_while_3ds_is_pending_voids_the_late_authorization(fake, book, pay, browser):
    # given: 3-D Secure started, then the hold runs out and the booking expires
    booking = book("10:00")
    resp = pay(booking["id"])
    Booking.objects.filter(pk=booking["id"]).update(hold_expires_at=timezone.now() - timedelta(seconds=1))
    assert booking_expire_due() == 1
    run_jobs(queues=["payments"])  # the open attempt is checked: still waiting for 3-D Secure
    assert Payment.objects.get(pk=resp.json()["id"]).status == "initiated"
    # when: the payer completes 3-D Secure after all
    result = return_to(browser, three_ds(resp.json()["transaction_url"]))
    run_jobs(queues=["payments"])
    # then: the authorization is voided; the booking stays expired
    payment = Payment.objects.get(pk=resp.json()["id"])
    assert result["booking_status"] == "expired"
    assert (payment.status, payment.is_booking_payment) == ("voided", False)
    assert fake_payment(fake, payment)["status"] == "voided"
    assert Booking.objects.get(pk=booking["id"]).status == "expired"


def test_paying_after_the_hold_ran_out_is_refused(fake, book, pay):
    booking = book("10:00")
    Booking.objects.filter(pk=booking["id"]).update(hold_expires_at=timezone.now() - timedelta(seconds=1))
    resp = pay(booking["id"])
    assert resp.status_code == 409
    assert resp.json()["error"]["code"] == "booking_not_payable"
    assert fake.payments() == []


def test_a_second_payment_for_a_paid_booking_is_voided(fake, book, pay, browser):
    # given: two attempts in flight (two tabs); both pass 3-D Secure
    booking = book("10:00")
    first = pay(booking["id"]).json()
    second = pay(booking["id"]).json()
    return_to(browser, three_ds(first["transaction_url"]))
    result = return_to(browser, three_ds(second["transaction_url"]))
    run_jobs(queues=["payments"])
    # then: the first pays for the booking, the second is given back
    assert result["booking_status"] == "confirmed"
    one, two = Payment.objects.get(pk=first["id"]), Payment.objects.get(pk=second["id"])
    assert (one.status, one.is_booking_payment) == ("authorized", True)
    assert (two.status, two.is_booking_payment) == ("voided", False)
    assert fake_payment(fake, two)["status"] == "voided"
