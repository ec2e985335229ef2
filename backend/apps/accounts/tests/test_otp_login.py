"""The OTP login end to end: HTTP API → job → real HTTP to the Authentica fake → verify → JWTs."""

from __future__ import annotations

import logging
import time
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from apps.accounts.models import OtpChallenge, User
from apps.core.testing import job_rows, run_jobs

PHONE = "+966501234567"
pytestmark = pytest.mark.django_db(transaction=True)


def request_code(client, phone="0501234567", ip="10.0.0.1", **extra):
    return client.post("/api/v1/auth/otp/request", {"phone": phone, **extra}, format="json", REMOTE_ADDR=ip)


def verify(client, code, phone="0501234567"):
    return client.post("/api/v1/auth/otp/verify", {"phone": phone, "code": code}, format="json")


def delivered_code(fake, phone=PHONE):
    run_jobs(queues=["otp"])
    return fake.last_code(phone)


def test_a_new_user_logs_in_with_a_code_and_only_a_phone(api_client, otp_env):
    # when
    response = request_code(api_client)
    # then: accepted at once; the SMS goes out from the job
    assert response.status_code == 202
    assert response.json() == {"phone": PHONE, "channel": "sms", "expires_in": 300, "resend_in": 60}
    assert otp_env.messages(PHONE) == []
    code = delivered_code(otp_env)
    assert code is not None
    assert len(code) == 6
    login = verify(api_client, code)
    assert login.status_code == 200, login.json()
    body = login.json()
    assert body["created"] is True
    assert body["user"]["phone"] == PHONE
    assert body["user"]["role"] == "customer"
    assert User.objects.filter(phone=PHONE).count() == 1
    # the access token works
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {body['access']}")
    me = api_client.get("/api/v1/me")
    assert me.status_code == 200
    assert me.json()["phone"] == PHONE


def test_second_login_finds_the_existing_user_and_a_code_works_once(api_client, otp_env):
    User.objects.create_user(phone=PHONE, name="Sara")
    request_code(api_client)
    code = delivered_code(otp_env)
    first = verify(api_client, code)
    assert first.status_code == 200
    assert first.json()["created"] is False
    assert first.json()["user"]["name"] == "Sara"
    again = verify(api_client, code)
    assert again.status_code == 400
    assert again.json()["error"]["code"] == "otp_invalid"


def test_whatsapp_channel_is_passed_to_the_provider(api_client, otp_env):
    response = request_code(api_client, channel="whatsapp")
    assert response.status_code == 202
    assert response.json()["channel"] == "whatsapp"
    run_jobs(queues=["otp"])
    assert otp_env.messages(PHONE)[0]["channel"] == "whatsapp"


def test_wrong_code_is_refused_and_five_wrong_attempts_kill_the_code(api_client, otp_env):
    request_code(api_client)
    code = delivered_code(otp_env)
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(4):
        response = verify(api_client, wrong)
        assert response.status_code == 400
        assert response.json()["error"]["code"] == "otp_invalid"
    fifth = verify(api_client, wrong)
    assert fifth.status_code == 400
    # the code is dead now, even the right one
    dead = verify(api_client, code)
    assert dead.status_code == 429
    assert dead.json()["error"]["code"] == "otp_attempts_exceeded"
    assert OtpChallenge.objects.get().attempts == 5
    assert not User.objects.filter(phone=PHONE).exists()


def test_an_expired_code_is_refused(api_client, otp_env):
    request_code(api_client)
    code = delivered_code(otp_env)
    with time_machine.travel(timezone.now() + timedelta(seconds=301)):
        response = verify(api_client, code)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "otp_expired"


def test_resend_cooldown_answers_429_with_retry_after(api_client, otp_env):
    assert request_code(api_client).status_code == 202
    again = request_code(api_client)
    assert again.status_code == 429
    assert again.json()["error"]["code"] == "otp_rate_limited"
    assert 1 <= int(again["Retry-After"]) <= 61
    # after the cooldown a new code replaces the old one
    with time_machine.travel(timezone.now() + timedelta(seconds=61)):
        assert request_code(api_client).status_code == 202
    assert OtpChallenge.objects.filter(invalidated_at__isnull=True).count() == 1


def test_hourly_cap_per_phone(api_client, otp_env, settings):
    settings.OTP_MAX_PER_PHONE_PER_HOUR = 3
    start = timezone.now()
    for i in range(3):
        with time_machine.travel(start + timedelta(seconds=61 * i)):
            assert request_code(api_client).status_code == 202
    with time_machine.travel(start + timedelta(seconds=61 * 3)):
        capped = request_code(api_client)
    assert capped.status_code == 429
    assert int(capped["Retry-After"]) > 3000
    with time_machine.travel(start + timedelta(hours=1, seconds=5)):
        assert request_code(api_client).status_code == 202


def test_hourly_cap_per_client_ip(api_client, otp_env, settings):
    settings.OTP_MAX_PER_IP_PER_HOUR = 2
    assert request_code(api_client, phone="0501111111", ip="10.9.9.9").status_code == 202
    assert request_code(api_client, phone="0502222222", ip="10.9.9.9").status_code == 202
    capped = request_code(api_client, phone="0503333333", ip="10.9.9.9")
    assert capped.status_code == 429
    assert "Retry-After" in capped
    assert request_code(api_client, phone="0503333333", ip="10.9.9.10").status_code == 202


def test_limits_survive_because_they_live_in_the_database(api_client, otp_env):
    assert request_code(api_client).status_code == 202
    # a fresh client (another app process would see the same rows)
    from rest_framework.test import APIClient

    assert request_code(APIClient()).status_code == 429


def test_invalid_phone_is_a_400_naming_the_field(api_client, otp_env):
    response = request_code(api_client, phone="12345")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "validation_error"
    assert "phone" in response.json()["error"]["fields"]
    assert OtpChallenge.objects.count() == 0


def test_code_is_never_stored_or_logged_in_plain_text(api_client, otp_env, caplog):
    caplog.set_level(logging.DEBUG)
    request_code(api_client)
    code = delivered_code(otp_env)
    verify(api_client, code)
    challenge = OtpChallenge.objects.get()
    stored = " ".join(str(getattr(challenge, f.attname)) for f in OtpChallenge._meta.fields)
    assert code not in stored
    for row in job_rows():
        assert code not in str(row["args"])
    assert code not in caplog.text
    assert PHONE not in caplog.text


def test_provider_down_then_up_delivers_after_retries_and_the_request_never_waits(api_client, otp_env):
    # 503: "down", nothing was sent (a 500 may have sent the code: see test_otp_abuse.py for those, bounded)
    otp_env.set_faults("error_503", 2, endpoint="send-otp")
    started = time.monotonic()
    response = request_code(api_client)
    assert response.status_code == 202
    assert time.monotonic() - started < 1.0
    run_jobs(queues=["otp"], timeout=15)
    challenge = OtpChallenge.objects.get()
    assert challenge.delivery_status == "sent"
    assert challenge.delivery_attempts == 3
    assert len(otp_env.messages(PHONE)) == 1


def test_slow_provider_times_out_and_the_job_retries(api_client, otp_env, settings):
    settings.AUTHENTICA_READ_TIMEOUT = 0.3
    otp_env.set_faults("timeout", 1, endpoint="send-otp", delay=1.0)
    started = time.monotonic()
    assert request_code(api_client).status_code == 202
    assert time.monotonic() - started < 1.0
    run_jobs(queues=["otp"], timeout=15)
    challenge = OtpChallenge.objects.get()
    assert challenge.delivery_status == "sent"
    assert challenge.delivery_attempts == 2


def test_provider_down_for_good_gives_up_and_records_the_failure(api_client, otp_env, settings):
    settings.OTP_DELIVERY_MAX_ATTEMPTS = 3
    otp_env.set_faults("error_503", 50, endpoint="send-otp")
    assert request_code(api_client).status_code == 202
    run_jobs(queues=["otp"], timeout=15)
    challenge = OtpChallenge.objects.get()
    assert challenge.delivery_status == "failed"
    assert challenge.delivery_attempts == 3
    assert "ProviderUnavailable" in challenge.delivery_error
    jobs = [row for row in job_rows("apps.accounts.jobs.otp_deliver") if row["args"].get("challenge_id") == challenge.pk]
    assert [row["status"] for row in jobs] == ["failed"]
    assert jobs[0]["attempts"] == 3


def test_a_bad_key_is_a_configuration_error_and_is_not_retried(api_client, otp_env, settings, caplog):
    settings.AUTHENTICA_API_KEY = "wrong-key"
    caplog.set_level(logging.ERROR, logger="mawid.accounts")
    assert request_code(api_client).status_code == 202
    run_jobs(queues=["otp"], timeout=10)
    challenge = OtpChallenge.objects.get()
    assert challenge.delivery_status == "failed"
    assert challenge.delivery_attempts == 1
    assert len(otp_env.calls_to("send-otp")) == 1
    assert "otp_provider_configuration_error" in caplog.text
    assert "wrong-key" not in caplog.text


def test_refresh_rotates_and_logout_kills_the_refresh_token(api_client, otp_env):
    request_code(api_client)
    tokens = verify(api_client, delivered_code(otp_env)).json()
    rotated = api_client.post("/api/v1/auth/token/refresh", {"refresh": tokens["refresh"]}, format="json")
    assert rotated.status_code == 200
    new = rotated.json()
    assert new["refresh"] != tokens["refresh"]
    # the old refresh token was blacklisted by the rotation
    reused = api_client.post("/api/v1/auth/token/refresh", {"refresh": tokens["refresh"]}, format="json")
    assert reused.status_code == 401
    assert reused.json()["error"]["code"] == "token_not_valid"
    out = api_client.post("/api/v1/auth/logout", {"refresh": new["refresh"]}, format="json")
    assert out.status_code == 204
    after = api_client.post("/api/v1/auth/token/refresh", {"refresh": new["refresh"]}, format="json")
    assert after.status_code == 401
    junk = api_client.post("/api/v1/auth/logout", {"refresh": "junk"}, format="json")
    assert junk.status_code == 401
