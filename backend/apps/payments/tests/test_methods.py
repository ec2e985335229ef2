"""Payment methods end to end, over HTTP against the Moyasar fake: card tokens (mada, Visa), Apple Pay, STC Pay
(mobile, then the OTP) and what each means for the booking, with the spec's test cards, amounts, mobiles and OTPs.
"""

from __future__ import annotations

import importlib
import json
import threading
from datetime import timedelta

import httpx
import pytest
from django.apps import apps as django_apps
from django.db import connection, transaction

from apps.accounts.models import User
from apps.accounts.tests.factories import UserFactory
from apps.bookings import events as booking_events
from apps.bookings.models import Booking
from apps.core.events import publish
from apps.core.scoping import platform
from apps.core.testing import job_rows, run_jobs
from apps.payments import services
from apps.payments.errors import PaymentInProgress, PaymentNotAwaitingOtp
from apps.payments.models import LedgerEntry, Payment, Refund
from apps.payments.providers.base import GatewayInvalidRequest, card_scheme_of, masked_card_bin
from apps.payments.providers.moyasar import _to_payment
from apps.payments.tests.conftest import CALLBACK, client_for, fake_payment, return_to, three_ds

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.urls("apps.payments.tests.urls")]

MADA_OK = "4201320111111010"
MADA_INSUFFICIENT = "4201320000311101"
MADA_DECLINED = "4201321234411220"
STC_MOBILE = "0512345678"


def _pay(client, booking_id: int, source: dict):
    return client.post(f"/api/v1/bookings/{booking_id}/pay", {"source": source}, format="json")


def _otp(client, payment_id: int, otp: str):
    return client.post(f"/api/v1/payments/{payment_id}/stcpay-otp", {"otp": otp}, format="json")


@pytest.fixture
def priced(service):
    """`priced(25000)`: the service costs that from now on (Apple Pay's test outcome follows the amount)."""

    def make(amount: int) -> None:
        service.price_amount = amount
        service.save(update_fields=["price_amount"])

    return make


# --- cards: mada and the others ---------------------------------------------------------------------------------


def test_a_mada_card_is_recorded_as_mada_and_captured_within_madas_window(fake, book, pay, browser, customer_client):
    # given: an appointment three weeks away
    booking = book("10:00", days=20)
    # when: paid with the mada test card, 3-D Secure approved
    resp = pay(booking["id"], MADA_OK)
    assert resp.status_code == 201, resp.content
    assert return_to(browser, three_ds(resp.json()["transaction_url"]))["outcome"] == "paid"
    # then: a card payment, mada; the capture is due 13 days after authorization (mada holds 14), not 6
    payment = Payment.objects.get(pk=resp.json()["id"])
    assert (payment.method, payment.card_scheme, payment.status) == ("card", "mada", "authorized")
    assert payment.capture_due_at == payment.authorized_at + timedelta(days=13)
    assert payment.capture_due_at < Booking.objects.get(pk=booking["id"]).start
    assert [row["scheduled_at"] for row in job_rows("apps.payments.jobs.payment_capture")] == [payment.capture_due_at]
    shown = customer_client.get(f"/api/v1/payments/{payment.pk}").json()
    assert (shown["method"], shown["card_scheme"], shown["otp_required"]) == ("card", "mada", False)


def test_a_visa_card_keeps_the_shorter_capture_window(fake, book, pay, browser, settings):
    settings.PAYMENTS_MADA_CAPTURE_AFTER_DAYS = 13
    booking = book("10:00", days=20)
    resp = pay(booking["id"])  # Visa 4111...
    return_to(browser, three_ds(resp.json()["transaction_url"]))
    payment = Payment.objects.get(pk=resp.json()["id"])
    assert (payment.method, payment.card_scheme) == ("card", "visa")
    assert payment.capture_due_at == payment.authorized_at + timedelta(days=6)


@pytest.mark.parametrize(
    ("number", "message"), [(MADA_INSUFFICIENT, "INSUFFICIENT FUNDS"), (MADA_DECLINED, "DECLINED")]
)
def test_declined_mada_cards_fail_with_the_reason(fake, book, pay, browser, customer_client, number, message):
    booking = book("10:00")
    resp = pay(booking["id"], number)
    return_to(browser, three_ds(resp.json()["transaction_url"]))
    payment = Payment.objects.get(pk=resp.json()["id"])
    assert (payment.status, payment.message, payment.card_scheme) == ("failed", message, "mada")
    assert customer_client.get(f"/api/v1/bookings/{booking['id']}").json()["status"] == "pending_payment"


def test_the_card_scheme_reading():
    # Moyasar's company first; without one, a known mada BIN from the masked number; else unknown ("")
    assert card_scheme_of("mada") == "mada"
    assert card_scheme_of("master") == "mastercard"
    assert card_scheme_of("VISA", "420132") == "visa"  # the company wins over the BIN
    assert card_scheme_of(None, "420132") == "mada"
    assert card_scheme_of(None, "411111") == ""
    assert card_scheme_of("unionpay") == ""
    assert masked_card_bin("4201-32XX-XXXX-1010") == "420132"
    assert masked_card_bin("XXXX-XXXX-XXXX-1010") is None
    gp = _to_payment(
        {"id": "p1", "status": "paid", "amount": 100, "source": {"type": "creditcard", "number": "4201-32XX-XXXX-1010"}}
    )
    assert (gp.card_scheme, gp.raw["source"]["number"]) == ("mada", "XXXX-XXXX-XXXX-1010")  # BIN read, not kept


# --- Apple Pay ----------------------------------------------------------------------------------------------------


def test_apple_pay_is_authorized_and_confirms_the_booking(fake, book, priced, customer_client):
    # given: 250.00 SAR (the fake approves Apple Pay between 200.00 and 300.00)
    priced(25000)
    booking = book("10:00")
    token = json.dumps(
        {"paymentData": {"data": "..."}, "paymentMethod": {"network": "mada", "displayName": "mada 1010"}}
    )
    # when
    resp = _pay(customer_client, booking["id"], {"type": "applepay", "token": token})
    # then: authorize only, like cards; no 3-D Secure page
    assert resp.status_code == 201, resp.content
    body = resp.json()
    assert (body["status"], body["method"], body["card_scheme"], body["transaction_url"]) == (
        "authorized",
        "applepay",
        "mada",
        None,
    )
    payment = Payment.objects.get(pk=body["id"])
    at_moyasar = fake_payment(fake, payment)
    assert (at_moyasar["source"]["type"], at_moyasar["_fake"]["manual"]) == ("applepay", True)
    assert customer_client.get(f"/api/v1/bookings/{booking['id']}").json()["status"] == "confirmed"
    assert payment.capture_due_at == Booking.objects.get(pk=booking["id"]).start


def test_apple_pay_insufficient_funds_fails_and_the_booking_keeps_waiting(fake, book, priced, customer_client):
    priced(115000)  # the fake's insufficient-funds range: 1101.00-1200.00 SAR
    booking = book("10:00")
    resp = _pay(customer_client, booking["id"], {"type": "applepay", "token": "wallet-token"})
    assert resp.status_code == 201
    assert (resp.json()["status"], resp.json()["message"], resp.json()["method"]) == (
        "failed",
        "INSUFFICIENT FUNDS",
        "applepay",
    )
    assert customer_client.get(f"/api/v1/bookings/{booking['id']}").json()["status"] == "pending_payment"


def test_apple_pay_outside_the_test_amounts_fails(fake, book, customer_client):
    booking = book("10:00")  # 150.00 SAR
    resp = _pay(customer_client, booking["id"], {"type": "applepay", "token": "wallet-token"})
    assert resp.json()["status"] == "failed"


# --- STC Pay ------------------------------------------------------------------------------------------------------


def _stc_initiated(client, booking_id: int, mobile: str = STC_MOBILE) -> dict:
    resp = _pay(client, booking_id, {"type": "stcpay", "mobile": mobile})
    assert resp.status_code == 201, resp.content
    body = resp.json()
    assert (body["status"], body["method"], body["otp_required"], body["transaction_url"]) == (
        "initiated",
        "stcpay",
        True,
        None,  # the OTP goes through Mawid, there is nothing to open
    )
    return body


def test_stc_pay_paid_with_the_otp_is_captured_and_confirms_the_booking(fake, book, customer_client):
    # given
    booking = book("10:00")
    started = _stc_initiated(customer_client, booking["id"])
    payment = Payment.objects.get(pk=started["id"])
    at_moyasar = fake_payment(fake, payment)
    assert at_moyasar["source"] == at_moyasar["source"] | {"type": "stcpay", "mobile": STC_MOBILE}
    summary = customer_client.get(f"/api/v1/bookings/{booking['id']}").json()["payment"]
    assert (summary["method"], summary["otp_required"], summary["transaction_url"]) == ("stcpay", True, None)
    assert at_moyasar["_fake"]["manual"] is False  # STC Pay cannot authorize only
    # when
    resp = _otp(customer_client, payment.pk, "123456")
    # then: paid is money taken -- captured, the booking confirmed, no capture to schedule
    assert resp.status_code == 200, resp.content
    body = resp.json()
    assert (body["status"], body["otp_required"], body["card_scheme"]) == ("captured", False, "")
    assert body["captured"] == {"amount": 15000, "currency": "SAR"}
    payment.refresh_from_db()
    assert (payment.authorized_amount, payment.captured_amount, payment.is_booking_payment) == (15000, 15000, True)
    assert (payment.capture_due_at, payment.card, payment.card_scheme) == (None, "", "")
    assert job_rows("apps.payments.jobs.payment_capture") == []
    assert customer_client.get(f"/api/v1/bookings/{booking['id']}").json()["status"] == "confirmed"
    # the capture is booked (PaymentCaptured was published with the money: the ledger and the invoice follow it)
    assert list(LedgerEntry.objects.filter(payment=payment).values_list("kind", "gross")) == [("capture", 15000)]
    assert "123456" not in json.dumps(list(payment.events.values_list("data", flat=True)))
    sent = fake.calls("stcpay")
    assert len(sent) == 1
    assert sent[0]["key"] is None  # no API key sent to the transaction URL


def test_stc_pay_wrong_otp_then_paying_again_with_the_right_one(fake, book, customer_client):
    # given
    booking = book("10:00")
    first = _stc_initiated(customer_client, booking["id"])
    # when: a wrong code
    resp = _otp(customer_client, first["id"], "999999")
    # then: a clear 400; STC Pay judged the code, the attempt failed, the booking still waits
    assert resp.status_code == 400, resp.content
    error = resp.json()["error"]
    assert error["code"] == "stcpay_otp_invalid"
    assert (error["payment"], error["payment_status"]) == (first["id"], "failed")
    assert Payment.objects.get(pk=first["id"]).status == "failed"
    assert customer_client.get(f"/api/v1/bookings/{booking['id']}").json()["status"] == "pending_payment"
    # the same code again on the failed attempt: it no longer waits for one
    again = _otp(customer_client, first["id"], "123456")
    assert (again.status_code, again.json()["error"]["code"]) == (409, "payment_not_awaiting_otp")
    # when: the customer pays again (a new code by SMS) and enters it right
    second = _stc_initiated(customer_client, booking["id"])
    resp = _otp(customer_client, second["id"], "000000")
    # then
    assert second["id"] != first["id"]
    assert (resp.status_code, resp.json()["status"]) == (200, "captured")
    assert customer_client.get(f"/api/v1/bookings/{booking['id']}").json()["status"] == "confirmed"


def test_stc_pay_insufficient_balance_is_a_402_and_the_customer_may_pay_again(fake, book, customer_client, pay):
    booking = book("10:00")
    started = _stc_initiated(customer_client, booking["id"])
    resp = _otp(customer_client, started["id"], "111111")
    assert resp.status_code == 402
    assert resp.json()["error"]["code"] == "stcpay_insufficient_balance"
    assert resp.json()["error"]["provider_message"] == "Insufficient Balance."
    # another method works
    assert pay(booking["id"]).status_code == 201


def test_stc_pay_other_refusals_are_declines(fake, book, customer_client):
    booking = book("10:00")
    started = _stc_initiated(customer_client, booking["id"])
    resp = _otp(customer_client, started["id"], "222222")  # the daily limit
    assert (resp.status_code, resp.json()["error"]["code"]) == (402, "stcpay_declined")


def test_stc_pay_unregistered_mobile_fails_at_once(fake, book, customer_client):
    booking = book("10:00")
    resp = _pay(customer_client, booking["id"], {"type": "stcpay", "mobile": "0515555555"})
    assert resp.status_code == 201
    body = resp.json()
    assert (body["status"], body["otp_required"]) == ("failed", False)
    assert "not registered" in body["message"]


def test_stc_pay_mobile_in_international_form_is_normalised(fake, book, customer_client):
    booking = book("10:00")
    resp = _pay(customer_client, booking["id"], {"type": "stcpay", "mobile": "+966 51 234 5678"})
    assert resp.status_code == 201, resp.content
    assert fake_payment(fake, Payment.objects.get(pk=resp.json()["id"]))["source"]["mobile"] == STC_MOBILE


@pytest.mark.parametrize(
    ("source", "field"),
    [
        ({"type": "stcpay", "mobile": "0412345678"}, "mobile"),
        ({"type": "stcpay", "mobile": "05123"}, "mobile"),
        ({"type": "stcpay"}, "mobile"),
        ({"type": "applepay"}, "token"),
        ({"type": "applepay", "token": "  "}, "token"),
        ({"type": "paypal", "token": "x"}, "type"),
    ],
)
def test_bad_sources_are_400s_and_nothing_is_written(fake, book, customer_client, source, field):
    booking = book("10:00")
    resp = _pay(customer_client, booking["id"], source)
    assert resp.status_code == 400, resp.content
    assert resp.json()["error"]["code"] == "validation_error"
    assert field in json.dumps(resp.json()["error"]["fields"])
    assert not Payment.objects.filter(booking_id=booking["id"]).exists()
    assert fake.calls("create") == []


def test_normalize_saudi_mobile():
    assert services.normalize_saudi_mobile("0512345678") == "0512345678"
    assert services.normalize_saudi_mobile("+966512345678") == "0512345678"
    assert services.normalize_saudi_mobile("00966-51-234-5678") == "0512345678"
    assert services.normalize_saudi_mobile("966512345678") == "0512345678"
    assert services.normalize_saudi_mobile("+966412345678") is None
    assert services.normalize_saudi_mobile("051234567") is None
    assert services.normalize_saudi_mobile("") is None


@pytest.mark.parametrize("otp", ["12ab56", "", "123456789"])
def test_a_malformed_otp_is_a_400_and_nothing_is_sent(fake, book, customer_client, otp):
    booking = book("10:00")
    started = _stc_initiated(customer_client, booking["id"])
    resp = _otp(customer_client, started["id"], otp)
    assert (resp.status_code, resp.json()["error"]["code"]) == (400, "validation_error")
    assert fake.calls("stcpay") == []
    assert Payment.objects.get(pk=started["id"]).status == "initiated"


def test_an_otp_for_a_card_payment_is_a_409(fake, book, pay, customer_client):
    booking = book("10:00")
    card = pay(booking["id"]).json()
    resp = _otp(customer_client, card["id"], "123456")
    assert (resp.status_code, resp.json()["error"]["code"]) == (409, "payment_not_awaiting_otp")


def test_an_otp_for_someone_elses_payment_is_a_404(fake, book, customer_client, other_customer):
    booking = book("10:00")
    started = _stc_initiated(customer_client, booking["id"])
    resp = _otp(client_for(other_customer), started["id"], "123456")
    assert resp.status_code == 404
    assert fake.calls("stcpay") == []


def test_moyasar_down_during_the_otp_is_a_503_and_the_code_can_be_sent_again(fake, book, customer_client):
    booking = book("10:00")
    started = _stc_initiated(customer_client, booking["id"])
    fake.set_fault("reset", endpoint="stcpay", count=1)
    resp = _otp(customer_client, started["id"], "123456")
    assert resp.status_code == 503, resp.content
    assert Payment.objects.get(pk=started["id"]).status == "initiated"
    resp = _otp(customer_client, started["id"], "123456")
    assert (resp.status_code, resp.json()["status"]) == (200, "captured")


# --- STC Pay after payment: cancellation ------------------------------------------------------------------------


def _stc_paid(client, booking_id: int) -> Payment:
    started = _stc_initiated(client, booking_id)
    assert _otp(client, started["id"], "123456").status_code == 200
    return Payment.objects.get(pk=started["id"])


def test_stc_pay_cancelled_before_the_cutoff_is_refunded_in_full(fake, book, customer_client):
    # given: paid by STC Pay (captured money), appointment in three days (before the 24-hour cut-off)
    booking = book("10:00")
    payment = _stc_paid(customer_client, booking["id"])
    # when
    resp = customer_client.post(f"/api/v1/bookings/{booking['id']}/cancel", {}, format="json")
    assert resp.status_code == 200, resp.content
    run_jobs(queues=["payments"])
    # then: refunded in full at Moyasar (there is no authorization to void)
    payment.refresh_from_db()
    refund = Refund.objects.get(payment=payment)
    assert (refund.kind, refund.status, refund.amount) == ("cancellation", "succeeded", 15000)
    assert (payment.status, payment.refunded_amount) == ("refunded", 15000)
    assert fake_payment(fake, payment)["refunded"] == 15000
    assert fake.calls("void") == []


def test_stc_pay_cancelled_after_the_cutoff_is_refunded_minus_the_fee(fake, book, customer_client):
    booking = book("10:00")
    payment = _stc_paid(customer_client, booking["id"])
    with transaction.atomic():
        Booking.objects.filter(pk=booking["id"]).update(status="cancelled")
        publish(booking_events.BookingCancelled(booking_id=booking["id"], by_business=False, before_cutoff=False))
    run_jobs(queues=["payments"])
    payment.refresh_from_db()
    assert (payment.status, payment.refunded_amount) == ("partially_refunded", 12000)  # 20% kept
    assert fake_payment(fake, payment)["refunded"] == 12000


def test_the_client_sends_an_otp_only_to_moyasars_host(moyasar_client):
    with pytest.raises(GatewayInvalidRequest):
        moyasar_client.stcpay_otp(
            payment_id="6a1f5b0e-0000-4000-8000-000000000000",
            transaction_url="https://evil.example/v1/stc_pays/x/proceed?otp_token=y",
            otp="123456",
        )


def test_the_migration_backfills_method_and_scheme_of_earlier_payments(fake, book):
    booking = book("10:00")
    rows = {
        "form": dict(flow="client", provider_raw={"source": {"type": "creditcard", "company": "mada"}}),
        "card": dict(flow="token", provider_raw={"source": {"type": "creditcard", "company": "master"}}),
        "stc": dict(flow="token", provider_raw={"source": {"type": "stcpay", "mobile": "0512345678"}}),
        "new": dict(flow="token", provider_raw={}),
    }
    made = {
        name: Payment.objects.create(booking_id=booking["id"], status="failed", amount=15000, **fields)
        for name, fields in rows.items()
    }
    importlib.import_module("apps.payments.migrations.0008_payment_method_card_scheme").backfill(django_apps, None)
    got = {
        name: tuple(Payment.objects.filter(pk=p.pk).values_list("method", "card_scheme")[0]) for name, p in made.items()
    }
    assert got == {
        "form": ("form", "mada"),
        "card": ("card", "mastercard"),
        "stc": ("stcpay", ""),
        "new": ("card", ""),
    }


def test_two_otps_at_once_send_one_code_to_moyasar(fake, book, customer_client, customer):
    # given: an STC Pay payment waiting for its code, and Moyasar slow to answer it
    booking = book("10:00")
    started = _stc_initiated(customer_client, booking["id"])
    fake.set_fault("ambiguous", endpoint="stcpay", delay=0.4)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def send() -> None:
        barrier.wait()
        try:
            with platform():
                outcomes.append(
                    services.payment_stcpay_otp(user=customer, payment_id=started["id"], otp="123456").status
                )
        except (PaymentInProgress, PaymentNotAwaitingOtp) as exc:
            outcomes.append(exc.code)
        finally:
            connection.close()

    threads = [threading.Thread(target=send) for _ in range(2)]
    # when
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # then: one code reached Moyasar; the other request was told to wait (or found it paid)
    assert len(fake.calls("stcpay")) == 1
    assert sorted(outcomes) in (["captured", "payment_in_progress"], ["captured", "payment_not_awaiting_otp"])
    payment = Payment.objects.get(pk=started["id"])
    assert (payment.status, payment.operation) == ("captured", "")


def test_stc_pay_through_moyasars_form_lands_as_a_captured_form_payment(fake, book, customer_client, browser):
    # given: the parameters for Moyasar's form or SDK
    booking = book("10:00")
    params = customer_client.post(f"/api/v1/bookings/{booking['id']}/pay", {}, format="json").json()["client"]
    # when: the form pays with STC Pay (it posts the code to Moyasar itself) and the browser comes back
    created = httpx.post(
        f"{fake.api_url}/payments",
        auth=(params["publishable_key"], ""),
        json={
            "amount": params["amount"],
            "currency": params["currency"],
            "description": params["description"],
            "callback_url": params["callback_url"],
            "given_id": params["given_id"],
            "metadata": params["metadata"],
            "source": {"type": "stcpay", "mobile": STC_MOBILE},
        },
    ).json()
    assert httpx.post(created["source"]["transaction_url"], json={"otp_value": "123456"}).json()["status"] == "paid"
    result = return_to(browser, f"{CALLBACK}?id={created['id']}&status=paid")
    # then: money taken at once -- captured, the booking confirmed; the method stays "form"
    assert (result["outcome"], result["status"], result["booking_status"]) == ("paid", "captured", "confirmed")
    payment = Payment.objects.get(provider_id=created["id"])
    assert (payment.method, payment.flow, payment.captured_amount, payment.capture_due_at) == (
        "form",
        "client",
        15000,
        None,
    )


def test_the_admin_shows_and_filters_by_method_and_scheme(fake, book, customer_client, client):
    booking = book("10:00")
    payment = _stc_paid(customer_client, booking["id"])
    client.force_login(UserFactory(role=User.Role.MANAGER, is_staff=True, is_superuser=True))
    listed = client.get("/admin/payments/payment/", {"method__exact": "stcpay"})
    assert listed.status_code == 200
    assert f"/admin/payments/payment/{payment.pk}/change/" in listed.content.decode()
    assert "STC Pay" in listed.content.decode()
    assert (
        f"/admin/payments/payment/{payment.pk}/change/"
        not in client.get("/admin/payments/payment/", {"card_scheme__exact": "mada"}).content.decode()
    )


def test_an_otp_url_off_moyasars_host_is_never_called_and_is_flagged(fake, book, customer_client):
    # given: the payment's transaction URL names another host (a changed MOYASAR_BASE_URL, or a forged answer)
    booking = book("10:00")
    started = _stc_initiated(customer_client, booking["id"])
    Payment.objects.filter(pk=started["id"]).update(transaction_url="https://evil.example/v1/stc_pays/x/proceed")
    # when
    resp = _otp(customer_client, started["id"], "123456")
    # then: nothing sent; the customer is told to try later, a person is told why
    assert (resp.status_code, resp.json()["error"]["code"]) == (503, "provider_unavailable")
    assert fake.calls("stcpay") == []
    payment = Payment.objects.get(pk=started["id"])
    assert (payment.status, payment.operation, payment.needs_attention) == ("initiated", "", True)
    assert "not on Moyasar's host" in payment.attention_reason
