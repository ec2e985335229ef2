"""Deposits, paying at the venue, no-shows and late cancellations with a fee (docs/payments.md, "Deposits and
paying at the venue", "Late cancellation"). Over real HTTP against the Moyasar fake; jobs in the real worker."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from apps.bookings.models import Booking
from apps.bookings.services import booking_mark_no_show
from apps.catalog.models import Business, Service
from apps.core import events as core_events
from apps.core.testing import run_jobs
from apps.payments import events
from apps.payments.models import Payment, Refund, VenuePayment
from apps.payments.tests.conftest import client_for, fake_payment, make_capture_due

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.urls("apps.payments.tests.urls")]

DEPOSIT = 4500  # 30 % of 150.00 SAR, a reachable VAT-inclusive amount (3913 + 587)


def _manage(business: Business, booking_id: int) -> str:
    return f"/api/v1/manage/businesses/{business.slug}/bookings/{booking_id}/venue-payments"


@pytest.fixture
def deposit_service(service: Service) -> Service:
    Service.objects.filter(pk=service.pk).update(payment_policy="deposit", deposit_percent=30)
    service.refresh_from_db()
    return service


@pytest.fixture
def recorded() -> Iterator[list[events.VenuePaymentRecorded]]:
    seen: list[events.VenuePaymentRecorded] = []
    core_events.subscribe(events.VenuePaymentRecorded, seen.append)
    yield seen
    core_events.unsubscribe(events.VenuePaymentRecorded, seen.append)


def _authorized_deposit(book, pay, browser) -> tuple[dict, Payment]:
    from apps.payments.tests.conftest import return_to, three_ds

    booking = book("10:00")
    assert booking["payment_policy"] == "deposit"
    assert booking["amount_due_online"] == {"amount": DEPOSIT, "currency": "SAR"}
    resp = pay(booking["id"])
    assert resp.status_code == 201, resp.content
    assert return_to(browser, three_ds(resp.json()["transaction_url"]))["outcome"] == "paid"
    return booking, Payment.objects.get(pk=resp.json()["id"])


# --- deposits -----------------------------------------------------------------------------------------------------


def test_a_deposit_booking_is_confirmed_by_the_deposit_and_the_balance_is_due_at_the_venue(
    fake, deposit_service, book, pay, browser, customer_client, manager_client, business, recorded
):
    booking, payment = _authorized_deposit(book, pay, browser)

    assert (payment.amount, payment.purpose, payment.status) == (DEPOSIT, "deposit", "authorized")
    assert fake_payment(fake, payment)["amount"] == DEPOSIT
    body = customer_client.get(f"/api/v1/bookings/{booking['id']}").json()
    assert body["status"] == "confirmed"
    balance = body["balance"]
    assert balance["payment_policy"] == "deposit"
    assert balance["paid_online"]["amount"] == DEPOSIT
    assert balance["paid_at_venue"]["amount"] == 0
    assert balance["due"]["amount"] == 15000 - DEPOSIT

    # the balance is paid at the venue on the card terminal
    resp = manager_client.post(
        _manage(business, booking["id"]), {"amount": 15000 - DEPOSIT, "method": "terminal"}, format="json"
    )
    assert resp.status_code == 201, resp.content
    assert resp.json()["booking"]["balance"]["due"]["amount"] == 0
    assert resp.json()["booking"]["balance"]["paid_at_venue"]["amount"] == 15000 - DEPOSIT
    venue = VenuePayment.objects.get()
    assert recorded == [
        events.VenuePaymentRecorded(
            venue_payment_id=venue.pk, booking_id=booking["id"], amount=15000 - DEPOSIT, method="terminal"
        )
    ]
    # nothing more is due: one halala more is refused and nothing is written
    resp = manager_client.post(_manage(business, booking["id"]), {"amount": 1, "method": "cash"}, format="json")
    assert resp.status_code == 409
    assert resp.json()["error"]["code"] == "venue_payment_exceeds_due"
    assert VenuePayment.objects.count() == 1
    assert len(recorded) == 1


def test_a_deposit_is_captured_at_the_appointment_like_a_full_payment(fake, deposit_service, book, pay, browser):
    _booking, payment = _authorized_deposit(book, pay, browser)
    make_capture_due(payment)
    run_jobs(queues=["payments"])
    payment.refresh_from_db()
    assert (payment.status, payment.captured_amount) == ("captured", DEPOSIT)


def test_a_no_show_keeps_the_deposit(fake, deposit_service, book, pay, browser, manager):
    booking, payment = _authorized_deposit(book, pay, browser)
    start = Booking.objects.get(pk=booking["id"]).start

    booking_mark_no_show(booking_id=booking["id"], actor=manager, now=start + timedelta(minutes=20))
    run_jobs(queues=["payments"])

    payment.refresh_from_db()
    assert (payment.status, payment.captured_amount) == ("captured", DEPOSIT)
    assert fake_payment(fake, payment)["captured"] == DEPOSIT


def test_a_business_that_gives_deposits_back_voids_a_no_show_s_deposit(
    fake, deposit_service, book, pay, browser, manager, business
):
    Business.objects.filter(pk=business.pk).update(keep_deposit_on_no_show=False)
    booking, payment = _authorized_deposit(book, pay, browser)
    start = Booking.objects.get(pk=booking["id"]).start

    booking_mark_no_show(booking_id=booking["id"], actor=manager, now=start + timedelta(minutes=20))
    run_jobs(queues=["payments"])

    payment.refresh_from_db()
    assert (payment.status, payment.captured_amount) == ("voided", 0)
    assert fake.calls("capture") == []


# --- paying at the venue ------------------------------------------------------------------------------------------


def test_a_venue_booking_is_confirmed_without_any_payment(
    fake, service, business, customer_client, staff, manager_client, recorded
):
    Business.objects.filter(pk=business.pk).update(payment_policy="venue")
    start = timezone.now().astimezone(business.tz).replace(hour=11, minute=0, second=0, microsecond=0)
    start += timedelta(days=3)
    resp = customer_client.post(
        "/api/v1/bookings", {"staff": staff.pk, "service": service.pk, "start": start.isoformat()}, format="json"
    )
    assert resp.status_code == 201, resp.content
    booking = resp.json()
    assert (booking["status"], booking["hold_expires_at"], booking["payment_policy"]) == ("confirmed", None, "venue")
    assert booking["amount_due_online"]["amount"] == 0
    assert booking["balance"]["due"]["amount"] == 15000
    # nothing to pay online
    pay = customer_client.post(f"/api/v1/bookings/{booking['id']}/pay", {}, format="json")
    assert pay.status_code == 409
    assert Payment.objects.count() == 0

    # cash, in two parts, recorded by the staff member (their own booking) and by the manager
    staff_client = client_for(staff.user)
    first = staff_client.post(_manage(business, booking["id"]), {"amount": 5000, "method": "cash"}, format="json")
    assert first.status_code == 201, first.content
    too_much = manager_client.post(_manage(business, booking["id"]), {"amount": 10001, "method": "cash"}, format="json")
    assert too_much.status_code == 409
    assert too_much.json()["error"]["code"] == "venue_payment_exceeds_due"
    assert too_much.json()["error"]["due"] == {"amount": 10000, "currency": "SAR"}
    rest = manager_client.post(
        _manage(business, booking["id"]), {"amount": 10000, "method": "terminal", "note": "rest"}, format="json"
    )
    assert rest.status_code == 201
    listed = manager_client.get(_manage(business, booking["id"])).json()
    assert [(v["amount"]["amount"], v["method"]) for v in listed] == [(5000, "cash"), (10000, "terminal")]
    assert [e.amount for e in recorded] == [5000, 10000]


def test_venue_payment_input_is_checked(fake, business, manager_client, book):
    booking = book("10:00")
    url = _manage(business, booking["id"])
    for body in ({"amount": 0, "method": "cash"}, {"amount": 100, "method": "cheque"}, {"method": "cash"}):
        resp = manager_client.post(url, body, format="json")
        assert resp.status_code == 400, body
    assert (
        manager_client.post(_manage(business, 999_999), {"amount": 1, "method": "cash"}, format="json").status_code
        == 404
    )
    assert VenuePayment.objects.count() == 0


def test_a_venue_payment_confirms_an_unpaid_booking_and_a_late_online_payment_is_given_back(
    fake, business, manager_client, book, pay, customer_client
):
    booking = book("10:00")  # full prepayment, pending
    resp = manager_client.post(_manage(business, booking["id"]), {"amount": 15000, "method": "cash"}, format="json")
    assert resp.status_code == 201
    assert resp.json()["booking"]["status"] == "confirmed"
    assert customer_client.post(f"/api/v1/bookings/{booking['id']}/pay", {}, format="json").status_code == 409


# --- late cancellation with a fee ---------------------------------------------------------------------------------


def _late(booking: dict) -> time_machine.travel:
    start = Booking.objects.get(pk=booking["id"]).start
    return time_machine.travel(start - timedelta(hours=23), tick=True)


def test_before_the_cutoff_nothing_is_kept(fake, authorized, customer_client):
    booking, payment = authorized()
    body = customer_client.get(f"/api/v1/bookings/{booking['id']}").json()
    assert body["balance"]["cancellation_fee"]["amount"] == 0
    assert body["balance"]["late_cancellation"] is False
    assert customer_client.post(f"/api/v1/bookings/{booking['id']}/cancel", {}, format="json").status_code == 200
    run_jobs(queues=["payments"])
    payment.refresh_from_db()
    assert (payment.status, payment.captured_amount, payment.cancellation_fee) == ("voided", 0, 0)


def test_a_late_cancellation_captures_the_fee_and_releases_the_rest(
    fake, authorized, customer_client, business, customer
):
    Business.objects.filter(pk=business.pk).update(late_cancel_fee_amount=2500, late_cancel_fee_percent=10)
    booking, payment = authorized()
    with _late(booking):
        customer_client = client_for(customer)
        body = customer_client.get(f"/api/v1/bookings/{booking['id']}").json()
        assert body["balance"]["late_cancellation"] is True
        assert body["balance"]["cancellation_fee"] == {"amount": 2500, "currency": "SAR"}  # the larger of the two
        resp = customer_client.post(f"/api/v1/bookings/{booking['id']}/cancel", {}, format="json")
        assert resp.status_code == 200
        run_jobs(queues=["payments"])
    payment.refresh_from_db()
    assert (payment.status, payment.captured_amount, payment.refunded_amount) == ("captured", 2500, 0)
    assert payment.cancellation_fee == 2500
    at_moyasar = fake_payment(fake, payment)
    assert (at_moyasar["status"], at_moyasar["captured"], at_moyasar["amount"]) == ("captured", 2500, 15000)
    assert len(fake.calls("capture")) == 1
    assert Refund.objects.count() == 0


def test_a_late_cancellation_after_capture_refunds_minus_the_service_s_fee(
    fake, authorized, customer_client, service, customer
):
    Service.objects.filter(pk=service.pk).update(late_cancel_fee_percent=20)
    booking, payment = authorized()
    make_capture_due(payment)
    run_jobs(queues=["payments"])
    with _late(booking):
        customer_client = client_for(customer)
        assert customer_client.post(f"/api/v1/bookings/{booking['id']}/cancel", {}, format="json").status_code == 200
        run_jobs(queues=["payments"])
    payment.refresh_from_db()
    refund = Refund.objects.get(payment=payment)
    assert (refund.kind, refund.amount, refund.status) == ("cancellation", 12000, "succeeded")
    assert (payment.status, payment.captured_amount, payment.refunded_amount) == ("partially_refunded", 15000, 12000)
    assert fake_payment(fake, payment)["refunded"] == 12000


def test_a_late_cancelled_deposit_is_kept_whole_or_only_the_fee(
    fake, deposit_service, book, pay, browser, customer_client, business, customer
):
    booking, payment = _authorized_deposit(book, pay, browser)
    with _late(booking):
        customer_client = client_for(customer)
        body = customer_client.get(f"/api/v1/bookings/{booking['id']}").json()
        assert body["balance"]["cancellation_fee"]["amount"] == DEPOSIT  # keep_deposit_on_late_cancel (default)
        customer_client.post(f"/api/v1/bookings/{booking['id']}/cancel", {}, format="json")
        run_jobs(queues=["payments"])
    payment.refresh_from_db()
    assert (payment.status, payment.captured_amount) == ("captured", DEPOSIT)


def test_a_deposit_s_fee_is_at_most_the_deposit(
    fake, deposit_service, book, pay, browser, customer_client, business, customer
):
    Business.objects.filter(pk=business.pk).update(keep_deposit_on_late_cancel=False, late_cancel_fee_amount=9000)
    booking, payment = _authorized_deposit(book, pay, browser)
    with _late(booking):
        customer_client = client_for(customer)
        assert (
            customer_client.get(f"/api/v1/bookings/{booking['id']}").json()["balance"]["cancellation_fee"]["amount"]
            == DEPOSIT
        )
    Business.objects.filter(pk=business.pk).update(late_cancel_fee_amount=1000)  # 10.00: no invoice reaches it
    with _late(booking):
        customer_client = client_for(customer)
        customer_client.post(f"/api/v1/bookings/{booking['id']}/cancel", {}, format="json")
        run_jobs(queues=["payments"])
    payment.refresh_from_db()
    # the nearest VAT-inclusive amount below (8.69 + 1.30 = 9.99), in the customer's favour
    assert (payment.status, payment.captured_amount, payment.cancellation_fee) == ("captured", 999, 999)


# --- the policy's settings ----------------------------------------------------------------------------------------


def test_the_policy_is_checked_with_clear_codes(fake, manager_client, business, service):
    url = f"/api/v1/manage/businesses/{business.slug}/services/{service.pk}"
    cases = [
        ({"payment_policy": "deposit", "deposit_amount": 15001}, "deposit_amount", "deposit_exceeds_price"),
        ({"payment_policy": "deposit", "deposit_percent": 150}, "deposit_percent", None),
        ({"deposit_amount": 1000, "deposit_percent": 10}, "deposit_percent", "deposit_amount_and_percent"),
        ({"payment_policy": "deposit"}, "deposit_amount", "deposit_missing"),
    ]
    for body, field, reason in cases:
        resp = manager_client.patch(url, body, format="json")
        assert resp.status_code == 400, (body, resp.content)
        error = resp.json()["error"]
        assert field in error["fields"], error
        if reason:
            assert (error["code"], error["reasons"][field]) == ("payment_policy_invalid", reason)
    ok = manager_client.patch(url, {"payment_policy": "deposit", "deposit_amount": 5000}, format="json")
    assert ok.status_code == 200
    assert (ok.json()["payment_policy"], ok.json()["deposit_amount"]) == ("deposit", 5000)
    public = manager_client.get(f"/api/v1/businesses/{business.slug}/services").json()
    assert public[0]["payment_policy"] == "deposit"
    assert public[0]["amount_due_online"]["amount"] == 5000 or public[0]["amount_due_online"]["amount"] == 5001

    policies = f"/api/v1/manage/businesses/{business.slug}/policies"
    resp = manager_client.patch(policies, {"payment_policy": "deposit", "deposit_percent": 0}, format="json")
    assert resp.status_code == 400
    assert resp.json()["error"]["reasons"]["deposit_amount"] == "deposit_missing"
    resp = manager_client.patch(
        policies, {"payment_policy": "deposit", "deposit_percent": 25, "keep_deposit_on_no_show": False}, format="json"
    )
    assert resp.status_code == 200
    assert (resp.json()["deposit_percent"], resp.json()["keep_deposit_on_no_show"]) == (25, False)


def test_two_counters_recording_the_whole_balance_at_once_take_it_once(fake, business, service, staff, customer):
    import threading

    from django.db import connection

    from apps.bookings.services import booking_create
    from apps.core.errors import DomainError
    from apps.core.scoping import platform
    from apps.payments.services import venue_payment_record

    Business.objects.filter(pk=business.pk).update(payment_policy="venue")
    start = timezone.now().astimezone(business.tz).replace(hour=11, minute=0, second=0, microsecond=0)
    booking = booking_create(customer=customer, staff_id=staff.pk, service=service, start=start + timedelta(days=3))
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def record(method: str) -> None:
        try:
            with platform():
                barrier.wait()
                venue_payment_record(booking_id=booking.pk, amount=15000, method=method, actor=None)
            outcomes.append("ok")
        except DomainError as error:
            outcomes.append(error.code)
        finally:
            connection.close()

    threads = [threading.Thread(target=record, args=(m,)) for m in ("cash", "terminal")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["ok", "venue_payment_exceeds_due"]
    assert VenuePayment.objects.filter(booking=booking).count() == 1
