"""The real Authentica flow, run by hand: skipped unless the environment asks for it.

    cd backend && PYTEST_ADDOPTS='' python3 -m pytest apps/accounts/tests -m external

Set AUTHENTICA_E2E=1, AUTHENTICA_API_KEY and AUTHENTICA_E2E_PHONE (E.164, a phone you hold). The first run sends
a code and tells you to set AUTHENTICA_E2E_CODE; the second run verifies it. No prompt, so it also runs in CI.
AUTHENTICA_E2E_BASE_URL overrides https://api.authentica.sa, AUTHENTICA_E2E_CHANNEL (sms|whatsapp) the channel.
"""

from __future__ import annotations

import os

import pytest

from apps.accounts.phone import normalize_phone
from apps.accounts.providers.authentica import AuthenticaClient

pytestmark = pytest.mark.external

REQUIRED = ("AUTHENTICA_E2E", "AUTHENTICA_API_KEY", "AUTHENTICA_E2E_PHONE")


@pytest.fixture
def real_client():
    missing = [name for name in REQUIRED if not os.environ.get(name)]
    if os.environ.get("AUTHENTICA_E2E") != "1" or missing:
        pytest.skip(
            "real Authentica test: set AUTHENTICA_E2E=1, AUTHENTICA_API_KEY and AUTHENTICA_E2E_PHONE to run it"
            + (f" (missing: {', '.join(missing)})" if missing else "")
        )
    with AuthenticaClient(
        base_url=os.environ.get("AUTHENTICA_E2E_BASE_URL", "https://api.authentica.sa"),
        api_key=os.environ["AUTHENTICA_API_KEY"],
        template_id=int(os.environ.get("AUTHENTICA_TEMPLATE_ID", "1")),
        connect_timeout=5.0,
        read_timeout=15.0,
    ) as client:
        yield client


def test_real_authentica_sends_and_verifies_a_code(real_client):
    phone = normalize_phone(os.environ["AUTHENTICA_E2E_PHONE"])
    code = os.environ.get("AUTHENTICA_E2E_CODE", "").strip()
    if not code:
        real_client.send_otp(phone=phone, channel=os.environ.get("AUTHENTICA_E2E_CHANNEL", "sms"))
        pytest.skip(f"a code was sent to {phone}: run again with AUTHENTICA_E2E_CODE=<the code you received>")
    assert real_client.verify_otp(phone=phone, code=code) is True
    # a code is single use
    assert real_client.verify_otp(phone=phone, code=code) is False


def test_real_authentica_key_is_accepted(real_client):
    balance = real_client.balance()
    assert isinstance(balance, int | float)
