"""Pytest fixtures for the Moyasar fake. No Django needed: import them explicitly where used.

    from apps.payments.tests.fakes import moyasar_fake  # noqa: F401

`moyasar_fake` is a running `MoyasarFake` on 127.0.0.1 with an ephemeral port (`moyasar_fake.api_url` for a
client's `base_url`), webhooks off until configured and webhook retries compressed further for tests.
`moyasar_client` is a `MoyasarClient` pointed at it with short timeouts.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from apps.payments.providers.fake import MoyasarFake
from apps.payments.providers.moyasar import MoyasarClient

TEST_WEBHOOK_RETRY_DELAYS = (0.05, 0.1, 0.2, 0.3, 0.5)


@pytest.fixture
def moyasar_fake() -> Iterator[MoyasarFake]:
    fake = MoyasarFake(host="127.0.0.1", port=0, webhook_retry_delays=TEST_WEBHOOK_RETRY_DELAYS)
    fake.start()
    try:
        yield fake
    finally:
        fake.stop()


@pytest.fixture
def moyasar_client(moyasar_fake: MoyasarFake) -> Iterator[MoyasarClient]:
    client = MoyasarClient(
        base_url=moyasar_fake.api_url,
        secret_key=moyasar_fake.secret_key,
        connect_timeout=1.0,
        read_timeout=2.0,
        retry_backoff=0.05,
    )
    try:
        yield client
    finally:
        client.close()
