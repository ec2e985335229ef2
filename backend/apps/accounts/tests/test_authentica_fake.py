# ruff: noqa: F811 - pytest fixtures are imported by name and then requested as same-named arguments
"""The Authentica fake speaks the provider's protocol (spec "What a faithful local fake must do", points 1-11) and
its `/_fake/` controls, checked with plain HTTP calls."""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from apps.accounts.providers import fake as fake_module
from apps.accounts.providers.fake import AuthenticaFake
from apps.accounts.tests.fakes import (  # noqa: F401
    ManualClock,
    authentica_fake,
    authentica_fake_factory,
)

PHONE = "+966501234567"
BACKEND = Path(__file__).resolve().parents[3]

MakeFake = Callable[..., AuthenticaFake]
SSL = httpx.create_ssl_context()  # built once: each new httpx.Client would otherwise load the CA bundle again


@pytest.fixture
def http(authentica_fake: AuthenticaFake) -> Iterator[httpx.Client]:
    """Plain HTTP to the fake with the right key, as the vendor documents the calls."""
    with http_for(authentica_fake) as client:
        yield client


def http_for(fake: AuthenticaFake) -> httpx.Client:
    return httpx.Client(
        base_url=fake.base_url,
        headers={"X-Authorization": fake.api_key, "Accept": "application/json"},
        timeout=5,
        verify=SSL,
    )


def send_otp(http: httpx.Client, **body: Any) -> httpx.Response:
    return http.post("/api/v2/send-otp", json={"method": "sms", "phone": PHONE, **body})


# -- 1. auth -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/api/v2/send-otp"),
        ("POST", "/api/v2/verify-otp"),
        ("POST", "/api/v2/send-sms"),
        ("GET", "/api/v2/balance"),
    ],
)
@pytest.mark.parametrize("key", [None, "wrong", "Bearer fake-authentica-key", "FAKE-AUTHENTICA-KEY"])
def test_every_endpoint_needs_the_exact_key(
    authentica_fake: AuthenticaFake, method: str, path: str, key: str | None
) -> None:
    headers = {"X-Authorization": key} if key is not None else {}

    with httpx.Client(base_url=authentica_fake.base_url, verify=SSL) as http:
        response = http.request(method, path, headers=headers, json={"phone": PHONE})

    assert response.status_code == 401
    assert response.json() == {"errors": [{"message": "Unauthorized"}]}
    assert authentica_fake.calls[-1]["authorized"] is False


# -- 2. send-otp validation --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"phone": PHONE}, "method"),
        ({"method": "fax", "phone": PHONE}, "method"),
        ({"method": "sms"}, "phone"),
        ({"method": "whatsapp", "phone": "0501234567"}, "phone"),
        ({"method": "sms", "phone": "966501234567"}, "phone"),
        ({"method": "sms", "phone": 966501234567}, "phone"),
        ({"method": "email"}, "email"),
        ({"method": "email", "email": "not-an-email"}, "email"),
        ({"method": "sms", "phone": PHONE, "template_id": "one"}, "template_id"),
        ({"method": "sms", "phone": PHONE, "template_id": 1.5}, "template_id"),
        ({"method": "sms", "phone": PHONE, "otp": "12a4"}, "otp"),
        ({"method": "sms", "phone": PHONE, "otp": 1234}, "otp"),
        ({"method": "sms", "phone": PHONE, "fallback_phone": "05"}, "fallback_phone"),
    ],
)
def test_send_otp_validation_failures_are_422_with_errors_by_field(
    authentica_fake: AuthenticaFake, http: httpx.Client, body: dict[str, Any], field: str
) -> None:
    response = http.post("/api/v2/send-otp", json=body)

    assert response.status_code == 422
    data = response.json()
    assert isinstance(data["message"], str)
    assert data["message"]
    assert isinstance(data["errors"][field], list)
    assert authentica_fake.messages() == []


def test_send_otp_body_that_is_not_json_is_422(http: httpx.Client) -> None:
    response = http.post("/api/v2/send-otp", content=b"method=sms", headers={"Content-Type": "text/plain"})

    assert response.status_code == 422
    assert "body" in response.json()["errors"]


# -- 3. send success, code storage -------------------------------------------------------------------------------


def test_send_otp_answers_like_the_provider_and_generates_a_code(
    authentica_fake: AuthenticaFake, http: httpx.Client
) -> None:
    response = send_otp(http)

    assert response.status_code == 200
    assert response.json() == {"success": True, "data": None, "message": "OTP send successfully"}
    code = authentica_fake.last_code(PHONE)
    assert code is not None
    assert len(code) == 4
    assert code.isdigit()


def test_code_length_and_fixed_code_are_configurable(authentica_fake_factory: MakeFake) -> None:
    fake = authentica_fake_factory(code_length=6)
    with http_for(fake) as http:
        send_otp(http)
        assert len(fake.last_code(PHONE) or "") == 6

        fake.configure(fixed_code="246810")
        send_otp(http)

    assert fake.last_code(PHONE) == "246810"


def test_supplied_otp_wins_over_the_fixed_code(authentica_fake_factory: MakeFake) -> None:
    fake = authentica_fake_factory(fixed_code="1111")
    with http_for(fake) as http:
        send_otp(http, otp="987654")

    assert fake.last_code(PHONE) == "987654"


def test_template_id_is_recorded_and_picks_the_text(authentica_fake: AuthenticaFake, http: httpx.Client) -> None:
    send_otp(http, template_id=2, otp="5555")

    [message] = authentica_fake.messages(to=PHONE)
    assert message["template_id"] == 2
    assert "5555" in message["text"]


# -- 4. outbox ---------------------------------------------------------------------------------------------------


def test_messages_route_lists_newest_first_and_filters_by_recipient(
    authentica_fake: AuthenticaFake, http: httpx.Client
) -> None:
    send_otp(http, otp="1111")
    send_otp(http, otp="2222")
    send_otp(http, phone="+966559876543", otp="3333")

    for query in (f"?to={PHONE}", "?to=%2B966501234567", "?to=966501234567"):  # literal "+" arrives as a space
        messages = http.get("/_fake/messages" + query).json()["messages"]
        assert [m["code"] for m in messages] == ["2222", "1111"], query
    everything = http.get("/_fake/messages").json()["messages"]
    assert [m["code"] for m in everything] == ["3333", "2222", "1111"]
    assert set(everything[0]) >= {"channel", "to", "code", "text", "template_id", "sender_name", "created_at"}
    assert everything[0]["to"] == "+966559876543"


# -- 5. verify ---------------------------------------------------------------------------------------------------


def test_verify_correct_code_answers_status_true_and_consumes_it(
    authentica_fake: AuthenticaFake, http: httpx.Client
) -> None:
    send_otp(http, otp="4321")

    first = http.post("/api/v2/verify-otp", json={"phone": PHONE, "otp": "4321"})
    second = http.post("/api/v2/verify-otp", json={"phone": PHONE, "otp": "4321"})

    assert first.status_code == 200
    assert first.json() == {"status": True, "message": "OTP verified successfully"}
    assert second.status_code == 400
    assert second.json() == {"status": False, "message": "Invalid OTP"}


def test_verify_by_email(authentica_fake: AuthenticaFake, http: httpx.Client) -> None:
    http.post("/api/v2/send-otp", json={"method": "email", "email": "Sara@Example.com", "otp": "8080"})

    response = http.post("/api/v2/verify-otp", json={"email": "sara@example.com", "otp": "8080"})

    assert response.json()["status"] is True
    assert authentica_fake.messages(to="sara@example.com")[0]["channel"] == "email"


def test_fallback_phone_can_verify_the_same_code(http: httpx.Client) -> None:
    send_otp(http, otp="6060", fallback_phone="+966559876543")

    response = http.post("/api/v2/verify-otp", json={"phone": "+966559876543", "otp": "6060"})
    again = http.post("/api/v2/verify-otp", json={"phone": PHONE, "otp": "6060"})

    assert response.json()["status"] is True
    assert again.json()["status"] is False  # single use across main and fallback


def test_verify_without_otp_is_422(http: httpx.Client) -> None:
    response = http.post("/api/v2/verify-otp", json={"phone": PHONE})

    assert response.status_code == 422
    assert "otp" in response.json()["errors"]


# -- 6. rejection styles, TTL, attempts --------------------------------------------------------------------------


@pytest.mark.parametrize(("style", "status"), [("400", 400), ("200", 200), ("A", 400), ("B", 200)])
def test_rejection_style_is_switchable_at_run_time(http: httpx.Client, style: str, status: int) -> None:
    config = http.post("/_fake/config", json={"rejection_style": style})
    send_otp(http, otp="1212")

    response = http.post("/api/v2/verify-otp", json={"phone": PHONE, "otp": "9999"})

    assert config.status_code == 200
    assert response.status_code == status
    assert response.json() == {"status": False, "message": "Invalid OTP"}


def test_expired_and_exhausted_codes_are_rejected(authentica_fake_factory: MakeFake) -> None:
    clock = ManualClock()
    fake = authentica_fake_factory(clock=clock, ttl_seconds=60, max_attempts=2)
    with http_for(fake) as http:
        send_otp(http, otp="1000")
        clock.advance(61)
        expired = http.post("/api/v2/verify-otp", json={"phone": PHONE, "otp": "1000"})

        send_otp(http, otp="2000")
        for _ in range(2):
            http.post("/api/v2/verify-otp", json={"phone": PHONE, "otp": "0000"})
        exhausted = http.post("/api/v2/verify-otp", json={"phone": PHONE, "otp": "2000"})

    assert expired.status_code == 400
    assert exhausted.status_code == 400


def test_unknown_recipient_is_rejected(http: httpx.Client) -> None:
    response = http.post("/api/v2/verify-otp", json={"phone": "+966500000000", "otp": "1234"})

    assert response.status_code == 400
    assert response.json()["status"] is False


# -- 7. rate limiting --------------------------------------------------------------------------------------------


def test_per_recipient_send_cap_answers_429_with_retry_after(authentica_fake_factory: MakeFake) -> None:
    clock = ManualClock()
    fake = authentica_fake_factory(clock=clock, send_cap_per_window=2, window_seconds=600)
    with http_for(fake) as http:
        send_otp(http)
        send_otp(http)
        clock.advance(100)
        limited = send_otp(http)
        other = send_otp(http, phone="+966559876543")
        clock.advance(500)
        later = send_otp(http)

    assert limited.status_code == 429
    assert limited.headers["Retry-After"] == "500"
    assert isinstance(limited.json()["message"], str)
    assert other.status_code == 200
    assert later.status_code == 200
    assert len(fake.messages(to=PHONE)) == 3


# -- 8. balance --------------------------------------------------------------------------------------------------


def test_balance_has_the_success_shape_and_each_send_spends(authentica_fake_factory: MakeFake) -> None:
    fake = authentica_fake_factory(balance=2, insufficient_balance_status=402)
    with http_for(fake) as http:
        before = http.get("/api/v2/balance").json()
        send_otp(http)
        http.post("/api/v2/send-sms", json={"phone": PHONE, "message": "hi", "sender_name": "Mawid"})
        after = http.get("/api/v2/balance").json()
        broke = send_otp(http)

    assert before == {"success": True, "data": {"balance": 2}, "message": "Balance retrieved successfully"}
    assert after["data"]["balance"] == 0
    assert broke.status_code == 402
    assert broke.json() == {"success": False, "message": "Insufficient balance"}
    assert len(fake.messages()) == 2


def test_balance_can_be_set_through_the_controls(http: httpx.Client) -> None:
    http.post("/_fake/config", json={"balance": 0})

    assert http.get("/api/v2/balance").json()["data"]["balance"] == 0
    assert send_otp(http).status_code == 400


# -- 9. send-sms -------------------------------------------------------------------------------------------------


def test_send_sms_records_the_text_and_sender(authentica_fake: AuthenticaFake, http: httpx.Client) -> None:
    response = http.post("/api/v2/send-sms", json={"phone": PHONE, "message": "مرحبا", "sender_name": "Mawid"})

    assert response.status_code == 200
    assert response.json() == {"success": True, "message": "Message sent successfully."}
    [message] = authentica_fake.messages(to=PHONE)
    assert (message["channel"], message["text"], message["sender_name"], message["code"]) == (
        "sms",
        "مرحبا",
        "Mawid",
        None,
    )


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"message": "hi", "sender_name": "Mawid"}, "phone"),
        ({"phone": "0501234567", "message": "hi", "sender_name": "Mawid"}, "phone"),
        ({"phone": PHONE, "sender_name": "Mawid"}, "message"),
        ({"phone": PHONE, "message": "", "sender_name": "Mawid"}, "message"),
        ({"phone": PHONE, "message": "hi", "sender_name": "SomeoneElse"}, "sender_name"),
    ],
)
def test_send_sms_validation_failures_are_422(
    authentica_fake: AuthenticaFake, http: httpx.Client, body: dict[str, Any], field: str
) -> None:
    response = http.post("/api/v2/send-sms", json=body)

    assert response.status_code == 422
    assert field in response.json()["errors"]
    assert authentica_fake.messages() == []


# -- 10. faults --------------------------------------------------------------------------------------------------


def test_faults_hit_the_next_n_calls_of_their_endpoint_only(
    authentica_fake: AuthenticaFake, http: httpx.Client
) -> None:
    control = http.post("/_fake/faults", json={"mode": "error_500", "count": 2, "endpoint": "send-otp"})

    balance = http.get("/api/v2/balance")
    first, second, third = send_otp(http), send_otp(http), send_otp(http)

    assert control.status_code == 200
    assert balance.status_code == 200
    assert [first.status_code, second.status_code, third.status_code] == [500, 500, 200]
    assert first.headers["Content-Type"].startswith("text/html")
    assert len(authentica_fake.messages()) == 1


@pytest.mark.parametrize(
    ("mode", "status", "content_type"),
    [
        ("error_502", 502, "text/html"),
        ("error_503", 503, "text/html"),
        ("error_429", 429, "application/json"),
        ("non_json", 200, "text/html"),
        ("success_false", 200, "application/json"),
    ],
)
def test_fault_modes_answer_as_described(http: httpx.Client, mode: str, status: int, content_type: str) -> None:
    http.post("/_fake/faults", json={"mode": mode})

    response = send_otp(http)

    assert response.status_code == status
    assert response.headers["Content-Type"].startswith(content_type)
    if mode == "error_429":
        assert response.headers["Retry-After"] == "30"
    if mode == "success_false":
        assert response.json()["success"] is False


def test_reset_fault_drops_the_connection(authentica_fake: AuthenticaFake, http: httpx.Client) -> None:
    authentica_fake.set_faults("reset")

    with pytest.raises(httpx.TransportError):
        send_otp(http)

    assert authentica_fake.calls[-1]["status"] is None
    assert authentica_fake.messages() == []


def test_timeout_fault_holds_the_answer_past_the_client_timeout(
    authentica_fake: AuthenticaFake, http: httpx.Client
) -> None:
    http.post("/_fake/faults", json={"mode": "timeout", "delay": 0.3})

    with pytest.raises(httpx.ReadTimeout):
        http.post("/api/v2/send-otp", json={"method": "sms", "phone": PHONE, "otp": "1111"}, timeout=0.1)
    answered = send_otp(http, otp="2222")  # the fault was for one call only

    assert answered.status_code == 200
    assert authentica_fake.last_code(PHONE) == "2222"


def test_slow_fault_sends_at_once_and_answers_after_the_client_gave_up(
    authentica_fake: AuthenticaFake, http: httpx.Client
) -> None:
    http.post("/_fake/faults", json={"mode": "slow", "delay": 0.3, "endpoint": "send-otp"})

    with pytest.raises(httpx.ReadTimeout):
        http.post("/api/v2/send-otp", json={"method": "sms", "phone": PHONE, "otp": "1111"}, timeout=0.1)

    # the message went out before the (late) answer: a client that times out cannot know
    assert authentica_fake.last_code(PHONE) == "1111"
    assert authentica_fake.calls_to("send-otp")[-1]["status"] == 200


def test_ok_clears_faults_and_unknown_modes_are_refused(authentica_fake: AuthenticaFake, http: httpx.Client) -> None:
    http.post("/_fake/faults", json={"mode": "error_503", "count": None})
    assert send_otp(http).status_code == 503
    assert send_otp(http).status_code == 503

    cleared = http.post("/_fake/faults", json={"mode": "ok"})
    refused = http.post("/_fake/faults", json={"mode": "explode"})
    bad_endpoint = http.post("/_fake/faults", json={"mode": "error_500", "endpoint": "nope"})

    assert cleared.json() == {"faults": []}
    assert send_otp(http).status_code == 200
    assert refused.status_code == 400
    assert bad_endpoint.status_code == 400


def test_until_cleared_is_null_and_minus_one_means_the_same(
    authentica_fake: AuthenticaFake, http: httpx.Client
) -> None:
    for count in (None, -1):
        control = http.post("/_fake/faults", json={"mode": "error_503", "count": count, "endpoint": "send-otp"})

        assert control.json()["faults"][-1]["remaining"] is None
        assert [send_otp(http).status_code for _ in range(3)] == [503, 503, 503]
        authentica_fake.clear_faults()
        assert send_otp(http).status_code == 200


# -- 11. call log, config, reset ---------------------------------------------------------------------------------


def test_call_log_records_requests_with_the_key_masked(authentica_fake_factory: MakeFake) -> None:
    key = "$2y$10$abcdefghijklmnopqrstuvwxyz012345"
    fake = authentica_fake_factory(api_key=key)
    with http_for(fake) as http:
        send_otp(http, otp="1357")
        raw = http.get("/_fake/calls").text

    calls = json.loads(raw)["calls"]
    assert key not in raw
    assert key not in repr(fake.calls)
    assert calls[0]["method"] == "POST"
    assert calls[0]["path"] == "/api/v2/send-otp"
    assert calls[0]["body"] == {"method": "sms", "phone": PHONE, "otp": "1357"}
    assert calls[0]["status"] == 200
    assert calls[0]["headers"]["X-Authorization"] == "****2345"


def test_config_route_shows_settings_without_the_key(http: httpx.Client) -> None:
    config = http.get("/_fake/config").json()["config"]

    assert config["rejection_style"] == "400"
    assert config["ttl_seconds"] == 300
    assert config["max_attempts"] == 5
    assert config["api_key"] != "fake-authentica-key"
    assert http.post("/_fake/config", json={"ttl_seconds": "long"}).status_code == 400
    assert http.post("/_fake/config", json={"no_such_setting": 1}).status_code == 400


def test_reset_forgets_everything_and_restores_the_initial_settings(
    authentica_fake: AuthenticaFake, http: httpx.Client
) -> None:
    http.post("/_fake/config", json={"balance": 3, "rejection_style": "200"})
    send_otp(http, otp="1111")
    authentica_fake.set_faults("error_500", count=5)

    assert http.post("/_fake/reset").json() == {"ok": True}

    assert authentica_fake.messages() == []
    assert authentica_fake.calls == []
    assert authentica_fake.faults == []
    assert authentica_fake.config["rejection_style"] == "400"
    assert authentica_fake.balance == 10_000
    assert http.post("/api/v2/verify-otp", json={"phone": PHONE, "otp": "1111"}).status_code == 400


def test_unknown_routes_are_json_404s(http: httpx.Client) -> None:
    assert http.get("/api/v2/nope").status_code == 404
    assert http.get("/_fake/nope").status_code == 404
    assert http.get("/").json() == {"message": "Not Found"}


def test_wrong_method_is_405_after_auth(http: httpx.Client) -> None:
    assert http.post("/api/v2/balance").status_code == 405
    assert http.get("/api/v2/send-otp").status_code == 405


# -- running as a process ----------------------------------------------------------------------------------------


def test_main_refuses_to_start_in_production(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("MAWID_ENV", "production")

    assert fake_module.main(["--port", "0"]) != 0

    assert "production" in capsys.readouterr().err


@pytest.mark.parametrize(
    "environ",
    [
        {"MAWID_ENV": "production"},
        {"MAWID_ENV": "prod"},
        {"DJANGO_SETTINGS_MODULE": "config.settings.production"},  # what the Procfile runs, MAWID_ENV or not
    ],
)
def test_refuses_to_start_in_production_in_process_too(
    monkeypatch: pytest.MonkeyPatch, environ: dict[str, str]
) -> None:
    monkeypatch.delenv("MAWID_ALLOW_FAKE_PROVIDERS", raising=False)
    for name, value in environ.items():
        monkeypatch.setenv(name, value)

    with pytest.raises(RuntimeError, match="production"):
        AuthenticaFake().start()
    assert fake_module.main(["--port", "0"]) == 2


def test_runs_as_a_process_prints_its_url_and_stops_on_sigterm() -> None:
    env = {k: v for k, v in os.environ.items() if k != "MAWID_ENV"}
    process = subprocess.Popen(  # noqa: S603 - our own module, fixed arguments
        [sys.executable, "-m", "apps.accounts.providers.fake", "--port", "0", "--api-key", "k-123", "--quiet"],
        cwd=BACKEND,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        ready, _, _ = select.select([process.stdout], [], [], 10)
        assert ready, "the fake printed nothing within 10 s"
        line = process.stdout.readline()
        url = line.split("listening on ")[1].split()[0]
        assert url.startswith("http://127.0.0.1:")
        assert httpx.get(url + "/_fake/health").json() == {"ok": True}
        assert httpx.get(url + "/api/v2/balance", headers={"X-Authorization": "k-123"}).status_code == 200

        process.send_signal(signal.SIGTERM)

        assert process.wait(timeout=5) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
