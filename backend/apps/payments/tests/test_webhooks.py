"""`POST /api/v1/webhooks/moyasar`: the fake delivers real webhooks to a live server running the app."""

from __future__ import annotations

import pytest

from apps.bookings.models import Booking
from apps.core.testing import job_rows, run_jobs
from apps.payments.models import Payment, PaymentEvent, WebhookEvent
from apps.payments.providers.moyasar import MoyasarClient
from apps.payments.tests.conftest import three_ds

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.urls("apps.payments.tests.urls")]


def _deliveries(fake, count: int) -> list[dict]:
    attempts = fake.wait_for_webhook_attempts(count, timeout=10)
    assert fake.wait_for_webhooks_idle(timeout=10)
    return attempts


def test_a_webhook_alone_confirms_the_booking(fake, webhook_url, book, pay):
    # given: webhooks on; the payer passes 3-D Secure but never comes back to our return page
    fake.configure_webhooks(url=webhook_url)
    booking = book("10:00")
    resp = pay(booking["id"])
    three_ds(resp.json()["transaction_url"])
    # when
    attempts = _deliveries(fake, 1)
    run_jobs(queues=["payments"])
    # then
    assert [(a["type"], a["status_code"]) for a in attempts] == [("payment_authorized", 200)]
    payment = Payment.objects.get(pk=resp.json()["id"])
    assert payment.status == "authorized"
    assert Booking.objects.get(pk=booking["id"]).status == "confirmed"
    event = WebhookEvent.objects.get()
    assert (event.outcome, event.payment_id) == ("applied", payment.pk)
    # The tenant key follows the money: the payment, its events and the webhook are the booking's business's.
    business_id = Booking.objects.get(pk=booking["id"]).business_id
    assert (payment.business_id, event.business_id) == (business_id, business_id)
    assert set(PaymentEvent.objects.values_list("business_id", flat=True)) == {business_id}
    assert "secret_token" not in event.payload
    assert "4111111111111111" not in str(event.payload)


def test_a_webhook_replayed_three_times_is_recorded_and_processed_once(fake, webhook_url, book, pay):
    fake.configure_webhooks(url=webhook_url, mode="duplicate", duplicates=3)
    booking = book("10:00")
    resp = pay(booking["id"])
    three_ds(resp.json()["transaction_url"])
    attempts = _deliveries(fake, 3)
    run_jobs(queues=["payments"])
    assert len({a["event_id"] for a in attempts}) == 1
    assert [a["status_code"] for a in attempts] == [200, 200, 200]
    assert WebhookEvent.objects.count() == 1
    assert len(job_rows("apps.payments.jobs.payment_webhook_process")) == 1
    assert Payment.objects.get(pk=resp.json()["id"]).events.filter(kind="status_changed").count() == 1


def test_a_webhook_with_the_wrong_secret_is_a_401_and_changes_nothing(fake, webhook_url, book, pay):
    fake.configure_webhooks(url=webhook_url, mode="wrong_secret")
    booking = book("10:00")
    resp = pay(booking["id"])
    three_ds(resp.json()["transaction_url"])
    attempts = _deliveries(fake, 1)
    assert {a["status_code"] for a in attempts} == {401}
    assert WebhookEvent.objects.count() == 0
    assert Payment.objects.get(pk=resp.json()["id"]).status == "initiated"


def test_webhooks_out_of_order_never_move_a_payment_back(fake, webhook_url, book, pay, moyasar_client: MoyasarClient):
    # given: events held back and then delivered newest first (captured before authorized)
    fake.configure_webhooks(url=webhook_url, mode="out_of_order", window=None)
    booking = book("10:00")
    resp = pay(booking["id"])
    three_ds(resp.json()["transaction_url"])
    payment = Payment.objects.get(pk=resp.json()["id"])
    moyasar_client.capture(payment_id=str(payment.given_id))  # e.g. from Moyasar's dashboard
    # when
    assert fake.flush_webhooks() == 2
    attempts = _deliveries(fake, 2)
    run_jobs(queues=["payments"])
    # then
    assert [a["type"] for a in attempts] == ["payment_captured", "payment_authorized"]
    payment.refresh_from_db()
    assert (payment.status, payment.captured_amount) == ("captured", 15000)
    transitions = list(payment.events.filter(kind="status_changed").values_list("from_status", "to_status"))
    assert transitions == [("initiated", "captured")]
    assert Booking.objects.get(pk=booking["id"]).status == "confirmed"


def test_a_stale_event_body_is_not_trusted(fake, authorized, api_client):
    # given: authorized; then an event arrives whose body claims the payment failed
    _booking, payment = authorized()
    body = fake.payment(str(payment.given_id))
    body.pop("_fake")
    body["status"] = "failed"
    event = {
        "id": "evt-stale-1",
        "type": "payment_failed",
        "created_at": "2026-01-01T00:00:00Z",
        "secret_token": "fake-webhook-secret",
        "account_name": "Mawid",
        "live": False,
        "data": body,
    }
    # when
    resp = api_client.post("/api/v1/webhooks/moyasar", event, format="json")
    run_jobs(queues=["payments"])
    # then: the payment was re-fetched from Moyasar, which says authorized
    assert resp.status_code == 200
    payment.refresh_from_db()
    assert payment.status == "authorized"


def test_a_webhook_body_claiming_paid_moves_nothing_forward(fake, book, pay, api_client):
    # given: a payment waiting for 3-D Secure; then an event (the right secret) whose body says it was paid
    booking = book("10:00")
    payment = Payment.objects.get(pk=pay(booking["id"]).json()["id"])
    body = fake.payment(str(payment.given_id))
    body.pop("_fake")
    body.update(status="paid", captured=body["amount"], transaction_url=None)
    body["source"].update(message="APPROVED", response_code="00")
    event = {
        "id": "evt-forged-1",
        "type": "payment_paid",
        "created_at": "2026-01-01T00:00:00Z",
        "secret_token": "fake-webhook-secret",
        "account_name": "Mawid",
        "live": False,
        "data": body,
    }
    fetches = len(fake.calls("fetch"))
    # when
    resp = api_client.post("/api/v1/webhooks/moyasar", event, format="json")
    run_jobs(queues=["payments"])
    # then: Moyasar was asked, and only its answer (still initiated) counted
    assert resp.status_code == 200
    assert len(fake.calls("fetch")) == fetches + 1
    payment.refresh_from_db()
    assert (payment.status, payment.authorized_amount, payment.captured_amount) == ("initiated", 0, 0)
    assert payment.provider_status == "initiated"
    assert not payment.events.filter(kind="status_changed").exists()
    assert Booking.objects.get(pk=booking["id"]).status == "pending_payment"
    assert WebhookEvent.objects.get().outcome == "applied"


def test_a_webhook_from_the_other_environment_is_refused(fake, api_client):
    event = {
        "id": "evt-live-1",
        "type": "payment_paid",
        "secret_token": "fake-webhook-secret",
        "live": True,
        "data": {"id": "8d4f32c2-3027-447c-8654-21bf0534254c"},
    }
    resp = api_client.post("/api/v1/webhooks/moyasar", event, format="json")
    assert resp.status_code == 400
    assert resp.json()["error"]["code"] == "webhook_wrong_environment"
    assert WebhookEvent.objects.count() == 0


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"id": "e", "type": "payment_paid", "live": False, "data": {"id": "x"}}, 401, "webhook_unauthorized"),
        ({"secret_token": "fake-webhook-secret", "live": False, "type": "t", "data": {}}, 400, "validation_error"),
    ],
)
def test_malformed_webhooks_are_refused(fake, api_client, body, status, code):
    resp = api_client.post("/api/v1/webhooks/moyasar", body, format="json")
    assert resp.status_code == status
    assert resp.json()["error"]["code"] == code


def test_a_webhook_about_someone_elses_payment_is_recorded_and_ignored(fake, api_client, moyasar_client):
    from apps.payments.tests.conftest import VISA_OK

    created = moyasar_client.create_payment(
        given_id="0b6b2b8e-9d3e-4a55-8f2b-0c6a3f7f1e21",
        amount=5000,
        currency="SAR",
        description="elsewhere",
        callback_url="https://example.com/cb",
        source={
            "type": "creditcard",
            "name": "A B",
            "number": VISA_OK,
            "month": 1,
            "year": 2099,
            "cvc": "123",
            "3ds": False,
        },
        metadata={},
    )
    event = {
        "id": "evt-other",
        "type": "payment_paid",
        "secret_token": "fake-webhook-secret",
        "live": False,
        "data": {"id": created.id},
    }
    assert api_client.post("/api/v1/webhooks/moyasar", event, format="json").status_code == 200
    run_jobs(queues=["payments"])
    assert WebhookEvent.objects.get().outcome == "unknown_payment"
    assert Payment.objects.count() == 0


def test_moyasar_webhooks_are_not_rate_limited_like_anonymous_clients():
    from apps.payments.api import MoyasarWebhookApi

    assert MoyasarWebhookApi().get_throttles() == []
