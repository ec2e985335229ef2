"""`POST /bookings/ID/pay` and the 3-D Secure return, over HTTP against the Moyasar fake."""

from __future__ import annotations

import time

import httpx
import pytest

from apps.bookings.models import Booking
from apps.core.testing import job_rows, run_jobs
from apps.payments.models import Payment, PaymentEvent
from apps.payments.tests.conftest import VISA_DECLINED, fake_payment, return_to, three_ds, wait_until

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.urls("apps.payments.tests.urls")]


# --- token flow: the server creates the payment -----------------------------------------------------------------


def test_token_payment_with_3ds_approved_confirms_the_booking(fake, book, pay, browser, customer_client):
    # given
    booking = book("10:00")
    # when
    resp = pay(booking["id"])
    # then: authorize-only, for the booking's price, with our given_id, waiting for 3-D Secure
    assert resp.status_code == 201, resp.content
    body = resp.json()
    assert body["status"] == "initiated"
    assert body["amount"] == {"amount": 15000, "currency": "SAR"}
    assert body["transaction_url"].startswith(fake.base_url)
    payment = Payment.objects.get(pk=body["id"])
    at_moyasar = fake_payment(fake, payment)
    assert at_moyasar["id"] == str(payment.given_id) == payment.provider_id
    assert at_moyasar["_fake"]["manual"] is True
    assert at_moyasar["metadata"] == {"booking_id": str(booking["id"]), "payment_ref": str(payment.given_id)}
    assert customer_client.get(f"/api/v1/bookings/{booking['id']}").json()["status"] == "pending_payment"

    # when: the payer approves 3-D Secure and Moyasar sends the browser back
    result = return_to(browser, three_ds(body["transaction_url"], "approve"))

    # then
    assert result == {
        "outcome": "paid",
        "payment": payment.pk,
        "status": "authorized",
        "booking": booking["id"],
        "booking_status": "confirmed",
    }
    shown = customer_client.get(f"/api/v1/bookings/{booking['id']}").json()
    assert shown["status"] == "confirmed"
    assert shown["payment"]["id"] == payment.pk
    assert shown["payment"]["status"] == "authorized"
    payment.refresh_from_db()
    assert (payment.authorized_amount, payment.captured_amount, payment.is_booking_payment) == (15000, 0, True)
    assert payment.capture_due_at == Booking.objects.get(pk=booking["id"]).start
    assert "4111111111111111" not in str(payment.provider_raw)
    assert list(payment.events.values_list("kind", flat=True)) == [
        "created",
        "status_changed",
        "pays_for_booking",
        "capture_scheduled",
    ]


def test_the_return_page_shows_html_to_browsers(fake, book, pay, browser):
    booking = book("10:00")
    location = three_ds(pay(booking["id"]).json()["transaction_url"])
    resp = browser.get(location.removeprefix("http://testserver"))
    assert resp.status_code == 200
    assert resp["Content-Type"].startswith("text/html")
    assert b"data-outcome='paid'" in resp.content


def test_3ds_rejected_fails_the_payment_and_the_booking_keeps_waiting(fake, book, pay, browser, customer_client):
    booking = book("10:00")
    resp = pay(booking["id"])
    result = return_to(browser, three_ds(resp.json()["transaction_url"], "reject"))
    assert result["outcome"] == "failed"
    assert result["booking_status"] == "pending_payment"
    payment = Payment.objects.get(pk=resp.json()["id"])
    assert payment.status == "failed"
    assert "3-D Secure" in payment.message
    assert customer_client.get(f"/api/v1/payments/{payment.pk}").json()["status"] == "failed"


def test_a_declined_card_fails_and_the_customer_can_pay_again_with_another_card(fake, book, pay, browser):
    # given
    booking = book("10:00")
    # when: the issuer declines after 3-D Secure
    first = pay(booking["id"], VISA_DECLINED).json()
    result = return_to(browser, three_ds(first["transaction_url"]))
    # then
    assert (result["outcome"], result["booking_status"]) == ("failed", "pending_payment")
    assert Payment.objects.get(pk=first["id"]).message == "DECLINED"
    # when: a new attempt with another card
    second = pay(booking["id"]).json()
    result = return_to(browser, three_ds(second["transaction_url"]))
    # then: a new attempt, a new given_id; the booking is confirmed
    assert second["id"] != first["id"]
    assert (result["outcome"], result["booking_status"]) == ("paid", "confirmed")
    assert Payment.objects.filter(booking_id=booking["id"]).count() == 2
    assert len(fake.payments()) == 2


@pytest.mark.parametrize(
    ("number", "message"),
    [("4123120001090000", "INSUFFICIENT FUNDS"), ("4123128518640738", "EXPIRED CARD"), ("4111116611600661", "3-D")],
)
def test_declined_cards_fail_with_the_issuers_reason(fake, book, card_token, customer_client, browser, number, message):
    booking = book("10:00")
    body = {"source": {"type": "token", "token": card_token(number)}}
    resp = customer_client.post(f"/api/v1/bookings/{booking['id']}/pay", body, format="json")
    assert resp.status_code == 201
    if resp.json()["transaction_url"]:  # declined after the 3-D Secure challenge
        return_to(browser, three_ds(resp.json()["transaction_url"]))
    payment = Payment.objects.get(pk=resp.json()["id"])
    assert payment.status == "failed"
    assert message in payment.message
    assert customer_client.get(f"/api/v1/bookings/{booking['id']}").json()["status"] == "pending_payment"


def test_the_query_string_is_never_trusted(fake, book, pay, browser):
    # given: the payer rejected 3-D Secure, then edits the redirect to claim success and a smaller amount
    booking = book("10:00")
    resp = pay(booking["id"])
    location = three_ds(resp.json()["transaction_url"], "reject")
    tampered = location.replace("status=failed", "status=authorized") + "&amount=100&currency=SAR"
    # when
    result = return_to(browser, tampered)
    # then: Moyasar (asked with the secret key) says failed
    assert (result["outcome"], result["status"], result["booking_status"]) == ("failed", "failed", "pending_payment")


def test_the_return_page_for_an_unknown_payment_is_a_404(fake, browser):
    resp = browser.get("/payments/return?id=6a1f5b0e-0000-4000-8000-000000000000&status=paid")
    assert resp.status_code == 404
    assert resp.json()["error"]["code"] == "not_found"


def test_paying_a_booking_that_is_already_paid_is_a_409(fake, authorized, pay):
    booking, _payment = authorized()
    resp = pay(booking["id"])
    assert resp.status_code == 409
    assert resp.json()["error"]["code"] == "booking_already_paid"


def test_someone_elses_booking_is_a_404(fake, book, pay, other_customer):
    from apps.payments.tests.conftest import client_for

    booking = book("10:00")
    resp = pay(booking["id"], client=client_for(other_customer))
    assert resp.status_code == 404
    assert Payment.objects.count() == 0


def test_an_invalid_token_is_a_400_and_the_booking_keeps_waiting(fake, book, customer_client):
    booking = book("10:00")
    resp = customer_client.post(
        f"/api/v1/bookings/{booking['id']}/pay", {"source": {"type": "token", "token": "token_nope"}}, format="json"
    )
    assert resp.status_code == 400
    assert resp.json()["error"]["code"] == "payment_source_invalid"
    assert Payment.objects.get().status == "failed"


def test_a_malformed_source_is_a_400(fake, book, customer_client):
    booking = book("10:00")
    resp = customer_client.post(f"/api/v1/bookings/{booking['id']}/pay", {"source": {"type": "card"}}, format="json")
    assert resp.status_code == 400
    assert resp.json()["error"]["code"] == "validation_error"
    assert Payment.objects.count() == 0


# --- Moyasar misbehaving ----------------------------------------------------------------------------------------


def test_a_create_that_times_out_but_succeeded_makes_exactly_one_payment(fake, book, pay):
    # given: Moyasar creates the payment but answers after our read timeout (1 s)
    booking = book("10:00")
    fake.set_fault("ambiguous_create", delay=1.5)
    # when
    resp = pay(booking["id"])
    # then: the client found it again by its given_id
    assert resp.status_code == 201, resp.content
    assert resp.json()["status"] == "initiated"
    assert len(fake.payments()) == 1
    assert Payment.objects.count() == 1
    assert fake.payments()[0]["id"] == str(Payment.objects.get().given_id)


def test_an_unknown_outcome_is_answered_pending_and_paying_again_resumes_the_same_payment(
    fake, book, pay, customer_client, card_token
):
    # given: the create times out and Moyasar cannot even be asked about it
    booking = book("10:00")
    fake.set_fault("timeout", endpoint="create", delay=1.3)
    fake.set_fault("error_500", endpoint="fetch", count=1)
    url, body = f"/api/v1/bookings/{booking['id']}/pay", {"source": {"type": "token", "token": card_token()}}
    # when
    first = customer_client.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY="pay-1")
    # then: 202, the attempt kept pending (Moyasar may have it) and a job deferred to find it by its given_id
    assert first.status_code == 202, first.content
    assert (first.json()["status"], first.json()["transaction_url"]) == ("initiated", None)
    attempt = Payment.objects.get()
    assert (attempt.status, attempt.provider_status, attempt.operation) == ("initiated", "", "")
    assert [row["status"] for row in job_rows("apps.payments.jobs.payment_create_recover")] == ["todo"]
    assert Booking.objects.get(pk=booking["id"]).status == "pending_payment"
    wait_until(fake.payments)  # Moyasar finishes creating it meanwhile
    # when: the same request again is the same answer (Idempotency-Key) ...
    again = customer_client.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY="pay-1")
    assert (again.status_code, again.json()["id"], again["Idempotent-Replayed"]) == (202, attempt.pk, "true")
    # ... and paying again (another key) resumes the same attempt with the same given_id
    retry = pay(booking["id"], HTTP_IDEMPOTENCY_KEY="pay-2")
    # then: still one payment at Moyasar
    assert retry.status_code == 201, retry.content
    assert retry.json()["id"] == attempt.pk
    assert retry.json()["status"] == "initiated"
    assert retry.json()["transaction_url"]
    assert Payment.objects.count() == 1
    assert len(fake.payments()) == 1


def test_paying_answers_quickly_when_moyasar_is_slow_and_a_job_recovers_the_payment(
    fake, book, pay, customer_client, browser, settings
):
    # given: Moyasar takes 3 s to create a payment (within the usual read timeout, longer than a customer waits)
    settings.MOYASAR_READ_TIMEOUT = 20.0
    settings.MOYASAR_PAY_TIMEOUT = 1.0
    booking = book("10:00")
    fake.set_fault("timeout", endpoint="create", delay=3)
    # when
    started = time.monotonic()
    resp = pay(booking["id"])
    elapsed = time.monotonic() - started
    # then: answered within the short timeout, with the payment pending
    assert elapsed < 2.5, elapsed
    assert resp.status_code == 202, resp.content
    body = resp.json()
    assert (body["status"], body["transaction_url"]) == ("initiated", None)
    # when: the job looks for it by its given_id until Moyasar has it
    run_jobs(queues=["payments"])
    # then: what the client polls shows the 3-D Secure page to open
    shown = customer_client.get(f"/api/v1/payments/{body['id']}").json()
    assert shown["status"] == "initiated"
    assert shown["transaction_url"], shown
    payment = Payment.objects.get(pk=body["id"])
    assert payment.provider_id == str(payment.given_id)
    assert len(fake.calls("create")) == 1
    result = return_to(browser, three_ds(shown["transaction_url"]))
    assert (result["outcome"], result["booking_status"]) == ("paid", "confirmed")


def test_the_schema_tells_clients_what_a_pending_payment_means(api_client):
    schema = api_client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    responses = schema["paths"]["/api/v1/bookings/{booking_id}/pay"]["post"]["responses"]
    assert responses["201"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Payment"}
    assert responses["202"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Payment"}
    assert "GET /api/v1/payments/{id}" in responses["202"]["description"]


def test_moyasar_down_is_a_503_with_nothing_half_written(fake, book, pay):
    booking = book("10:00")
    fake.set_fault("error_500", endpoint="create", count=-1)
    resp = pay(booking["id"])
    assert resp.status_code == 503
    assert resp.json()["error"]["code"] == "provider_unavailable"
    assert "Retry-After" in resp
    assert fake.payments() == []
    attempt = Payment.objects.get()
    assert (attempt.status, attempt.operation) == ("failed", "")
    assert Booking.objects.get(pk=booking["id"]).status == "pending_payment"
    # and once Moyasar is back, paying works
    fake.clear_faults()
    assert pay(booking["id"]).status_code == 201


def test_an_idempotent_replay_returns_the_first_answer_without_a_second_payment(
    fake, book, customer_client, card_token
):
    booking = book("10:00")
    body = {"source": {"type": "token", "token": card_token()}}
    url = f"/api/v1/bookings/{booking['id']}/pay"
    first = customer_client.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY="k1")
    again = customer_client.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY="k1")
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert len(fake.payments()) == 1


@pytest.mark.parametrize("reuse", ["another card", "another booking"])
def test_an_idempotency_key_reused_with_another_request_is_a_409_and_changes_nothing(
    fake, book, customer_client, card_token, reuse
):
    # given: a payment made with Idempotency-Key k1
    booking, other = book("10:00"), book("11:00")
    first_token, second_token = card_token(), card_token()
    first = customer_client.post(
        f"/api/v1/bookings/{booking['id']}/pay",
        {"source": {"type": "token", "token": first_token}},
        format="json",
        HTTP_IDEMPOTENCY_KEY="k1",
    )
    assert first.status_code == 201, first.content
    payments = list(Payment.objects.values())
    events = list(PaymentEvent.objects.values_list("pk", flat=True))
    jobs, calls = job_rows(), fake.calls()
    # when: k1 again, for another request
    target = booking if reuse == "another card" else other
    resp = customer_client.post(
        f"/api/v1/bookings/{target['id']}/pay",
        {"source": {"type": "token", "token": second_token}},
        format="json",
        HTTP_IDEMPOTENCY_KEY="k1",
    )
    # then: the documented conflict, nothing written, Moyasar not called
    assert resp.status_code == 409
    assert resp.json()["error"]["code"] == "idempotency_key_reused"
    assert list(Payment.objects.values()) == payments
    assert list(PaymentEvent.objects.values_list("pk", flat=True)) == events
    assert job_rows() == jobs
    assert fake.calls() == calls
    assert len(fake.payments()) == 1


# --- client flow: Moyasar's form or SDK creates the payment ------------------------------------------------------


def _sdk_pays(fake, params: dict, **changes) -> dict:
    """The mobile SDK creating the payment at Moyasar with the publishable key and our parameters."""
    body = {
        "given_id": params["given_id"],
        "amount": params["amount"],
        "currency": params["currency"],
        "description": params["description"],
        "callback_url": params["callback_url"],
        "metadata": params["metadata"],
        "source": {
            "type": "creditcard",
            "name": "Sara Alqahtani",
            "number": "4111111111111111",
            "month": 12,
            "year": 2099,
            "cvc": "123",
            "manual": params["manual"],
        },
    }
    body.update(changes)
    resp = httpx.post(f"{fake.api_url}/payments", json=body, auth=(params["publishable_key"], ""))
    assert resp.status_code == 201, resp.text
    return resp.json()


def test_a_client_created_payment_is_verified_and_linked(fake, book, customer_client, browser):
    # given
    booking = book("10:00")
    resp = customer_client.post(f"/api/v1/bookings/{booking['id']}/pay", {}, format="json")
    assert resp.status_code == 201, resp.content
    body = resp.json()
    assert body["status"] == "awaiting_client"
    params = body["client"]
    assert params["publishable_key"] == fake.publishable_key
    assert (params["amount"], params["currency"], params["manual"]) == (15000, "SAR", True)
    assert params["callback_url"] == "http://testserver/payments/return"
    assert params["metadata"] == {"booking_id": str(booking["id"]), "payment_ref": params["given_id"]}
    # when: the SDK pays at Moyasar (card data never reaches us), the payer passes 3-D Secure
    created = _sdk_pays(fake, params)
    result = return_to(browser, three_ds(created["source"]["transaction_url"]))
    # then
    assert result["outcome"] == "paid"
    assert result["booking_status"] == "confirmed"
    payment = Payment.objects.get(pk=body["id"])
    assert (payment.status, payment.provider_id, payment.flow) == ("authorized", created["id"], "client")
    assert "client_payment_linked" in payment.events.values_list("kind", flat=True)


def test_asking_again_for_client_parameters_reuses_the_open_attempt(fake, book, customer_client):
    booking = book("10:00")
    url = f"/api/v1/bookings/{booking['id']}/pay"
    first = customer_client.post(url, {}, format="json").json()
    second = customer_client.post(url, {}, format="json").json()
    assert first["id"] == second["id"]
    assert first["client"]["given_id"] == second["client"]["given_id"]


@pytest.mark.parametrize(
    "tamper",
    [
        pytest.param(lambda p: {"amount": 100}, id="amount"),
        pytest.param(lambda p: {"currency": "USD"}, id="currency"),
        pytest.param(lambda p: {"metadata": {**p["metadata"], "booking_id": "999999"}}, id="metadata"),
    ],
)
def test_a_client_created_payment_that_does_not_match_is_refused_and_voided(
    fake, book, customer_client, browser, tamper
):
    from apps.core.testing import run_jobs

    # given
    booking = book("10:00")
    params = customer_client.post(f"/api/v1/bookings/{booking['id']}/pay", {}, format="json").json()["client"]
    # when: a tampered client pays something else than what we asked for
    created = _sdk_pays(fake, params, **tamper(params))
    result = return_to(browser, three_ds(created["source"]["transaction_url"]))
    # then: refused; the booking keeps waiting; the money is given back at Moyasar
    assert result["outcome"] == "refused"
    assert result["booking_status"] == "pending_payment"
    refused = Payment.objects.get(provider_id=created["id"])
    assert (refused.mismatch, refused.needs_attention, refused.is_booking_payment) == (True, True, False)
    run_jobs(queues=["payments"])
    assert fake.payment(created["id"])["status"] == "voided"
    refused.refresh_from_db()
    assert refused.status == "voided"
    asked = Payment.objects.get(booking_id=booking["id"], mismatch=False)
    assert asked.status == "awaiting_client"
    assert Booking.objects.get(pk=booking["id"]).status == "pending_payment"
    assert PaymentEvent.objects.filter(payment=asked, kind="client_payment_refused").exists()


def test_the_return_page_asks_the_payer_to_wait_when_moyasar_cannot_be_asked(fake, book, pay, browser):
    from apps.core.testing import job_rows

    booking = book("10:00")
    resp = pay(booking["id"])
    location = three_ds(resp.json()["transaction_url"])
    fake.set_fault("error_500", endpoint="fetch", count=-1)
    result = return_to(browser, location)
    assert result == {"outcome": "pending", "status": "unknown"}
    assert Payment.objects.get(pk=resp.json()["id"]).status == "initiated"
    assert [row["status"] for row in job_rows("apps.payments.jobs.payment_sync")] == ["todo"]


def test_a_moyasar_id_that_looks_like_a_card_number_survives_redaction(fake, book, customer_client, browser):
    # given: the SDK made its own id, one whose digits (read across the hyphens) pass the Luhn check
    odd_id = "f31aeb00-4982-4407-8941-965096ee86ef"
    booking = book("10:00")
    params = customer_client.post(f"/api/v1/bookings/{booking['id']}/pay", {}, format="json").json()["client"]
    created = _sdk_pays(fake, params, given_id=odd_id)
    location = three_ds(created["source"]["transaction_url"])
    # an id that is not ours yet: the return page does not ask Moyasar about it (tests/test_return_page.py)
    assert browser.get(location.removeprefix("http://testserver")).status_code == 404
    # when: Moyasar's webhook about it is processed (it carries our payment_ref in the metadata)
    event = {"id": "evt-odd", "type": "payment_authorized", "secret_token": "fake-webhook-secret", "live": False}
    assert browser.post("/api/v1/webhooks/moyasar", {**event, "data": created}, format="json").status_code == 200
    run_jobs(queues=["payments"])
    result = return_to(browser, location)
    # then: linked under its real id
    assert result["outcome"] == "paid"
    assert Payment.objects.get(pk=result["payment"]).provider_id == odd_id
