# ruff: noqa: F811 - pytest fixtures are imported by name and then requested as same-named arguments
"""MoyasarClient against the Moyasar fake over real loopback HTTP: no mocks, no database."""

from __future__ import annotations

import json
import logging
import socket
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from apps.payments.providers.base import (
    GatewayAmbiguous,
    GatewayAuthError,
    GatewayGivenIdUsed,
    GatewayInvalidRequest,
    GatewayNotFound,
    GatewayPayment,
    GatewayRateLimited,
    GatewayUnavailable,
    PaymentGateway,
    redact_card_data,
)
from apps.payments.providers.fake import MoyasarFake
from apps.payments.providers.moyasar import MoyasarClient
from apps.payments.tests.fakes import moyasar_client, moyasar_fake  # noqa: F401

CALLBACK = "https://mawid.test/payments/return"
VISA_OK = "4111111111111111"


def card(number: str = VISA_OK, *, three_ds: bool = False, manual: bool = False, cvc: str = "123") -> dict[str, Any]:
    return {
        "type": "creditcard",
        "name": "Sara Alqahtani",
        "number": number,
        "month": 12,
        "year": 2099,
        "cvc": cvc,
        "3ds": three_ds,
        "manual": manual,
    }


def create(
    client: MoyasarClient,
    source: dict[str, Any],
    *,
    amount: int = 15000,
    given_id: str | None = None,
    metadata: dict[str, str] | None = None,
) -> GatewayPayment:
    return client.create_payment(
        given_id=given_id or str(uuid.uuid4()),
        amount=amount,
        currency="SAR",
        description="Booking #42",
        callback_url=CALLBACK,
        source=source,
        metadata=metadata if metadata is not None else {"booking_id": "42"},
    )


def token_for(fake: MoyasarFake, number: str = VISA_OK) -> str:
    """A front end tokenizing a card with the publishable key (save_only: active at once)."""
    resp = httpx.post(
        f"{fake.api_url}/tokens",
        auth=(fake.publishable_key, ""),
        json={
            "name": "Sara Alqahtani",
            "number": number,
            "month": 12,
            "year": 2099,
            "cvc": "123",
            "callback_url": CALLBACK,
            "save_only": True,
        },
    )
    assert resp.status_code == 201, resp.text
    return resp.json()["id"]


def follow_3ds(url: str, result: str) -> dict[str, list[str]]:
    resp = httpx.get(url, params={"result": result}, follow_redirects=False)
    assert resp.status_code == 302
    location = resp.headers["Location"]
    assert location.startswith(CALLBACK + "?")
    return parse_qs(urlsplit(location).query)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_client_satisfies_the_gateway_port(moyasar_client: MoyasarClient) -> None:
    assert isinstance(moyasar_client, PaymentGateway)


# --- create: tokens and 3-D Secure ---------------------------------------------------------------------------


def test_token_payment_with_3ds_approved_redirects_paid(moyasar_fake: MoyasarFake, moyasar_client: MoyasarClient):
    # given
    token = token_for(moyasar_fake)
    # when
    payment = create(moyasar_client, {"type": "token", "token": token})
    # then
    assert payment.status == "initiated"
    assert payment.transaction_url == f"{moyasar_fake.base_url}/_fake/3ds/{payment.id}"
    query = follow_3ds(payment.transaction_url, "approve")
    assert query == {"id": [payment.id], "status": ["paid"], "message": ["APPROVED"]}
    fetched = moyasar_client.fetch_payment(payment.id)
    assert (fetched.status, fetched.amount, fetched.currency) == ("paid", 15000, "SAR")
    assert fetched.card_token == token
    assert fetched.transaction_url is None
    assert fetched.metadata == {"booking_id": "42"}


def test_token_payment_with_3ds_rejected_is_failed(moyasar_fake: MoyasarFake, moyasar_client: MoyasarClient):
    payment = create(moyasar_client, {"type": "token", "token": token_for(moyasar_fake)})

    query = follow_3ds(payment.transaction_url or "", "reject")

    assert query["status"] == ["failed"]
    assert query["id"] == [payment.id]
    assert moyasar_client.fetch_payment(payment.id).status == "failed"


def test_manual_token_payment_is_authorized_after_3ds(moyasar_fake: MoyasarFake, moyasar_client: MoyasarClient):
    payment = create(moyasar_client, {"type": "token", "token": token_for(moyasar_fake), "manual": True})

    query = follow_3ds(payment.transaction_url or "", "approve")

    assert query["status"] == ["authorized"]
    assert moyasar_client.fetch_payment(payment.id).status == "authorized"


def test_a_declining_card_is_declined_after_the_3ds_challenge(moyasar_client: MoyasarClient):
    payment = create(moyasar_client, card("4123120001090000", three_ds=True))
    assert payment.status == "initiated"

    query = follow_3ds(payment.transaction_url or "", "approve")

    assert query == {"id": [payment.id], "status": ["failed"], "message": ["INSUFFICIENT FUNDS"]}
    fetched = moyasar_client.fetch_payment(payment.id)
    assert (fetched.status, fetched.response_code) == ("failed", "51")


# --- create: test cards --------------------------------------------------------------------------------------


@pytest.mark.parametrize("number", ["4111111111111111", "4201320111111010", "5421080101000000"])
def test_approved_test_cards_are_paid(moyasar_client: MoyasarClient, number: str):
    payment = create(moyasar_client, card(number))

    assert (payment.status, payment.source_message, payment.response_code) == ("paid", "APPROVED", "00")
    assert payment.succeeded


def test_amex_test_card_needs_a_four_digit_cvc(moyasar_client: MoyasarClient):
    assert create(moyasar_client, card("340000000900000", cvc="1234")).status == "paid"
    with pytest.raises(GatewayInvalidRequest) as exc:
        create(moyasar_client, card("340000000900000", cvc="123"))
    assert exc.value.errors == {"source.cvc": ["is invalid"]}


def test_manual_card_payment_is_authorized(moyasar_client: MoyasarClient):
    payment = create(moyasar_client, card(manual=True))

    assert payment.status == "authorized"
    assert payment.captured == 0


@pytest.mark.parametrize(
    ("number", "message", "code"),
    [
        ("4123120001090000", "INSUFFICIENT FUNDS", "51"),
        ("4201320000311101", "INSUFFICIENT FUNDS", "51"),
        ("4123120001090109", "DECLINED", "05"),
        ("4201321234411220", "DECLINED", "05"),
        ("4123120000000000", "UNSPECIFIED FAILURE", "99"),
        ("4123128518640738", "EXPIRED CARD", "54"),
        ("4111116611600661", "3-D Secure transaction attempt failed (Card not enrolled)", None),
        ("4111115784228433", "3-D Secure transaction attempt failed (Authentication failed)", None),
        ("4242424242424242", "INVALID CARD", "14"),  # unlisted numbers fail
    ],
)
def test_declining_test_cards_come_back_as_failed_payments(
    moyasar_client: MoyasarClient, number: str, message: str, code: str | None
):
    payment = create(moyasar_client, card(number))  # a decline is a 201, not an error

    assert (payment.status, payment.source_message, payment.response_code) == ("failed", message, code)
    assert not payment.succeeded


def test_not_enrolled_card_fails_at_once_even_with_3ds(moyasar_client: MoyasarClient):
    payment = create(moyasar_client, card("4111116611600661", three_ds=True))

    assert payment.status == "failed"
    assert payment.transaction_url is None


def _keys_and_scalars(value: object) -> tuple[set[str], list[object]]:
    """Every key and every scalar value anywhere in a JSON document."""
    keys: set[str] = set()
    scalars: list[object] = []
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            keys.update(item)
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
        else:
            scalars.append(item)
    return keys, scalars


def test_raw_payload_never_holds_a_full_card_number_or_cvc(moyasar_fake: MoyasarFake, moyasar_client: MoyasarClient):
    payment = create(moyasar_client, card(VISA_OK, cvc="987"))
    listed, _ = moyasar_client.list_payments()

    for raw in [payment.raw, moyasar_client.fetch_payment(payment.id).raw, listed[0].raw]:
        text = json.dumps(raw)
        assert VISA_OK not in text
        # The CVC as a value or under its key; "987" may well appear inside a random id or reference number.
        keys, scalars = _keys_and_scalars(raw)
        assert "cvc" not in keys
        assert not any(str(v) == "987" for v in scalars)
        assert raw["source"]["number"] == "XXXX-XXXX-XXXX-1111"
    assert VISA_OK not in json.dumps(moyasar_fake.calls())
    assert VISA_OK not in json.dumps(moyasar_fake.payments())


def test_redaction_masks_card_numbers_anywhere_and_drops_cvc():
    raw = {
        "source": {"number": "4111 1111 1111 1111", "cvc": "123", "message": "card 4201320111111010 ok"},
        "list": [{"pan": "5421080101000000"}],
        "reference_number": "125478454231",
    }

    redacted = redact_card_data(raw)

    assert redacted == {
        "source": {"number": "XXXX-XXXX-XXXX-1111", "message": "card XXXX-XXXX-XXXX-1010 ok"},
        "list": [{"pan": "XXXX-XXXX-XXXX-0000"}],
        "reference_number": "125478454231",
    }


def test_validation_errors_raise_invalid_request_with_the_field_map(moyasar_client: MoyasarClient):
    with pytest.raises(GatewayInvalidRequest) as exc:
        create(moyasar_client, card(), amount=50)

    assert exc.value.error_type == "invalid_request_error"
    assert exc.value.errors == {"amount": ["must be greater than or equal to 100"]}
    assert exc.value.status_code == 400


# --- capture, void, refund -----------------------------------------------------------------------------------


def test_authorize_capture_refund_partially_then_the_rest_then_over_refund_is_refused(
    moyasar_client: MoyasarClient,
):
    payment = create(moyasar_client, card(manual=True), amount=20000)

    captured = moyasar_client.capture(payment_id=payment.id)
    assert (captured.status, captured.captured) == ("captured", 20000)
    assert captured.raw["captured_format"] == "200.00 SAR"

    first = moyasar_client.refund(payment_id=payment.id, amount=5000)
    assert (first.status, first.refunded, first.refundable) == ("refunded", 5000, 15000)

    rest = moyasar_client.refund(payment_id=payment.id)
    assert (rest.status, rest.refunded, rest.refundable) == ("refunded", 20000, 0)

    with pytest.raises(GatewayInvalidRequest):
        moyasar_client.refund(payment_id=payment.id, amount=100)
    assert moyasar_client.fetch_payment(payment.id).refunded == 20000


def test_partial_capture_then_refund_is_bounded_by_the_captured_amount(moyasar_client: MoyasarClient):
    payment = create(moyasar_client, card(manual=True), amount=20000)

    captured = moyasar_client.capture(payment_id=payment.id, amount=12000)
    assert (captured.status, captured.captured, captured.amount) == ("captured", 12000, 20000)

    with pytest.raises(GatewayInvalidRequest) as exc:
        moyasar_client.refund(payment_id=payment.id, amount=12001)
    assert "amount" in (exc.value.errors or {})
    assert moyasar_client.refund(payment_id=payment.id, amount=12000).refunded == 12000


def test_second_capture_is_refused(moyasar_client: MoyasarClient):
    payment = create(moyasar_client, card(manual=True))
    moyasar_client.capture(payment_id=payment.id, amount=10000)

    with pytest.raises(GatewayInvalidRequest) as exc:
        moyasar_client.capture(payment_id=payment.id)

    assert exc.value.error_type == "invalid_request_error"
    assert moyasar_client.fetch_payment(payment.id).captured == 10000


def test_void_an_authorized_payment(moyasar_client: MoyasarClient):
    payment = create(moyasar_client, card(manual=True))

    voided = moyasar_client.void(payment_id=payment.id)

    assert voided.status == "voided"
    assert voided.raw["voided_at"]
    with pytest.raises(GatewayInvalidRequest):
        moyasar_client.capture(payment_id=payment.id)


def test_void_after_settlement_is_refused_but_refund_works(moyasar_fake: MoyasarFake, moyasar_client: MoyasarClient):
    payment = create(moyasar_client, card())
    moyasar_fake.settle(payment.id)

    with pytest.raises(GatewayInvalidRequest):
        moyasar_client.void(payment_id=payment.id)
    assert moyasar_client.refund(payment_id=payment.id).status == "refunded"


def test_unknown_payment_is_not_found(moyasar_client: MoyasarClient):
    with pytest.raises(GatewayNotFound):
        moyasar_client.fetch_payment(str(uuid.uuid4()))
    with pytest.raises(GatewayNotFound):
        moyasar_client.capture(payment_id=str(uuid.uuid4()))


# --- given_id recovery ---------------------------------------------------------------------------------------


def test_reusing_a_given_id_returns_the_same_payment(moyasar_fake: MoyasarFake, moyasar_client: MoyasarClient):
    given_id = str(uuid.uuid4())
    first = create(moyasar_client, card(), given_id=given_id)

    again = create(moyasar_client, card(), given_id=given_id)

    assert first.id == again.id == given_id
    assert again.status == "paid"
    assert len(moyasar_fake.payments()) == 1
    assert [c["status"] for c in moyasar_fake.calls("create")] == [201, 400]


def test_reusing_a_given_id_for_a_different_amount_is_an_error(moyasar_client: MoyasarClient):
    given_id = str(uuid.uuid4())
    create(moyasar_client, card(), given_id=given_id, amount=15000)

    with pytest.raises(GatewayGivenIdUsed):
        create(moyasar_client, card(), given_id=given_id, amount=99000)


def test_ambiguous_create_500_is_recovered_and_only_one_payment_exists(
    moyasar_fake: MoyasarFake, moyasar_client: MoyasarClient
):
    moyasar_fake.set_fault("ambiguous_create", count=1)
    given_id = str(uuid.uuid4())

    payment = create(moyasar_client, card(), given_id=given_id)

    assert (payment.id, payment.status) == (given_id, "paid")
    assert [p["id"] for p in moyasar_fake.payments()] == [given_id]
    assert [c["status"] for c in moyasar_fake.calls("create")] == [500]
    assert [c["status"] for c in moyasar_fake.calls("fetch")] == [200]


def test_ambiguous_create_timeout_is_recovered(moyasar_fake: MoyasarFake):
    moyasar_fake.set_fault("ambiguous_create", delay=3)
    given_id = str(uuid.uuid4())
    with MoyasarClient(base_url=moyasar_fake.api_url, secret_key=moyasar_fake.secret_key, read_timeout=0.5) as client:
        payment = create(client, card(), given_id=given_id)

    assert payment.id == given_id
    assert len(moyasar_fake.payments()) == 1


def test_create_timeout_before_anything_happened_creates_again_once(moyasar_fake: MoyasarFake):
    moyasar_fake.set_fault("timeout", endpoint="create", delay=3)
    given_id = str(uuid.uuid4())
    with MoyasarClient(
        base_url=moyasar_fake.api_url, secret_key=moyasar_fake.secret_key, read_timeout=0.5, retry_backoff=0.01
    ) as client:
        payment = create(client, card(), given_id=given_id)

    assert (payment.id, payment.status) == (given_id, "paid")
    assert [p["id"] for p in moyasar_fake.payments()] == [given_id]
    assert moyasar_fake.calls("fetch")[0]["status"] == 404  # looked up before creating again


def test_create_failing_with_the_lookup_failing_too_is_ambiguous(
    moyasar_fake: MoyasarFake, moyasar_client: MoyasarClient
):
    moyasar_fake.set_fault("error_503_html", count=-1, endpoint="all")
    given_id = str(uuid.uuid4())

    with pytest.raises(GatewayAmbiguous) as exc:
        create(moyasar_client, card(), given_id=given_id)

    assert exc.value.payment_id == given_id
    assert not isinstance(exc.value, GatewayUnavailable)


def test_create_failing_every_time_with_nothing_created_is_unavailable_not_processed(
    moyasar_fake: MoyasarFake, moyasar_client: MoyasarClient
):
    moyasar_fake.set_fault("error_500", count=-1, endpoint="create")

    with pytest.raises(GatewayUnavailable) as exc:
        create(moyasar_client, card())

    assert exc.value.maybe_processed is False
    assert len(moyasar_fake.calls("create")) == 3  # the first try and two retries, each after a 404 lookup
    assert len(moyasar_fake.calls("fetch")) == 3
    assert moyasar_fake.payments() == []


def test_create_timing_out_on_every_attempt_is_ambiguous(moyasar_fake: MoyasarFake):
    moyasar_fake.set_fault("timeout", count=-1, endpoint="create", delay=3)
    given_id = str(uuid.uuid4())
    with (
        MoyasarClient(
            base_url=moyasar_fake.api_url,
            secret_key=moyasar_fake.secret_key,
            read_timeout=0.3,
            create_retries=1,
            retry_backoff=0.01,
        ) as client,
        pytest.raises(GatewayAmbiguous) as exc,
    ):
        create(client, card(), given_id=given_id)

    assert exc.value.payment_id == given_id  # the attempts may still land: reconcile with fetch_payment(given_id)
    assert exc.value.retryable


def test_create_starts_no_new_attempt_after_its_deadline(moyasar_fake: MoyasarFake):
    # given: Moyasar slow on every create; a client that must answer a waiting customer (POST /pay)
    moyasar_fake.set_fault("timeout", count=-1, endpoint="create", delay=3)
    given_id = str(uuid.uuid4())
    started = time.monotonic()
    with (
        MoyasarClient(
            base_url=moyasar_fake.api_url,
            secret_key=moyasar_fake.secret_key,
            read_timeout=0.3,
            create_retries=5,
            retry_backoff=0.01,
            create_deadline=0.3,
        ) as client,
        pytest.raises(GatewayAmbiguous) as exc,
    ):
        create(client, card(), given_id=given_id)
    # then: one attempt and its lookup, no retry once the deadline had passed
    assert time.monotonic() - started < 1.5
    assert exc.value.payment_id == given_id
    assert len(moyasar_fake.calls("fetch")) == 1


def test_create_retries_a_quick_failure_within_its_deadline(moyasar_fake: MoyasarFake):
    moyasar_fake.set_fault("error_500", count=1, endpoint="create")
    with MoyasarClient(
        base_url=moyasar_fake.api_url,
        secret_key=moyasar_fake.secret_key,
        retry_backoff=0.01,
        create_deadline=5,
    ) as client:
        payment = create(client, card())
    assert payment.status == "paid"
    assert len(moyasar_fake.payments()) == 1


def test_create_against_a_closed_port_is_unavailable_not_processed():
    with (
        MoyasarClient(
            base_url=f"http://127.0.0.1:{free_port()}/v1",
            secret_key="sk_test_x",
            connect_timeout=0.5,
            retry_backoff=0.01,
        ) as client,
        pytest.raises(GatewayUnavailable) as exc,
    ):
        create(client, card())

    assert exc.value.maybe_processed is False
    assert exc.value.reason == "connect"


# --- capture / void / refund after ambiguous failures -------------------------------------------------------


def test_capture_500_after_it_took_effect_returns_the_captured_payment(
    moyasar_fake: MoyasarFake, moyasar_client: MoyasarClient
):
    payment = create(moyasar_client, card(manual=True))
    moyasar_fake.set_fault("ambiguous", endpoint="capture")

    captured = moyasar_client.capture(payment_id=payment.id)

    assert (captured.status, captured.captured) == ("captured", 15000)
    assert [c["status"] for c in moyasar_fake.calls("capture")] == [500]  # no second capture was sent
    assert moyasar_fake.payment(payment.id)["_fake"]["events"] == ["payment_authorized", "payment_captured"]


def test_capture_500_without_effect_reports_the_current_state(moyasar_fake: MoyasarFake, moyasar_client: MoyasarClient):
    payment = create(moyasar_client, card(manual=True))
    moyasar_fake.set_fault("error_500", endpoint="capture")

    with pytest.raises(GatewayUnavailable) as exc:
        moyasar_client.capture(payment_id=payment.id)

    assert exc.value.maybe_processed is False
    assert exc.value.payment is not None
    assert exc.value.payment.status == "authorized"
    assert len(moyasar_fake.calls("capture")) == 1


def test_capture_timeout_still_in_flight_may_have_been_processed(moyasar_fake: MoyasarFake):
    with MoyasarClient(base_url=moyasar_fake.api_url, secret_key=moyasar_fake.secret_key, read_timeout=0.5) as client:
        payment = create(client, card(manual=True))
        moyasar_fake.set_fault("timeout", endpoint="capture", delay=3)

        with pytest.raises(GatewayUnavailable) as exc:
            client.capture(payment_id=payment.id)

        assert exc.value.maybe_processed is True
        assert exc.value.reason == "timeout"
        assert exc.value.payment is not None
        assert exc.value.payment.status == "authorized"


def test_second_partial_refund_500_after_effect_is_recognised_by_the_amount(
    moyasar_fake: MoyasarFake, moyasar_client: MoyasarClient
):
    payment = create(moyasar_client, card(), amount=20000)
    moyasar_client.refund(payment_id=payment.id, amount=5000)
    moyasar_fake.set_fault("ambiguous", endpoint="refund")

    refunded = moyasar_client.refund(payment_id=payment.id, amount=3000)

    assert refunded.refunded == 8000
    assert len(moyasar_fake.calls("refund")) == 2


def test_refund_500_without_effect_is_not_mistaken_for_success(
    moyasar_fake: MoyasarFake, moyasar_client: MoyasarClient
):
    payment = create(moyasar_client, card(), amount=20000)
    moyasar_client.refund(payment_id=payment.id, amount=5000)
    moyasar_fake.set_fault("error_500", endpoint="refund")

    with pytest.raises(GatewayUnavailable) as exc:
        moyasar_client.refund(payment_id=payment.id, amount=3000)

    assert exc.value.payment is not None
    assert exc.value.payment.refunded == 5000


def test_void_dropped_connection_after_effect_returns_the_voided_payment(
    moyasar_fake: MoyasarFake, moyasar_client: MoyasarClient
):
    payment = create(moyasar_client, card(manual=True))
    moyasar_fake.set_fault("ambiguous", endpoint="void")

    assert moyasar_client.void(payment_id=payment.id).status == "voided"


# --- errors --------------------------------------------------------------------------------------------------


def test_wrong_secret_key_is_an_auth_error(moyasar_fake: MoyasarFake):
    with (
        MoyasarClient(base_url=moyasar_fake.api_url, secret_key="sk_test_wrong") as client,
        pytest.raises(GatewayAuthError) as exc,
    ):
        client.fetch_payment(str(uuid.uuid4()))

    assert exc.value.status_code == 401
    assert exc.value.message == "Invalid authorization credentials"


def test_publishable_key_cannot_fetch(moyasar_fake: MoyasarFake):
    with (
        MoyasarClient(base_url=moyasar_fake.api_url, secret_key=moyasar_fake.publishable_key) as client,
        pytest.raises(GatewayAuthError) as exc,
    ):
        client.list_payments()

    assert exc.value.status_code == 403


def test_rate_limit_carries_retry_after(moyasar_fake: MoyasarFake, moyasar_client: MoyasarClient):
    moyasar_fake.set_fault("error_429", endpoint="create", delay=7)

    with pytest.raises(GatewayRateLimited) as exc:
        create(moyasar_client, card())

    assert exc.value.retry_after == 7
    assert exc.value.retryable
    assert moyasar_fake.payments() == []


@pytest.mark.parametrize("header", ["inf", "Infinity", "nan", "1e999"])
def test_a_retry_after_that_is_not_a_number_of_seconds_is_dropped(header: str):
    """Only a finite wait may leave the client: inf reached `int()` in the API's error handler (a 500)."""

    class TooMany(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = b'{"type": "rate_limit_error", "message": "Too many requests"}'
            self.send_response(429)
            self.send_header("Retry-After", header)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), TooMany)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()
    try:
        with (
            MoyasarClient(base_url=f"http://127.0.0.1:{server.server_address[1]}/v1", secret_key="sk_test_x") as client,
            pytest.raises(GatewayRateLimited) as exc,
        ):
            client.list_payments()
    finally:
        server.shutdown()
        server.server_close()

    assert exc.value.retry_after is None


def test_html_503_on_a_read_is_unavailable_and_not_processed(moyasar_fake: MoyasarFake, moyasar_client: MoyasarClient):
    moyasar_fake.set_fault("error_503_html", endpoint="fetch")

    with pytest.raises(GatewayUnavailable) as exc:
        moyasar_client.fetch_payment(str(uuid.uuid4()))

    assert (exc.value.status_code, exc.value.reason, exc.value.maybe_processed) == (503, "server_error", False)


def test_connection_reset_on_a_read_is_unavailable(moyasar_fake: MoyasarFake, moyasar_client: MoyasarClient):
    moyasar_fake.set_fault("reset", endpoint="list")

    with pytest.raises(GatewayUnavailable) as exc:
        moyasar_client.list_payments()

    assert exc.value.reason == "network"
    assert moyasar_client.list_payments()[1]["total_count"] == 0  # the next call is fine


# --- list, update, tokens ------------------------------------------------------------------------------------


def test_list_filters_by_status_and_metadata_and_paginates(moyasar_client: MoyasarClient):
    for i in range(21):
        create(moyasar_client, card(), amount=10000 + i, metadata={"booking_id": str(i % 2)})
    failed = create(moyasar_client, card("4123120001090109"), metadata={"booking_id": "x"})

    page1, meta1 = moyasar_client.list_payments()
    page2, meta2 = moyasar_client.list_payments(page=2)
    assert len(page1) == 20
    assert len(page2) == 2
    assert meta1 == {"current_page": 1, "next_page": 2, "prev_page": None, "total_pages": 2, "total_count": 22}
    assert meta2["prev_page"] == 1
    assert meta2["next_page"] is None
    assert page1[0].id == failed.id  # newest first

    only_failed, meta = moyasar_client.list_payments(status="failed")
    assert [p.id for p in only_failed] == [failed.id]
    assert meta["total_count"] == 1

    odd, meta = moyasar_client.list_payments(status="paid", metadata={"booking_id": "1"})
    assert meta["total_count"] == 10
    assert {p.metadata["booking_id"] for p in odd} == {"1"}


def test_update_description_and_metadata(moyasar_client: MoyasarClient):
    payment = create(moyasar_client, card())

    updated = moyasar_client.update_payment(payment_id=payment.id, description="Booking #43", metadata={"k": "v"})

    assert (updated.description, updated.metadata) == ("Booking #43", {"k": "v"})


def test_fetch_a_token_with_the_secret_key(moyasar_fake: MoyasarFake, moyasar_client: MoyasarClient):
    token_id = token_for(moyasar_fake, "4201320111111010")

    token = moyasar_client.fetch_token(token_id)

    assert (token.status, token.brand, token.last_four) == ("active", "mada", "1010")
    moyasar_client.delete_token(token_id)
    with pytest.raises(GatewayNotFound):
        moyasar_client.fetch_token(token_id)


# --- logging -------------------------------------------------------------------------------------------------


def test_logs_are_structured_and_never_hold_the_key_or_card_data(
    moyasar_fake: MoyasarFake, moyasar_client: MoyasarClient, caplog: pytest.LogCaptureFixture
):
    moyasar_fake.set_fault("ambiguous_create")
    with caplog.at_level(logging.INFO, logger="mawid.providers.moyasar"):
        payment = create(moyasar_client, card())

    records = [r for r in caplog.records if r.name == "mawid.providers.moyasar"]
    requests = [r for r in records if r.getMessage() == "moyasar_request"]
    assert [(r.operation, r.status_code, r.outcome) for r in requests] == [  # type: ignore[attr-defined]
        ("create", 500, "server_error"),
        ("fetch", 200, "ok"),
    ]
    assert all(r.payment_id == payment.id and r.duration_ms >= 0 for r in requests)  # type: ignore[attr-defined]
    assert any(r.getMessage() == "moyasar_recovery" and r.outcome == "recovered_existing" for r in records)  # type: ignore[attr-defined]
    dumped = json.dumps([r.__dict__ for r in records], default=str)
    assert moyasar_fake.secret_key not in dumped
    assert VISA_OK not in dumped
    assert repr(moyasar_client).count("sk_") == 0
