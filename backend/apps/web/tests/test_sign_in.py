"""Signing in on the website: the API's OTP service behind a session; the security of the web side (cookies,
CSRF, the Content Security Policy, the API's throttles)."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from apps.accounts.models import OtpChallenge, User
from apps.accounts.tests.fakes import authentica_fake, authentica_fake_factory  # noqa: F401

pytestmark = pytest.mark.django_db


@pytest.fixture
def otp(settings, authentica_fake):  # noqa: F811
    settings.AUTHENTICA_BASE_URL = authentica_fake.base_url
    settings.AUTHENTICA_API_KEY = authentica_fake.api_key
    return authentica_fake


def test_home_is_arabic_by_default_and_english_one_tap_away():
    client = Client()
    page = client.get("/")
    assert page.status_code == 200
    assert re.search(r'<html lang="ar" dir="rtl">', page.content.decode())
    switched = client.post("/lang", {"language": "en", "next": "/"})
    assert switched.status_code == 302
    assert switched["Location"] == "/"
    cookie = switched.cookies["mawid_lang"]
    assert cookie.value == "en"
    assert cookie["httponly"]
    assert cookie["samesite"] == "Lax"
    assert '<html lang="en" dir="ltr">' in client.get("/").content.decode()
    # the choice wins over the browser's own language
    assert '<html lang="en" dir="ltr">' in client.get("/", HTTP_ACCEPT_LANGUAGE="ar").content.decode()


def test_the_api_keeps_its_own_default_language():
    response = Client().get("/api/v1/businesses/nope")
    assert response["Content-Type"].startswith("application/json")
    assert "Content-Security-Policy" not in response


def test_pages_carry_a_policy_without_inline_script_and_no_framing():
    response = Client().get("/")
    policy = response["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";"))
    assert "'unsafe-inline'" not in policy
    assert "'unsafe-eval'" not in policy
    assert directives["script-src"].startswith("'self'")
    assert directives["frame-ancestors"] == "'none'"
    assert directives["object-src"] == "'none'"
    assert "<script>" not in response.content.decode()  # every script has a src
    assert response["X-Frame-Options"] == "DENY"


def test_forms_refuse_a_post_without_the_csrf_token():
    client = Client(enforce_csrf_checks=True)
    assert client.post("/login", {"phone": "0551234567", "channel": "sms"}).status_code == 403
    assert client.post("/lang", {"language": "en"}).status_code == 403


def test_a_bad_phone_number_is_a_clear_error_and_sends_nothing(otp):
    response = Client().post("/login", {"phone": "12", "channel": "sms"})
    assert response.status_code == 400
    assert "phone number" in response.content.decode().lower() or "رقم" in response.content.decode()
    assert OtpChallenge.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_sign_in_with_the_code_gives_a_rotated_httponly_session(otp):
    from apps.web.tests.browser import run_jobs_in_thread

    client = Client()
    response = client.post("/login", {"phone": "0551234567", "channel": "sms", "next": "/my/bookings"})
    assert response.status_code == 302
    assert response["Location"].startswith("/login/code")
    before = client.cookies["mawid_session"].value  # the anonymous session holding the phone number
    run_jobs_in_thread()
    code = otp.last_code("+966551234567")
    wrong = client.post("/login/code", {"code": "000000" if code != "000000" else "111111"})
    assert wrong.status_code == 400
    assert client.get("/my/bookings")["Location"].startswith("/login")  # still signed out
    response = client.post("/login/code", {"code": code, "next": "/my/bookings"})
    assert response.status_code == 302
    assert response["Location"] == "/my/bookings"
    session = response.cookies["mawid_session"]
    assert session["httponly"]
    assert session["samesite"] == "Lax"
    assert session.value != before  # a new session key at login (no fixation)
    assert User.objects.get(phone="+966551234567").last_login is not None
    assert client.get("/my/bookings").status_code == 200
    assert response.cookies["mawid_device"]["httponly"]


def test_next_cannot_send_the_person_to_another_site(otp):
    response = Client().post("/login", {"phone": "0551234567", "channel": "sms", "next": "https://evil.example/"})
    assert response.status_code == 302
    assert "evil" not in response["Location"]


def test_the_pages_share_the_apis_throttle(monkeypatch, otp):
    from rest_framework.throttling import SimpleRateThrottle

    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", {"anon": "2/min", "user": "1000/min"})
    client = Client()
    statuses = [client.post("/login", {"phone": f"05512345{n:02d}", "channel": "sms"}).status_code for n in range(3)]
    assert statuses == [302, 302, 429]
    # the API counts the same requests: its next call from this address is refused too
    assert client.post("/api/v1/auth/otp/request", {"phone": "0551234599"}).status_code == 429
