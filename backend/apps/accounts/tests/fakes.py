"""Pytest fixtures for the local Authentica fake. Import them into a conftest or a test module:

    from apps.accounts.tests.fakes import authentica_fake  # noqa: F401

No Django and no database needed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from apps.accounts.providers.authentica import AuthenticaClient
from apps.accounts.providers.fake import AuthenticaFake


class ManualClock:
    """An injectable clock for the fake: `clock.advance(301)` makes codes expire without sleeping."""

    def __init__(self, start: float = 1_767_225_600.0) -> None:  # 2026-01-01T00:00:00Z
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def authentica_fake_factory() -> Iterator[Callable[..., AuthenticaFake]]:
    """Start fakes with custom settings, e.g. `authentica_fake_factory(clock=ManualClock(), max_attempts=3)`.

    Each runs on 127.0.0.1 on an ephemeral port and is stopped after the test.
    """
    started: list[AuthenticaFake] = []

    def make(**kwargs: Any) -> AuthenticaFake:
        kwargs.setdefault("host", "127.0.0.1")
        kwargs.setdefault("port", 0)
        fake = AuthenticaFake(**kwargs).start()
        started.append(fake)
        return fake

    yield make
    for fake in started:
        fake.stop()


@pytest.fixture
def authentica_fake(authentica_fake_factory: Callable[..., AuthenticaFake]) -> AuthenticaFake:
    """A running fake with default settings: `.base_url`, `.api_key`, `.messages()`, `.set_faults()`, `.calls`."""
    return authentica_fake_factory()


@pytest.fixture
def authentica_client(authentica_fake: AuthenticaFake) -> Iterator[AuthenticaClient]:
    """The real client pointed at `authentica_fake`, with short timeouts."""
    with AuthenticaClient(
        base_url=authentica_fake.base_url,
        api_key=authentica_fake.api_key,
        sender_name="Mawid",
        connect_timeout=1.0,
        read_timeout=2.0,
        connect_retry_delay=0.05,
    ) as client:
        yield client
