"""The admin sign-in locks out after repeated failed passwords (django-axes): per phone number and client address,
shown in Arabic and English, refusing even the right password while locked, cleared by a success, over after the
cool-off."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from axes.models import AccessAttempt
from django.conf import settings
from django.test import Client

from apps.accounts.models import User

pytestmark = pytest.mark.django_db

LOGIN = "/admin/login/"
PHONE = "+966500000001"
PASSWORD = "correct horse battery staple"  # noqa: S105 - a test password
LIMIT = settings.AXES_FAILURE_LIMIT
COOL_OFF = settings.AXES_COOLOFF_TIME
START = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)


@pytest.fixture
def manager() -> User:
    return User.objects.create_user(PHONE, password=PASSWORD, role=User.Role.MANAGER, name="Manager", is_staff=True)


def sign_in(client: Client, *, username: str = PHONE, password: str = PASSWORD, ip: str = "198.51.100.7",
            language: str = "en"):
    return client.post(LOGIN, {"username": username, "password": password, "next": "/admin/"},
                       REMOTE_ADDR=ip, HTTP_ACCEPT_LANGUAGE=language)


def fail(client: Client, times: int, **kwargs) -> list[int]:
    return [sign_in(client, password=f"wrong-{n}", **kwargs).status_code for n in range(times)]


def signed_in(response) -> bool:
    return response.status_code == 302 and response["Location"] == "/admin/" and response.wsgi_request.user.is_authenticated


def test_the_limit_and_cool_off_are_configured():
    assert LIMIT == 5
    assert timedelta(minutes=15) == COOL_OFF
    assert settings.AXES_LOCKOUT_PARAMETERS == [["username", "ip_address"]]


@pytest.mark.parametrize(
    ("language", "heading", "wait"),
    [
        ("en", "Sign-in locked", "Sign-in is paused for 15 minutes."),
        ("ar", "تسجيل الدخول مقفل", "أُوقف تسجيل الدخول مؤقتًا لمدة 15 دقيقة."),
    ],
)
def test_repeated_failures_show_the_locked_page_in_the_callers_language(manager, language, heading, wait):
    client = Client()
    with time_machine.travel(START, tick=False):
        assert fail(client, LIMIT - 1, language=language) == [200] * (LIMIT - 1)  # the form again, with its error
        locked = sign_in(client, password="wrong-last", language=language)

    assert locked.status_code == 429
    assert locked["Retry-After"] == str(int(COOL_OFF.total_seconds()))
    html = locked.content.decode()
    assert f'lang="{language}"' in html
    assert 'data-state="locked"' in html
    assert f"<h1>{heading}</h1>" in html
    assert wait in html
    assert 'href="/admin/login/"' in html


def test_the_right_password_is_refused_while_locked(manager):
    client = Client()
    with time_machine.travel(START, tick=False):
        fail(client, LIMIT)
    with time_machine.travel(START + timedelta(minutes=1), tick=False):
        response = sign_in(client)
        assert response.status_code == 429
        assert not response.wsgi_request.user.is_authenticated
        assert client.get("/admin/", REMOTE_ADDR="198.51.100.7").status_code == 302  # to the login page


def test_the_lock_is_for_one_number_from_one_address_not_the_manager_everywhere(manager):
    attacker = Client()
    with time_machine.travel(START, tick=False):
        fail(attacker, LIMIT, ip="203.0.113.66")
        assert sign_in(attacker, ip="203.0.113.66").status_code == 429

        assert signed_in(sign_in(Client(), ip="198.51.100.7"))  # the manager, at the office
        other = User.objects.create_user("+966500000002", password=PASSWORD, role=User.Role.MANAGER, is_staff=True)
        assert signed_in(sign_in(Client(), username=str(other.phone), ip="203.0.113.66"))


def test_typing_the_number_differently_does_not_buy_more_guesses(manager):
    client = Client()
    spellings = ["0500000001", "+966 50 000 0001", "966500000001", "00966500000001", "+966500000001"]
    with time_machine.travel(START, tick=False):
        statuses = [sign_in(client, username=spelling, password="wrong").status_code for spelling in spellings]
    assert statuses == [200, 200, 200, 200, 429]
    assert list(AccessAttempt.objects.values_list("username", flat=True).distinct()) == [PHONE]


def test_a_successful_sign_in_clears_the_count(manager):
    client = Client()
    with time_machine.travel(START, tick=False):
        fail(client, LIMIT - 1)
        assert signed_in(sign_in(client))
        client.post("/admin/logout/", REMOTE_ADDR="198.51.100.7")
        assert fail(client, LIMIT - 1) == [200] * (LIMIT - 1)  # a fresh allowance, not one left
        assert sign_in(client, password="wrong-again").status_code == 429


def test_the_lock_ends_after_the_cool_off(manager):
    client = Client()
    with time_machine.travel(START, tick=False):
        fail(client, LIMIT)
    with time_machine.travel(START + COOL_OFF - timedelta(seconds=30), tick=False):
        assert sign_in(client).status_code == 429  # still locked, and this try restarts the wait
    retried = START + COOL_OFF + timedelta(minutes=1)
    with time_machine.travel(retried, tick=False):
        assert sign_in(client).status_code == 429  # past the first wait, not the restarted one (restarts again)
    with time_machine.travel(retried + COOL_OFF + timedelta(seconds=1), tick=False):
        assert signed_in(sign_in(client))


def test_without_a_retry_the_lock_ends_one_cool_off_after_the_last_failure(manager):
    client = Client()
    with time_machine.travel(START, tick=False):
        fail(client, LIMIT)
    with time_machine.travel(START + COOL_OFF + timedelta(seconds=1), tick=False):
        assert signed_in(sign_in(client))
