"""The toolkit the loopback provider fakes are built on: the Authentica fake (`apps/accounts/providers/fake.py`)
and the Moyasar fake (`apps/payments/providers/fake/`). Standard library only, no Django: a fake runs as its own
process (`python -m ...`), inside a test, or inside a benchmark.

- `LoopbackFake`: a threaded HTTP server on host:port that hands every request to `handle()` as a `Request` and
  writes the `Response` it returns, or drops the connection with a TCP reset. `start()`/`stop()` (also as a
  context manager), `base_url`, and `pause()` for injected delays, which `stop()` cuts short.
- `FaultQueue`: misbehaviour for the next `count` calls of an endpoint (or of every endpoint), optionally after
  letting `after` calls through. `count=None` means "until cleared", in every fake (`-1` is read the same way).
- `CallLog`: the requests a fake was sent, oldest first, bounded to the newest `MAX_LOG_ENTRIES`.
- `production_refusal()` / `refuse_in_production()`: the one production guard of the fakes (`start()` raises),
  and `run_until_signalled()`: their command-line `main()`, which exits 2 in production.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import os
import signal
import socket
import struct
import sys
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import FrameType, TracebackType
from typing import Any, ClassVar, Self, TypeVar
from urllib.parse import parse_qs, urlsplit

MAX_LOG_ENTRIES = 10_000  # call logs keep the newest this many (a development fake runs for days)
CLEAR = "ok"  # the fault mode that clears faults instead of adding one

# --- the production guard -------------------------------------------------------------------------------------

_PRODUCTION = frozenset({"production", "prod"})
_TRUE = frozenset({"1", "true", "yes", "on"})


class RefusedInProduction(RuntimeError):
    """A fake was asked to start where production runs."""


def production_refusal(environ: Mapping[str, str] | None = None) -> str | None:
    """Why a fake must not run here, or None. Production is:

    - `MAWID_ENV` is `production` (or `prod`): always refused;
    - `DJANGO_SETTINGS_MODULE` names production settings (`config.settings.production`: what the Procfile and
      `config.wsgi` use, with or without `MAWID_ENV`), or this process has loaded Django settings whose
      `MAWID_ENV` is production. The benchmarks run production settings against the fakes on purpose: they set
      `MAWID_ALLOW_FAKE_PROVIDERS=1`, which the production settings also read, and a deploy never sets.
    """
    env = os.environ if environ is None else environ
    mawid_env = env.get("MAWID_ENV", "").strip().lower()
    if mawid_env in _PRODUCTION:
        return f"MAWID_ENV is {mawid_env}"
    if env.get("MAWID_ALLOW_FAKE_PROVIDERS", "").strip().lower() in _TRUE:
        return None
    module = env.get("DJANGO_SETTINGS_MODULE", "").strip()
    if module.rsplit(".", 1)[-1].lower() in _PRODUCTION:
        return f"DJANGO_SETTINGS_MODULE is {module}"
    loaded = _loaded_settings_env()
    if loaded in _PRODUCTION:
        return f"the Django settings loaded in this process say MAWID_ENV={loaded}"
    return None


def _loaded_settings_env() -> str:
    """`settings.MAWID_ENV` when this process has set up Django settings, else "" (Django is never imported)."""
    conf = sys.modules.get("django.conf")
    settings = getattr(conf, "settings", None)
    if settings is None or not getattr(settings, "configured", False):
        return ""
    return str(getattr(settings, "MAWID_ENV", "")).strip().lower()


def refuse_in_production(what: str) -> None:
    """Raise `RefusedInProduction` (a RuntimeError naming the reason) when `production_refusal()` says so."""
    reason = production_refusal()
    if reason is not None:
        raise RefusedInProduction(f"The {what} does not run in production: {reason}")


# --- faults ---------------------------------------------------------------------------------------------------


@dataclass
class Fault:
    """One injected misbehaviour. What `mode`, `delay` and `retry_after` do is up to the fake."""

    mode: str
    endpoint: str | None = None  # None: every endpoint
    remaining: int | None = 1  # calls still to spoil; None: until cleared
    delay: float | None = None  # seconds
    after: int = 0  # calls to let through first
    retry_after: int | None = None  # seconds, for faults that answer 429


class FaultQueue:
    """Faults in the order they were set; thread-safe. The first pending fault for an endpoint (or for every
    endpoint) decides a call: while it lets calls through (`after`), the call goes through; then it spoils
    `remaining` calls, or every call until cleared when `remaining` is None."""

    def __init__(self, *, modes: Iterable[str], endpoints: Iterable[str]) -> None:
        self.modes = tuple(m for m in modes if m != CLEAR)
        self.endpoints = tuple(endpoints)
        self._lock = threading.Lock()
        self._faults: list[Fault] = []

    def add(
        self,
        mode: str,
        *,
        count: int | None = 1,
        endpoint: str | None = None,
        delay: float | None = None,
        after: int = 0,
        retry_after: int | None = None,
    ) -> None:
        """Spoil the next `count` calls to `endpoint` (every endpoint when None) as `mode`, after letting `after`
        calls through. `count=None` (or -1) keeps the fault until cleared. Mode "ok" clears the pending faults
        instead: those of `endpoint` when given (faults for every endpoint stay), else all. ValueError for
        anything out of range."""
        if mode != CLEAR and mode not in self.modes:
            raise ValueError(f"unknown fault mode {mode!r}; expected one of {', '.join((*self.modes, CLEAR))}")
        if endpoint is not None and endpoint not in self.endpoints:
            raise ValueError(f"unknown endpoint {endpoint!r}; expected one of {', '.join(self.endpoints)}")
        remaining = until_cleared_or_count(count)
        if delay is not None and (not _is_number(delay) or delay < 0):
            raise ValueError("delay must be a non-negative number of seconds")
        if not _is_int(after) or after < 0:
            raise ValueError("after must be a non-negative integer")
        if retry_after is not None and (not _is_int(retry_after) or retry_after < 0):
            raise ValueError("retry_after must be a non-negative integer")
        if mode == CLEAR:
            self.clear(endpoint)
            return
        fault = Fault(mode, endpoint, remaining, None if delay is None else float(delay), after, retry_after)
        with self._lock:
            self._faults.append(fault)

    def clear(self, endpoint: str | None = None) -> None:
        """Forget the pending faults of `endpoint` (not those for every endpoint), or all of them."""
        with self._lock:
            self._faults = [f for f in self._faults if endpoint is not None and f.endpoint != endpoint]

    def take(self, endpoint: str) -> Fault | None:
        """The fault for one call to `endpoint` (a copy), or None for a normal answer."""
        with self._lock:
            for fault in self._faults:
                if fault.endpoint not in (None, endpoint):
                    continue
                if fault.after > 0:
                    fault.after -= 1
                    return None
                if fault.remaining is not None:
                    fault.remaining -= 1
                    if fault.remaining <= 0:
                        self._faults.remove(fault)
                return replace(fault)
        return None

    def pending(self) -> list[Fault]:
        with self._lock:
            return [replace(f) for f in self._faults]

    def __len__(self) -> int:
        with self._lock:
            return len(self._faults)


def until_cleared_or_count(count: object) -> int | None:
    """A fault count as given in code or in a control request: a positive integer, or None for "until cleared"
    (`-1` is the same: the Moyasar fake's first spelling of it). ValueError for 0, other negatives, non-integers."""
    if count is None:
        return None
    if not isinstance(count, int) or isinstance(count, bool) or count == 0 or count < -1:
        raise ValueError("count must be a positive integer, or null (or -1) for 'until cleared'")
    return None if count == -1 else count


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


# --- the call log ---------------------------------------------------------------------------------------------


class CallLog:
    """What a fake was asked, oldest first, keeping the newest `max_entries`. Entries are dicts chosen by the
    fake; an `endpoint` key makes them filterable. Thread-safe."""

    def __init__(self, max_entries: int = MAX_LOG_ENTRIES) -> None:
        self.max_entries = max_entries
        self._lock = threading.Lock()
        self._entries: list[dict[str, Any]] = []

    def record(self, entry: dict[str, Any]) -> dict[str, Any]:
        """Append `entry` and return it: the same dict, so a fake may log a call when it arrives and fill in its
        outcome (a status) later."""
        with self._lock:
            self._entries.append(entry)
            if len(self._entries) > self.max_entries:
                del self._entries[: len(self._entries) - self.max_entries]
        return entry

    def entries(self, endpoint: str | None = None) -> list[dict[str, Any]]:
        """Copies of the entries (of `endpoint` only, when given), oldest first."""
        with self._lock:
            return [dict(e) for e in self._entries if endpoint is None or e.get("endpoint") == endpoint]

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)


# --- HTTP -----------------------------------------------------------------------------------------------------


@dataclass
class Request:
    method: str
    path: str  # without the query string; percent-escapes left as sent
    query: dict[str, list[str]]  # parse_qs(keep_blank_values=True): a literal "+" arrives as a space
    headers: Message
    body: bytes
    client_ip: str
    bad_length: bool = False  # Content-Length unreadable or negative (the body was not read)

    def q(self, name: str, default: str | None = None) -> str | None:
        """The first value of query parameter `name`."""
        values = self.query.get(name)
        return values[0] if values else default


@dataclass
class Response:
    status: int
    body: bytes = b""
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)
    reset: bool = False  # drop the connection with a TCP reset instead of answering
    close: bool = False  # close the connection after the answer


def json_response(status: int, payload: Any, headers: Mapping[str, str] | None = None) -> Response:
    return Response(status, json.dumps(payload, ensure_ascii=False).encode(), headers=dict(headers or {}))


def html_response(status: int, text: str, headers: Mapping[str, str] | None = None) -> Response:
    return Response(status, text.encode(), content_type="text/html; charset=utf-8", headers=dict(headers or {}))


def dropped() -> Response:
    """No answer: the connection is reset (what a crashing server or a middlebox does)."""
    return Response(0, reset=True)


class LoopbackFake:
    """Base of a fake provider server. Subclasses implement `handle()` and set the class attributes.

    `port=0` binds a free port; `port` is the bound one once started (and still after `stop()`). A host with a
    colon is IPv6. `start()` refuses in production (`refuse_in_production`). Requests are served on daemon
    threads; `protocol_version` "HTTP/1.1" keeps connections alive between calls, "HTTP/1.0" closes them.
    """

    label: ClassVar[str] = "loopback fake"  # for thread names, logs and the production refusal
    server_version: ClassVar[str] = "LoopbackFake/1.0"
    protocol_version: ClassVar[str] = "HTTP/1.0"
    logger: ClassVar[logging.Logger] = logging.getLogger("mawid.fakes")

    def __init__(self, *, host: str = "127.0.0.1", port: int = 0) -> None:
        self.host = host
        self.port = port
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._interrupt = threading.Event()

    # what a fake implements

    def handle(self, request: Request) -> Response:
        raise NotImplementedError

    def internal_error(self) -> Response:
        """The answer when `handle()` raises (it is logged): a JSON 500, never a hung client."""
        return json_response(500, {"message": f"Server Error (bug in the {self.label})"})

    # lifecycle

    @property
    def base_url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def running(self) -> bool:
        return self._server is not None

    def start(self) -> Self:
        refuse_in_production(self.label)
        if self._server is not None:
            return self
        server = _Server((self.host, self.port), self)
        self._interrupt = threading.Event()
        self._server = server
        self.port = int(server.server_address[1])
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.02},
            name=f"{self.label}:{self.port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving; requests sleeping in `pause()` wake up. Safe to call twice."""
        server, self._server = self._server, None
        self._interrupt.set()
        if server is None:
            return
        server.shutdown()
        server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # injected delays

    def pause(self, seconds: float) -> bool:
        """Sleep `seconds` inside a request; True when `stop()` or `interrupt_pauses()` cut the sleep short."""
        return self._interrupt.wait(seconds)

    def interrupt_pauses(self) -> None:
        """Wake every request sleeping in `pause()` now (it gets True); pauses that start later sleep again."""
        interrupt, self._interrupt = self._interrupt, threading.Event()
        interrupt.set()


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    # socketserver's default listen backlog is 5: a worker sending 16 SMS at once overflowed it, and the dropped
    # handshakes stalled sends for 1-8 s (SYN/ACK retransmits), some past the client's timeouts.
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], fake: LoopbackFake) -> None:
        self.fake = fake
        self.address_family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        super().__init__(address, _Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:  # a client that went away: no traceback
        self.fake.logger.debug("%s: connection error", self.fake.label, exc_info=True)


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    sys_version = ""
    disable_nagle_algorithm = True  # headers and body go out in two writes: no 40 ms delayed-ACK stalls

    def setup(self) -> None:
        super().setup()
        self.server_version = self.server.fake.server_version
        self.protocol_version = self.server.fake.protocol_version

    def _dispatch(self) -> None:
        fake = self.server.fake
        request = self._request()
        try:
            response = fake.handle(request)
        except Exception:
            fake.logger.exception("%s failed handling %s %s", fake.label, request.method, request.path)
            response = fake.internal_error()
        if response.reset:
            self._drop()
            return
        self._send(response)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = _dispatch  # OPTIONS: CORS preflights

    def _request(self) -> Request:
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        body = self.rfile.read(length) if length > 0 else b""
        parts = urlsplit(self.path)
        return Request(
            method=self.command,
            path=parts.path,
            query=parse_qs(parts.query, keep_blank_values=True),
            headers=self.headers,
            body=body,
            client_ip=str(self.client_address[0]),
            bad_length=length < 0,
        )

    def _send(self, response: Response) -> None:
        try:
            self.send_response(response.status)
            self.send_header("Content-Type", response.content_type)
            self.send_header("Content-Length", str(len(response.body)))
            for name, value in response.headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(response.body)
            self.wfile.flush()
        except OSError:  # the client went away (e.g. it timed out while the fake slept)
            self.close_connection = True
        if response.close:
            self.close_connection = True

    def _drop(self) -> None:
        """Close the connection with a TCP reset (SO_LINGER 0) and no answer."""
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        with contextlib.suppress(OSError):
            self.rfile.close()
            self.connection.close()

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        # No query string: a phone number or an OTP may be in it.
        self.server.fake.logger.debug("%s %s -> %s", self.command, self.path.split("?")[0], code)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the stdlib's signature
        self.server.fake.logger.debug("%s: " + format, self.server.fake.label, *args)


# --- the command line -----------------------------------------------------------------------------------------

F = TypeVar("F", bound=LoopbackFake)


def run_until_signalled(make: Callable[[], F], *, name: str, banner: Callable[[F], str]) -> int:
    """The `main()` of a fake process. Exit 2 in production (`production_refusal`), 1 when the fake cannot be
    made or bound; else start it, print `banner(fake)` (whose first line should say "listening on <url>"),
    serve until SIGINT or SIGTERM, stop it and exit 0."""
    reason = production_refusal()
    if reason is not None:
        sys.stderr.write(f"{name}: refusing to start in production: {reason}\n")
        return 2
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    try:
        fake = make().start()
    except (OSError, ValueError) as exc:
        sys.stderr.write(f"{name}: cannot start: {exc}\n")
        return 1
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    sys.stdout.write(banner(fake).rstrip("\n") + "\n")
    sys.stdout.flush()
    try:
        while not stop.wait(0.5):
            pass
    finally:
        fake.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    sys.stdout.write(f"{name} stopped\n")
    sys.stdout.flush()
    return 0
