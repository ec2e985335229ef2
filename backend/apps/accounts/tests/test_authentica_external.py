"""The real Authentica flow, run by hand: skipped unless the environment asks for it.

    cd backend && PYTEST_ADDOPTS='' python3 -m pytest apps/accounts/tests -m external

Set AUTHENTICA_E2E=1, AUTHENTICA_API_KEY and AUTHENTICA_E2E_PHONE (E.164, a phone you hold). The first run sends
a code and tells you to set AUTHENTICA_E2E_CODE; the second run verifies it. No prompt, so it also runs in CI.
AUTHENTICA_E2E_BASE_URL overrides https://api.authentica.sa, AUTHENTICA_E2E_CHANNEL (sms|whatsapp) the channel.

Each comes from the environment or else from backend/.env: the test settings read these variables, and only these,
from that file into `settings.AUTHENTICA_E2E_ENV` (config/settings/test.py), so the key never reaches the
AUTHENTICA_API_KEY setting the other tests use.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

import pytest
from django.conf import settings

from apps.accounts.phone import normalize_phone
from apps.accounts.providers.authentica import AuthenticaClient

pytestmark = pytest.mark.external

REQUIRED = ("AUTHENTICA_E2E", "AUTHENTICA_API_KEY", "AUTHENTICA_E2E_PHONE")


@pytest.fixture
def e2e_env() -> Mapping[str, str]:
    """The variables of this test: the environment's, else backend/.env's (under another settings module: the
    environment only)."""
    return getattr(settings, "AUTHENTICA_E2E_ENV", os.environ)


@pytest.fixture
def real_client(e2e_env):
    missing = [name for name in REQUIRED if not e2e_env.get(name)]
    if e2e_env.get("AUTHENTICA_E2E") != "1" or missing:
        pytest.skip(
            "real Authentica test: set AUTHENTICA_E2E=1, AUTHENTICA_API_KEY and AUTHENTICA_E2E_PHONE to run it"
            " (in the environment or backend/.env)"
            + (f" (missing: {', '.join(missing)})" if missing else "")
        )
    with AuthenticaClient(
        base_url=e2e_env.get("AUTHENTICA_E2E_BASE_URL", "https://api.authentica.sa"),
        api_key=e2e_env["AUTHENTICA_API_KEY"],
        template_id=int(e2e_env.get("AUTHENTICA_TEMPLATE_ID", "1")),
        connect_timeout=5.0,
        read_timeout=15.0,
    ) as client:
        yield client


def test_real_authentica_sends_and_verifies_a_code(real_client, e2e_env):
    phone = normalize_phone(e2e_env["AUTHENTICA_E2E_PHONE"])
    code = e2e_env.get("AUTHENTICA_E2E_CODE", "").strip()
    if not code:
        real_client.send_otp(phone=phone, channel=e2e_env.get("AUTHENTICA_E2E_CHANNEL", "sms"))
        pytest.skip(f"a code was sent to {phone}: run again with AUTHENTICA_E2E_CODE=<the code you received>")
    assert real_client.verify_otp(phone=phone, code=code) is True
    # a code is single use
    assert real_client.verify_otp(phone=phone, code=code) is False


def test_real_authentica_key_is_accepted(real_client):
    balance = real_client.balance()
    assert isinstance(balance, int | float)
