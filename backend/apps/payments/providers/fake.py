"""A local fake of Moyasar's payments API for development and tests (stdlib only, no Django).

It speaks Moyasar's protocol under `/v1` (see shared/specs/moyasar.md, "What a faithful local fake of this
provider must do") and adds a control surface under `/_fake/` that the real provider does not have.

    fake = MoyasarFake(webhook_url="http://127.0.0.1:8000/api/v1/webhooks/moyasar")
    fake.start()            # or: with MoyasarFake() as fake: ...
    client = MoyasarClient(base_url=fake.api_url, secret_key=fake.secret_key)

Run standalone (from `backend/`): `python -m apps.payments.providers.fake --port 8102`.

Behaviour, in short:

* Auth: HTTP Basic with the secret key (every operation) or the publishable key (create payment, create token;
  403 elsewhere). Anything else: 401 `authentication_error`.
* Validation: 400 `invalid_request_error` with an `errors` map (`amount`, `currency`, `source.type`,
  `callback_url`, `given_id`, `source.number`, ...). `given_id` becomes the payment id; reusing it is
  400 `used_given_id`.
* Outcomes: Moyasar's test cards (`TEST_CARDS`), unlisted card numbers fail (201 `failed`, `INVALID CARD`/14);
  Apple Pay by amount (20000-30000 paid, 110100-120000 insufficient funds, else failed); STC Pay mobile
  `0515555555` fails, others are `initiated` until the OTP (`otp_value`) is sent to `source.transaction_url`:
  `123456`/`000000` paid, `111111` insufficient balance, other OTPs fail. Declines are 201 with `status: failed`
  and `source.message` / `source.response_code`.
* 3-D Secure (`3ds`, default true, for `creditcard` and `token` sources): `initiated` with
  `source.transaction_url` = `{base}/_fake/3ds/{id}`. A GET there shows an approve/reject page;
  `?result=approve|reject` moves the payment on (approve: `paid`, `authorized` when `manual`, or the card's
  decline; reject: `failed`) and 302-redirects to `callback_url?id=&status=&message=`. With `3ds: false` the
  final state is immediate. A card declined by the issuer is declined after the challenge, as with Moyasar.
  Card `4111116611600661` (not enrolled) fails at once, `4111115784228433` fails at the challenge.
* Tokens: `POST /v1/tokens` (card fields, `callback_url`, `save_only`, `metadata`) -> `token_<hex>`; by default
  `initiated` with a `verification_url` (`{base}/_fake/3ds/{token}`) whose approval makes it `active`
  (`inactive` for a declining card or a rejected challenge); `save_only: true` -> `active` at once.
  `GET`/`DELETE /v1/tokens/{id}` with the secret key. Card numbers stay inside the fake; every response, the
  request log and webhooks carry masked numbers only. A payment with a `token` source reports
  `source.type: "creditcard"` with `source.token` set; `save_card: true` attaches a new token likewise.
* State machine: capture only from `authorized`, amount <= authorized, once (a second capture is a 400), and not
  after the hold expired (`hold_seconds`, judged by the injectable clock; the payment stays `authorized`);
  partial capture releases the rest. Void from `authorized`/`paid`/`captured` unless settled
  (`POST /_fake/payments/{id}/settle`, or `settle_after` seconds after payment when set). Refund from
  `paid`/`captured`, cumulative <= the paid/captured amount (excess: 400). **The status becomes `refunded` after
  any refund, partial or full, and further partial refunds stay allowed up to the total.** `captured` is only
  set by a capture (0 for a plain `paid` payment). Fields `*_at`, `*_format` (`"150.00 SAR"`) stay consistent.
* Fetch (404 `api_error` for unknown ids), list (`page`, `status`, `metadata[key]`, `created[gt|lt]`; newest
  first; `meta` with `current_page`, `next_page`, `prev_page`, `total_pages`, `total_count`), update
  (`description`/`metadata`; answers 200 with the payment).
* Webhooks: every transition (`payment_paid`, `payment_failed`, `payment_authorized`, `payment_captured`,
  `payment_refunded`, `payment_voided`) POSTs `{id, type, created_at, secret_token, account_name, live: false,
  data}` to `webhook_url` from a background thread; non-2xx and connection errors are retried after each of
  `webhook_retry_delays` (the event `id` is stable across retries); every attempt is recorded. Modes:
  `normal`, `duplicate` (each event `duplicates` times), `out_of_order` (events are held and sent in reverse
  order on `flush_webhooks()` / `POST /_fake/webhooks/flush`, or `window` seconds after the first held one),
  `wrong_secret`. No webhooks while `webhook_url` is None.
* Faults (`set_fault` / `POST /_fake/faults`), per endpoint (`create`, `fetch`, `list`, `update`, `capture`,
  `void`, `refund`, `token`, `stcpay`, or `all`) for the next `count` calls (-1: until cleared), optionally after
  letting `after` calls through: `timeout` (sleep `delay`, default 25 s, then act and answer), `reset` (drop the
  connection, nothing done), `error_500` (JSON), `error_503_html`, `error_429` (`rate_limit_error`,
  `Retry-After: delay or 1`), `ambiguous_create` / `ambiguous` (act, then answer 500, or with `delay`: sleep,
  then answer as usual - the client has timed out by then), `ok` (clears; for one endpoint when given).
* Clock: `clock` (epoch seconds) is injectable and `advance_clock()` shifts it.

Control routes (no auth; loopback only):

    GET  /_fake                              this list
    GET  /_fake/payments                     {"payments": [...]} all payments, newest first (with "_fake" state)
    GET  /_fake/payments/{id}
    POST /_fake/payments/{id}/settle         mark settled (void refused afterwards)
    POST /_fake/payments/{id}/status         {"status", "message"?, "response_code"?, "event"?: true}
    POST /_fake/payments/{id}/events         {"type"?} fire a webhook with the current payment
    GET  /_fake/3ds/{id}[?result=approve|reject]   3-D Secure page for payments and tokens
    GET  /_fake/tokens                       {"tokens": [...]} (masked)
    GET|POST /_fake/faults                   {"mode", "count"?, "endpoint"?, "delay"?, "after"?}
    GET|POST /_fake/webhooks                 {"url"?, "secret"?, "mode"?, "duplicates"?, "window"?}
    POST /_fake/webhooks/flush               send held (out_of_order) events now, reversed
    GET  /_fake/webhooks/attempts            every delivery attempt
    GET  /_fake/calls[?endpoint=create]      request log (card data masked)
    POST /_fake/clock                        {"advance": seconds}
    POST /_fake/reset                        forget payments, tokens, calls, attempts, faults, clock offset
"""

from __future__ import annotations

import argparse
import base64
import binascii
import contextlib
import heapq
import html
import http.client
import itertools
import json
import logging
import os
import re
import secrets
import signal
import socket
import struct
import sys
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import FrameType, TracebackType
from typing import Any
from urllib.parse import parse_qs, parse_qsl, quote, unquote, urlencode, urlsplit, urlunsplit

from .base import mask_card_number, redact_card_data

logger = logging.getLogger("mawid.providers.moyasar.fake")

ENDPOINTS: tuple[str, ...] = ("create", "fetch", "list", "update", "capture", "void", "refund", "token", "stcpay")
FAULT_MODES: tuple[str, ...] = (
    "timeout",
    "reset",
    "error_500",
    "error_503_html",
    "error_429",
    "ambiguous_create",
    "ambiguous",
    "ok",
)
WEBHOOK_MODES: tuple[str, ...] = ("normal", "duplicate", "out_of_order", "wrong_secret")
EVENT_FOR_STATUS: dict[str, str] = {
    "paid": "payment_paid",
    "failed": "payment_failed",
    "authorized": "payment_authorized",
    "captured": "payment_captured",
    "refunded": "payment_refunded",
    "voided": "payment_voided",
    "verified": "payment_verified",
}
STATUSES: tuple[str, ...] = ("initiated", "paid", "failed", "authorized", "captured", "refunded", "voided", "verified")
_MINOR_UNITS = {"BHD": 3, "JOD": 3, "KWD": 3, "OMR": 3, "TND": 3, "JPY": 0, "KRW": 0}
_APPROVED = ("APPROVED", "00")
_3DS_NOT_ENROLLED = "3-D Secure transaction attempt failed (Card not enrolled)"
_3DS_FAILED = "3-D Secure transaction attempt failed (Authentication failed)"
_UNSET: Any = object()
MAX_LOG_ENTRIES = 10_000  # request log and webhook attempts keep the newest this many (a dev server runs for days)
# The fake's own test credentials (not secrets): any client pointed at a default fake uses these.
DEFAULT_SECRET_KEY = "sk_test_fake"  # noqa: S105
DEFAULT_PUBLISHABLE_KEY = "pk_test_fake"
DEFAULT_WEBHOOK_SECRET = "fake-webhook-secret"  # noqa: S105


@dataclass(frozen=True)
class CardBehaviour:
    brand: str
    message: str  # APPROVED or the decline reason
    response_code: str | None
    approved: bool = True
    three_ds: str = "ok"  # ok | not_enrolled | rejected


TEST_CARDS: dict[str, CardBehaviour] = {
    "4111111111111111": CardBehaviour("visa", *_APPROVED),
    "4201320111111010": CardBehaviour("mada", *_APPROVED),
    "5421080101000000": CardBehaviour("master", *_APPROVED),
    "340000000900000": CardBehaviour("amex", *_APPROVED),
    "4123120001090000": CardBehaviour("visa", "INSUFFICIENT FUNDS", "51", approved=False),
    "4201320000311101": CardBehaviour("mada", "INSUFFICIENT FUNDS", "51", approved=False),
    "4123120001090109": CardBehaviour("visa", "DECLINED", "05", approved=False),
    "4201321234411220": CardBehaviour("mada", "DECLINED", "05", approved=False),
    "4123120000000000": CardBehaviour("visa", "UNSPECIFIED FAILURE", "99", approved=False),
    "4123128518640738": CardBehaviour("visa", "EXPIRED CARD", "54", approved=False),
    "4111116611600661": CardBehaviour("visa", _3DS_NOT_ENROLLED, None, approved=False, three_ds="not_enrolled"),
    "4111115784228433": CardBehaviour("visa", _3DS_FAILED, None, approved=False, three_ds="rejected"),
}


def _brand_for(number: str) -> str:
    if number.startswith(("34", "37")):
        return "amex"
    if number[:6] in ("420132", "440647", "588845", "968208", "636120"):
        return "mada"
    if number.startswith("4"):
        return "visa"
    if number[:2] in ("51", "52", "53", "54", "55") or number[:1] == "2":
        return "master"
    return "unknown"


def card_behaviour(number: str) -> CardBehaviour:
    """What the fake does with a card number: the test-card table, else a decline (unlisted numbers fail)."""
    return TEST_CARDS.get(number) or CardBehaviour(_brand_for(number), "INVALID CARD", "14", approved=False)


def _luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def format_amount(amount: int, currency: str) -> str:
    """`15000, "SAR"` -> `"150.00 SAR"` (integer arithmetic, the currency's minor unit)."""
    digits = _MINOR_UNITS.get(currency, 2)
    sign = "-" if amount < 0 else ""
    value = abs(int(amount))
    if digits == 0:
        return f"{sign}{value} {currency}"
    unit = 10**digits
    return f"{sign}{value // unit}.{value % unit:0{digits}d} {currency}"


# --- HTTP plumbing ------------------------------------------------------------------------------------------------


@dataclass
class _Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: Message
    body: bytes
    client_ip: str

    def q(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[0] if values else default


@dataclass
class _Response:
    status: int
    body: bytes = b""
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)
    reset: bool = False


def _json(status: int, payload: Any, headers: dict[str, str] | None = None) -> _Response:
    return _Response(status, json.dumps(payload, ensure_ascii=False).encode(), headers=dict(headers or {}))


def _error(status: int, error_type: str, message: str, errors: Any = None) -> _Response:
    return _json(status, {"type": error_type, "message": message, "errors": errors})


def _invalid(message: str, errors: Any = None) -> _Response:
    return _error(400, "invalid_request_error", message, errors)


def _not_found(what: str = "Object") -> _Response:
    return _error(404, "api_error", f"{what} not found")


def _html(status: int, body: str) -> _Response:
    return _Response(status, body.encode(), content_type="text/html; charset=utf-8")


class _BadBody(Exception):
    pass


def _parse_form(raw: str) -> dict[str, Any]:
    """`source[type]=creditcard&metadata[k]=v` -> nested dicts (Moyasar accepts form-encoded input too)."""
    out: dict[str, Any] = {}
    for key, value in parse_qsl(raw, keep_blank_values=True):
        parts = re.findall(r"[^\[\]]+", key)
        if not parts:
            continue
        cur = out
        for part in parts[:-1]:
            nxt = cur.get(part)
            if not isinstance(nxt, dict):
                nxt = cur[part] = {}
            cur = nxt
        cur[parts[-1]] = value
    return out


def _parse_body(req: _Request) -> tuple[dict[str, Any], bool]:
    """The request body as a dict and whether it was form-encoded."""
    if not req.body.strip():
        return {}, False
    ctype = (req.headers.get("Content-Type") or "").split(";")[0].strip().lower()
    text = req.body.decode("utf-8", errors="replace")
    if ctype == "application/x-www-form-urlencoded":
        return _parse_form(text), True
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise _BadBody("Body is not valid JSON") from exc
    if not isinstance(data, dict):
        raise _BadBody("Body must be a JSON object")
    return data, False


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "MoyasarFake/1.0"
    sys_version = ""
    server: _Server

    def setup(self) -> None:
        super().setup()
        with contextlib.suppress(OSError):  # headers and body go in separate writes: no Nagle delay
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def do_PUT(self) -> None:
        self._handle("PUT")

    def do_PATCH(self) -> None:
        self._handle("PATCH")

    def do_DELETE(self) -> None:
        self._handle("DELETE")

    def log_message(self, *args: Any) -> None:  # the request log replaces stderr noise
        return

    def _handle(self, method: str) -> None:
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if length < 0:
            self._send(_invalid("Invalid Content-Length"))
            self.close_connection = True
            return
        body = self.rfile.read(length) if length else b""
        split = urlsplit(self.path)
        req = _Request(
            method=method,
            path=split.path,
            query=parse_qs(split.query, keep_blank_values=True),
            headers=self.headers,
            body=body,
            client_ip=self.client_address[0],
        )
        try:
            resp = self.server.fake._dispatch(req)
        except Exception:
            logger.exception("moyasar_fake_error")
            resp = _error(500, "api_error", "Fake internal error")
        if resp.reset:
            self._drop()
            return
        self._send(resp)

    def _send(self, resp: _Response) -> None:
        try:
            self.send_response(resp.status)
            self.send_header("Content-Type", resp.content_type)
            self.send_header("Content-Length", str(len(resp.body)))
            for key, value in resp.headers.items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(resp.body)
            self.wfile.flush()
        except OSError:  # the client went away (e.g. it timed out while we slept)
            self.close_connection = True

    def _drop(self) -> None:
        """Close the connection with a TCP reset and no response."""
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        with contextlib.suppress(OSError):
            self.rfile.close()
            self.connection.close()


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64

    def __init__(self, address: tuple[str, int], fake: MoyasarFake) -> None:
        self.fake = fake
        super().__init__(address, _Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:  # no tracebacks on stderr for resets
        logger.debug("moyasar_fake_connection_error", exc_info=True)


# --- webhooks -----------------------------------------------------------------------------------------------------


@dataclass
class _Delivery:
    event: dict[str, Any]
    url: str
    copy: int
    attempt: int
    generation: int


class _WebhookSender:
    """Delivers events from one background thread: first attempts in order, retries on their own schedule."""

    def __init__(
        self,
        *,
        url: str | None,
        secret: str,
        retry_delays: tuple[float, ...],
        timeout: float = 5.0,
    ) -> None:
        self.url = url
        self.secret = secret
        self.mode = "normal"
        self.duplicates = 2
        self.window: float | None = 1.0
        self.retry_delays = tuple(float(d) for d in retry_delays)
        self.timeout = timeout
        self._cond = threading.Condition()
        self._heap: list[tuple[float, int, _Delivery]] = []
        self._held: list[dict[str, Any]] = []
        self._held_url: str | None = None
        self._held_deadline: float | None = None
        self._attempts: list[dict[str, Any]] = []
        self._seq = itertools.count()
        self._generation = 0
        self._inflight = 0
        self._stopping = False
        self._thread: threading.Thread | None = None
        self._stamp: Callable[[], str] = lambda: datetime.now(UTC).isoformat()

    # configuration and control
    def config(self) -> dict[str, Any]:
        with self._cond:
            return {
                "url": self.url,
                "secret": self.secret,
                "mode": self.mode,
                "duplicates": self.duplicates,
                "window": self.window,
                "retry_delays": list(self.retry_delays),
                "held": len(self._held),
                "pending": len(self._heap) + self._inflight,
            }

    def configure(
        self,
        *,
        url: Any = _UNSET,
        secret: Any = _UNSET,
        mode: Any = _UNSET,
        duplicates: Any = _UNSET,
        window: Any = _UNSET,
        retry_delays: Any = _UNSET,
    ) -> None:
        if mode is not _UNSET and mode not in WEBHOOK_MODES:
            raise ValueError(f"mode must be one of {', '.join(WEBHOOK_MODES)}")
        if url is not _UNSET and url is not None and urlsplit(str(url)).scheme not in ("http", "https"):
            raise ValueError("url must be an http(s) URL or null")
        if duplicates is not _UNSET and (not isinstance(duplicates, int) or duplicates < 1):
            raise ValueError("duplicates must be a positive integer")
        if window is not _UNSET and window is not None and (not isinstance(window, int | float) or window < 0):
            raise ValueError("window must be a number of seconds or null")
        with self._cond:
            if url is not _UNSET:
                self.url = url
            if secret is not _UNSET:
                self.secret = str(secret)
            if duplicates is not _UNSET:
                self.duplicates = duplicates
            if window is not _UNSET:
                self.window = None if window is None else float(window)
                if self._held:
                    self._held_deadline = None if self.window is None else time.monotonic() + self.window
            if retry_delays is not _UNSET:
                self.retry_delays = tuple(float(d) for d in retry_delays)
            if mode is not _UNSET:
                if self.mode == "out_of_order" and mode != "out_of_order":
                    self._release_held_locked()
                self.mode = mode
            self._cond.notify_all()

    def publish(
        self, event_type: str, data: dict[str, Any], created_at: str, account_name: str
    ) -> dict[str, Any] | None:
        with self._cond:
            if not self.url:
                return None
            secret = self.secret if self.mode != "wrong_secret" else "wrong-" + secrets.token_hex(8)
            event = {
                "id": str(uuid.uuid4()),
                "type": event_type,
                "created_at": created_at,
                "secret_token": secret,
                "account_name": account_name,
                "live": False,
                "data": data,
            }
            if self.mode == "out_of_order":
                if self._held and self._held_url != self.url:
                    self._release_held_locked()
                self._held.append(event)
                self._held_url = self.url
                if self._held_deadline is None and self.window is not None:
                    self._held_deadline = time.monotonic() + self.window
            else:
                copies = self.duplicates if self.mode == "duplicate" else 1
                for n in range(1, copies + 1):
                    self._push_locked(_Delivery(event, self.url, n, 1, self._generation), time.monotonic())
            self._cond.notify_all()
            return event

    def flush(self) -> int:
        with self._cond:
            n = len(self._held)
            self._release_held_locked()
            self._cond.notify_all()
            return n

    def attempts(self) -> list[dict[str, Any]]:
        with self._cond:
            return [dict(a) for a in self._attempts]

    def wait_for_attempts(
        self, count: int, timeout: float, predicate: Callable[[dict[str, Any]], bool] | None = None
    ) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                matching = [dict(a) for a in self._attempts if predicate is None or predicate(a)]
                remaining = deadline - time.monotonic()
                if len(matching) >= count or remaining <= 0:
                    return matching
                self._cond.wait(remaining)

    def wait_idle(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._heap or self._inflight or self._held:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._cond.wait(remaining)
            return True

    def reset(self) -> None:
        with self._cond:
            self._generation += 1
            self._heap.clear()
            self._held.clear()
            self._held_deadline = None
            self._attempts.clear()
            self.mode = "normal"
            self._cond.notify_all()

    def start(self) -> None:
        with self._cond:
            self._stopping = False
        self._thread = threading.Thread(target=self._run, name="moyasar-fake-webhooks", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(timeout=self.timeout + 1)
            self._thread = None

    # internals
    def _push_locked(self, delivery: _Delivery, due: float) -> None:
        heapq.heappush(self._heap, (due, next(self._seq), delivery))

    def _release_held_locked(self) -> None:
        now = time.monotonic()
        url = self._held_url or self.url
        for event in reversed(self._held):
            if url:
                self._push_locked(_Delivery(event, url, 1, 1, self._generation), now)
        self._held.clear()
        self._held_deadline = None

    def _run(self) -> None:
        while True:
            with self._cond:
                while True:
                    if self._stopping:
                        return
                    now = time.monotonic()
                    if self._held and self._held_deadline is not None and now >= self._held_deadline:
                        self._release_held_locked()
                    if self._heap and self._heap[0][0] <= now:
                        _, _, delivery = heapq.heappop(self._heap)
                        self._inflight += 1
                        break
                    waits = [self._heap[0][0]] if self._heap else []
                    if self._held and self._held_deadline is not None:
                        waits.append(self._held_deadline)
                    self._cond.wait(max(0.0, min(waits) - now) if waits else None)
            try:
                self._attempt(delivery)
            finally:
                with self._cond:
                    self._inflight -= 1
                    self._cond.notify_all()

    def _attempt(self, delivery: _Delivery) -> None:
        status, error = self._post(delivery.url, delivery.event)
        ok = status is not None and 200 <= status < 300
        event = delivery.event
        with self._cond:
            if delivery.generation != self._generation:
                return
            self._attempts.append(
                {
                    "event_id": event["id"],
                    "type": event["type"],
                    "payment_id": (event.get("data") or {}).get("id"),
                    "url": delivery.url,
                    "copy": delivery.copy,
                    "attempt": delivery.attempt,
                    "status_code": status,
                    "error": error,
                    "ok": ok,
                    "secret_token_correct": event["secret_token"] == self.secret,
                    "at": self._stamp(),
                }
            )
            if len(self._attempts) > MAX_LOG_ENTRIES:
                del self._attempts[: len(self._attempts) - MAX_LOG_ENTRIES]
            if not ok and delivery.attempt <= len(self.retry_delays):
                due = time.monotonic() + self.retry_delays[delivery.attempt - 1]
                retry = _Delivery(event, delivery.url, delivery.copy, delivery.attempt + 1, delivery.generation)
                self._push_locked(retry, due)
            self._cond.notify_all()

    def _post(self, url: str, event: dict[str, Any]) -> tuple[int | None, str | None]:
        parts = urlsplit(url)
        conn_cls = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
        path = parts.path or "/"
        if parts.query:
            path += "?" + parts.query
        body = json.dumps(event, ensure_ascii=False).encode()
        conn = conn_cls(parts.hostname or "127.0.0.1", parts.port, timeout=self.timeout)
        try:
            conn.request(
                "POST",
                path,
                body=body,
                headers={"Content-Type": "application/json", "User-Agent": "Moyasar-Fake-Webhooks/1.0"},
            )
            resp = conn.getresponse()
            resp.read()
            return resp.status, None
        except (OSError, http.client.HTTPException) as exc:
            return None, f"{type(exc).__name__}: {exc}"
        finally:
            conn.close()


# --- the fake ----------------------------------------------------------------------------------------------------


@dataclass
class _Fault:
    mode: str
    endpoint: str
    remaining: int  # -1: until cleared
    delay: float | None
    after: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "mode": self.mode,
            "endpoint": self.endpoint,
            "count": self.remaining,
            "delay": self.delay,
            "after": self.after,
        }


@dataclass
class _Payment:
    data: dict[str, Any]  # the public fields, without the *_format ones
    seq: int
    created_ts: float
    manual: bool = False
    kind: str = "card"  # card | applepay | stcpay
    card: CardBehaviour | None = None
    settled: bool = False
    authorized_ts: float | None = None
    paid_ts: float | None = None
    otp_token: str | None = None
    save_token: str | None = None
    events: list[str] = field(default_factory=list)


@dataclass
class _Token:
    data: dict[str, Any]
    number: str  # kept inside the fake only
    seq: int
    callback_url: str | None = None
    deleted: bool = False


class MoyasarFake:
    """The fake server. Thread-safe; all state lives behind one lock."""

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        secret_key: str = DEFAULT_SECRET_KEY,
        publishable_key: str = DEFAULT_PUBLISHABLE_KEY,
        webhook_url: str | None = None,
        webhook_secret: str = DEFAULT_WEBHOOK_SECRET,
        account_name: str = "Mawid",
        clock: Callable[[], float] = time.time,
        webhook_retry_delays: tuple[float, ...] = (0.2, 0.5, 1, 2, 4),
        page_size: int = 20,
        hold_seconds: float = 7 * 24 * 3600,
        settle_after: float | None = None,
        webhook_timeout: float = 5.0,
    ) -> None:
        for key in (secret_key, publishable_key):
            if "_live_" in key:
                raise ValueError("The Moyasar fake refuses live keys")
        if not secret_key.startswith("sk_") or not publishable_key.startswith("pk_"):
            raise ValueError("secret_key must start with sk_ and publishable_key with pk_")
        self.host = host
        self._requested_port = port
        self.secret_key = secret_key
        self.publishable_key = publishable_key
        self.account_name = account_name
        self.page_size = max(1, page_size)
        self.hold_seconds = hold_seconds
        self.settle_after = settle_after
        self._clock = clock
        self._clock_offset = 0.0
        self._lock = threading.RLock()
        self._payments: dict[str, _Payment] = {}
        self._tokens: dict[str, _Token] = {}
        self._calls: list[dict[str, Any]] = []
        self._faults: list[_Fault] = []
        self._seq = itertools.count(1)
        self._stopping = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._webhooks = _WebhookSender(
            url=webhook_url, secret=webhook_secret, retry_delays=webhook_retry_delays, timeout=webhook_timeout
        )
        self._webhooks._stamp = lambda: self._iso(self.now())
        self._initial_webhook = (webhook_url, webhook_secret)

    # --- lifecycle --------------------------------------------------------------------------------------------

    def start(self) -> MoyasarFake:
        if os.environ.get("MAWID_ENV", "").strip().lower() == "production":
            raise RuntimeError("The Moyasar fake does not run when MAWID_ENV is production")
        if self._server is not None:
            return self
        self._stopping.clear()
        self._server = _Server((self.host, self._requested_port), self)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, name="moyasar-fake", daemon=True
        )
        self._thread.start()
        self._webhooks.start()
        logger.info("moyasar_fake_started", extra={"base_url": self.base_url})
        return self

    def stop(self) -> None:
        self._stopping.set()  # wakes handlers sleeping in a timeout fault
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        self._webhooks.stop()

    def __enter__(self) -> MoyasarFake:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("The fake is not running")
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        """`http://host:port`; the API is under `/v1` (`api_url`), the controls under `/_fake/`."""
        host = self.host if ":" not in self.host else f"[{self.host}]"
        return f"http://{host}:{self.port}"

    @property
    def api_url(self) -> str:
        return self.base_url + "/v1"

    # --- clock ------------------------------------------------------------------------------------------------

    def now(self) -> float:
        return float(self._clock()) + self._clock_offset

    def advance_clock(self, seconds: float) -> None:
        with self._lock:
            self._clock_offset += float(seconds)

    @staticmethod
    def _iso(ts: float) -> str:
        return datetime.fromtimestamp(ts, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")

    # --- in-process controls ----------------------------------------------------------------------------------

    def payments(self) -> list[dict[str, Any]]:
        """Every payment as the API renders it, plus a `_fake` block with internal state; newest first."""
        with self._lock:
            recs = sorted(self._payments.values(), key=lambda r: r.seq, reverse=True)
            return [self._render_internal(r) for r in recs]

    def payment(self, payment_id: str) -> dict[str, Any]:
        with self._lock:
            return self._render_internal(self._get_payment_or_raise(payment_id))

    def tokens(self) -> list[dict[str, Any]]:
        with self._lock:
            recs = sorted(self._tokens.values(), key=lambda t: t.seq, reverse=True)
            return [dict(t.data, deleted=t.deleted) for t in recs]

    def create_token(
        self,
        *,
        number: str = "4111111111111111",
        name: str = "Test Cardholder",
        month: int = 12,
        year: int | None = None,
        cvc: str = "123",
        save_only: bool = True,
        callback_url: str | None = "http://127.0.0.1/callback",
        metadata: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        """What a front end does with the publishable key; returns the token JSON (raises ValueError if refused)."""
        body = {
            "name": name,
            "number": number,
            "month": month,
            "year": year or datetime.fromtimestamp(self.now(), UTC).year + 3,
            "cvc": cvc,
            "save_only": save_only,
            "callback_url": callback_url,
            "metadata": metadata or {},
        }
        with self._lock:
            resp = self._token_create(body, form=False)
        data: dict[str, Any] = json.loads(resp.body)
        if resp.status != 201:
            raise ValueError(f"token refused: {data}")
        return data

    def complete_3ds(self, object_id: str, *, approve: bool = True) -> str | None:
        """Act as the payer on the 3-D Secure page. Returns the redirect URL (None without callback_url)."""
        resp = self._three_ds(object_id, "approve" if approve else "reject")
        if resp.status == 404:
            raise KeyError(object_id)
        return resp.headers.get("Location")

    def settle(self, payment_id: str) -> dict[str, Any]:
        with self._lock:
            rec = self._get_payment_or_raise(payment_id)
            rec.settled = True
            return self._render_internal(rec)

    def force_status(
        self,
        payment_id: str,
        status: str,
        *,
        message: str | None = None,
        response_code: str | None = None,
        fire_event: bool = True,
    ) -> dict[str, Any]:
        if status not in STATUSES:
            raise ValueError(f"status must be one of {', '.join(STATUSES)}")
        with self._lock:
            rec = self._get_payment_or_raise(payment_id)
            now = self.now()
            p = rec.data
            if status == "captured" and not p["captured"]:
                p["captured"], p["captured_at"] = p["amount"], self._iso(now)
            if status == "refunded" and not p["refunded"]:
                p["refunded"], p["refunded_at"] = p["captured"] or p["amount"], self._iso(now)
            if status == "voided":
                p["voided_at"] = self._iso(now)
            if status in ("paid", "authorized") and message is None:
                message, response_code = _APPROVED
            self._transition(rec, status, message=message, response_code=response_code, emit=fire_event)
            return self._render_internal(rec)

    def fire_event(self, payment_id: str, event_type: str | None = None) -> dict[str, Any] | None:
        """Send a webhook for the payment as it is now (type: from its status unless given). None if webhooks
        are off."""
        with self._lock:
            rec = self._get_payment_or_raise(payment_id)
            kind = event_type or EVENT_FOR_STATUS.get(rec.data["status"])
            if not kind:
                raise ValueError(f"no event for status {rec.data['status']}; pass a type")
            return self._emit(rec, kind)

    def set_fault(
        self,
        mode: str,
        *,
        count: int = 1,
        endpoint: str | None = None,
        delay: float | None = None,
        after: int = 0,
    ) -> None:
        if mode not in FAULT_MODES:
            raise ValueError(f"mode must be one of {', '.join(FAULT_MODES)}")
        if endpoint is None:
            endpoint = "create" if mode == "ambiguous_create" else "all"
        if endpoint != "all" and endpoint not in ENDPOINTS:
            raise ValueError(f"endpoint must be 'all' or one of {', '.join(ENDPOINTS)}")
        if isinstance(count, bool) or not isinstance(count, int) or count == 0 or count < -1:
            raise ValueError("count must be a positive integer, or -1 for 'until cleared'")
        if delay is not None and (isinstance(delay, bool) or not isinstance(delay, int | float) or delay < 0):
            raise ValueError("delay must be a non-negative number of seconds")
        if isinstance(after, bool) or not isinstance(after, int) or after < 0:
            raise ValueError("after must be a non-negative integer")
        with self._lock:
            if mode == "ok":
                self._faults = [f for f in self._faults if endpoint != "all" and f.endpoint != endpoint]
                return
            self._faults.append(_Fault(mode, endpoint, count, None if delay is None else float(delay), after))

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def faults(self) -> list[dict[str, Any]]:
        with self._lock:
            return [f.as_dict() for f in self._faults]

    def configure_webhooks(
        self,
        *,
        url: Any = _UNSET,
        secret: Any = _UNSET,
        mode: Any = _UNSET,
        duplicates: Any = _UNSET,
        window: Any = _UNSET,
        retry_delays: Any = _UNSET,
    ) -> dict[str, Any]:
        """Change where and how webhooks go; only the arguments given change. `url=None` turns them off."""
        self._webhooks.configure(
            url=url, secret=secret, mode=mode, duplicates=duplicates, window=window, retry_delays=retry_delays
        )
        return self._webhooks.config()

    def webhook_config(self) -> dict[str, Any]:
        return self._webhooks.config()

    def flush_webhooks(self) -> int:
        """Send the events held by `out_of_order` mode now, newest first. Returns how many were held."""
        return self._webhooks.flush()

    def webhook_attempts(self) -> list[dict[str, Any]]:
        return self._webhooks.attempts()

    def wait_for_webhook_attempts(
        self, count: int, *, timeout: float = 5.0, predicate: Callable[[dict[str, Any]], bool] | None = None
    ) -> list[dict[str, Any]]:
        """Block until at least `count` attempts (matching `predicate`) are recorded or `timeout` passes."""
        return self._webhooks.wait_for_attempts(count, timeout, predicate)

    def wait_for_webhooks_idle(self, timeout: float = 5.0) -> bool:
        return self._webhooks.wait_idle(timeout)

    def calls(self, endpoint: str | None = None) -> list[dict[str, Any]]:
        """The request log of `/v1` calls, oldest first (bodies with card data masked)."""
        with self._lock:
            return [dict(c) for c in self._calls if endpoint is None or c["endpoint"] == endpoint]

    def reset(self) -> None:
        """Forget payments, tokens, calls, faults, webhook attempts and pending deliveries, the clock offset and
        the webhook mode. The webhook URL and secret stay as configured."""
        with self._lock:
            self._payments.clear()
            self._tokens.clear()
            self._calls.clear()
            self._faults.clear()
            self._clock_offset = 0.0
        self._webhooks.reset()

    # --- dispatch ---------------------------------------------------------------------------------------------

    _API_ROUTES: tuple[tuple[str, re.Pattern[str], str, str], ...] = (
        ("POST", re.compile(r"^/v1/payments/?$"), "create", "_api_create"),
        ("GET", re.compile(r"^/v1/payments/?$"), "list", "_api_list"),
        ("GET", re.compile(r"^/v1/payments/([^/]+)/?$"), "fetch", "_api_fetch"),
        ("PUT", re.compile(r"^/v1/payments/([^/]+)/?$"), "update", "_api_update"),
        ("PATCH", re.compile(r"^/v1/payments/([^/]+)/?$"), "update", "_api_update"),
        ("POST", re.compile(r"^/v1/payments/([^/]+)/capture/?$"), "capture", "_api_capture"),
        ("POST", re.compile(r"^/v1/payments/([^/]+)/void/?$"), "void", "_api_void"),
        ("POST", re.compile(r"^/v1/payments/([^/]+)/refund/?$"), "refund", "_api_refund"),
        ("POST", re.compile(r"^/v1/tokens/?$"), "token", "_api_token_create"),
        ("GET", re.compile(r"^/v1/tokens/([^/]+)/?$"), "token", "_api_token_fetch"),
        ("DELETE", re.compile(r"^/v1/tokens/([^/]+)/?$"), "token", "_api_token_delete"),
        ("POST", re.compile(r"^/v1/stc_pays/([^/]+)/proceed/?$"), "stcpay", "_api_stc_proceed"),
        ("GET", re.compile(r"^/v1/stc_pays/([^/]+)/proceed/?$"), "stcpay", "_api_stc_proceed"),
    )
    _PK_ALLOWED = frozenset({"_api_create", "_api_token_create"})
    _NO_AUTH = frozenset({"_api_stc_proceed"})

    def _dispatch(self, req: _Request) -> _Response:
        if req.path == "/v1" or req.path.startswith("/v1/"):
            return self._api(req)
        if req.path == "/_fake" or req.path.startswith("/_fake/"):
            return self._control(req)
        return _not_found("Route")

    def _api(self, req: _Request) -> _Response:
        started = time.monotonic()
        route = None
        args: tuple[str, ...] = ()
        for method, pattern, endpoint, handler in self._API_ROUTES:
            m = pattern.match(req.path)
            if m and method == req.method:
                route, args = (endpoint, handler), tuple(unquote(g) for g in m.groups())
                break
        try:
            body, form = _parse_body(req) if req.method in ("POST", "PUT", "PATCH") else ({}, False)
            bad_body: str | None = None
        except _BadBody as exc:
            body, form, bad_body = {}, False, str(exc)
        key_kind = self._key_kind(req.headers.get("Authorization"))
        if route is None:
            resp = _not_found("Route")
            self._log_call(req, "unknown", key_kind, resp, None, body, started)
            return resp
        endpoint, handler = route

        fault = self._take_fault(endpoint)
        if fault is not None and fault.mode not in ("timeout", "ambiguous", "ambiguous_create"):
            resp = self._fault_response(fault)
            self._log_call(req, endpoint, key_kind, resp, fault.mode, body, started, args)
            return resp
        if fault is not None and fault.mode == "timeout":
            self._stopping.wait(25.0 if fault.delay is None else fault.delay)
            if self._stopping.is_set():
                return _Response(0, reset=True)

        if handler not in self._NO_AUTH and key_kind is None:
            resp = _error(401, "authentication_error", "Invalid authorization credentials")
        elif handler not in self._NO_AUTH and key_kind == "pk" and handler not in self._PK_ALLOWED:
            resp = _error(403, "authentication_error", "This API key is not allowed to perform this operation")
        elif bad_body is not None:
            resp = _invalid(bad_body)
        else:
            with self._lock:
                resp = getattr(self, handler)(req, body, form, *args)

        if fault is not None and fault.mode in ("ambiguous", "ambiguous_create"):
            if fault.delay:
                self._stopping.wait(fault.delay)
            else:
                resp = _error(500, "api_error", "Internal server error")
        self._log_call(req, endpoint, key_kind, resp, fault.mode if fault else None, body, started, args)
        return resp

    def _key_kind(self, header: str | None) -> str | None:
        if not header or not header.lower().startswith("basic "):
            return None
        try:
            decoded = base64.b64decode(header[6:].strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return None
        username = decoded.split(":", 1)[0]
        if secrets.compare_digest(username.encode(), self.secret_key.encode()):
            return "sk"
        if secrets.compare_digest(username.encode(), self.publishable_key.encode()):
            return "pk"
        return None

    def _take_fault(self, endpoint: str) -> _Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.endpoint not in ("all", endpoint):
                    continue
                if fault.after > 0:
                    fault.after -= 1
                    return None
                if fault.remaining > 0:
                    fault.remaining -= 1
                    if fault.remaining == 0:
                        self._faults.remove(fault)
                return _Fault(fault.mode, fault.endpoint, fault.remaining, fault.delay, 0)
        return None

    @staticmethod
    def _fault_response(fault: _Fault) -> _Response:
        if fault.mode == "reset":
            return _Response(0, reset=True)
        if fault.mode == "error_500":
            return _error(500, "api_error", "Internal server error")
        if fault.mode == "error_503_html":
            return _html(
                503,
                "<html><head><title>503 Service Temporarily Unavailable</title></head>"
                "<body><center><h1>503 Service Temporarily Unavailable</h1></center></body></html>",
            )
        retry_after = fault.delay if fault.delay is not None else 1
        resp = _error(429, "rate_limit_error", "Too many requests, please try again later")
        resp.headers["Retry-After"] = str(max(0, round(retry_after)))
        return resp

    def _log_call(
        self,
        req: _Request,
        endpoint: str,
        key_kind: str | None,
        resp: _Response,
        fault: str | None,
        body: dict[str, Any],
        started: float,
        args: tuple[str, ...] = (),
    ) -> None:
        entry = {
            "at": self._iso(self.now()),
            "method": req.method,
            "path": _redact_path(req.path),
            "query": {k: v if len(v) > 1 else v[0] for k, v in req.query.items() if k != "otp_value"},
            "endpoint": endpoint,
            "key": key_kind,
            "object_id": args[0] if args else None,
            "status": None if resp.reset else resp.status,
            "fault": fault,
            "body": redact_card_data(body) if body else None,
            "duration_ms": round((time.monotonic() - started) * 1000, 1),
        }
        with self._lock:
            self._calls.append(entry)
            if len(self._calls) > MAX_LOG_ENTRIES:
                del self._calls[: len(self._calls) - MAX_LOG_ENTRIES]

    # --- API handlers (called with the lock held) -------------------------------------------------------------

    def _api_create(self, req: _Request, body: dict[str, Any], form: bool) -> _Response:
        errors: dict[str, list[str]] = {}
        amount = _as_int(body.get("amount"), form)
        if "amount" not in body or body.get("amount") in (None, ""):
            errors["amount"] = ["is required"]
        elif amount is None:
            errors["amount"] = ["must be an integer"]
        elif amount < 100:
            errors["amount"] = ["must be greater than or equal to 100"]
        currency = body.get("currency") or "SAR"
        if not isinstance(currency, str) or not re.fullmatch(r"[A-Za-z]{3}", currency):
            errors["currency"] = ["is invalid"]
        else:
            currency = currency.upper()
        description = body.get("description")
        if description is not None and not isinstance(description, str):
            errors["description"] = ["must be a string"]
        given_id = body.get("given_id")
        payment_id: str | None = None
        if given_id not in (None, ""):
            try:
                payment_id = str(uuid.UUID(str(given_id)))
            except ValueError:
                errors["given_id"] = ["is invalid"]
        metadata = _check_metadata(body.get("metadata"), errors)
        source = body.get("source")
        stype = source.get("type") if isinstance(source, dict) else None
        callback_url = body.get("callback_url")
        if not isinstance(source, dict):
            errors["source"] = ["is required"]
        elif stype not in ("creditcard", "token", "applepay", "stcpay"):
            errors["source.type"] = ["is required"] if not stype else ["is not supported"]
        else:
            if stype in ("creditcard", "token"):
                if callback_url in (None, ""):
                    errors["callback_url"] = ["is required"]
                elif not _is_url(callback_url):
                    errors["callback_url"] = ["is invalid"]
            elif callback_url not in (None, "") and not _is_url(callback_url):
                errors["callback_url"] = ["is invalid"]
        token: _Token | None = None
        number = ""
        if isinstance(source, dict) and stype == "creditcard":
            number = self._check_card(source, errors, prefix="source.")
            save_card = _as_bool(source.get("save_card"), False)
            if save_card and not _as_bool(source.get("3ds"), True):
                errors["source.save_card"] = ["requires 3-D Secure"]
        elif isinstance(source, dict) and stype == "token":
            tid = source.get("token")
            token = self._tokens.get(tid) if isinstance(tid, str) else None
            if not isinstance(tid, str) or not tid:
                errors["source.token"] = ["is required"]
            elif token is None or token.deleted:
                errors["source.token"] = ["is invalid"]
            elif token.data["status"] != "active":
                errors["source.token"] = [f"is {token.data['status']}, not active"]
            cvc = source.get("cvc")
            if cvc not in (None, "") and not re.fullmatch(r"\d{3,4}", str(cvc)):
                errors["source.cvc"] = ["is invalid"]
        elif isinstance(source, dict) and stype == "applepay":
            if source.get("token") in (None, "", {}):
                errors["source.token"] = ["is required"]
        elif isinstance(source, dict) and stype == "stcpay":
            mobile = source.get("mobile")
            if not isinstance(mobile, str) or not re.fullmatch(r"05\d{8}", mobile):
                errors["source.mobile"] = ["is invalid"]
        if errors or not isinstance(source, dict) or amount is None:
            return _invalid("Validation Failed", errors)

        if payment_id is not None and payment_id in self._payments:
            return _error(400, "used_given_id", "Payment is already created with this given_id")
        payment_id = payment_id or str(uuid.uuid4())
        now = self.now()
        rec = _Payment(
            data={
                "id": payment_id,
                "status": "initiated",
                "amount": amount,
                "fee": 0,
                "currency": currency,
                "refunded": 0,
                "refunded_at": None,
                "captured": 0,
                "captured_at": None,
                "voided_at": None,
                "description": description,
                "invoice_id": None,
                "ip": req.client_ip,
                "callback_url": callback_url or None,
                "created_at": self._iso(now),
                "updated_at": self._iso(now),
                "metadata": metadata,
                "source": {},
            },
            seq=next(self._seq),
            created_ts=now,
            manual=_as_bool(source.get("manual"), False) if stype != "stcpay" else False,
        )
        self._payments[payment_id] = rec

        if stype in ("creditcard", "token"):
            if token is not None:
                number = token.number
            behaviour = card_behaviour(number)
            rec.kind, rec.card = "card", behaviour
            rec.data["source"] = {
                "type": "creditcard",
                "company": behaviour.brand,
                "name": token.data["name"] if token else str(source.get("name")),
                "number": mask_card_number(number),
                "gateway_id": "moyasar_cc_" + secrets.token_hex(10),
                "reference_number": None,
                "token": token.data["id"] if token else None,
                "message": None,
                "transaction_url": None,
                "response_code": None,
                "authorization_code": None,
            }
            if stype == "creditcard" and _as_bool(source.get("save_card"), False):
                saved = self._new_token(
                    number=number,
                    name=str(source.get("name")),
                    month=_as_int(source.get("month"), True) or 0,
                    year=_norm_year(_as_int(source.get("year"), True) or 0),
                    metadata={},
                    callback_url=None,
                    status="initiated",
                    verification_url=None,
                )
                rec.save_token = saved.data["id"]
                rec.data["source"]["token"] = saved.data["id"]
            if not _as_bool(source.get("3ds"), True):
                self._settle_card(rec)
            elif behaviour.three_ds == "not_enrolled":
                self._transition(rec, "failed", message=behaviour.message, response_code=behaviour.response_code)
            else:
                rec.data["source"]["transaction_url"] = f"{self.base_url}/_fake/3ds/{payment_id}"
        elif stype == "applepay":
            rec.kind = "applepay"
            rec.data["source"] = {
                "type": "applepay",
                "company": "visa",
                "name": None,
                "number": "XXXX-XXXX-XXXX-1111",
                "gateway_id": "moyasar_ap_" + secrets.token_hex(10),
                "reference_number": None,
                "message": None,
                "response_code": None,
                "authorization_code": None,
            }
            if 20000 <= amount <= 30000:
                self._approve(rec)
            elif 110100 <= amount <= 120000:
                self._transition(rec, "failed", message="INSUFFICIENT FUNDS", response_code="51")
            else:
                self._transition(rec, "failed", message="UNSPECIFIED FAILURE", response_code="99")
        else:
            rec.kind = "stcpay"
            rec.otp_token = secrets.token_urlsafe(12)
            rec.data["source"] = {
                "type": "stcpay",
                "mobile": source["mobile"],
                "reference_number": None,
                "branch": source.get("branch"),
                "cashier": source.get("cashier"),
                "transaction_url": f"{self.base_url}/v1/stc_pays/{payment_id}/proceed?otp_token={rec.otp_token}",
                "message": None,
            }
            if source["mobile"] == "0515555555":
                self._transition(rec, "failed", message="STC Pay: the mobile number is not registered")
        return _json(201, self._render(rec))

    def _api_list(self, req: _Request, body: dict[str, Any], form: bool) -> _Response:
        try:
            page = max(1, int(req.q("page") or 1))
        except ValueError:
            return _invalid("Validation Failed", {"page": ["must be an integer"]})
        status = req.q("status")
        meta_filters = {
            m.group(1): v[0] for k, v in req.query.items() if (m := re.fullmatch(r"metadata\[([^\]]+)\]", k)) and v
        }
        created_gt = _parse_iso(req.q("created[gt]"))
        created_lt = _parse_iso(req.q("created[lt]"))
        recs = sorted(self._payments.values(), key=lambda r: r.seq, reverse=True)
        selected = [
            r
            for r in recs
            if (not status or r.data["status"] == status)
            and all(r.data["metadata"].get(k) == v for k, v in meta_filters.items())
            and (created_gt is None or r.created_ts > created_gt)
            and (created_lt is None or r.created_ts < created_lt)
        ]
        total = len(selected)
        pages = max(1, -(-total // self.page_size))
        chunk = selected[(page - 1) * self.page_size : page * self.page_size]
        meta = {
            "current_page": page,
            "next_page": page + 1 if page < pages else None,
            "prev_page": page - 1 if page > 1 else None,
            "total_pages": pages,
            "total_count": total,
        }
        return _json(200, {"payments": [self._render(r) for r in chunk], "meta": meta})

    def _api_fetch(self, req: _Request, body: dict[str, Any], form: bool, payment_id: str) -> _Response:
        rec = self._find(payment_id)
        return _json(200, self._render(rec)) if rec else _not_found("Payment")

    def _api_update(self, req: _Request, body: dict[str, Any], form: bool, payment_id: str) -> _Response:
        rec = self._find(payment_id)
        if rec is None:
            return _not_found("Payment")
        errors: dict[str, list[str]] = {}
        description = body.get("description", _UNSET)
        if description is not _UNSET and description is not None and not isinstance(description, str):
            errors["description"] = ["must be a string"]
        metadata = _check_metadata(body.get("metadata"), errors) if "metadata" in body else None
        if errors:
            return _invalid("Validation Failed", errors)
        if description is not _UNSET:
            rec.data["description"] = description
        if metadata is not None:
            rec.data["metadata"] = metadata
        rec.data["updated_at"] = self._iso(self.now())
        return _json(200, self._render(rec))

    def _api_capture(self, req: _Request, body: dict[str, Any], form: bool, payment_id: str) -> _Response:
        rec = self._find(payment_id)
        if rec is None:
            return _not_found("Payment")
        p = rec.data
        amount, err = _optional_positive_int(body, form)
        if err:
            return _invalid("Validation Failed", {"amount": [err]})
        if p["status"] != "authorized":
            return _invalid(f"Payment cannot be captured, its status is {p['status']}")
        now = self.now()
        if rec.authorized_ts is not None and now - rec.authorized_ts > self.hold_seconds:
            return _invalid("Authorization has expired and can no longer be captured")
        amount = p["amount"] if amount is None else amount
        if amount > p["amount"]:
            return _invalid("Validation Failed", {"amount": ["must be less than or equal to the authorized amount"]})
        p["captured"], p["captured_at"] = amount, self._iso(now)
        self._transition(rec, "captured")
        return _json(200, self._render(rec))

    def _api_void(self, req: _Request, body: dict[str, Any], form: bool, payment_id: str) -> _Response:
        rec = self._find(payment_id)
        if rec is None:
            return _not_found("Payment")
        p = rec.data
        if p["status"] not in ("authorized", "paid", "captured"):
            return _invalid(f"Payment cannot be voided, its status is {p['status']}")
        if p["status"] != "authorized" and self._is_settled(rec):
            return _invalid("Payment is already settled and cannot be voided, refund it instead")
        p["voided_at"] = self._iso(self.now())
        self._transition(rec, "voided")
        return _json(200, self._render(rec))

    def _api_refund(self, req: _Request, body: dict[str, Any], form: bool, payment_id: str) -> _Response:
        rec = self._find(payment_id)
        if rec is None:
            return _not_found("Payment")
        p = rec.data
        amount, err = _optional_positive_int(body, form)
        if err:
            return _invalid("Validation Failed", {"amount": [err]})
        if p["status"] not in ("paid", "captured", "refunded"):
            return _invalid(f"Payment cannot be refunded, its status is {p['status']}")
        refundable = (p["captured"] or p["amount"]) - p["refunded"]
        if refundable <= 0:
            return _invalid("Payment is already fully refunded")
        amount = refundable if amount is None else amount
        if amount > refundable:
            return _invalid(
                "Refund amount exceeds the refundable amount",
                {"amount": [f"must be less than or equal to {refundable}"]},
            )
        p["refunded"] += amount
        p["refunded_at"] = self._iso(self.now())
        self._transition(rec, "refunded")
        return _json(200, self._render(rec))

    def _api_token_create(self, req: _Request, body: dict[str, Any], form: bool) -> _Response:
        return self._token_create(body, form)

    def _api_token_fetch(self, req: _Request, body: dict[str, Any], form: bool, token_id: str) -> _Response:
        tok = self._tokens.get(token_id)
        if tok is None or tok.deleted:
            return _not_found("Token")
        return _json(200, dict(tok.data))

    def _api_token_delete(self, req: _Request, body: dict[str, Any], form: bool, token_id: str) -> _Response:
        tok = self._tokens.get(token_id)
        if tok is None or tok.deleted:
            return _not_found("Token")
        tok.deleted = True
        return _Response(204)

    def _api_stc_proceed(self, req: _Request, body: dict[str, Any], form: bool, payment_id: str) -> _Response:
        rec = self._find(payment_id)
        if rec is None or rec.kind != "stcpay":
            return _not_found("Payment")
        supplied = req.q("otp_token") or str(body.get("otp_token") or "")
        if not rec.otp_token or not secrets.compare_digest(supplied.encode(), rec.otp_token.encode()):
            return _error(401, "authentication_error", "Invalid OTP token")
        if rec.data["status"] != "initiated":
            return _invalid(f"Payment is {rec.data['status']}, not waiting for an OTP")
        otp = str(body.get("otp_value") or req.q("otp_value") or "")
        if otp in ("123456", "000000"):
            self._transition(rec, "paid", message="Paid", response_code=None)
            rec.data["source"]["reference_number"] = str(secrets.randbelow(10**12)).zfill(12)
        elif otp == "111111":
            self._transition(rec, "failed", message="Insufficient balance")
        else:
            self._transition(rec, "failed", message="Invalid OTP")
        return _json(200, self._render(rec))

    # --- tokens -----------------------------------------------------------------------------------------------

    def _token_create(self, body: dict[str, Any], form: bool) -> _Response:
        errors: dict[str, list[str]] = {}
        number = self._check_card(body, errors, prefix="")
        save_only = _as_bool(body.get("save_only"), False)
        callback_url = body.get("callback_url")
        if callback_url in (None, ""):
            if not save_only:
                errors["callback_url"] = ["is required"]
        elif not _is_url(callback_url):
            errors["callback_url"] = ["is invalid"]
        metadata = _check_metadata(body.get("metadata"), errors)
        if errors:
            return _invalid("Validation Failed", errors)
        tid = "token_" + secrets.token_hex(12)
        tok = self._new_token(
            token_id=tid,
            number=number,
            name=str(body.get("name")),
            month=_as_int(body.get("month"), True) or 0,
            year=_norm_year(_as_int(body.get("year"), True) or 0),
            metadata=metadata,
            callback_url=callback_url or None,
            status="active" if save_only else "initiated",
            verification_url=None if save_only else f"{self.base_url}/_fake/3ds/{tid}",
        )
        return _json(201, dict(tok.data))

    def _new_token(
        self,
        *,
        number: str,
        name: str,
        month: int,
        year: int,
        metadata: dict[str, str],
        callback_url: str | None,
        status: str,
        verification_url: str | None,
        token_id: str | None = None,
    ) -> _Token:
        tid = token_id or "token_" + secrets.token_hex(12)
        now = self._iso(self.now())
        brand = card_behaviour(number).brand
        last_day = _last_day_of_month(year, month)
        tok = _Token(
            data={
                "id": tid,
                "status": status,
                "brand": brand,
                "funding": "debit" if brand == "mada" else "credit",
                "country": "SA" if brand == "mada" else "US",
                "month": month,
                "year": year,
                "name": name,
                "last_four": number[-4:],
                "metadata": metadata,
                "message": None,
                "verification_url": verification_url,
                "created_at": now,
                "updated_at": now,
                "expires_at": last_day,
            },
            number=number,
            seq=next(self._seq),
            callback_url=callback_url,
        )
        self._tokens[tid] = tok
        return tok

    def _check_card(self, src: Mapping[str, Any], errors: dict[str, list[str]], *, prefix: str) -> str:
        name = src.get("name")
        if not isinstance(name, str) or len(name.split()) < 2:
            errors[prefix + "name"] = ["must be a first and last name"]
        number = re.sub(r"[\s-]", "", str(src.get("number") or ""))
        if not re.fullmatch(r"\d{12,19}", number) or not _luhn_ok(number):
            errors[prefix + "number"] = ["is invalid"]
        month = _as_int(src.get("month"), True)
        year = _as_int(src.get("year"), True)
        if month is None or not 1 <= month <= 12:
            errors[prefix + "month"] = ["is invalid"]
        if year is None or year < 0:
            errors[prefix + "year"] = ["is invalid"]
        elif month is not None and 1 <= month <= 12:
            now = datetime.fromtimestamp(self.now(), UTC)
            if (_norm_year(year), month) < (now.year, now.month):
                errors[prefix + "year"] = ["card is expired"]
        cvc = str(src.get("cvc") or "")
        cvc_len = 4 if number.startswith(("34", "37")) else 3
        if not re.fullmatch(rf"\d{{{cvc_len}}}", cvc):
            errors[prefix + "cvc"] = ["is invalid"]
        return number

    # --- 3-D Secure -------------------------------------------------------------------------------------------

    def _three_ds(self, object_id: str, result: str | None) -> _Response:
        with self._lock:
            if object_id.startswith("token_"):
                return self._three_ds_token(object_id, result)
            rec = self._find(object_id)
            if rec is None or rec.kind != "card":
                return _html(404, "<h1>Unknown payment</h1>")
            if result is None:
                return _html(200, _three_ds_page(object_id, rec.data["amount"], rec.data["currency"]))
            if result not in ("approve", "reject"):
                return _html(400, "<h1>result must be approve or reject</h1>")
            if rec.data["status"] == "initiated":
                if result == "approve":
                    self._settle_card(rec)
                else:
                    self._transition(rec, "failed", message=_3DS_FAILED)
            p = rec.data
            return self._redirect(
                p["callback_url"],
                {"id": p["id"], "status": p["status"], "message": p["source"].get("message") or ""},
            )

    def _three_ds_token(self, token_id: str, result: str | None) -> _Response:
        tok = self._tokens.get(token_id)
        if tok is None or tok.deleted:
            return _html(404, "<h1>Unknown token</h1>")
        if result is None:
            return _html(200, _three_ds_page(token_id, 100, "SAR"))
        if result not in ("approve", "reject"):
            return _html(400, "<h1>result must be approve or reject</h1>")
        if tok.data["status"] == "initiated":
            behaviour = card_behaviour(tok.number)
            if result == "approve" and behaviour.approved:
                tok.data.update(status="active", message="Succeeded")
            else:
                tok.data.update(status="inactive", message=_3DS_FAILED if result == "reject" else behaviour.message)
            tok.data["updated_at"] = self._iso(self.now())
        return self._redirect(
            tok.callback_url,
            {"id": token_id, "status": tok.data["status"], "message": tok.data.get("message") or ""},
        )

    @staticmethod
    def _redirect(callback_url: str | None, params: dict[str, str]) -> _Response:
        if not callback_url:
            return _html(200, f"<h1>{html.escape(params['status'])}</h1><p>{html.escape(params['message'])}</p>")
        parts = urlsplit(callback_url)
        query = urlencode([*parse_qsl(parts.query, keep_blank_values=True), *params.items()])
        location = urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))
        return _Response(302, b"", content_type="text/plain", headers={"Location": location})

    # --- state changes (lock held) ----------------------------------------------------------------------------

    def _settle_card(self, rec: _Payment) -> None:
        """The card's final answer (after 3-D Secure, or at once without it)."""
        card = rec.card or card_behaviour("")
        if card.approved:
            self._approve(rec)
        else:
            self._transition(rec, "failed", message=card.message, response_code=card.response_code)

    def _approve(self, rec: _Payment) -> None:
        src = rec.data["source"]
        src["authorization_code"] = str(secrets.randbelow(10**6)).zfill(6)
        src["reference_number"] = str(secrets.randbelow(10**12)).zfill(12)
        self._transition(rec, "authorized" if rec.manual else "paid", message="APPROVED", response_code="00")

    def _transition(
        self,
        rec: _Payment,
        status: str,
        *,
        message: str | None = None,
        response_code: str | None = None,
        emit: bool = True,
    ) -> None:
        now = self.now()
        p = rec.data
        p["status"] = status
        p["updated_at"] = self._iso(now)
        if message is not None:
            p["source"]["message"] = message
        if response_code is not None and "response_code" in p["source"]:
            p["source"]["response_code"] = response_code
        if status == "authorized":
            rec.authorized_ts = now
        if status == "paid":
            rec.paid_ts = now
        if status == "captured":
            rec.paid_ts = now
        if rec.save_token and status in ("paid", "authorized", "failed"):
            tok = self._tokens.get(rec.save_token)
            if tok is not None and tok.data["status"] == "initiated":
                tok.data["status"] = "inactive" if status == "failed" else "active"
                tok.data["updated_at"] = p["updated_at"]
        if emit and status in EVENT_FOR_STATUS:
            self._emit(rec, EVENT_FOR_STATUS[status])

    def _emit(self, rec: _Payment, event_type: str) -> dict[str, Any] | None:
        rec.events.append(event_type)
        return self._webhooks.publish(event_type, self._render(rec), self._iso(self.now()), self.account_name)

    def _is_settled(self, rec: _Payment) -> bool:
        if rec.settled:
            return True
        return (
            self.settle_after is not None and rec.paid_ts is not None and self.now() - rec.paid_ts >= self.settle_after
        )

    def _find(self, payment_id: str) -> _Payment | None:
        rec = self._payments.get(payment_id)
        if rec is None:
            try:
                rec = self._payments.get(str(uuid.UUID(payment_id)))
            except ValueError:
                return None
        return rec

    def _get_payment_or_raise(self, payment_id: str) -> _Payment:
        rec = self._find(payment_id)
        if rec is None:
            raise KeyError(payment_id)
        return rec

    def _render(self, rec: _Payment) -> dict[str, Any]:
        p: dict[str, Any] = json.loads(json.dumps(rec.data))
        cur = p["currency"]
        for key in ("amount", "fee", "refunded", "captured"):
            p[f"{key}_format"] = format_amount(p[key], cur)
        return p

    def _render_internal(self, rec: _Payment) -> dict[str, Any]:
        p = self._render(rec)
        p["_fake"] = {
            "settled": self._is_settled(rec),
            "manual": rec.manual,
            "kind": rec.kind,
            "events": list(rec.events),
            "hold_expired": rec.authorized_ts is not None
            and p["status"] == "authorized"
            and self.now() - rec.authorized_ts > self.hold_seconds,
        }
        return p

    # --- control surface --------------------------------------------------------------------------------------

    def _control(self, req: _Request) -> _Response:
        path = req.path.rstrip("/") or "/"
        parts = [unquote(p) for p in path.split("/")[2:]]  # after "/_fake"
        method = req.method
        try:
            body, _ = _parse_body(req) if method in ("POST", "PUT", "PATCH") else ({}, False)
        except _BadBody as exc:
            return _json(400, {"error": str(exc)})
        try:
            return self._control_route(method, parts, body, req)
        except KeyError:
            return _json(404, {"error": "not found"})
        except (ValueError, TypeError) as exc:
            return _json(400, {"error": str(exc)})

    def _control_route(self, method: str, parts: list[str], body: dict[str, Any], req: _Request) -> _Response:
        match (method, parts):
            case ("GET", []):
                return _json(200, {"routes": _CONTROL_ROUTES, "api": self.api_url})
            case ("GET", ["3ds", object_id]):
                return self._three_ds(object_id, req.q("result"))
            case ("GET", ["payments"]):
                return _json(200, {"payments": self.payments()})
            case ("GET", ["payments", pid]):
                return _json(200, self.payment(pid))
            case ("POST", ["payments", pid, "settle"]):
                return _json(200, self.settle(pid))
            case ("POST", ["payments", pid, "status"]):
                return _json(
                    200,
                    self.force_status(
                        pid,
                        str(body.get("status")),
                        message=body.get("message"),
                        response_code=body.get("response_code"),
                        fire_event=_as_bool(body.get("event"), True),
                    ),
                )
            case ("POST", ["payments", pid, "events"]):
                event = self.fire_event(pid, body.get("type"))
                return _json(200, {"event": event, "sent": event is not None})
            case ("GET", ["tokens"]):
                return _json(200, {"tokens": self.tokens()})
            case ("GET", ["faults"]):
                return _json(200, {"faults": self.faults()})
            case ("POST", ["faults"]):
                mode = body.get("mode")
                if not isinstance(mode, str):
                    raise ValueError("mode is required")
                self.set_fault(
                    mode,
                    count=body.get("count", 1),
                    endpoint=body.get("endpoint"),
                    delay=body.get("delay"),
                    after=body.get("after", 0),
                )
                return _json(200, {"faults": self.faults()})
            case ("GET", ["webhooks"]):
                return _json(200, self.webhook_config())
            case ("POST", ["webhooks"]):
                allowed = ("url", "secret", "mode", "duplicates", "window")
                return _json(200, self.configure_webhooks(**{k: body[k] for k in allowed if k in body}))
            case ("POST", ["webhooks", "flush"]):
                return _json(200, {"released": self.flush_webhooks()})
            case ("GET", ["webhooks", "attempts"]):
                return _json(200, {"attempts": self.webhook_attempts()})
            case ("GET", ["calls"]):
                return _json(200, {"calls": self.calls(req.q("endpoint"))})
            case ("GET", ["clock"]):
                return _json(200, {"now": self._iso(self.now()), "offset": self._clock_offset})
            case ("POST", ["clock"]):
                advance = body.get("advance", 0)
                if isinstance(advance, bool) or not isinstance(advance, int | float):
                    raise ValueError("advance must be a number of seconds")
                self.advance_clock(advance)
                return _json(200, {"now": self._iso(self.now()), "offset": self._clock_offset})
            case ("POST", ["reset"]):
                self.reset()
                return _json(200, {"reset": True})
        return _json(404, {"error": "unknown control route", "routes": _CONTROL_ROUTES})


_CONTROL_ROUTES = [
    "GET /_fake/payments",
    "GET /_fake/payments/{id}",
    "POST /_fake/payments/{id}/settle",
    "POST /_fake/payments/{id}/status {status, message?, response_code?, event?}",
    "POST /_fake/payments/{id}/events {type?}",
    "GET /_fake/3ds/{id}?result=approve|reject",
    "GET /_fake/tokens",
    "GET|POST /_fake/faults {mode, count?, endpoint?, delay?, after?}",
    "GET|POST /_fake/webhooks {url?, secret?, mode?, duplicates?, window?}",
    "POST /_fake/webhooks/flush",
    "GET /_fake/webhooks/attempts",
    "GET /_fake/calls?endpoint=",
    "GET|POST /_fake/clock {advance}",
    "POST /_fake/reset",
]


# --- small helpers -----------------------------------------------------------------------------------------------


def _as_int(value: Any, form: bool) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if form and isinstance(value, str) and re.fullmatch(r"-?\d+", value.strip()):
        return int(value)
    return None


def _as_bool(value: Any, default: bool) -> bool:
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        return value.strip().lower() in ("true", "1", "yes", "on")
    if isinstance(value, int):
        return value != 0
    return default


def _optional_positive_int(body: Mapping[str, Any], form: bool) -> tuple[int | None, str | None]:
    if body.get("amount") in (None, ""):
        return None, None
    value = _as_int(body.get("amount"), form)
    if value is None:
        return None, "must be an integer"
    if value <= 0:
        return None, "must be greater than 0"
    return value, None


def _norm_year(year: int) -> int:
    return year + 2000 if 0 <= year < 100 else year


def _last_day_of_month(year: int, month: int) -> str | None:
    if not 1 <= month <= 12 or year < 1:
        return None
    nxt = datetime(year + (month == 12), month % 12 + 1, 1, tzinfo=UTC)
    return datetime.fromtimestamp(nxt.timestamp() - 1, UTC).isoformat().replace("+00:00", "Z")


def _is_url(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def _check_metadata(value: Any, errors: dict[str, list[str]]) -> dict[str, str]:
    if value in (None, ""):
        return {}
    if not isinstance(value, dict):
        errors["metadata"] = ["must be an object"]
        return {}
    out: dict[str, str] = {}
    problems: list[str] = []
    if len(value) > 30:
        problems.append("must have at most 30 keys")
    for key, item in value.items():
        if len(str(key)) > 40:
            problems.append(f"key {str(key)[:40]}... is longer than 40 characters")
        if isinstance(item, dict | list):
            problems.append(f"{key} must be a string")
            continue
        text = "" if item is None else str(item).lower() if isinstance(item, bool) else str(item)
        if len(text) > 500:
            problems.append(f"{key} is longer than 500 characters")
        out[str(key)] = text
    if problems:
        errors["metadata"] = problems
    return out


def _parse_iso(value: str | None) -> float | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.timestamp()


def _redact_path(path: str) -> str:
    redacted: str = redact_card_data(path)
    return redacted


def _three_ds_page(object_id: str, amount: int, currency: str) -> str:
    oid = quote(object_id, safe="")
    label = html.escape(format_amount(amount, currency))
    return (
        "<!doctype html><html><head><meta charset='utf-8'><title>3-D Secure (fake)</title></head><body>"
        f"<h1>Moyasar fake 3-D Secure</h1><p>{html.escape(object_id)}: {label}</p>"
        f"<p><a id='approve' href='/_fake/3ds/{oid}?result=approve'>Approve</a> "
        f"<a id='reject' href='/_fake/3ds/{oid}?result=reject'>Reject</a></p></body></html>"
    )


# --- command line ------------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m apps.payments.providers.fake", description="Local fake of the Moyasar payments API."
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8102)
    parser.add_argument("--secret-key", default=DEFAULT_SECRET_KEY)
    parser.add_argument("--publishable-key", default=DEFAULT_PUBLISHABLE_KEY)
    parser.add_argument("--webhook-url", default=None)
    parser.add_argument("--webhook-secret", default=DEFAULT_WEBHOOK_SECRET)
    parser.add_argument("--account-name", default="Mawid")
    args = parser.parse_args(argv)
    if os.environ.get("MAWID_ENV", "").strip().lower() == "production":
        sys.stderr.write("Refusing to start the Moyasar fake: MAWID_ENV is production.\n")
        return 2
    try:
        fake = MoyasarFake(
            host=args.host,
            port=args.port,
            secret_key=args.secret_key,
            publishable_key=args.publishable_key,
            webhook_url=args.webhook_url or None,
            webhook_secret=args.webhook_secret,
            account_name=args.account_name,
        )
        fake.start()
    except (ValueError, OSError) as exc:
        sys.stderr.write(f"Moyasar fake could not start: {exc}\n")
        return 1
    done = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        done.set()

    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, on_signal)
    sys.stdout.write(
        f"Moyasar fake listening on {fake.base_url} (API {fake.api_url}, controls {fake.base_url}/_fake)\n"
        f"webhooks: {args.webhook_url or 'off'}\n"
    )
    sys.stdout.flush()
    try:
        while not done.wait(0.5):
            pass
    finally:
        fake.stop()
    sys.stdout.write("Moyasar fake stopped\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
