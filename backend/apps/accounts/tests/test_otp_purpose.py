"""A code does one thing: a login code never confirms an account deletion, a deletion code never logs in.

End to end over the API, the delivery job and real HTTP to the Authentica fake (docs/otp.md, "Confirming an account
deletion"); time is pinned.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from apps.accounts.models import OtpChallenge, User
from apps.core.testing import run_jobs

PHONE = "+966501234567"
IP = "10.0.0.1"
START = datetime(2027, 1, 12, 9, 0, tzinfo=UTC)
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def clock():
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


@pytest.fixture
def person(clock):
    return User.objects.create_user(phone=PHONE, name="Sara")


def login_code(api_client, fake) -> str:
    response = api_client.post("/api/v1/auth/otp/request", {"phone": PHONE}, format="json", REMOTE_ADDR=IP)
    assert response.status_code == 202, response.content
    run_jobs(queues=["otp"])
    return fake.last_code(PHONE)


def delete_code(client, fake) -> str:
    response = client.post("/api/v1/me/delete/code", {}, format="json", REMOTE_ADDR=IP)
    assert response.status_code == 202, response.content
    run_jobs(queues=["otp"])
    return fake.last_code(PHONE)


def log_in(api_client, code):
    return api_client.post("/api/v1/auth/otp/verify", {"phone": PHONE, "code": code}, format="json", REMOTE_ADDR=IP)


def delete(client, code):
    return client.delete("/api/v1/me", {"code": code}, format="json", REMOTE_ADDR=IP)


def test_a_login_code_still_valid_does_not_confirm_a_deletion(api_client, auth_client, otp_env, person, clock):
    # given: a signed-in person holding a fresh login code for their own phone
    code = login_code(api_client, otp_env)
    signed_in = auth_client(person)

    # when: it is offered to confirm the deletion
    response = delete(signed_in, code)

    # then: refused, and nothing changed
    assert response.status_code == 400, response.content
    assert response.json()["error"]["code"] == "otp_invalid"
    person.refresh_from_db()
    assert person.is_active
    assert person.phone == PHONE
    # not even alongside an open deletion code: it is compared with the deletion code only, and fails
    clock.shift(timedelta(seconds=61))
    real = delete_code(signed_in, otp_env)
    assert real != code
    assert delete(signed_in, code).json()["error"]["code"] == "otp_invalid"
    person.refresh_from_db()
    assert person.is_active
    # and the login code still logs in: it was never spent on the deletion
    assert log_in(api_client, code).status_code == 200


def test_a_deletion_code_does_not_log_in_and_confirms_the_deletion_once(api_client, auth_client, otp_env, person):
    signed_in = auth_client(person)
    code = delete_code(signed_in, otp_env)
    challenge = OtpChallenge.objects.get(phone=PHONE)
    assert challenge.purpose == OtpChallenge.Purpose.DELETE_ACCOUNT

    # a login with it is refused, and makes no account and no session
    refused = log_in(api_client, code)
    assert refused.status_code == 400, refused.content
    assert refused.json()["error"]["code"] == "otp_invalid"
    assert "access" not in refused.json()

    # it confirms the deletion
    assert delete(signed_in, code).status_code == 204
    person.refresh_from_db()
    assert not person.is_active
    # the code went with the account's other codes; it is no login code for the phone's next owner either
    assert not OtpChallenge.objects.filter(pk=challenge.pk).exists()
    assert log_in(api_client, code).json()["error"]["code"] == "otp_invalid"
    assert User.objects.filter(phone=PHONE).count() == 0


def test_a_deletion_code_past_its_lifetime_is_refused(auth_client, otp_env, person, clock):
    signed_in = auth_client(person)
    code = delete_code(signed_in, otp_env)

    clock.shift(timedelta(seconds=301))
    response = delete(signed_in, code)

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "otp_expired"
    person.refresh_from_db()
    assert person.is_active


def test_a_deletion_code_is_bound_to_the_account_that_asked_for_it(api_client, auth_client, otp_env, person, clock):
    # given: someone else, signed in, with a deletion code of their own
    other = User.objects.create_user(phone="+966507654321", name="Other")
    other_client = auth_client(other)
    response = other_client.post("/api/v1/me/delete/code", {}, format="json", REMOTE_ADDR=IP)
    assert response.status_code == 202
    run_jobs(queues=["otp"])
    others_code = otp_env.last_code("+966507654321")

    # when: it is offered to delete the first person's account
    refused = delete(auth_client(person), others_code)

    # then: the first person's phone has no deletion code at all
    assert refused.json()["error"]["code"] == "otp_invalid"
    person.refresh_from_db()
    assert person.is_active


def test_deletion_codes_count_against_the_same_limits_as_login_codes(api_client, auth_client, otp_env, person, clock):
    login_code(api_client, otp_env)

    # the cooldown of this phone and client covers the deletion code too
    response = auth_client(person).post("/api/v1/me/delete/code", {}, format="json", REMOTE_ADDR=IP)
    assert response.status_code == 429
    assert response.json()["error"]["code"] == "otp_rate_limited"

    # and wrong deletion codes spend the same failure pool as wrong login codes
    clock.shift(timedelta(seconds=61))
    code = delete_code(auth_client(person), otp_env)
    wrong = str((int(code) + 1) % 10**6).zfill(6)
    for _ in range(5):
        assert delete(auth_client(person), wrong).json()["error"]["code"] == "otp_invalid"
    assert OtpChallenge.objects.get(purpose=OtpChallenge.Purpose.DELETE_ACCOUNT).invalidated_at is not None
    backoff = log_in(api_client, wrong)
    assert backoff.status_code == 429
    assert backoff.json()["error"]["code"] == "otp_backoff"


def test_a_deletion_code_is_sent_in_the_deletion_template_when_one_is_configured(
    api_client, auth_client, otp_env, person, clock, settings
):
    settings.AUTHENTICA_DELETE_TEMPLATE_ID = 3  # the fake's deletion template (ar + en)
    login_code(api_client, otp_env)
    clock.shift(timedelta(seconds=61))
    code = delete_code(auth_client(person), otp_env)

    delete_message, login_message = otp_env.messages(PHONE)  # newest first
    assert login_message["template_id"] == settings.AUTHENTICA_TEMPLATE_ID
    assert delete_message["template_id"] == 3
    assert delete_message["code"] == code
    assert "حذف حسابك" in delete_message["text"]
    assert "delete your Mawid account" in delete_message["text"]


def test_without_a_deletion_template_the_login_template_carries_the_code(auth_client, otp_env, person, settings):
    settings.AUTHENTICA_DELETE_TEMPLATE_ID = 0
    delete_code(auth_client(person), otp_env)
    [message] = otp_env.messages(PHONE)
    assert message["template_id"] == settings.AUTHENTICA_TEMPLATE_ID
