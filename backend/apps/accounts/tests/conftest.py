from __future__ import annotations

import pytest

from apps.accounts.tests.fakes import authentica_fake, authentica_fake_factory  # noqa: F401


@pytest.fixture
def otp_env(settings, authentica_fake):  # noqa: F811
    """Point the product at a running Authentica fake (real HTTP on loopback)."""
    settings.AUTHENTICA_BASE_URL = authentica_fake.base_url
    settings.AUTHENTICA_API_KEY = authentica_fake.api_key
    settings.AUTHENTICA_READ_TIMEOUT = 1.0
    settings.AUTHENTICA_CONNECT_TIMEOUT = 1.0
    settings.MAWID_JOB_RETRY_BASE_SECONDS = 0.05
    return authentica_fake
