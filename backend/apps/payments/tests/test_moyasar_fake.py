# ruff: noqa: F811 - pytest fixtures are imported by name and then requested as same-named arguments
"""The Moyasar fake speaks Moyasar's protocol: raw HTTP against it, plus its /_fake controls and webhooks."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from apps.payments.providers import fake as fake_module
from apps.payments.providers.fake import MoyasarFake, format_amount
from apps.payments.tests.fakes import moyasar_fake  # noqa: F401

CALLBACK = "https://mawid.test/payments/return"
VISA_OK = "4111111111111111"


# --- helpers -------------------------------------------------------------------------------------------------


class Receiver:
    """A tiny loopback webhook endpoint recording what it gets; answers 500 to the first `fail_first` posts."""

    def __init__(self, fail_first: int = 0) -> None:
        self.events: list[dict[str, Any]] = []
        self.statuses: list[int] = []
        self.fail_first = fail_first
        self._lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with outer._lock:
                    status = 500 if outer.fail_first > 0 else 200
                    outer.fail_first -= 1
                    outer.events.append(json.loads(body))
                    outer.statuses.append(status)
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/api/v1/webhooks/moyasar"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


@pytest.fixture(scope="module")
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=5, follow_redirects=False) as client:
        yield client


def sk(fake: MoyasarFake) -> tuple[str, str]:
    return (fake.secret_key, "")


def pk(fake: MoyasarFake) -> tuple[str, str]:
    return (fake.publishable_key, "")


def card(number: str = VISA_OK, **extra: Any) -> dict[str, Any]:
    return {
        "type": "creditcard",
        "name": "Sara Alqahtani",
        "number": number,
        "month": 12,
        "year": 2099,
        "cvc": "123",
        "3ds": False,
        **extra,
    }


def body(source: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    return {
        "amount": 15000,
        "currency": "SAR",
        "description": "Booking #42",
        "callback_url": CALLBACK,
        "metadata": {"booking_id": "42"},
        "source": source or card(),
        **extra,
    }


def create(
    http: httpx.Client, fake: MoyasarFake, payload: dict[str, Any] | None = None, *, auth: tuple[str, str] | None = None
) -> httpx.Response:
    return http.post(f"{fake.api_url}/payments", json=payload or body(), auth=auth or sk(fake))


def created(http: httpx.Client, fake: MoyasarFake, payload: dict[str, Any] | None = None) -> dict[str, Any]:
    resp = create(http, fake, payload)
    assert resp.status_code == 201, resp.text
    return resp.json()


def op(http: httpx.Client, fake: MoyasarFake, payment_id: str, name: str, **payload: Any) -> httpx.Response:
    return http.post(f"{fake.api_url}/payments/{payment_id}/{name}", json=payload, auth=sk(fake))


# --- auth ----------------------------------------------------------------------------------------------------


def test_missing_or_wrong_key_is_401_with_moyasars_body(http: httpx.Client, moyasar_fake: MoyasarFake):
    for auth in [None, ("sk_test_wrong", "")]:
        resp = http.get(f"{moyasar_fake.api_url}/payments", auth=auth)
        assert resp.status_code == 401
        assert resp.json() == {
            "type": "authentication_error",
            "message": "Invalid authorization credentials",
            "errors": None,
        }


def test_publishable_key_creates_payments_and_tokens_only(http: httpx.Client, moyasar_fake: MoyasarFake):
    payment = create(http, moyasar_fake, auth=pk(moyasar_fake))
    assert payment.status_code == 201
    pid = payment.json()["id"]

    assert http.get(f"{moyasar_fake.api_url}/payments/{pid}", auth=pk(moyasar_fake)).status_code == 403
    assert http.get(f"{moyasar_fake.api_url}/payments", auth=pk(moyasar_fake)).status_code == 403
    assert http.post(f"{moyasar_fake.api_url}/payments/{pid}/refund", auth=pk(moyasar_fake)).status_code == 403
    assert http.get(f"{moyasar_fake.api_url}/payments/{pid}", auth=sk(moyasar_fake)).status_code == 200


def test_the_fake_refuses_live_keys():
    with pytest.raises(ValueError, match="live"):
        MoyasarFake(secret_key="sk_live_abc")


# --- validation and given_id ---------------------------------------------------------------------------------


def test_validation_errors_name_the_fields(http: httpx.Client, moyasar_fake: MoyasarFake):
    resp = create(
        http,
        moyasar_fake,
        {
            "amount": "15000",
            "currency": "SARS",
            "given_id": "nope",
            "source": {
                "type": "creditcard",
                "name": "Sara",
                "number": "4111111111111112",
                "month": 13,
                "year": 2099,
                "cvc": "12",
            },
        },
    )

    assert resp.status_code == 400
    data = resp.json()
    assert (data["type"], data["message"]) == ("invalid_request_error", "Validation Failed")
    assert set(data["errors"]) == {
        "amount",
        "currency",
        "given_id",
        "callback_url",
        "source.name",
        "source.number",
        "source.month",
        "source.cvc",
    }


@pytest.mark.parametrize(
    ("payload", "field", "message"),
    [
        (body(amount=99), "amount", "must be greater than or equal to 100"),
        (body(amount=150.5), "amount", "must be an integer"),
        (body(source={"type": "bitcoin"}), "source.type", "is not supported"),
        (body(callback_url=None), "callback_url", "is required"),
        (body(source=card(year=2001)), "source.year", "card is expired"),
        (body(metadata={"k": {"nested": 1}}), "metadata", "k must be a string"),
        (body(source={"type": "stcpay", "mobile": "0612345678"}), "source.mobile", "is invalid"),
    ],
)
def test_each_invalid_field_is_a_400(http: httpx.Client, moyasar_fake: MoyasarFake, payload, field, message):
    resp = create(http, moyasar_fake, payload)

    assert resp.status_code == 400
    assert resp.json()["errors"][field] == [message]
    assert moyasar_fake.payments() == []


def test_form_encoded_input_is_accepted(http: httpx.Client, moyasar_fake: MoyasarFake):
    form = {
        "amount": "15000",
        "callback_url": CALLBACK,
        "source[type]": "creditcard",
        "source[name]": "Sara Alqahtani",
        "source[number]": VISA_OK,
        "source[month]": "12",
        "source[year]": "2099",
        "source[cvc]": "123",
        "source[3ds]": "false",
        "metadata[booking_id]": "7",
    }

    resp = http.post(f"{moyasar_fake.api_url}/payments", data=form, auth=sk(moyasar_fake))

    assert resp.status_code == 201
    assert (resp.json()["status"], resp.json()["metadata"]) == ("paid", {"booking_id": "7"})


def test_given_id_becomes_the_id_and_reuse_is_rejected(http: httpx.Client, moyasar_fake: MoyasarFake):
    given_id = str(uuid.uuid4())

    first = create(http, moyasar_fake, body(given_id=given_id))
    second = create(http, moyasar_fake, body(given_id=given_id))

    assert (first.status_code, first.json()["id"]) == (201, given_id)
    assert second.status_code == 400
    assert second.json()["type"] == "used_given_id"
    assert len(moyasar_fake.payments()) == 1


# --- the payment object and outcomes ------------------------------------------------------------------------


def test_payment_object_has_moyasars_fields_and_masked_card(http: httpx.Client, moyasar_fake: MoyasarFake):
    payment = created(http, moyasar_fake)

    assert payment["status"] == "paid"
    assert payment["amount_format"] == "150.00 SAR"
    assert payment["fee_format"] == "0.00 SAR"
    for key in (
        "id",
        "fee",
        "refunded",
        "refunded_at",
        "captured",
        "captured_at",
        "voided_at",
        "description",
        "invoice_id",
        "ip",
        "callback_url",
        "created_at",
        "updated_at",
        "metadata",
    ):
        assert key in payment
    src = payment["source"]
    assert (src["type"], src["company"], src["number"], src["message"], src["response_code"]) == (
        "creditcard",
        "visa",
        "XXXX-XXXX-XXXX-1111",
        "APPROVED",
        "00",
    )
    assert src["authorization_code"]
    assert src["reference_number"]
    assert VISA_OK not in json.dumps(payment)


def test_amount_format_follows_the_currency_minor_unit():
    assert format_amount(15000, "SAR") == "150.00 SAR"
    assert format_amount(5, "SAR") == "0.05 SAR"
    assert format_amount(1500, "KWD") == "1.500 KWD"


@pytest.mark.parametrize(
    ("amount", "status", "message"),
    [
        (20000, "paid", "APPROVED"),
        (30000, "paid", "APPROVED"),
        (115000, "failed", "INSUFFICIENT FUNDS"),
        (50000, "failed", "UNSPECIFIED FAILURE"),
    ],
)
def test_apple_pay_outcome_follows_the_amount(http: httpx.Client, moyasar_fake: MoyasarFake, amount, status, message):
    payment = created(http, moyasar_fake, body(amount=amount, source={"type": "applepay", "token": "{...}"}))

    assert (payment["status"], payment["source"]["message"]) == (status, message)


def test_apple_pay_manual_is_authorized(http: httpx.Client, moyasar_fake: MoyasarFake):
    payment = created(http, moyasar_fake, body(amount=25000, source={"type": "applepay", "token": "x", "manual": True}))

    assert payment["status"] == "authorized"


@pytest.mark.parametrize(
    ("otp", "status", "message"),
    [
        ("123456", "paid", "Paid"),
        ("000000", "paid", "Paid"),
        ("111111", "failed", "Insufficient Balance."),
        ("222222", "failed", "You have exceeded the allowed daily transaction limit for your STC Pay account."),
        ("999999", "failed", "Invalid OTP"),
    ],
)
def test_stc_pay_is_initiated_until_the_otp(http: httpx.Client, moyasar_fake: MoyasarFake, otp, status, message):
    payment = created(http, moyasar_fake, body(source={"type": "stcpay", "mobile": "0512345678"}))
    assert payment["status"] == "initiated"

    resp = http.post(payment["source"]["transaction_url"], json={"otp_value": otp})

    assert resp.status_code == 200
    assert (resp.json()["status"], resp.json()["source"]["message"]) == (status, message)


def test_stc_pay_unregistered_mobile_fails(http: httpx.Client, moyasar_fake: MoyasarFake):
    payment = created(http, moyasar_fake, body(source={"type": "stcpay", "mobile": "0515555555"}))

    assert payment["status"] == "failed"
    assert payment["source"]["message"] == "Mobile number is not registered to use the STC Pay service."


@pytest.mark.parametrize(
    ("token", "company", "number"),
    [
        ('{"paymentMethod": {"network": "mada", "displayName": "mada 1010"}}', "mada", "XXXX-XXXX-XXXX-1010"),
        (
            {"paymentMethod": {"network": "MasterCard", "displayName": "MasterCard 0000"}},
            "master",
            "XXXX-XXXX-XXXX-0000",
        ),
        ("opaque-wallet-token", "visa", "XXXX-XXXX-XXXX-1111"),
    ],
)
def test_apple_pay_reports_the_wallet_cards_network(
    http: httpx.Client, moyasar_fake: MoyasarFake, token, company, number
):
    payment = created(http, moyasar_fake, body(amount=25000, source={"type": "applepay", "token": token}))

    assert (payment["source"]["company"], payment["source"]["number"]) == (company, number)


def test_3ds_page_offers_approve_and_reject_and_redirects_with_the_result(
    http: httpx.Client, moyasar_fake: MoyasarFake
):
    payment = created(http, moyasar_fake, body(source=card(**{"3ds": True})))
    url = payment["source"]["transaction_url"]
    assert (payment["status"], url) == ("initiated", f"{moyasar_fake.base_url}/_fake/3ds/{payment['id']}")

    page = http.get(url)
    assert page.status_code == 200
    assert page.headers["Content-Type"].startswith("text/html")
    assert f"/_fake/3ds/{payment['id']}?result=approve" in page.text
    assert f"/_fake/3ds/{payment['id']}?result=reject" in page.text

    done = http.get(url, params={"result": "approve"})
    assert done.status_code == 302
    location = urlsplit(done.headers["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == CALLBACK
    assert parse_qs(location.query) == {"id": [payment["id"]], "status": ["paid"], "message": ["APPROVED"]}
    # approving again changes nothing and reports the same result
    again = http.get(url, params={"result": "reject"})
    assert parse_qs(urlsplit(again.headers["Location"]).query)["status"] == ["paid"]


# --- tokens --------------------------------------------------------------------------------------------------


def test_token_default_flow_is_initiated_until_verified(http: httpx.Client, moyasar_fake: MoyasarFake):
    resp = http.post(
        f"{moyasar_fake.api_url}/tokens",
        auth=pk(moyasar_fake),
        json={
            "name": "Sara Alqahtani",
            "number": VISA_OK,
            "month": 12,
            "year": 2099,
            "cvc": "123",
            "callback_url": CALLBACK,
        },
    )
    assert resp.status_code == 201
    token = resp.json()
    assert token["id"].startswith("token_")
    assert (token["status"], token["brand"], token["last_four"]) == ("initiated", "visa", "1111")
    assert VISA_OK not in resp.text
    assert "cvc" not in token

    # an initiated token cannot pay yet
    refused = create(http, moyasar_fake, body(source={"type": "token", "token": token["id"]}))
    assert refused.status_code == 400
    assert "source.token" in refused.json()["errors"]

    verified = http.get(token["verification_url"], params={"result": "approve"})
    assert parse_qs(urlsplit(verified.headers["Location"]).query)["status"] == ["active"]
    fetched = http.get(f"{moyasar_fake.api_url}/tokens/{token['id']}", auth=sk(moyasar_fake)).json()
    assert fetched["status"] == "active"
    assert http.get(f"{moyasar_fake.api_url}/tokens/{token['id']}", auth=pk(moyasar_fake)).status_code == 403


def test_save_only_token_is_active_and_pays_with_its_cards_outcome(http: httpx.Client, moyasar_fake: MoyasarFake):
    token = moyasar_fake.create_token(number="4123120001090109", save_only=True)
    assert token["status"] == "active"

    payment = created(http, moyasar_fake, body(source={"type": "token", "token": token["id"], "3ds": False}))

    assert (payment["status"], payment["source"]["response_code"]) == ("failed", "05")
    assert payment["source"]["token"] == token["id"]


def test_save_card_during_a_payment_returns_a_token_activated_on_success(http: httpx.Client, moyasar_fake: MoyasarFake):
    payment = created(http, moyasar_fake, body(source=card(**{"3ds": True, "save_card": True})))
    token_id = payment["source"]["token"]
    assert token_id.startswith("token_")
    assert payment["status"] == "initiated"

    moyasar_fake.complete_3ds(payment["id"], approve=True)

    assert http.get(f"{moyasar_fake.api_url}/tokens/{token_id}", auth=sk(moyasar_fake)).json()["status"] == "active"


# --- state machine -------------------------------------------------------------------------------------------


def test_capture_only_from_authorized_within_the_amount_and_once(http: httpx.Client, moyasar_fake: MoyasarFake):
    paid = created(http, moyasar_fake)
    assert op(http, moyasar_fake, paid["id"], "capture").status_code == 400

    auth = created(http, moyasar_fake, body(source=card(manual=True)))
    too_much = op(http, moyasar_fake, auth["id"], "capture", amount=15001)
    assert too_much.status_code == 400
    assert "amount" in too_much.json()["errors"]

    captured = op(http, moyasar_fake, auth["id"], "capture", amount=10000).json()
    assert (captured["status"], captured["captured"], captured["captured_format"]) == ("captured", 10000, "100.00 SAR")
    assert captured["captured_at"]

    second = op(http, moyasar_fake, auth["id"], "capture")
    assert second.status_code == 400
    assert second.json()["type"] == "invalid_request_error"


def test_an_expired_hold_stays_authorized_and_cannot_be_captured(http: httpx.Client, moyasar_fake: MoyasarFake):
    auth = created(http, moyasar_fake, body(source=card(manual=True)))

    moyasar_fake.advance_clock(8 * 24 * 3600)

    assert op(http, moyasar_fake, auth["id"], "capture").status_code == 400
    assert moyasar_fake.payment(auth["id"])["status"] == "authorized"
    assert moyasar_fake.payment(auth["id"])["_fake"]["hold_expired"] is True


def test_an_injected_clock_stamps_the_payment():
    with MoyasarFake(clock=lambda: 1_800_000_000.0) as fake, httpx.Client() as http:
        payment = created(http, fake)

    assert payment["created_at"] == "2027-01-15T08:00:00.000Z"


def test_void_rules(http: httpx.Client, moyasar_fake: MoyasarFake):
    paid = created(http, moyasar_fake)
    failed = created(http, moyasar_fake, body(source=card("4123120001090109")))
    settled = created(http, moyasar_fake)
    http.post(f"{moyasar_fake.base_url}/_fake/payments/{settled['id']}/settle")

    voided = op(http, moyasar_fake, paid["id"], "void")
    assert (voided.status_code, voided.json()["status"]) == (200, "voided")
    assert voided.json()["voided_at"]
    assert op(http, moyasar_fake, paid["id"], "void").status_code == 400  # already voided
    assert op(http, moyasar_fake, failed["id"], "void").status_code == 400
    assert op(http, moyasar_fake, settled["id"], "void").status_code == 400
    assert op(http, moyasar_fake, paid["id"], "refund").status_code == 400  # no refund after void


def test_refunds_are_cumulative_and_the_status_is_refunded_after_a_partial_one(
    http: httpx.Client, moyasar_fake: MoyasarFake
):
    paid = created(http, moyasar_fake)

    partial = op(http, moyasar_fake, paid["id"], "refund", amount=5000).json()
    assert (partial["status"], partial["refunded"], partial["refunded_format"]) == ("refunded", 5000, "50.00 SAR")
    over = op(http, moyasar_fake, paid["id"], "refund", amount=10001)
    assert over.status_code == 400
    assert over.json()["type"] == "invalid_request_error"
    rest = op(http, moyasar_fake, paid["id"], "refund").json()
    assert (rest["refunded"], rest["captured"]) == (15000, 0)
    assert op(http, moyasar_fake, paid["id"], "refund", amount=100).status_code == 400


def test_unknown_ids_are_404_api_error(http: httpx.Client, moyasar_fake: MoyasarFake):
    for resp in [
        http.get(f"{moyasar_fake.api_url}/payments/{uuid.uuid4()}", auth=sk(moyasar_fake)),
        op(http, moyasar_fake, str(uuid.uuid4()), "capture"),
    ]:
        assert resp.status_code == 404
        assert resp.json()["type"] == "api_error"


def test_update_changes_description_and_metadata_only(http: httpx.Client, moyasar_fake: MoyasarFake):
    paid = created(http, moyasar_fake)

    resp = http.put(
        f"{moyasar_fake.api_url}/payments/{paid['id']}",
        auth=sk(moyasar_fake),
        json={"description": "new", "metadata": {"a": "b"}, "amount": 1},
    )

    assert resp.status_code == 200
    assert (resp.json()["description"], resp.json()["metadata"], resp.json()["amount"]) == ("new", {"a": "b"}, 15000)


def test_list_meta_and_filters(http: httpx.Client):
    with MoyasarFake(page_size=2) as fake:
        for i in range(5):
            created(http, fake, body(metadata={"booking_id": str(i)}))
        resp = http.get(f"{fake.api_url}/payments", params={"page": 3}, auth=sk(fake)).json()
        assert resp["meta"] == {
            "current_page": 3,
            "next_page": None,
            "prev_page": 2,
            "total_pages": 3,
            "total_count": 5,
        }
        assert len(resp["payments"]) == 1
        one = http.get(f"{fake.api_url}/payments", params={"metadata[booking_id]": "3"}, auth=sk(fake)).json()
        assert [p["metadata"]["booking_id"] for p in one["payments"]] == ["3"]
        none = http.get(f"{fake.api_url}/payments", params={"status": "failed"}, auth=sk(fake)).json()
        assert none["meta"]["total_count"] == 0
        assert none["payments"] == []


# --- faults --------------------------------------------------------------------------------------------------


def test_faults_hit_their_endpoint_for_count_calls_then_stop(http: httpx.Client, moyasar_fake: MoyasarFake):
    ctl = http.post(f"{moyasar_fake.base_url}/_fake/faults", json={"mode": "error_500", "count": 2, "endpoint": "list"})
    assert ctl.status_code == 200

    assert create(http, moyasar_fake).status_code == 201  # other endpoints are unaffected
    statuses = [http.get(f"{moyasar_fake.api_url}/payments", auth=sk(moyasar_fake)).status_code for _ in range(3)]

    assert statuses == [500, 500, 200]
    assert [c["fault"] for c in moyasar_fake.calls("list")] == ["error_500", "error_500", None]


def test_fault_after_lets_calls_through_first_and_ok_clears(http: httpx.Client, moyasar_fake: MoyasarFake):
    moyasar_fake.set_fault("error_500", count=-1, endpoint="all", after=1)
    assert create(http, moyasar_fake).status_code == 201
    assert create(http, moyasar_fake).status_code == 500
    assert create(http, moyasar_fake).status_code == 500

    http.post(f"{moyasar_fake.base_url}/_fake/faults", json={"mode": "ok"})

    assert create(http, moyasar_fake).status_code == 201
    assert moyasar_fake.faults() == []


def test_error_503_html_429_and_reset_faults(http: httpx.Client, moyasar_fake: MoyasarFake):
    moyasar_fake.set_fault("error_503_html", endpoint="create")
    html_resp = create(http, moyasar_fake)
    assert html_resp.status_code == 503
    assert html_resp.headers["Content-Type"].startswith("text/html")

    moyasar_fake.set_fault("error_429", endpoint="create", delay=3)
    limited = create(http, moyasar_fake)
    assert (limited.status_code, limited.headers["Retry-After"], limited.json()["type"]) == (
        429,
        "3",
        "rate_limit_error",
    )

    moyasar_fake.set_fault("reset", endpoint="create")
    with pytest.raises(httpx.TransportError):
        create(http, moyasar_fake)
    assert moyasar_fake.payments() == []  # none of these faults acted


def test_timeout_fault_answers_late_but_still_acts(moyasar_fake: MoyasarFake):
    moyasar_fake.set_fault("timeout", endpoint="create", delay=0.5)

    with httpx.Client(timeout=0.1) as http, pytest.raises(httpx.ReadTimeout):
        create(http, moyasar_fake)

    deadline = time.monotonic() + 3
    while not moyasar_fake.payments() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert len(moyasar_fake.payments()) == 1


def test_ambiguous_create_stores_the_payment_but_answers_500(http: httpx.Client, moyasar_fake: MoyasarFake):
    moyasar_fake.set_fault("ambiguous_create")
    given_id = str(uuid.uuid4())

    resp = create(http, moyasar_fake, body(given_id=given_id))

    assert resp.status_code == 500
    assert resp.json()["type"] == "api_error"
    assert http.get(f"{moyasar_fake.api_url}/payments/{given_id}", auth=sk(moyasar_fake)).json()["status"] == "paid"


@pytest.mark.parametrize("count", [None, -1])
def test_until_cleared_is_null_as_in_the_authentica_fake_and_minus_one_still_works(
    http: httpx.Client, moyasar_fake: MoyasarFake, count: int | None
):
    ctl = http.post(f"{moyasar_fake.base_url}/_fake/faults", json={"mode": "error_500", "count": count})

    assert ctl.json()["faults"] == [{"mode": "error_500", "endpoint": "all", "count": None, "delay": None, "after": 0}]
    assert [create(http, moyasar_fake).status_code for _ in range(3)] == [500, 500, 500]
    moyasar_fake.set_fault("ok")
    assert create(http, moyasar_fake).status_code == 201


def test_bad_fault_requests_are_400(http: httpx.Client, moyasar_fake: MoyasarFake):
    for payload in [{"mode": "explode"}, {"mode": "error_500", "endpoint": "nope"}, {"mode": "error_500", "count": 0}]:
        assert http.post(f"{moyasar_fake.base_url}/_fake/faults", json=payload).status_code == 400


# --- webhooks ------------------------------------------------------------------------------------------------


def test_webhooks_are_sent_per_transition_with_moyasars_payload(
    http: httpx.Client, moyasar_fake: MoyasarFake, receiver: Receiver
):
    http.post(f"{moyasar_fake.base_url}/_fake/webhooks", json={"url": receiver.url, "secret": "s3cret"})
    auth = created(http, moyasar_fake, body(source=card(manual=True)))
    op(http, moyasar_fake, auth["id"], "capture", amount=10000)
    op(http, moyasar_fake, auth["id"], "refund", amount=1000)

    attempts = moyasar_fake.wait_for_webhook_attempts(3)

    assert [a["type"] for a in attempts] == ["payment_authorized", "payment_captured", "payment_refunded"]
    event = receiver.events[1]
    assert set(event) == {"id", "type", "created_at", "secret_token", "account_name", "live", "data"}
    assert (event["type"], event["secret_token"], event["account_name"], event["live"]) == (
        "payment_captured",
        "s3cret",
        "Mawid",
        False,
    )
    assert (event["data"]["id"], event["data"]["status"], event["data"]["captured"]) == (auth["id"], "captured", 10000)
    assert VISA_OK not in json.dumps(receiver.events)
    listed = http.get(f"{moyasar_fake.base_url}/_fake/webhooks/attempts").json()["attempts"]
    assert [a["ok"] for a in listed] == [True, True, True]


def test_webhooks_are_retried_after_a_500_with_the_same_event_id(http: httpx.Client, moyasar_fake: MoyasarFake):
    failing = Receiver(fail_first=2)
    try:
        moyasar_fake.configure_webhooks(url=failing.url)
        created(http, moyasar_fake)

        attempts = moyasar_fake.wait_for_webhook_attempts(3)
    finally:
        failing.close()

    assert [(a["attempt"], a["status_code"], a["ok"]) for a in attempts] == [
        (1, 500, False),
        (2, 500, False),
        (3, 200, True),
    ]
    assert len({e["id"] for e in failing.events}) == 1
    assert failing.events[0]["type"] == "payment_paid"


def test_webhook_connection_errors_are_retried_then_dropped(http: httpx.Client, moyasar_fake: MoyasarFake):
    dead = Receiver()
    dead.close()  # nothing listens there any more
    moyasar_fake.configure_webhooks(url=dead.url, retry_delays=(0.01, 0.01, 0.01, 0.01, 0.01))
    created(http, moyasar_fake)

    assert moyasar_fake.wait_for_webhooks_idle(timeout=5)

    attempts = moyasar_fake.webhook_attempts()
    assert [a["attempt"] for a in attempts] == [1, 2, 3, 4, 5, 6]  # the first try and 5 retries
    assert all(a["status_code"] is None and a["error"] for a in attempts)


def test_duplicate_mode_sends_each_event_several_times(
    http: httpx.Client, moyasar_fake: MoyasarFake, receiver: Receiver
):
    moyasar_fake.configure_webhooks(url=receiver.url, mode="duplicate", duplicates=3)
    created(http, moyasar_fake)

    moyasar_fake.wait_for_webhook_attempts(3)

    assert len(receiver.events) == 3
    assert len({e["id"] for e in receiver.events}) == 1


def test_out_of_order_mode_holds_events_and_sends_them_reversed(
    http: httpx.Client, moyasar_fake: MoyasarFake, receiver: Receiver
):
    http.post(
        f"{moyasar_fake.base_url}/_fake/webhooks", json={"url": receiver.url, "mode": "out_of_order", "window": None}
    )
    auth = created(http, moyasar_fake, body(source=card(manual=True)))
    op(http, moyasar_fake, auth["id"], "capture")
    assert moyasar_fake.webhook_attempts() == []

    released = http.post(f"{moyasar_fake.base_url}/_fake/webhooks/flush").json()["released"]
    moyasar_fake.wait_for_webhook_attempts(2)

    assert released == 2
    assert [e["type"] for e in receiver.events] == ["payment_captured", "payment_authorized"]


def test_out_of_order_window_releases_by_itself(http: httpx.Client, moyasar_fake: MoyasarFake, receiver: Receiver):
    moyasar_fake.configure_webhooks(url=receiver.url, mode="out_of_order", window=None)
    auth = created(http, moyasar_fake, body(source=card(manual=True)))
    op(http, moyasar_fake, auth["id"], "void")

    moyasar_fake.configure_webhooks(window=0.05)  # the window now runs from here for the held events
    moyasar_fake.wait_for_webhook_attempts(2)

    assert [e["type"] for e in receiver.events] == ["payment_voided", "payment_authorized"]


def test_wrong_secret_mode_sends_another_secret_token(
    http: httpx.Client, moyasar_fake: MoyasarFake, receiver: Receiver
):
    moyasar_fake.configure_webhooks(url=receiver.url, secret="right", mode="wrong_secret")
    created(http, moyasar_fake)

    attempts = moyasar_fake.wait_for_webhook_attempts(1)

    assert receiver.events[0]["secret_token"] != "right"
    assert attempts[0]["secret_token_correct"] is False


def test_no_webhooks_without_a_url(http: httpx.Client, moyasar_fake: MoyasarFake):
    created(http, moyasar_fake)

    assert moyasar_fake.wait_for_webhooks_idle(timeout=1)
    assert moyasar_fake.webhook_attempts() == []


def test_forced_status_and_fired_events(http: httpx.Client, moyasar_fake: MoyasarFake, receiver: Receiver):
    moyasar_fake.configure_webhooks(url=receiver.url)
    payment = created(http, moyasar_fake, body(source=card(**{"3ds": True})))
    base = f"{moyasar_fake.base_url}/_fake/payments/{payment['id']}"

    forced = http.post(f"{base}/status", json={"status": "paid"}).json()
    fired = http.post(f"{base}/events", json={"type": "payment_paid"}).json()
    moyasar_fake.wait_for_webhook_attempts(2)

    assert forced["status"] == "paid"
    assert fired["sent"] is True
    assert [e["type"] for e in receiver.events] == ["payment_paid", "payment_paid"]
    assert receiver.events[0]["id"] != receiver.events[1]["id"]
    assert http.post(f"{base}/status", json={"status": "bogus"}).status_code == 400
    assert http.post(f"{moyasar_fake.base_url}/_fake/payments/nope/settle").status_code == 404


# --- control surface -----------------------------------------------------------------------------------------


def test_control_routes_list_payments_calls_and_reset(http: httpx.Client, moyasar_fake: MoyasarFake):
    payment = created(http, moyasar_fake)
    moyasar_fake.set_fault("error_500", endpoint="fetch")

    listed = http.get(f"{moyasar_fake.base_url}/_fake/payments").json()["payments"]
    calls = http.get(f"{moyasar_fake.base_url}/_fake/calls", params={"endpoint": "create"}).json()["calls"]
    assert [p["id"] for p in listed] == [payment["id"]]
    assert listed[0]["_fake"]["events"] == ["payment_paid"]
    assert [(c["method"], c["path"], c["status"], c["key"]) for c in calls] == [("POST", "/v1/payments", 201, "sk")]
    assert calls[0]["body"]["source"]["number"] == "XXXX-XXXX-XXXX-1111"
    assert "cvc" not in calls[0]["body"]["source"]

    assert http.post(f"{moyasar_fake.base_url}/_fake/reset").status_code == 200

    assert http.get(f"{moyasar_fake.base_url}/_fake/payments").json() == {"payments": []}
    assert moyasar_fake.calls() == []
    assert moyasar_fake.faults() == []
    assert http.get(f"{moyasar_fake.base_url}/_fake").json()["routes"]


# --- command line --------------------------------------------------------------------------------------------


def test_main_refuses_to_start_in_production(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("MAWID_ENV", "production")

    assert fake_module.main(["--port", "0"]) == 2
    with pytest.raises(RuntimeError, match="production"):
        MoyasarFake().start()


@pytest.mark.parametrize(
    "environ",
    [
        {"MAWID_ENV": "prod"},
        {"DJANGO_SETTINGS_MODULE": "config.settings.production"},  # what the Procfile runs, MAWID_ENV or not
    ],
)
def test_refuses_every_spelling_of_production(monkeypatch: pytest.MonkeyPatch, environ: dict[str, str]):
    monkeypatch.delenv("MAWID_ALLOW_FAKE_PROVIDERS", raising=False)
    for name, value in environ.items():
        monkeypatch.setenv(name, value)

    with pytest.raises(RuntimeError, match="production"):
        MoyasarFake().start()
    assert fake_module.main(["--port", "0"]) == 2


def test_the_benchmarks_may_run_it_under_production_settings(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("MAWID_ENV", raising=False)
    monkeypatch.setenv("DJANGO_SETTINGS_MODULE", "config.settings.production")
    monkeypatch.setenv("MAWID_ALLOW_FAKE_PROVIDERS", "1")  # as bench/ sets it

    with MoyasarFake() as fake:
        assert httpx.get(f"{fake.base_url}/_fake/payments").json() == {"payments": []}


def test_main_prints_its_url_and_stops_on_sigterm():
    backend = Path(__file__).resolve().parents[3]
    env = {**os.environ, "MAWID_ENV": "development"}
    proc = subprocess.Popen(  # noqa: S603 - our own module, fixed arguments
        [sys.executable, "-m", "apps.payments.providers.fake", "--port", "0"],
        cwd=backend,
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        line = proc.stdout.readline() if proc.stdout else ""
        url = line.split("listening on ", 1)[1].split()[0]
        assert httpx.get(f"{url}/_fake/payments").json() == {"payments": []}
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=5) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
