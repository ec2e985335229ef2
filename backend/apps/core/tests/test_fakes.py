"""The provider fakes' toolkit: fault queue, call log, production guard and loopback server (`apps.core.fakes`)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import httpx
import pytest

from apps.core.fakes import (
    MAX_LOG_ENTRIES,
    CallLog,
    FaultQueue,
    LoopbackFake,
    RefusedInProduction,
    Request,
    Response,
    dropped,
    json_response,
    production_refusal,
    refuse_in_production,
    run_until_signalled,
    until_cleared_or_count,
)


def queue() -> FaultQueue:
    return FaultQueue(modes=("ok", "error_500", "timeout"), endpoints=("create", "fetch"))


def modes(faults: FaultQueue, endpoint: str, calls: int) -> list[str | None]:
    return [(f.mode if (f := faults.take(endpoint)) else None) for _ in range(calls)]


# --- fault queue ----------------------------------------------------------------------------------------------


def test_a_fault_spoils_count_calls_of_its_endpoint_then_goes() -> None:
    faults = queue()
    faults.add("error_500", count=2, endpoint="create")

    assert modes(faults, "fetch", 1) == [None]
    assert modes(faults, "create", 3) == ["error_500", "error_500", None]
    assert len(faults) == 0


@pytest.mark.parametrize("count", [None, -1])
def test_until_cleared_is_none_and_minus_one_means_the_same(count: int | None) -> None:
    faults = queue()
    faults.add("error_500", count=count)

    assert modes(faults, "create", 50) == ["error_500"] * 50
    assert [f.remaining for f in faults.pending()] == [None]

    faults.add("ok")

    assert modes(faults, "create", 1) == [None]


def test_ok_for_one_endpoint_keeps_the_faults_for_every_endpoint() -> None:
    faults = queue()
    faults.add("timeout", count=None, endpoint="create")
    faults.add("error_500", count=None)

    faults.add("ok", endpoint="create")

    assert [(f.mode, f.endpoint) for f in faults.pending()] == [("error_500", None)]
    faults.clear()
    assert faults.pending() == []


def test_faults_queue_up_in_order_and_the_first_for_an_endpoint_decides() -> None:
    faults = queue()
    faults.add("timeout", count=1, endpoint="create", delay=0.5)
    faults.add("error_500", count=1)

    first = faults.take("create")
    assert first is not None
    assert (first.mode, first.delay, first.remaining) == ("timeout", 0.5, 0)
    assert modes(faults, "create", 2) == ["error_500", None]


def test_after_lets_calls_through_first_and_holds_back_later_faults() -> None:
    faults = queue()
    faults.add("error_500", count=None, after=2)
    faults.add("timeout", count=None, endpoint="create")  # queued behind: the first fault decides

    assert modes(faults, "create", 4) == [None, None, "error_500", "error_500"]


def test_take_gives_a_copy() -> None:
    faults = queue()
    faults.add("error_500", count=3)

    taken = faults.take("create")
    assert taken is not None
    taken.remaining = 100

    assert [f.remaining for f in faults.pending()] == [2]


@pytest.mark.parametrize(
    "kwargs",
    [
        {"mode": "explode"},
        {"mode": "error_500", "endpoint": "nope"},
        {"mode": "error_500", "count": 0},
        {"mode": "error_500", "count": -2},
        {"mode": "error_500", "count": True},
        {"mode": "error_500", "count": "2"},
        {"mode": "error_500", "count": 1.5},
        {"mode": "timeout", "delay": -1},
        {"mode": "timeout", "delay": float("nan")},
        {"mode": "timeout", "delay": float("inf")},
        {"mode": "timeout", "delay": True},
        {"mode": "timeout", "delay": "1"},
        {"mode": "error_500", "after": -1},
        {"mode": "error_500", "after": 1.0},
        {"mode": "error_500", "retry_after": -5},
        {"mode": "ok", "count": 0},  # a clear is validated like the rest
    ],
)
def test_bad_fault_requests_are_refused_and_change_nothing(kwargs: dict[str, object]) -> None:
    faults = queue()
    faults.add("error_500", count=None)

    with pytest.raises(ValueError):  # noqa: PT011 - the message varies with the field
        faults.add(**kwargs)  # type: ignore[arg-type]  # deliberately wrong types

    assert [f.mode for f in faults.pending()] == ["error_500"]


@pytest.mark.parametrize(("given", "expected"), [(1, 1), (7, 7), (None, None), (-1, None)])
def test_until_cleared_or_count(given: int | None, expected: int | None) -> None:
    assert until_cleared_or_count(given) == expected


# --- call log -------------------------------------------------------------------------------------------------


def test_the_call_log_keeps_order_filters_and_hands_out_copies() -> None:
    log = CallLog()
    first = log.record({"endpoint": "create", "status": None})
    log.record({"endpoint": "fetch", "status": 200})

    first["status"] = 201  # the fake fills in the outcome later
    copies = log.entries()
    copies[0]["status"] = 999

    assert [c["status"] for c in log.entries()] == [201, 200]
    assert log.entries("fetch") == [{"endpoint": "fetch", "status": 200}]
    log.clear()
    assert log.entries() == []


def test_the_call_log_keeps_the_newest_entries() -> None:
    log = CallLog(max_entries=3)
    for n in range(5):
        log.record({"n": n})

    assert [e["n"] for e in log.entries()] == [2, 3, 4]
    assert CallLog().max_entries == MAX_LOG_ENTRIES


# --- production guard -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("environ", "refused"),
    [
        ({}, False),
        ({"MAWID_ENV": "development"}, False),
        ({"MAWID_ENV": "test", "DJANGO_SETTINGS_MODULE": "config.settings.test"}, False),
        ({"MAWID_ENV": "production"}, True),
        ({"MAWID_ENV": " Production "}, True),
        ({"MAWID_ENV": "prod"}, True),
        ({"MAWID_ENV": "production", "MAWID_ALLOW_FAKE_PROVIDERS": "1"}, True),  # said outright: no way round
        ({"DJANGO_SETTINGS_MODULE": "config.settings.production"}, True),  # the Procfile's, without MAWID_ENV
        ({"DJANGO_SETTINGS_MODULE": "config.settings.development"}, False),
        ({"DJANGO_SETTINGS_MODULE": "config.settings.production", "MAWID_ALLOW_FAKE_PROVIDERS": "1"}, False),
        ({"DJANGO_SETTINGS_MODULE": "config.settings.production", "MAWID_ALLOW_FAKE_PROVIDERS": "0"}, True),
    ],
)
def test_production_is_refused(environ: dict[str, str], refused: bool) -> None:
    reason = production_refusal(environ)

    assert (reason is not None) == refused
    if refused:
        assert "prod" in str(reason).lower()


def test_loaded_production_settings_are_refused_too(settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MAWID_ENV", raising=False)
    monkeypatch.delenv("MAWID_ALLOW_FAKE_PROVIDERS", raising=False)
    assert production_refusal() is None

    settings.MAWID_ENV = "production"

    assert "MAWID_ENV=production" in str(production_refusal())
    with pytest.raises(RuntimeError, match="production"):
        refuse_in_production("test fake")
    monkeypatch.setenv("MAWID_ALLOW_FAKE_PROVIDERS", "1")  # the benchmarks: production settings, loopback fakes
    assert production_refusal() is None


# --- loopback server ------------------------------------------------------------------------------------------


class Echo(LoopbackFake):
    label = "echo fake"
    server_version = "EchoFake/1.0"

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.seen: list[Request] = []
        self.paused: list[bool] = []

    def handle(self, request: Request) -> Response:
        self.seen.append(request)
        if request.path == "/boom":
            raise RuntimeError("bug")
        if request.path == "/reset":
            return dropped()
        if request.path == "/sleep":
            self.paused.append(self.pause(float(request.q("seconds") or 5)))
        return json_response(200, {"method": request.method, "q": request.q("q"), "body": request.body.decode()})


@pytest.fixture
def echo() -> Iterator[Echo]:
    with Echo() as fake:
        yield fake


def test_it_serves_on_a_free_port_and_hands_over_parsed_requests(echo: Echo) -> None:
    response = httpx.post(f"{echo.base_url}/x?q=a+b", content=b"hello")

    assert echo.port > 0
    assert echo.base_url == f"http://127.0.0.1:{echo.port}"
    assert response.json() == {"method": "POST", "q": "a b", "body": "hello"}
    assert response.headers["Server"].startswith("EchoFake/1.0")
    assert echo.seen[0].client_ip == "127.0.0.1"


def test_a_bug_in_the_fake_is_a_json_500_and_a_reset_drops_the_connection(echo: Echo) -> None:
    broken = httpx.get(f"{echo.base_url}/boom")

    assert (broken.status_code, broken.json()) == (500, {"message": "Server Error (bug in the echo fake)"})
    with pytest.raises(httpx.TransportError):
        httpx.get(f"{echo.base_url}/reset")


def test_an_unreadable_content_length_is_flagged(echo: Echo) -> None:
    with socket.create_connection(("127.0.0.1", echo.port), timeout=5) as sock:
        sock.sendall(b"POST /x HTTP/1.0\r\nContent-Length: nope\r\n\r\n")
        assert sock.recv(100).startswith(b"HTTP/1.0 200")

    assert (echo.seen[0].bad_length, echo.seen[0].body) == (True, b"")


def test_stop_wakes_requests_sleeping_in_an_injected_delay() -> None:
    fake = Echo().start()
    answered: list[int] = []
    thread = threading.Thread(
        target=lambda: answered.append(httpx.get(f"{fake.base_url}/sleep?seconds=30", timeout=10).status_code)
    )
    thread.start()
    while not fake.seen:
        time.sleep(0.01)
    started = time.monotonic()

    fake.stop()
    thread.join(timeout=10)

    assert time.monotonic() - started < 5
    assert fake.paused == [True]
    assert not fake.running


def test_interrupt_pauses_wakes_the_sleepers_only(echo: Echo) -> None:
    thread = threading.Thread(target=lambda: httpx.get(f"{echo.base_url}/sleep?seconds=30", timeout=10))
    thread.start()
    while not echo.seen:
        time.sleep(0.01)

    echo.interrupt_pauses()
    thread.join(timeout=10)
    httpx.get(f"{echo.base_url}/sleep?seconds=0.05")

    assert echo.paused == [True, False]


def test_it_listens_on_ipv6_loopback() -> None:
    if not socket.has_ipv6:
        pytest.skip("no IPv6 here")
    try:
        fake = Echo(host="::1").start()
    except OSError:
        pytest.skip("no IPv6 loopback here")
    try:
        assert fake.base_url == f"http://[::1]:{fake.port}"
        assert httpx.get(f"{fake.base_url}/x").status_code == 200
    finally:
        fake.stop()


def test_start_refuses_in_production(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MAWID_ENV", "prod")

    with pytest.raises(RefusedInProduction, match="The echo fake does not run in production: MAWID_ENV is prod"):
        Echo().start()


def test_the_command_line_loop_refuses_production_and_a_taken_port(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("MAWID_ENV", "production")
    assert run_until_signalled(Echo, name="Echo fake", banner=lambda f: "") == 2
    assert "Echo fake: refusing to start in production" in capsys.readouterr().err

    monkeypatch.setenv("MAWID_ENV", "development")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert run_until_signalled(lambda: Echo(port=port), name="Echo fake", banner=lambda f: "") == 1
    assert "Echo fake: cannot start" in capsys.readouterr().err
