# ruff: noqa: F811 - pytest fixtures are imported by name and then requested as same-named arguments
"""The Authentica client against the local fake, over real loopback HTTP (no mocks of httpx or of our code)."""

from __future__ import annotations

import logging
import socket
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest

from apps.accounts.providers.authentica import AuthenticaClient
from apps.accounts.providers.base import (
    MessagingProvider,
    ProviderConfigurationError,
    ProviderInsufficientBalance,
    ProviderRateLimited,
    ProviderUnavailable,
    ProviderValidationError,
    SendResult,
)
from apps.accounts.providers.fake import AuthenticaFake
from apps.accounts.tests.fakes import (  # noqa: F401
    ManualClock,
    authentica_client,
    authentica_fake,
    authentica_fake_factory,
)
from apps.core.masking import mask_phone
from apps.core.retry_after import parse_retry_after as _retry_after

PHONE = "+966501234567"
OTHER_PHONE = "+966559876543"

MakeFake = Callable[..., AuthenticaFake]
SSL = httpx.create_ssl_context()  # built once: each new transport would otherwise load the CA bundle again


def client_for(fake: AuthenticaFake, **kwargs: object) -> AuthenticaClient:
    options: dict[str, object] = {
        "base_url": fake.base_url,
        "api_key": fake.api_key,
        "sender_name": "Mawid",
        "connect_timeout": 1.0,
        "read_timeout": 2.0,
        "connect_retry_delay": 0.05,
    }
    options.update(kwargs)
    return AuthenticaClient(**options)  # type: ignore[arg-type]


@pytest.fixture
def make_client() -> Iterator[Callable[..., AuthenticaClient]]:
    clients: list[AuthenticaClient] = []

    def make(fake: AuthenticaFake, **kwargs: object) -> AuthenticaClient:
        client = client_for(fake, **kwargs)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


def wrong(code: str) -> str:
    return "0000" if code != "0000" else "1111"


class CountingTransport(httpx.HTTPTransport):
    """A real HTTP transport that counts the attempts it is asked to make (and can run a hook after the first)."""

    def __init__(self, after_first_failure: Callable[[], None] | None = None) -> None:
        super().__init__(verify=SSL)
        self.attempts = 0
        self.after_first_failure = after_first_failure

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.attempts += 1
        try:
            return super().handle_request(request)
        except httpx.ConnectError:
            if self.attempts == 1 and self.after_first_failure is not None:
                self.after_first_failure()
            raise


@pytest.fixture
def dead_port() -> Iterator[socket.socket]:
    """A loopback port that is bound but not listening: connecting to it is refused at once."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    yield sock
    sock.close()


# -- the port ----------------------------------------------------------------------------------------------------


def test_client_implements_the_messaging_port(authentica_client: AuthenticaClient) -> None:
    assert isinstance(authentica_client, MessagingProvider)


# -- send and verify ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("channel", ["sms", "whatsapp"])
def test_sent_code_verifies(authentica_fake: AuthenticaFake, authentica_client: AuthenticaClient, channel: str) -> None:
    authentica_client.send_otp(phone=PHONE, channel=channel)

    [message] = authentica_fake.messages(to=PHONE)
    assert message["channel"] == channel
    assert message["template_id"] == 1
    assert authentica_client.verify_otp(phone=PHONE, code=message["code"]) is True
    assert authentica_fake.calls[0]["headers"]["User-Agent"] == "mawid/1.0"
    assert authentica_fake.calls[0]["body"] == {"method": channel, "phone": PHONE, "template_id": 1}


def test_send_otp_with_our_own_code_delivers_that_code(
    authentica_fake: AuthenticaFake, authentica_client: AuthenticaClient
) -> None:
    authentica_client.send_otp(phone=PHONE, channel="sms", code="482913")

    assert authentica_fake.last_code(PHONE) == "482913"
    assert authentica_client.verify_otp(phone=PHONE, code="482913") is True


@pytest.mark.parametrize("style", ["400", "200"])
def test_wrong_code_is_rejected_in_both_rejection_styles(
    authentica_fake: AuthenticaFake, authentica_client: AuthenticaClient, style: str
) -> None:
    authentica_fake.set_rejection_style(style)
    authentica_client.send_otp(phone=PHONE, channel="sms")
    code = authentica_fake.last_code(PHONE)
    assert code is not None

    assert authentica_client.verify_otp(phone=PHONE, code=wrong(code)) is False
    assert authentica_fake.calls_to("verify-otp")[-1]["status"] == int(style)
    assert authentica_client.verify_otp(phone=PHONE, code=code) is True  # a wrong try does not burn the code


@pytest.mark.parametrize("style", ["400", "200"])
def test_code_for_a_phone_that_was_never_sent_one_is_rejected(
    authentica_fake: AuthenticaFake, authentica_client: AuthenticaClient, style: str
) -> None:
    authentica_fake.set_rejection_style(style)

    assert authentica_client.verify_otp(phone=OTHER_PHONE, code="1234") is False


@pytest.mark.parametrize("style", ["400", "200"])
def test_expired_code_is_rejected(
    authentica_fake_factory: MakeFake, make_client: Callable[..., AuthenticaClient], style: str
) -> None:
    clock = ManualClock()
    fake = authentica_fake_factory(clock=clock, ttl_seconds=300, rejection_style=style)
    client = make_client(fake)
    client.send_otp(phone=PHONE, channel="sms", code="5521")

    clock.advance(301)

    assert client.verify_otp(phone=PHONE, code="5521") is False


def test_code_still_verifies_just_before_it_expires(
    authentica_fake_factory: MakeFake, make_client: Callable[..., AuthenticaClient]
) -> None:
    clock = ManualClock()
    fake = authentica_fake_factory(clock=clock, ttl_seconds=300)
    client = make_client(fake)
    client.send_otp(phone=PHONE, channel="sms", code="5521")

    clock.advance(299)

    assert client.verify_otp(phone=PHONE, code="5521") is True


@pytest.mark.parametrize("style", ["400", "200"])
def test_code_is_invalidated_after_max_attempts(
    authentica_fake_factory: MakeFake, make_client: Callable[..., AuthenticaClient], style: str
) -> None:
    fake = authentica_fake_factory(max_attempts=3, rejection_style=style)
    client = make_client(fake)
    client.send_otp(phone=PHONE, channel="sms", code="7788")

    assert [client.verify_otp(phone=PHONE, code="1111") for _ in range(3)] == [False, False, False]

    assert client.verify_otp(phone=PHONE, code="7788") is False


def test_code_is_consumed_by_a_successful_verify(
    authentica_fake: AuthenticaFake, authentica_client: AuthenticaClient
) -> None:
    authentica_client.send_otp(phone=PHONE, channel="sms", code="3141")

    assert authentica_client.verify_otp(phone=PHONE, code="3141") is True
    assert authentica_client.verify_otp(phone=PHONE, code="3141") is False


def test_a_new_send_replaces_the_previous_code(
    authentica_fake: AuthenticaFake, authentica_client: AuthenticaClient
) -> None:
    authentica_client.send_otp(phone=PHONE, channel="sms", code="1111")
    authentica_client.send_otp(phone=PHONE, channel="sms", code="2222")

    assert authentica_client.verify_otp(phone=PHONE, code="1111") is False
    assert authentica_client.verify_otp(phone=PHONE, code="2222") is True


def test_unsupported_channel_is_refused_without_calling(
    authentica_fake: AuthenticaFake, authentica_client: AuthenticaClient
) -> None:
    with pytest.raises(ProviderValidationError) as excinfo:
        authentica_client.send_otp(phone=PHONE, channel="email")

    assert "method" in excinfo.value.fields
    assert authentica_fake.calls == []


# -- credentials and validation ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("operation", "endpoint"),
    [
        (lambda c: c.send_otp(phone=PHONE, channel="sms"), "send-otp"),
        (lambda c: c.verify_otp(phone=PHONE, code="1234"), "verify-otp"),
        (lambda c: c.send_sms(phone=PHONE, message="hi"), "send-sms"),
        (lambda c: c.balance(), "balance"),
    ],
    ids=["send_otp", "verify_otp", "send_sms", "balance"],
)
def test_bad_key_is_a_configuration_error_and_is_not_retried(
    authentica_fake: AuthenticaFake,
    make_client: Callable[..., AuthenticaClient],
    operation: Callable[[AuthenticaClient], object],
    endpoint: str,
) -> None:
    client = make_client(authentica_fake, api_key="$2y$10$not-the-right-key")

    with pytest.raises(ProviderConfigurationError) as excinfo:
        operation(client)

    assert excinfo.value.status_code == 401
    assert excinfo.value.retryable is False
    assert "Unauthorized" in str(excinfo.value)  # read from errors[0].message
    assert len(authentica_fake.calls) == 1
    assert authentica_fake.calls[0]["endpoint"] == endpoint


def test_bearer_prefixed_key_is_refused(
    authentica_fake: AuthenticaFake, make_client: Callable[..., AuthenticaClient]
) -> None:
    client = make_client(authentica_fake, api_key=f"Bearer {authentica_fake.api_key}")

    with pytest.raises(ProviderConfigurationError):
        client.balance()


def test_missing_key_is_a_configuration_error_without_any_call(
    authentica_fake: AuthenticaFake, make_client: Callable[..., AuthenticaClient]
) -> None:
    client = make_client(authentica_fake, api_key="")

    with pytest.raises(ProviderConfigurationError):
        client.send_otp(phone=PHONE, channel="sms")

    assert authentica_fake.calls == []


def test_invalid_phone_is_a_validation_error_with_fields(
    authentica_fake: AuthenticaFake, authentica_client: AuthenticaClient
) -> None:
    with pytest.raises(ProviderValidationError) as excinfo:
        authentica_client.send_otp(phone="0501234567", channel="sms")

    error = excinfo.value
    assert error.status_code == 422
    assert error.retryable is False
    assert "phone" in error.fields
    assert "phone" in error.message.lower()
    assert "0501234567" not in str(error)  # vendor text is scrubbed of the number
    assert len(authentica_fake.calls) == 1
    assert authentica_fake.messages() == []


def test_non_digit_custom_code_is_a_validation_error(
    authentica_fake: AuthenticaFake, authentica_client: AuthenticaClient
) -> None:
    with pytest.raises(ProviderValidationError) as excinfo:
        authentica_client.send_otp(phone=PHONE, channel="sms", code="12ab")

    assert "otp" in excinfo.value.fields
    assert "12ab" not in str(excinfo.value)


# -- rate limits -------------------------------------------------------------------------------------------------


def test_injected_429_is_rate_limited_with_retry_after(
    authentica_fake: AuthenticaFake, authentica_client: AuthenticaClient
) -> None:
    authentica_fake.set_faults("error_429", count=1, endpoint="send-otp", retry_after=42)

    with pytest.raises(ProviderRateLimited) as excinfo:
        authentica_client.send_otp(phone=PHONE, channel="sms")

    assert excinfo.value.retry_after == 42
    assert excinfo.value.retryable is True
    assert len(authentica_fake.calls) == 1


def test_per_recipient_send_cap_is_rate_limited_until_the_window_passes(
    authentica_fake_factory: MakeFake, make_client: Callable[..., AuthenticaClient]
) -> None:
    clock = ManualClock()
    fake = authentica_fake_factory(clock=clock, send_cap_per_window=2, window_seconds=60)
    client = make_client(fake)
    client.send_otp(phone=PHONE, channel="sms")
    clock.advance(10)
    client.send_otp(phone=PHONE, channel="sms")

    with pytest.raises(ProviderRateLimited) as excinfo:
        client.send_otp(phone=PHONE, channel="sms")
    client.send_otp(phone=OTHER_PHONE, channel="sms")  # the cap is per recipient

    assert excinfo.value.retry_after == 50
    clock.advance(50)
    client.send_otp(phone=PHONE, channel="sms")
    assert len(fake.messages(to=PHONE)) == 3


def test_verify_rate_limited_raises_instead_of_rejecting(
    authentica_fake: AuthenticaFake, authentica_client: AuthenticaClient
) -> None:
    authentica_fake.set_faults("error_429", endpoint="verify-otp")

    with pytest.raises(ProviderRateLimited):
        authentica_client.verify_otp(phone=PHONE, code="1234")


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("120", 120.0),
        ("1.5", 1.5),
        ("-3", 0.0),
        ("soon", None),
        ("", None),
        (None, None),
    ],
)
def test_retry_after_header_values(header: str | None, expected: float | None) -> None:
    assert _retry_after(header) == expected


def test_retry_after_http_date() -> None:
    when = format_datetime(datetime.now(UTC) + timedelta(seconds=90), usegmt=True)

    seconds = _retry_after(when)

    assert seconds is not None
    assert 85 <= seconds <= 90


# -- provider trouble --------------------------------------------------------------------------------------------


SENDS = {
    "send_otp": lambda c: c.send_otp(phone=PHONE, channel="sms"),
    "send_sms": lambda c: c.send_sms(phone=PHONE, message="Your booking is confirmed"),
}


@pytest.mark.parametrize("mode", ["error_500", "error_502", "error_503", "non_json", "success_false", "reset"])
@pytest.mark.parametrize("operation", list(SENDS))
def test_provider_trouble_on_a_send_is_unavailable_maybe_delivered_and_not_retried(
    authentica_fake: AuthenticaFake, authentica_client: AuthenticaClient, mode: str, operation: str
) -> None:
    authentica_fake.set_faults(mode, count=1)

    with pytest.raises(ProviderUnavailable) as excinfo:
        SENDS[operation](authentica_client)

    assert excinfo.value.maybe_delivered is True
    assert excinfo.value.retryable is True
    assert excinfo.value.attempts == 1
    assert len(authentica_fake.calls) == 1


@pytest.mark.parametrize("mode", ["error_500", "error_503", "non_json", "reset"])
def test_provider_trouble_on_verify_is_unavailable_not_a_rejection(
    authentica_fake: AuthenticaFake, authentica_client: AuthenticaClient, mode: str
) -> None:
    authentica_client.send_otp(phone=PHONE, channel="sms", code="2468")
    authentica_fake.set_faults(mode, endpoint="verify-otp")

    with pytest.raises(ProviderUnavailable):
        authentica_client.verify_otp(phone=PHONE, code="2468")

    assert len(authentica_fake.calls_to("verify-otp")) == 1
    assert authentica_client.verify_otp(phone=PHONE, code="2468") is True  # the fault answered, not the fake


def test_verify_answered_200_success_false_is_a_rejection(
    authentica_fake: AuthenticaFake, authentica_client: AuthenticaClient
) -> None:
    authentica_fake.set_faults("success_false", endpoint="verify-otp")

    assert authentica_client.verify_otp(phone=PHONE, code="1234") is False


def test_read_timeout_is_unavailable_maybe_delivered_and_the_message_arrives_anyway(
    authentica_fake: AuthenticaFake, make_client: Callable[..., AuthenticaClient]
) -> None:
    client = make_client(authentica_fake, read_timeout=0.3)
    authentica_fake.set_faults("timeout", count=1, endpoint="send-otp", delay=0.6)

    started = time.monotonic()
    with pytest.raises(ProviderUnavailable) as excinfo:
        client.send_otp(phone=PHONE, channel="sms")

    assert time.monotonic() - started < 0.6
    assert excinfo.value.maybe_delivered is True
    assert excinfo.value.attempts == 1
    assert len(authentica_fake.calls) == 1
    deadline = time.monotonic() + 3
    while not authentica_fake.messages(to=PHONE) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(authentica_fake.messages(to=PHONE)) == 1  # exactly why a send is not retried after a timeout


def test_connection_refused_is_retried_once_then_unavailable_not_delivered(dead_port: socket.socket) -> None:
    transport = CountingTransport()
    port = dead_port.getsockname()[1]
    client = AuthenticaClient(
        base_url=f"http://127.0.0.1:{port}", api_key="k" * 20, transport=transport, connect_retry_delay=0.05
    )

    with client, pytest.raises(ProviderUnavailable) as excinfo:
        client.send_otp(phone=PHONE, channel="sms")

    assert transport.attempts == 2
    assert excinfo.value.attempts == 2
    assert excinfo.value.maybe_delivered is False
    assert excinfo.value.retryable is True


def test_connect_failure_then_success_on_the_retry(dead_port: socket.socket) -> None:
    port = dead_port.getsockname()[1]
    fake = AuthenticaFake(port=port, fixed_code="9090")

    def bring_the_server_up() -> None:
        dead_port.close()
        fake.start()

    transport = CountingTransport(after_first_failure=bring_the_server_up)
    client = AuthenticaClient(
        base_url=f"http://127.0.0.1:{port}", api_key=fake.api_key, transport=transport, connect_retry_delay=0.05
    )
    try:
        with client:
            client.send_otp(phone=PHONE, channel="sms")
    finally:
        fake.stop()

    assert transport.attempts == 2
    assert len(fake.calls) == 1
    assert fake.last_code(PHONE) == "9090"


# -- plain SMS ---------------------------------------------------------------------------------------------------


def test_send_sms_with_a_registered_sender(
    authentica_fake: AuthenticaFake, authentica_client: AuthenticaClient
) -> None:
    result = authentica_client.send_sms(phone=PHONE, message="Your booking is confirmed")

    assert result == SendResult(provider_message_id=None)
    [message] = authentica_fake.messages(to=PHONE)
    assert message["text"] == "Your booking is confirmed"
    assert message["sender_name"] == "Mawid"
    assert message["code"] is None


def test_send_sms_with_an_unregistered_sender_is_a_validation_error(
    authentica_fake: AuthenticaFake, make_client: Callable[..., AuthenticaClient]
) -> None:
    client = make_client(authentica_fake, sender_name="NotOurs")

    with pytest.raises(ProviderValidationError) as excinfo:
        client.send_sms(phone=PHONE, message="hello")

    assert "sender_name" in excinfo.value.fields
    assert authentica_fake.messages() == []


def test_send_sms_without_a_sender_name_uses_the_account_default(
    authentica_fake: AuthenticaFake, make_client: Callable[..., AuthenticaClient]
) -> None:
    client = make_client(authentica_fake, sender_name=None)

    client.send_sms(phone=PHONE, message="hello")

    assert "sender_name" not in authentica_fake.calls[0]["body"]
    assert authentica_fake.messages(to=PHONE)[0]["sender_name"] == "Mawid"


def test_send_sms_from_a_sender_named_per_message(
    authentica_fake: AuthenticaFake, authentica_client: AuthenticaClient
) -> None:
    authentica_fake.configure(sender_names=["Mawid", "SalonNoor"])

    authentica_client.send_sms(phone=PHONE, message="hello", sender_name="SalonNoor")
    authentica_client.send_sms(phone=PHONE, message="again", sender_name=None)

    assert [c["body"].get("sender_name") for c in authentica_fake.calls] == ["SalonNoor", "Mawid"]
    assert {m["text"]: m["sender_name"] for m in authentica_fake.messages(to=PHONE)} == {
        "hello": "SalonNoor",
        "again": "Mawid",
    }


# -- balance -----------------------------------------------------------------------------------------------------


def test_balance_decrements_with_each_send(
    authentica_fake_factory: MakeFake, make_client: Callable[..., AuthenticaClient]
) -> None:
    fake = authentica_fake_factory(balance=5)
    client = make_client(fake)
    assert client.balance() == 5

    client.send_otp(phone=PHONE, channel="sms")
    client.send_sms(phone=PHONE, message="hello")

    assert client.balance() == 3


@pytest.mark.parametrize("status", [400, 402, 403, 200])
def test_sending_without_balance_is_insufficient_balance(
    authentica_fake_factory: MakeFake, make_client: Callable[..., AuthenticaClient], status: int
) -> None:
    fake = authentica_fake_factory(balance=1, insufficient_balance_status=status)
    client = make_client(fake)
    client.send_otp(phone=PHONE, channel="sms")

    with pytest.raises(ProviderInsufficientBalance) as excinfo:
        client.send_otp(phone=OTHER_PHONE, channel="sms")
    with pytest.raises(ProviderInsufficientBalance):
        client.send_sms(phone=OTHER_PHONE, message="hello")

    assert excinfo.value.retryable is False
    assert client.balance() == 0
    assert fake.messages(to=OTHER_PHONE) == []


def test_balance_with_an_unusable_body_is_unavailable(
    authentica_fake: AuthenticaFake, authentica_client: AuthenticaClient
) -> None:
    authentica_fake.set_faults("non_json", endpoint="balance")

    with pytest.raises(ProviderUnavailable):
        authentica_client.balance()


# -- logging -----------------------------------------------------------------------------------------------------


def test_logs_mask_the_phone_and_never_contain_the_key_the_code_or_the_text(
    authentica_fake_factory: MakeFake, make_client: Callable[..., AuthenticaClient], caplog: pytest.LogCaptureFixture
) -> None:
    key = "$2y$10$SuperSecretKeyValue0123456789"
    code = "80417362"
    text = "Your Mawid booking 771 is confirmed"
    fake = authentica_fake_factory(api_key=key, code_length=8)
    client = make_client(fake)
    caplog.set_level(logging.DEBUG)

    client.send_otp(phone=PHONE, channel="sms", code=code)
    client.verify_otp(phone=PHONE, code="12345678")
    client.verify_otp(phone=PHONE, code=code)
    client.send_sms(phone=PHONE, message=text)
    client.balance()
    fake.set_faults("error_500", endpoint="send-otp")
    with pytest.raises(ProviderUnavailable):
        client.send_otp(phone=PHONE, channel="sms", code=code)
    with pytest.raises(ProviderValidationError):
        client.send_otp(phone=PHONE, channel="sms", code="12ab")
    with pytest.raises(ProviderConfigurationError):
        make_client(fake, api_key=key + "x").send_otp(phone=PHONE, channel="sms", code=code)

    ours = [r for r in caplog.records if r.name == "mawid.providers.authentica"]
    assert {r.outcome for r in ours} >= {"sent", "rejected", "verified", "ok", "server_error", "invalid"}
    for record in ours:
        assert record.provider == "authentica"
        assert record.operation in {"send_otp", "verify_otp", "send_sms", "balance"}
        assert isinstance(record.duration_ms, float)
        assert record.phone in (mask_phone(PHONE), None)
    standard = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime"}
    everything = "\n".join(
        [r.getMessage() for r in caplog.records]
        + [repr({k: v for k, v in vars(r).items() if k not in standard}) for r in caplog.records]  # the extras
    )
    assert mask_phone(PHONE) in everything
    for secret in (key, code, "12345678", text, PHONE):
        assert secret not in everything
