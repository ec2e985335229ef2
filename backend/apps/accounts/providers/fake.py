"""A local fake of Authentica's `/api/v2` API, for development and tests. Standard library only, no Django.

It speaks the protocol of `shared/specs/authentica.md` ("What a faithful local fake of this provider must do"):
auth by `X-Authorization`, send-otp validation (422), code storage (latest code wins, single use, TTL, max
attempts), both verify rejection styles, a per-recipient send cap (429 + Retry-After), a balance that each send
spends, send-sms with a sender-name allow-list, fault injection and a call log. Behaviours the real API leaves
UNCERTAIN are configurable; the defaults are the conservative guesses of the spec.

Test and developer controls that the real provider does not have live under `/_fake/`:

    GET  /_fake/messages[?to=+9665...]  {"messages": [...]} newest first (OTP codes included)
    GET  /_fake/calls                   {"calls": [...]} oldest first, key masked
    GET  /_fake/faults                  {"faults": [...]} pending faults
    POST /_fake/faults                  {"mode", "count"?, "endpoint"?, "delay"?, "retry_after"?}
                                        (count: default 1, null or -1 until "ok" clears it)
    GET  /_fake/config                  the current settings
    POST /_fake/config                  {"rejection_style"?, "fixed_code"?, "ttl_seconds"?, "balance"?, ...}
    POST /_fake/reset                   back to the state it was constructed with
    GET  /_fake/health                  {"ok": true}

In-process, the same controls are methods: `messages()`, `last_code()`, `calls`, `set_faults()`, `clear_faults()`,
`configure()`, `set_rejection_style()`, `reset()`.

Run it as a process from `backend/`:

    python -m apps.accounts.providers.fake --host 127.0.0.1 --port 8101 --api-key "fake-authentica-key"

The server, fault queue, call log, production guard and command-line loop are `apps.core.fakes`, shared with
the Moyasar fake. It refuses to start in production (`MAWID_ENV=production`, or production Django settings).
"""

from __future__ import annotations

import argparse
import hmac
import json
import logging
import math
import os
import re
import secrets
import sys
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from apps.core.fakes import (
    CallLog,
    Fault,
    FaultQueue,
    LoopbackFake,
    Request,
    Response,
    dropped,
    html_response,
    json_response,
    run_until_signalled,
)
from apps.core.masking import mask_secret

logger = logging.getLogger("mawid.fakes.authentica")

API_PREFIX = "/api/v2"
ENDPOINTS = ("send-otp", "verify-otp", "send-sms", "balance")
FAULT_MODES = (
    "ok",  # clears faults
    "timeout",  # sleep `delay` seconds (default 15), then answer normally: the client gave up, the work was done
    "slow",  # do the work at once (the message is sent), answer only after `delay` seconds (default 15)
    "reset",  # drop the connection without answering (TCP RST), nothing is done
    "error_500",  # HTML error pages, nothing is done
    "error_502",
    "error_503",
    "error_429",  # 429 + Retry-After + JSON message
    "non_json",  # 200 with an HTML body
    "success_false",  # 200 {"success": false, "message": ...}
)
REJECTION_STYLES = ("400", "200")
E164 = re.compile(r"^\+[1-9]\d{1,14}$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
DIGITS = re.compile(r"^\d{1,10}$")

UNAUTHORIZED = {"errors": [{"message": "Unauthorized"}]}
OTP_SENT = {"success": True, "data": None, "message": "OTP send successfully"}  # sic, as the real API says
OTP_VERIFIED = {"status": True, "message": "OTP verified successfully"}
OTP_REJECTED = {"status": False, "message": "Invalid OTP"}
SMS_SENT = {"success": True, "message": "Message sent successfully."}
INSUFFICIENT_BALANCE = {"success": False, "message": "Insufficient balance"}

_TEMPLATES = {
    1: "رمز التحقق الخاص بك هو: {code}",
    2: "Your verification code is: {code}",
    # An account's own template, as Mawid's deletion codes use (AUTHENTICA_DELETE_TEMPLATE_ID).
    3: "رمز تأكيد حذف حسابك في موعد: {code}\nYour code to delete your Mawid account: {code}",
}

_HTML_ERROR = (
    "<!DOCTYPE html><html><head><title>{status} {reason}</title></head>"
    "<body><h1>{status} {reason}</h1><p>upstream trouble (injected by the Authentica fake)</p></body></html>"
)
_REASONS = {500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable"}


@dataclass
class _Code:
    code: str
    created_at: float
    keys: tuple[str, ...]  # recipients that may verify it (main and fallback)
    attempts: int = 0


@dataclass
class _Config:
    api_key: str
    code_length: int
    fixed_code: str | None
    ttl_seconds: float
    max_attempts: int
    rejection_style: str
    send_cap_per_window: int | None
    window_seconds: float
    balance: int | float
    otp_cost: int | float
    sms_cost: int | float
    insufficient_balance_status: int
    sender_names: tuple[str, ...]
    fault_delay_seconds: float

    def public(self) -> dict[str, Any]:
        data = {k: getattr(self, k) for k in self.__dataclass_fields__}
        data["api_key"] = mask_secret(self.api_key)
        data["sender_names"] = list(self.sender_names)
        return data


@dataclass
class _State:
    config: _Config
    codes: dict[str, _Code] = field(default_factory=dict)
    outbox: list[dict[str, Any]] = field(default_factory=list)  # oldest first
    sends: dict[str, list[float]] = field(default_factory=dict)  # recipient -> send times in the window
    next_id: int = 1


class _Reply(Exception):  # noqa: N818 - control flow, not an error
    def __init__(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        self.status, self.body, self.headers = status, body, headers or {}


class AuthenticaFake(LoopbackFake):
    """The fake server. `start()` serves in a daemon thread; `base_url` is then `http://host:port`."""

    label = "Authentica fake"
    server_version = "AuthenticaFake/1.0"
    logger = logger

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        api_key: str = "fake-authentica-key",
        code_length: int = 4,
        fixed_code: str | None = None,
        ttl_seconds: float = 300,
        max_attempts: int = 5,
        rejection_style: str = "400",
        send_cap_per_window: int | None = 10,
        window_seconds: float = 3600,
        balance: int | float = 10_000,
        otp_cost: int | float = 1,
        sms_cost: int | float = 1,
        insufficient_balance_status: int = 400,
        sender_names: Iterable[str] = ("Mawid",),
        fault_delay_seconds: float = 15.0,
        clock: Callable[[], float] = time.time,
        echo: bool = False,
    ) -> None:
        super().__init__(host=host, port=port)
        self.clock = clock
        self.echo = echo  # print each outgoing message to stdout (for `main()`)
        self._initial = _Config(
            api_key=api_key,
            code_length=code_length,
            fixed_code=fixed_code,
            ttl_seconds=ttl_seconds,
            max_attempts=max_attempts,
            rejection_style=_rejection_style(rejection_style),
            send_cap_per_window=send_cap_per_window,
            window_seconds=window_seconds,
            balance=balance,
            otp_cost=otp_cost,
            sms_cost=sms_cost,
            insufficient_balance_status=insufficient_balance_status,
            sender_names=tuple(sender_names),
            fault_delay_seconds=fault_delay_seconds,
        )
        _check_config(self._initial)
        self._lock = threading.RLock()
        self._state = _State(config=_copy_config(self._initial))
        self._calls = CallLog()
        self._faults = FaultQueue(modes=FAULT_MODES, endpoints=ENDPOINTS)

    # -- controls ----------------------------------------------------------------------------------------------

    @property
    def api_key(self) -> str:
        return self._state.config.api_key

    def messages(self, to: str | None = None) -> list[dict[str, Any]]:
        """Messages sent (OTP and SMS), newest first; only those to `to` when given."""
        key = _normalise_recipient(to) if to else None
        with self._lock:
            found = [dict(m) for m in reversed(self._state.outbox) if key is None or m["to"] == key]
        return found

    def last_code(self, to: str) -> str | None:
        """The code of the newest OTP message sent to `to`, or None."""
        for message in self.messages(to):
            if message["code"] is not None:
                return str(message["code"])
        return None

    @property
    def calls(self) -> list[dict[str, Any]]:
        """Every request to the provider API, oldest first: method, path, endpoint, headers (key masked), body,
        status (None when the connection was dropped), fault."""
        return self._calls.entries()

    def calls_to(self, endpoint: str) -> list[dict[str, Any]]:
        return self._calls.entries(endpoint)

    @property
    def balance(self) -> int | float:
        with self._lock:
            return self._state.config.balance

    def set_faults(
        self,
        mode: str,
        count: int | None = 1,
        endpoint: str | None = None,
        delay: float | None = None,
        retry_after: int | None = None,
    ) -> None:
        """Make the next `count` calls (to `endpoint`, or to any endpoint) misbehave as `mode`.

        Faults queue up in the order they were set. `count=None` (or -1) keeps the fault until `mode="ok"` clears
        it. `mode="ok"` clears the pending faults (of `endpoint` only, when given). `retry_after` (default 30) is
        the Retry-After of `error_429`; `delay` (default `fault_delay_seconds`) the wait of `timeout` and `slow`.
        """
        self._faults.add(
            mode, count=count, endpoint=endpoint, delay=delay, retry_after=30 if retry_after is None else retry_after
        )

    def clear_faults(self) -> None:
        self._faults.clear()

    @property
    def faults(self) -> list[dict[str, Any]]:
        return [
            {
                "mode": f.mode,
                "remaining": f.remaining,
                "endpoint": f.endpoint,
                "delay": f.delay,
                "retry_after": f.retry_after,
            }
            for f in self._faults.pending()
        ]

    def configure(self, **changes: Any) -> dict[str, Any]:
        """Change settings at run time, e.g. `configure(rejection_style="200", fixed_code="1234", balance=0)`."""
        with self._lock:
            config = _copy_config(self._state.config)
            for name, value in changes.items():
                if name not in config.__dataclass_fields__:
                    raise ValueError(f"unknown setting {name!r}")
                if name == "rejection_style":
                    value = _rejection_style(value)
                elif name == "sender_names":
                    if isinstance(value, str) or not isinstance(value, Iterable):
                        raise ValueError("sender_names must be a list of strings")
                    value = tuple(value)
                setattr(config, name, value)
            _check_config(config)
            self._state.config = config
            return config.public()

    def set_rejection_style(self, style: str | int) -> None:
        """Answer wrong codes with `400 {"status": false}` ("400", mode A) or `200 {"status": false}` ("200", B)."""
        self.configure(rejection_style=style)

    @property
    def config(self) -> dict[str, Any]:
        with self._lock:
            return self._state.config.public()

    def reset(self) -> None:
        """Back to the state it was constructed with: no codes, messages, calls, faults or send history."""
        with self._lock:
            self._state = _State(config=_copy_config(self._initial))
            self._calls.clear()
            self._faults.clear()
        self.interrupt_pauses()  # requests sleeping in a "timeout" or "slow" fault give up now

    # -- request handling --------------------------------------------------------------------------------------

    def handle(self, request: Request) -> Response:
        path = request.path.rstrip("/") or "/"
        if path.startswith("/_fake/") or path == "/_fake":
            return self._control(request, path)
        if path.startswith(API_PREFIX + "/"):
            return self._provider(request, path[len(API_PREFIX) + 1 :])
        return _respond(404, {"message": "Not Found"})

    def _provider(self, request: Request, endpoint: str) -> Response:
        method, raw = request.method, request.body
        headers = dict(request.headers.items())
        call = self._calls.record(
            {
                "at": self.clock(),
                "method": method,
                "path": f"{API_PREFIX}/{endpoint}",
                "endpoint": endpoint,
                "headers": {k: (mask_secret(v) if k.lower() == "x-authorization" else v) for k, v in headers.items()},
                "body": _decode_for_log(raw),
                "authorized": None,
                "status": None,
                "fault": None,
            }
        )
        fault = self._faults.take(endpoint) if endpoint in ENDPOINTS else None
        if fault is None:
            return self._answer(method, endpoint, headers, raw, call)
        call["fault"] = fault.mode
        delay = fault.delay if fault.delay is not None else self._state.config.fault_delay_seconds
        if fault.mode == "reset":
            return dropped()
        if fault.mode == "timeout":  # the work is done after the delay: a client that gave up cannot know
            return dropped() if self.pause(delay) else self._answer(method, endpoint, headers, raw, call)
        if fault.mode == "slow":  # the work is done at once, the answer comes after the delay
            response = self._answer(method, endpoint, headers, raw, call)
            return dropped() if self.pause(delay) else response
        status, body, extra = _fault_reply(fault)
        call["status"] = status
        return _respond(status, body, extra)

    def _answer(
        self, method: str, endpoint: str, headers: dict[str, str], raw: bytes, call: dict[str, Any]
    ) -> Response:
        try:
            status, body, extra = self._api(method, endpoint, headers, raw, call)
        except _Reply as reply:
            status, body, extra = reply.status, reply.body, reply.headers
        call["status"] = status
        return _respond(status, body, extra)

    def _api(
        self, method: str, endpoint: str, headers: dict[str, str], raw: bytes, call: dict[str, Any]
    ) -> tuple[int, Any, dict[str, str]]:
        expected = {"send-otp": "POST", "verify-otp": "POST", "send-sms": "POST", "balance": "GET"}.get(endpoint)
        if expected is None:
            return 404, {"message": f"The route api/v2/{endpoint} could not be found."}, {}
        # Authentication comes first, on every endpoint, as with the real API.
        key = next((v for k, v in headers.items() if k.lower() == "x-authorization"), None)
        with self._lock:
            authorized = key is not None and hmac.compare_digest(key.encode(), self._state.config.api_key.encode())
        call["authorized"] = authorized
        if not authorized:
            return 401, UNAUTHORIZED, {}
        if method != expected:
            return 405, {"message": f"The {method} method is not supported for route api/v2/{endpoint}."}, {}
        if endpoint == "balance":
            with self._lock:
                value = self._state.config.balance
            return 200, {"success": True, "data": {"balance": value}, "message": "Balance retrieved successfully"}, {}
        body = _json_object(raw)
        with self._lock:  # one lock for validate + rate limit + balance + store: sends are atomic
            if endpoint == "send-otp":
                return self._send_otp(body)
            if endpoint == "send-sms":
                return self._send_sms(body)
            return self._verify_otp(body)

    def _send_otp(self, body: dict[str, Any]) -> tuple[int, Any, dict[str, str]]:
        config = self._state.config
        errors: dict[str, list[str]] = {}
        method = body.get("method")
        if method is None:
            errors["method"] = ["The method field is required."]
        elif method not in ("sms", "whatsapp", "email"):
            errors["method"] = ["The selected method is invalid."]
        phone, email = body.get("phone"), body.get("email")
        if method in ("sms", "whatsapp"):
            if phone is None or phone == "":
                errors["phone"] = ["The phone field is required when method is sms or whatsapp."]
            elif not isinstance(phone, str) or not E164.match(phone):
                errors["phone"] = ["The phone format is invalid. Use E.164, e.g. +966501234567."]
        if method == "email":
            if email is None or email == "":
                errors["email"] = ["The email field is required when method is email."]
            elif not isinstance(email, str) or not EMAIL.match(email):
                errors["email"] = ["The email must be a valid email address."]
        template_id = body.get("template_id", 1)
        if not _is_integer(template_id):
            errors["template_id"] = ["The template id must be an integer."]
        otp = body.get("otp")
        if otp is not None and (not isinstance(otp, str) or not DIGITS.match(otp)):
            errors["otp"] = ["The otp must be a string of 1 to 10 digits."]
        fallback_phone, fallback_email = body.get("fallback_phone"), body.get("fallback_email")
        if fallback_phone is not None and (not isinstance(fallback_phone, str) or not E164.match(fallback_phone)):
            errors["fallback_phone"] = ["The fallback phone format is invalid."]
        if fallback_email is not None and (not isinstance(fallback_email, str) or not EMAIL.match(fallback_email)):
            errors["fallback_email"] = ["The fallback email must be a valid email address."]
        if errors:
            raise _validation(errors)

        recipient = str(phone) if method in ("sms", "whatsapp") else str(email).lower()
        self._check_send_allowed(recipient, config.otp_cost)
        code = otp or config.fixed_code or _generate_code(config.code_length)
        now = self.clock()
        keys = tuple(
            k for k in (recipient, fallback_phone, str(fallback_email).lower() if fallback_email else None) if k
        )
        for key in keys:  # latest code wins: drop every older code of these recipients
            old = self._state.codes.pop(key, None)
            if old is not None:
                for other in old.keys:
                    if self._state.codes.get(other) is old:
                        del self._state.codes[other]
        record = _Code(code=code, created_at=now, keys=keys)
        for key in keys:
            self._state.codes[key] = record
        template = int(template_id)
        self._record_send(recipient, config.otp_cost, now)
        self._deliver(
            kind="otp",
            channel=str(method),
            to=recipient,
            code=code,
            text=_TEMPLATES.get(template, "Code: {code}").format(code=code),
            template_id=template,
            sender_name=None,
            now=now,
        )
        return 200, OTP_SENT, {}

    def _send_sms(self, body: dict[str, Any]) -> tuple[int, Any, dict[str, str]]:
        config = self._state.config
        errors: dict[str, list[str]] = {}
        phone, message, sender = body.get("phone"), body.get("message"), body.get("sender_name")
        if phone is None or phone == "":
            errors["phone"] = ["The phone field is required."]
        elif not isinstance(phone, str) or not E164.match(phone):
            errors["phone"] = ["The phone format is invalid. Use E.164, e.g. +966501234567."]
        if message is None or message == "":
            errors["message"] = ["The message field is required."]
        elif not isinstance(message, str):
            errors["message"] = ["The message must be a string."]
        if sender is None:
            sender = config.sender_names[0] if config.sender_names else None  # the account's default sender
            if sender is None:
                errors["sender_name"] = ["The sender name field is required."]
        elif not isinstance(sender, str) or sender not in config.sender_names:
            errors["sender_name"] = ["The selected sender name is not registered for this account."]
        if errors:
            raise _validation(errors)
        phone, message = str(phone), str(message)  # strings: validated above
        now = self.clock()
        self._check_send_allowed(phone, config.sms_cost)
        self._record_send(phone, config.sms_cost, now)
        self._deliver(
            kind="sms", channel="sms", to=phone, code=None, text=message, template_id=None, sender_name=sender, now=now
        )
        return 200, SMS_SENT, {}

    def _verify_otp(self, body: dict[str, Any]) -> tuple[int, Any, dict[str, str]]:
        config = self._state.config
        otp, phone, email = body.get("otp"), body.get("phone"), body.get("email")
        errors: dict[str, list[str]] = {}
        if otp is None or otp == "":
            errors["otp"] = ["The otp field is required."]
        if not phone and not email:
            errors["phone"] = ["The phone field is required when email is not present."]
        if errors:
            raise _validation(errors)
        keys = [
            k
            for k in (phone if isinstance(phone, str) else None, email.lower() if isinstance(email, str) else None)
            if k
        ]
        record = next((self._state.codes[k] for k in keys if k in self._state.codes), None)
        if record is None:
            return self._rejected()
        if self.clock() - record.created_at > config.ttl_seconds:
            self._forget(record)
            return self._rejected()
        if not hmac.compare_digest(str(otp).encode(), record.code.encode()):
            record.attempts += 1
            if record.attempts >= config.max_attempts:
                self._forget(record)
            return self._rejected()
        self._forget(record)  # single use
        return 200, OTP_VERIFIED, {}

    # -- helpers (called with the lock held) -------------------------------------------------------------------

    def _rejected(self) -> tuple[int, Any, dict[str, str]]:
        return int(self._state.config.rejection_style), OTP_REJECTED, {}

    def _forget(self, record: _Code) -> None:
        for key in record.keys:
            if self._state.codes.get(key) is record:
                del self._state.codes[key]

    def _check_send_allowed(self, recipient: str, cost: int | float) -> None:
        config = self._state.config
        now = self.clock()
        if config.send_cap_per_window is not None:
            recent = [t for t in self._state.sends.get(recipient, []) if now - t < config.window_seconds]
            self._state.sends[recipient] = recent
            if len(recent) >= config.send_cap_per_window:
                wait = max(1, math.ceil(recent[0] + config.window_seconds - now))
                raise _Reply(
                    429,
                    {"success": False, "message": "Too many requests for this recipient. Please try again later."},
                    {"Retry-After": str(wait)},
                )
        if config.balance < cost:
            raise _Reply(config.insufficient_balance_status, INSUFFICIENT_BALANCE)

    def _record_send(self, recipient: str, cost: int | float, now: float) -> None:
        self._state.sends.setdefault(recipient, []).append(now)
        self._state.config.balance -= cost

    def _deliver(
        self,
        *,
        kind: str,
        channel: str,
        to: str,
        code: str | None,
        text: str,
        template_id: int | None,
        sender_name: str | None,
        now: float,
    ) -> None:
        message = {
            "id": self._state.next_id,
            "kind": kind,
            "channel": channel,
            "to": to,
            "code": code,
            "text": text,
            "template_id": template_id,
            "sender_name": sender_name,
            "created_at": datetime.fromtimestamp(now, tz=UTC).isoformat(),
        }
        self._state.next_id += 1
        self._state.outbox.append(message)
        logger.debug("authentica fake delivered %s #%s via %s", kind, message["id"], channel)
        if self.echo:
            shown = f"code {code}" if code is not None else repr(text)
            print(f"[authentica-fake] {kind} via {channel} to {to}: {shown}", flush=True)  # noqa: T201

    # -- /_fake/ ------------------------------------------------------------------------------------------------

    def _control(self, request: Request, path: str) -> Response:
        method, raw = request.method, request.body
        route = (method, path)
        try:
            if route == ("GET", "/_fake/health"):
                return _respond(200, {"ok": True})
            if route == ("GET", "/_fake/messages"):
                # parse_qs turns a literal "+" into a space; messages() normalises it back.
                return _respond(200, {"messages": self.messages(request.q("to") or None)})
            if route == ("GET", "/_fake/calls"):
                return _respond(200, {"calls": self.calls})
            if route == ("GET", "/_fake/faults"):
                return _respond(200, {"faults": self.faults})
            if route == ("POST", "/_fake/faults"):
                body = _json_object(raw, strict=True)
                self.set_faults(
                    str(body.get("mode", "")),
                    count=body.get("count", 1),
                    endpoint=body.get("endpoint"),
                    delay=body.get("delay"),
                    retry_after=body.get("retry_after"),
                )
                return _respond(200, {"faults": self.faults})
            if route == ("GET", "/_fake/config"):
                return _respond(200, {"config": self.config})
            if route == ("POST", "/_fake/config"):
                return _respond(200, {"config": self.configure(**_json_object(raw, strict=True))})
            if route == ("POST", "/_fake/reset"):
                self.reset()
                return _respond(200, {"ok": True})
            return _respond(404, {"error": f"no fake control {method} {path}"})
        except (ValueError, TypeError) as exc:
            return _respond(400, {"error": str(exc)})
        except _Reply as reply:
            return _respond(reply.status, reply.body, reply.headers)


# -- helpers -----------------------------------------------------------------------------------------------------


def _respond(status: int, body: Any, headers: dict[str, str] | None = None) -> Response:
    """A JSON answer, or an HTML one when `body` is a string."""
    if isinstance(body, str):
        return html_response(status, body, headers)
    return json_response(status, body, headers)


def _fault_reply(fault: Fault) -> tuple[int, Any, dict[str, str]]:
    if fault.mode in ("error_500", "error_502", "error_503"):
        status = int(fault.mode[-3:])
        return status, _HTML_ERROR.format(status=status, reason=_REASONS[status]), {}
    if fault.mode == "error_429":
        return (
            429,
            {"message": "Too Many Attempts."},
            {"Retry-After": str(30 if fault.retry_after is None else fault.retry_after)},
        )
    if fault.mode == "non_json":
        return 200, "<html><body>Service is being updated</body></html>", {}
    if fault.mode == "success_false":
        return 200, {"success": False, "status": False, "message": "Something went wrong, please try again."}, {}
    raise AssertionError(f"unhandled fault mode {fault.mode}")


def _json_object(raw: bytes, *, strict: bool = False) -> dict[str, Any]:
    """The request body as a JSON object. The API answers 422 for junk, the controls 400 (ValueError)."""
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        body = None
    if isinstance(body, dict):
        return body
    if strict:
        raise ValueError("the body must be a JSON object")
    raise _validation({"body": ["The request body must be a JSON object."]})


def _validation(errors: dict[str, list[str]]) -> _Reply:
    """Laravel-shaped 422: `message` is the first error (plus a count of the others), `errors` by field."""
    first = next(iter(errors.values()))[0]
    others = sum(len(v) for v in errors.values()) - 1
    message = first if not others else f"{first} (and {others} more error{'s' if others > 1 else ''})"
    return _Reply(422, {"message": message, "errors": errors})


def _decode_for_log(raw: bytes) -> Any:
    if not raw:
        return None
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return raw.decode("utf-8", "replace")


def _normalise_recipient(to: str) -> str:
    """`" 966501234567"` (a `+` decoded to a space), `966501234567` and `+966501234567` are the same recipient."""
    value = to.strip()
    if "@" in value:
        return value.lower()
    value = re.sub(r"[\s\-()]", "", value)
    if value.startswith("00"):
        value = "+" + value[2:]
    if value and value[0].isdigit() and value[0] != "0":
        value = "+" + value
    return value


def _generate_code(length: int) -> str:
    return "".join(str(secrets.randbelow(10)) for _ in range(length))


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _is_integer(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return True
    return isinstance(value, str) and value.strip().lstrip("-").isdigit()  # Laravel's "integer" takes "1"


def _rejection_style(style: Any) -> str:
    value = str(style).strip().upper()
    value = {"A": "400", "B": "200"}.get(value, value)
    if value not in REJECTION_STYLES:
        raise ValueError('rejection_style must be "400" (mode A) or "200" (mode B)')
    return value


def _copy_config(config: _Config) -> _Config:
    return _Config(**{k: getattr(config, k) for k in config.__dataclass_fields__})


def _check_config(config: _Config) -> None:
    if not isinstance(config.api_key, str) or not config.api_key:
        raise ValueError("api_key must be a non-empty string")
    if not isinstance(config.code_length, int) or not 1 <= config.code_length <= 10:
        raise ValueError("code_length must be between 1 and 10")
    if config.fixed_code is not None and (
        not isinstance(config.fixed_code, str) or not DIGITS.match(config.fixed_code)
    ):
        raise ValueError("fixed_code must be a string of 1 to 10 digits, or null")
    for name in ("ttl_seconds", "window_seconds", "fault_delay_seconds", "balance", "otp_cost", "sms_cost"):
        if not _is_number(getattr(config, name)):
            raise ValueError(f"{name} must be a number")
    if not isinstance(config.max_attempts, int) or config.max_attempts < 1:
        raise ValueError("max_attempts must be a positive integer")
    cap = config.send_cap_per_window
    if cap is not None and (not isinstance(cap, int) or isinstance(cap, bool) or cap < 1):
        raise ValueError("send_cap_per_window must be a positive integer, or null for no cap")
    if not isinstance(config.insufficient_balance_status, int) or not 200 <= config.insufficient_balance_status < 600:
        raise ValueError("insufficient_balance_status must be an HTTP status code")
    if not all(isinstance(name, str) and name for name in config.sender_names):
        raise ValueError("sender_names must be non-empty strings")


# -- command line ------------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m apps.accounts.providers.fake",
        description="Local fake of the Authentica OTP/SMS API (development and tests only).",
    )
    parser.add_argument("--host", default=os.environ.get("AUTHENTICA_FAKE_HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("AUTHENTICA_FAKE_PORT", "8101")))
    parser.add_argument(
        "--api-key",
        default=os.environ.get("AUTHENTICA_FAKE_API_KEY") or "fake-authentica-key",
        help="the X-Authorization value to accept (env AUTHENTICA_FAKE_API_KEY)",
    )
    parser.add_argument("--fixed-code", default=None, help="always use this OTP instead of random ones")
    parser.add_argument("--code-length", type=int, default=4)
    parser.add_argument("--ttl", type=float, default=300, help="OTP lifetime in seconds")
    parser.add_argument("--max-attempts", type=int, default=5)
    parser.add_argument("--rejection-style", choices=REJECTION_STYLES, default="400")
    parser.add_argument("--balance", type=float, default=10_000)
    parser.add_argument("--send-cap", type=int, default=10, help="sends per recipient per window (0: no cap)")
    parser.add_argument("--window", type=float, default=3600, help="send cap window in seconds")
    parser.add_argument("--sender-name", action="append", dest="sender_names", help="allowed sender (repeatable)")
    parser.add_argument("--quiet", action="store_true", help="do not print sent messages")
    args = parser.parse_args(argv)

    def make() -> AuthenticaFake:
        return AuthenticaFake(
            host=args.host,
            port=args.port,
            api_key=args.api_key,
            fixed_code=args.fixed_code,
            code_length=args.code_length,
            ttl_seconds=args.ttl,
            max_attempts=args.max_attempts,
            rejection_style=args.rejection_style,
            balance=int(args.balance) if float(args.balance).is_integer() else args.balance,
            send_cap_per_window=args.send_cap or None,
            window_seconds=args.window,
            sender_names=args.sender_names or ("Mawid",),
            echo=not args.quiet,
        )

    def banner(fake: AuthenticaFake) -> str:
        return (
            f"Authentica fake listening on {fake.base_url} (API {fake.base_url}{API_PREFIX}, "
            f"key {mask_secret(fake.api_key) or '****'}, messages at {fake.base_url}/_fake/messages)"
        )

    return run_until_signalled(make, name="Authentica fake", banner=banner)


if __name__ == "__main__":
    sys.exit(main())
