"""OTP abuse limits (docs/otp.md): guessing, lock-outs by strangers, SMS pumping, odd client addresses, duplicate
texts from a slow provider, and the constant-time comparison.

Time is pinned with time_machine; codes are read with `otp_code_for` (the derivation the delivery job sends) except
in the delivery test, which goes through the job and the Authentica fake over real HTTP.
"""

from __future__ import annotations

import hmac
import secrets
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from prometheus_client import REGISTRY

from apps.accounts import services
from apps.accounts.errors import OtpInvalid
from apps.accounts.models import OtpChallenge, OtpVerifyAttempt
from apps.core.http import client_network
from apps.core.testing import job_rows, run_jobs

pytestmark = pytest.mark.django_db
PHONE = "+966501234567"
START = datetime(2026, 3, 1, 6, 0, tzinfo=UTC)  # 09:00 in Riyadh
OWNER = "198.51.100.10"  # the owner's home network
MOBILE = "2001:db8:77:1::5"  # the owner's phone on mobile data, never used for this account before


def request_code(client, phone="0501234567", ip=OWNER, **extra):
    return client.post("/api/v1/auth/otp/request", {"phone": phone, **extra}, format="json", REMOTE_ADDR=ip)


def verify(client, code, phone="0501234567", ip=OWNER, **extra):
    body = {"phone": phone, "code": code, **extra}
    return client.post("/api/v1/auth/otp/verify", body, format="json", REMOTE_ADDR=ip)


def code_for(ip=OWNER, phone=PHONE) -> str:
    """The open code this client asked for (what the SMS to the phone says)."""
    challenge = OtpChallenge.objects.filter(
        phone=phone, client_key=client_network(ip), consumed_at__isnull=True, invalidated_at__isnull=True
    ).latest("created_at")
    return services.otp_code_for(challenge)


def wrong(code: str) -> str:
    return "000000" if code != "000000" else "111111"


def error_code(response) -> str:
    return response.json()["error"]["code"]


def metric(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def stranger(i: int) -> str:
    return f"203.0.113.{i + 1}"


# --- 2. wrong codes: a growing back-off, then a daily cap per phone -------------------------------------------------


def test_wrong_codes_back_off_then_lock_the_phone_for_the_day(api_client, settings):
    settings.OTP_MAX_FAILURES_PER_DAY = 8
    settings.OTP_FAILURE_BACKOFF_FREE = 5
    settings.OTP_FAILURE_BACKOFF_SECONDS = 10
    before = {
        "failures": metric("mawid_otp_verify_failures_total", pool="untrusted"),
        "backoff": metric("mawid_otp_refusals_total", reason="backoff"),
        "locked": metric("mawid_otp_refusals_total", reason="locked"),
    }
    with time_machine.travel(START, tick=False) as clock:
        assert request_code(api_client).status_code == 202
        code = code_for()
        for _ in range(5):  # one code's five tries, no waiting: typos are not punished
            assert error_code(verify(api_client, wrong(code))) == "otp_invalid"
        clock.shift(61)
        assert request_code(api_client).status_code == 202
        code = code_for()
        assert error_code(verify(api_client, wrong(code))) == "otp_invalid"  # the 6th
        for wait in (20, 40):  # then each further try waits twice as long as the one before
            early = verify(api_client, code)  # even the right code: it is not compared
            assert early.status_code == 429
            assert error_code(early) == "otp_backoff"
            assert int(early["Retry-After"]) == wait + 1
            clock.shift(wait)
            assert error_code(verify(api_client, wrong(code))) == "otp_invalid"  # the 7th, the 8th
        locked = verify(api_client, code)
        assert locked.status_code == 429
        assert error_code(locked) == "otp_locked"
        assert int(locked["Retry-After"]) == 86400 - 61 - 20 - 40 + 1  # until the first failure is a day old
        assert OtpChallenge.objects.filter(consumed_at__isnull=False).count() == 0
        # from another address: the same phone is locked for every client it does not recognise
        assert error_code(verify(api_client, code, ip=stranger(0))) == "otp_locked"
        assert error_code(request_code(api_client, ip=stranger(0))) == "otp_locked"

        clock.shift(timedelta(days=1))
        assert request_code(api_client).status_code == 202
        assert verify(api_client, code_for()).status_code == 200

    assert metric("mawid_otp_verify_failures_total", pool="untrusted") == before["failures"] + 8
    assert metric("mawid_otp_refusals_total", reason="backoff") == before["backoff"] + 2
    assert metric("mawid_otp_refusals_total", reason="locked") == before["locked"] + 3
    exposed = api_client.get("/metrics").content.decode()
    assert 'mawid_otp_refusals_total{reason="locked"}' in exposed
    assert 'mawid_otp_verify_failures_total{pool="untrusted"}' in exposed


def test_fresh_codes_from_fresh_addresses_do_not_buy_more_guesses(api_client):
    """The reviewer's attack: a code every few minutes from a new address, five guesses each, for hours."""
    with time_machine.travel(START, tick=False) as clock:
        for round_ in range(30):  # three hours, every six minutes
            ip = f"203.0.{113 + round_ // 200}.{round_ % 200 + 1}"
            if request_code(api_client, ip=ip).status_code == 202:
                guess = wrong(code_for(ip))
                for _ in range(5):
                    verify(api_client, guess, ip=ip)
            clock.shift(360)
    compared = sum(OtpChallenge.objects.values_list("attempts", flat=True))
    assert compared == 10  # OTP_MAX_FAILURES_PER_DAY guesses a day, not 5 per code
    assert OtpVerifyAttempt.objects.filter(succeeded=False).count() == 10


# --- 3. strangers cannot spend the owner's budget -------------------------------------------------------------------


def test_five_strangers_a_minute_apart_do_not_spend_the_owners_request_budget(api_client):
    """The reviewer's lock-out: five requests from five addresses, a minute apart, then the owner's own."""
    with time_machine.travel(START, tick=False) as clock:
        for i in range(5):
            assert request_code(api_client, ip=stranger(i)).status_code == 202
            clock.shift(61)
        owner = request_code(api_client, ip=OWNER)
        assert owner.status_code == 202, owner.json()
        login = verify(api_client, code_for(OWNER), ip=OWNER)
        assert login.status_code == 200, login.json()


def test_a_strangers_request_does_not_kill_the_owners_pending_code(api_client):
    with time_machine.travel(START, tick=False) as clock:
        assert request_code(api_client, ip=OWNER).status_code == 202
        owner_code = code_for(OWNER)
        clock.shift(61)
        assert request_code(api_client, ip=stranger(0)).status_code == 202
        clock.shift(30)
        login = verify(api_client, owner_code, ip=OWNER)  # the code the owner's phone just received
        assert login.status_code == 200, login.json()


def test_past_the_phone_cap_for_strangers_the_owner_still_gets_a_code_and_in(api_client, settings):
    with time_machine.travel(START, tick=False) as clock:
        request_code(api_client, ip=OWNER)
        first_login = verify(api_client, code_for(OWNER), ip=OWNER).json()
        device_token = first_login["device_token"]
        clock.shift(timedelta(days=2))
        for i in range(settings.OTP_MAX_PER_PHONE_PER_HOUR):
            assert request_code(api_client, ip=stranger(i)).status_code == 202
        held = request_code(api_client, ip=stranger(99))
        assert held.status_code == 429  # the cap still holds strangers
        assert error_code(held) == "otp_rate_limited"
        # the owner at home: a network this phone logged in from
        assert request_code(api_client, ip=OWNER).status_code == 202
        assert verify(api_client, code_for(OWNER), ip=OWNER).status_code == 200
        # the owner on mobile data, a new address, with the device token the app kept
        assert request_code(api_client, ip=MOBILE, device_token=device_token).status_code == 202
        login = verify(api_client, code_for(MOBILE), ip=MOBILE, device_token=device_token)
        assert login.status_code == 200, login.json()


def test_a_stranger_who_spends_the_wrong_code_allowance_does_not_lock_out_the_recognised_owner(api_client, settings):
    """The trade-off (docs/otp.md): a stranger can lock the phone for clients it does not recognise, not for the
    owner's device or home network."""
    settings.OTP_MAX_FAILURES_PER_DAY = 5
    with time_machine.travel(START, tick=False) as clock:
        request_code(api_client, ip=OWNER)
        device_token = verify(api_client, code_for(OWNER), ip=OWNER).json()["device_token"]
        clock.shift(timedelta(hours=2))
        request_code(api_client, ip=stranger(0))
        guess = wrong(code_for(stranger(0)))
        for _ in range(5):
            assert error_code(verify(api_client, guess, ip=stranger(0))) == "otp_invalid"
        assert error_code(request_code(api_client, ip=stranger(1))) == "otp_locked"
        # a first login from a new place without a device token waits too: the price of a bounded guess count
        # (and no text is sent for a code that could not be checked)
        refused = request_code(api_client, ip=MOBILE)
        assert refused.status_code == 429
        assert error_code(refused) == "otp_locked"
        assert not OtpChallenge.objects.filter(client_key=client_network(MOBILE)).exists()
        # the owner at home, and on the new address with the app's device token, get in
        assert request_code(api_client, ip=OWNER).status_code == 202
        assert verify(api_client, code_for(OWNER), ip=OWNER).status_code == 200
        clock.shift(61)
        assert request_code(api_client, ip=MOBILE, device_token=device_token).status_code == 202
        login = verify(api_client, code_for(MOBILE), ip=MOBILE, device_token=device_token)
        assert login.status_code == 200


@pytest.mark.parametrize(
    "token",
    ["forged", "", "x" * 400, "tampered"],
)
def test_a_device_token_that_is_not_one_for_this_phone_counts_for_nothing(api_client, token):
    with time_machine.travel(START, tick=False):
        other = services.device_token_for(phone="+966559876543")  # a real token, for another phone
        mine = services.device_token_for(phone=PHONE)
        given = {"forged": other, "tampered": mine[:-2] + ("AA" if not mine.endswith("AA") else "BB")}.get(token, token)
        client = services.otp_client(phone=PHONE, client_ip=stranger(0), device_token=given, now=START)
        assert not client.trusted
        assert services.otp_client(phone=PHONE, client_ip=stranger(0), device_token=mine, now=START).trusted
    with time_machine.travel(START + timedelta(days=181), tick=False):  # MAWID_OTP_DEVICE_TOKEN_DAYS = 180
        later = START + timedelta(days=181)
        assert not services.otp_client(phone=PHONE, client_ip=stranger(0), device_token=mine, now=later).trusted


# --- 4. countries, the site's SMS budget, IPv6 clients --------------------------------------------------------------


@pytest.mark.parametrize("phone", ["+2348031234567", "+8613800138000", "+37060012345"])
def test_codes_go_only_to_allowed_countries(api_client, phone):
    before = metric("mawid_otp_refusals_total", reason="country_not_allowed")
    response = request_code(api_client, phone=phone)
    assert response.status_code == 400
    body = response.json()["error"]
    assert body["code"] == "otp_country_not_allowed"
    assert "phone" in body["fields"]
    assert OtpChallenge.objects.count() == 0
    assert job_rows("apps.accounts.jobs.otp_deliver") == []
    assert metric("mawid_otp_refusals_total", reason="country_not_allowed") == before + 1


def test_allowed_countries_come_from_the_setting(api_client, settings):
    settings.OTP_ALLOWED_COUNTRIES = ["SA", "LT"]
    assert request_code(api_client, phone="+37060012345").status_code == 202
    assert request_code(api_client, phone="+2348031234567").status_code == 400


def test_the_hourly_sms_budget_stops_sending_and_alerts(api_client, settings, caplog):
    settings.OTP_SMS_BUDGET_PER_HOUR = 3
    before = metric("mawid_otp_refusals_total", reason="sms_budget_exhausted")
    with time_machine.travel(START, tick=False) as clock:
        for i in range(3):
            assert request_code(api_client, phone=f"05011111{i:02d}", ip=stranger(i)).status_code == 202
            clock.shift(60)
        refused = request_code(api_client, phone="0502222222", ip=stranger(9))
        assert refused.status_code == 429
        assert error_code(refused) == "otp_sms_budget_exhausted"
        assert int(refused["Retry-After"]) == 3600 - 180 + 1  # when the first of the hour's codes is an hour old
        assert OtpChallenge.objects.count() == 3
        assert len(job_rows("apps.accounts.jobs.otp_deliver")) == 3
        alerts = [r for r in caplog.records if r.getMessage() == "otp_sms_budget_exhausted"]
        assert [r.levelname for r in alerts] == ["ERROR"]
        assert metric("mawid_otp_refusals_total", reason="sms_budget_exhausted") == before + 1
        clock.shift(3600 - 180 + 1)
        assert request_code(api_client, phone="0502222222", ip=stranger(9)).status_code == 202


def test_ipv6_clients_are_counted_by_their_64(api_client, settings):
    settings.OTP_MAX_PER_IP_PER_HOUR = 2
    assert request_code(api_client, phone="0501111111", ip="2001:db8:1:2::1").status_code == 202
    assert request_code(api_client, phone="0502222222", ip="2001:db8:1:2::ffff").status_code == 202
    walked = request_code(api_client, phone="0503333333", ip="2001:db8:1:2:abcd:ef01:2345:6789")
    assert walked.status_code == 429
    assert error_code(walked) == "otp_rate_limited"
    assert request_code(api_client, phone="0503333333", ip="2001:db8:1:3::1").status_code == 202


# --- 6d. client addresses that are not IP addresses -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("meta", "proxies", "stored_ip", "stored_key"),
    [
        ({"REMOTE_ADDR": ""}, 0, None, "unknown"),
        ({"REMOTE_ADDR": "10.0.0.2", "HTTP_X_FORWARDED_FOR": "203.0.113.9:4711"}, 1, "203.0.113.9", "203.0.113.9"),
        ({"REMOTE_ADDR": "10.0.0.2", "HTTP_X_FORWARDED_FOR": "unknown"}, 1, None, "unknown"),
        (
            {"REMOTE_ADDR": "10.0.0.2", "HTTP_X_FORWARDED_FOR": "[2001:db8::9]:4711"},
            1,
            "2001:db8::9",
            "2001:db8::/64",
        ),
    ],
)
def test_a_client_address_that_is_not_an_ip_is_never_a_500(api_client, settings, meta, proxies, stored_ip, stored_key):
    settings.MAWID_TRUSTED_PROXY_COUNT = proxies
    response = api_client.post("/api/v1/auth/otp/request", {"phone": "0501234567"}, format="json", **meta)
    assert response.status_code == 202, response.content
    challenge = OtpChallenge.objects.get()
    assert (challenge.client_ip, challenge.client_key) == (stored_ip, stored_key)
    login = api_client.post(
        "/api/v1/auth/otp/verify",
        {"phone": "0501234567", "code": services.otp_code_for(challenge)},
        format="json",
        **meta,
    )
    assert login.status_code == 200, login.content


# --- 13. a slow provider: at most two texts per login ---------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_provider_answering_after_the_read_timeout_costs_at_most_two_texts_per_login(api_client, otp_env, settings):
    settings.AUTHENTICA_READ_TIMEOUT = 0.2
    otp_env.set_faults("slow", None, endpoint="send-otp", delay=0.6)  # every send goes out, every answer is late
    phones = [f"+9665011111{i:02d}" for i in range(5)]
    for i, phone in enumerate(phones):
        assert request_code(api_client, phone=phone, ip=stranger(i)).status_code == 202
    run_jobs(queues=["otp"], timeout=30)
    assert [len(otp_env.messages(phone)) for phone in phones] == [2] * 5  # the send, and one re-send
    assert {c.delivery_status for c in OtpChallenge.objects.all()} == {"unknown"}
    assert [row["status"] for row in job_rows("apps.accounts.jobs.otp_deliver")] == ["succeeded"] * 5
    # the code arrived: the login works
    otp_env.clear_faults()
    login = verify(api_client, otp_env.last_code(phones[0]), phone=phones[0], ip=stranger(0))
    assert login.status_code == 200


# --- 17. the comparison stays constant-time -------------------------------------------------------------------------


def test_the_code_is_compared_in_constant_time(monkeypatch, settings):
    """Fails if the comparison becomes `==` (or anything else that is not `hmac`/`secrets.compare_digest`)."""
    compared: list[tuple[object, object]] = []
    real = hmac.compare_digest

    def recording(a, b):
        compared.append((a, b))
        return real(a, b)

    monkeypatch.setattr(hmac, "compare_digest", recording)
    monkeypatch.setattr(secrets, "compare_digest", recording)
    challenge = services.otp_request(phone=PHONE, client_ip=OWNER)
    code = services.otp_code_for(challenge)

    with pytest.raises(OtpInvalid):
        services.otp_verify(phone=PHONE, code=wrong(code), client_ip=OWNER)
    assert (code, wrong(code)) in compared
    compared.clear()
    login = services.otp_verify(phone=PHONE, code=code, client_ip=OWNER)
    assert login.user.phone == PHONE
    assert (code, code) in compared
