"""The provider half of the Moyasar fake: Moyasar's `/v1` API over the payment and token state it keeps.

`MoyasarApi` answers `/v1` (auth, validation, the payment state machine, tokens, 3-D Secure, STC Pay, faults and
the request log) and sends webhooks for every transition. `control.MoyasarFake` adds the test and developer
controls (`/_fake/` and in-process methods) on top. The package docstring describes the behaviour.
"""

from __future__ import annotations

import base64
import binascii
import html
import itertools
import json
import logging
import re
import secrets
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Self
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit, urlunsplit

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
)

from ..base import mask_card_number, redact_card_data
from .cards import (
    THREE_DS_FAILED,
    CardBehaviour,
    card_behaviour,
    check_card,
    format_amount,
    last_day_of_month,
    norm_year,
    three_ds_page,
)
from .http import (
    UNSET,
    BadBody,
    as_bool,
    as_int,
    check_metadata,
    error,
    invalid,
    is_url,
    not_found,
    optional_positive_int,
    parse_body,
    parse_iso,
    redact_path,
)
from .webhooks import WebhookSender

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
# STC Pay's sandbox (docs.moyasar.com, "Testing STC Pay"): mobiles refused at once, and the OTPs that fail (any
# OTP not listed here or as paid, 123456 / 000000, fails as "Invalid OTP").
STC_PAY_TEST_MOBILES: dict[str, str] = {
    "0515555555": "Mobile number is not registered to use the STC Pay service.",
    "0515555556": "Please update your information using the STC Pay app before attempting payment.",
    "0515555557": "The customer account status is invalid, please contact STC Pay support.",
    "0515555558": "You have exhausted your OTP attempts, please wait 15 minutes then try again.",
    "0515555559": "Please wait 60 seconds before attempting a new payment.",
}
STC_PAY_TEST_OTPS: dict[str, str] = {
    "111111": "Insufficient Balance.",
    "222222": "You have exceeded the allowed daily transaction limit for your STC Pay account.",
    "333333": "You have exceeded the maximum allowed transaction amount.",
    "444444": "Connection timed out while waiting for response from STC Pay service.",
}
# The fake's own test credentials (not secrets): any client pointed at a default fake uses these.
DEFAULT_SECRET_KEY = "sk_test_fake"  # noqa: S105
DEFAULT_PUBLISHABLE_KEY = "pk_test_fake"
DEFAULT_WEBHOOK_SECRET = "fake-webhook-secret"  # noqa: S105


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


_WALLET_NETWORKS = {"visa": "visa", "mastercard": "master", "master": "master", "mada": "mada", "amex": "amex"}


def _wallet_card(token: Any) -> tuple[str, str]:
    """The card behind an Apple Pay payment token: (Moyasar's `company`, last four digits). The fake reads the
    token's `paymentMethod` (`{"network": "mada", "displayName": "mada 1010"}`), the way Apple describes the card to
    the merchant; a token it cannot read is a Visa ending 1111."""
    if isinstance(token, str):
        try:
            token = json.loads(token)
        except ValueError:
            token = None
    method = token.get("paymentMethod") if isinstance(token, dict) else None
    if not isinstance(method, dict):
        return "visa", "1111"
    network = str(method.get("network") or "").strip().lower()
    digits = re.sub(r"\D", "", str(method.get("displayName") or ""))
    return _WALLET_NETWORKS.get(network, "visa"), (digits[-4:] if len(digits) >= 4 else "1111")


class MoyasarApi(LoopbackFake):
    """Moyasar's `/v1` on a loopback port, with webhooks. Thread-safe; the payment state lives behind one lock.
    Use `MoyasarFake`, which adds the controls."""

    label = "Moyasar fake"
    server_version = "MoyasarFake/1.0"
    protocol_version = "HTTP/1.1"
    logger = logger

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
        super().__init__(host=host, port=port)
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
        self._calls = CallLog()
        self._faults = FaultQueue(modes=FAULT_MODES, endpoints=ENDPOINTS)
        self._seq = itertools.count(1)
        self._webhooks = WebhookSender(
            url=webhook_url, secret=webhook_secret, retry_delays=webhook_retry_delays, timeout=webhook_timeout
        )
        self._webhooks._stamp = lambda: self._iso(self.now())

    # --- lifecycle --------------------------------------------------------------------------------------------

    def start(self) -> Self:
        if self.running:
            return self
        super().start()
        self._webhooks.start()
        logger.info("moyasar_fake_started", extra={"base_url": self.base_url})
        return self

    def stop(self) -> None:
        super().stop()  # wakes handlers sleeping in a timeout fault
        self._webhooks.stop()

    @property
    def api_url(self) -> str:
        """`{base_url}/v1`: a client's base URL. The controls are under `{base_url}/_fake/`."""
        return self.base_url + "/v1"

    def internal_error(self) -> Response:
        return error(500, "api_error", "Fake internal error")

    # --- clock ------------------------------------------------------------------------------------------------

    def now(self) -> float:
        return float(self._clock()) + self._clock_offset

    def _today(self) -> datetime:
        return datetime.fromtimestamp(self.now(), UTC)

    @staticmethod
    def _iso(ts: float) -> str:
        return datetime.fromtimestamp(ts, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")

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

    def handle(self, request: Request) -> Response:
        if request.bad_length:
            resp = invalid("Invalid Content-Length")
            resp.close = True
            return resp
        if request.path == "/v1" or request.path.startswith("/v1/"):
            return self._browser_api(request) if request.headers.get("Origin") else self._api(request)
        return self._outside_api(request)

    # --- browsers (CORS) --------------------------------------------------------------------------------------

    # What a web page may do (Moyasar's payment form, or a page's own form): create a payment or a token with the
    # publishable key. Everything else is for servers, which send no Origin.
    _BROWSER_ROUTES = (re.compile(r"^/v1/payments/?$"), re.compile(r"^/v1/tokens/?$"))

    def _browser_api(self, req: Request) -> Response:
        """A request from a web page (it carries `Origin`): CORS for publishable-key creates only. A preflight
        (OPTIONS) is answered for those two routes; a request with the secret key, or to any other route, gets
        no CORS headers (the page cannot read the answer) and is refused before anything happens."""
        allowed = req.method in ("OPTIONS", "POST") and any(p.match(req.path) for p in self._BROWSER_ROUTES)
        origin = req.headers.get("Origin") or ""
        cors = {
            "Access-Control-Allow-Origin": origin,
            "Vary": "Origin",
            "Access-Control-Allow-Methods": "POST, OPTIONS",
            "Access-Control-Allow-Headers": "Authorization, Content-Type, Accept",
            "Access-Control-Max-Age": "600",
        }
        if not allowed:
            return error(403, "authentication_error", "Only payments and tokens can be created from a browser")
        if req.method == "OPTIONS":
            return Response(204, b"", content_type="text/plain", headers=cors)
        if self._key_kind(req.headers.get("Authorization")) == "sk":
            # The secret key must never be in a web page: refuse it (the real provider cannot tell; the fake can).
            return error(403, "authentication_error", "The secret key must not be used from a browser")
        resp = self._api(req)
        resp.headers.update(cors)
        return resp

    def _outside_api(self, request: Request) -> Response:
        """Paths outside `/v1`: none here (`MoyasarFake` serves its controls under `/_fake/`)."""
        return not_found("Route")

    def _api(self, req: Request) -> Response:
        started = time.monotonic()
        route = None
        args: tuple[str, ...] = ()
        for method, pattern, endpoint, handler in self._API_ROUTES:
            m = pattern.match(req.path)
            if m and method == req.method:
                route, args = (endpoint, handler), tuple(unquote(g) for g in m.groups())
                break
        try:
            body, form = parse_body(req) if req.method in ("POST", "PUT", "PATCH") else ({}, False)
            bad_body: str | None = None
        except BadBody as exc:
            body, form, bad_body = {}, False, str(exc)
        key_kind = self._key_kind(req.headers.get("Authorization"))
        if route is None:
            resp = not_found("Route")
            self._log_call(req, "unknown", key_kind, resp, None, body, started)
            return resp
        endpoint, handler = route

        fault = self._faults.take(endpoint)
        if fault is not None and fault.mode not in ("timeout", "ambiguous", "ambiguous_create"):
            resp = self._fault_response(fault)
            self._log_call(req, endpoint, key_kind, resp, fault.mode, body, started, args)
            return resp
        if fault is not None and fault.mode == "timeout" and self.pause(25.0 if fault.delay is None else fault.delay):
            return dropped()  # stopped meanwhile

        if handler not in self._NO_AUTH and key_kind is None:
            resp = error(401, "authentication_error", "Invalid authorization credentials")
        elif handler not in self._NO_AUTH and key_kind == "pk" and handler not in self._PK_ALLOWED:
            resp = error(403, "authentication_error", "This API key is not allowed to perform this operation")
        elif bad_body is not None:
            resp = invalid(bad_body)
        else:
            with self._lock:
                resp = getattr(self, handler)(req, body, form, *args)

        if fault is not None and fault.mode in ("ambiguous", "ambiguous_create"):
            if fault.delay:
                self.pause(fault.delay)
            else:
                resp = error(500, "api_error", "Internal server error")
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

    @staticmethod
    def _fault_response(fault: Fault) -> Response:
        if fault.mode == "reset":
            return dropped()
        if fault.mode == "error_500":
            return error(500, "api_error", "Internal server error")
        if fault.mode == "error_503_html":
            return html_response(
                503,
                "<html><head><title>503 Service Temporarily Unavailable</title></head>"
                "<body><center><h1>503 Service Temporarily Unavailable</h1></center></body></html>",
            )
        retry_after = fault.delay if fault.delay is not None else 1
        resp = error(429, "rate_limit_error", "Too many requests, please try again later")
        resp.headers["Retry-After"] = str(max(0, round(retry_after)))
        return resp

    def _log_call(
        self,
        req: Request,
        endpoint: str,
        key_kind: str | None,
        resp: Response,
        fault: str | None,
        body: dict[str, Any],
        started: float,
        args: tuple[str, ...] = (),
    ) -> None:
        entry = {
            "at": self._iso(self.now()),
            "method": req.method,
            "path": redact_path(req.path),
            "query": {k: v if len(v) > 1 else v[0] for k, v in req.query.items() if k != "otp_value"},
            "endpoint": endpoint,
            "key": key_kind,
            "object_id": args[0] if args else None,
            "status": None if resp.reset else resp.status,
            "fault": fault,
            "body": redact_card_data(body) if body else None,
            "duration_ms": round((time.monotonic() - started) * 1000, 1),
        }
        self._calls.record(entry)

    # --- API handlers (called with the lock held) -------------------------------------------------------------

    def _api_create(self, req: Request, body: dict[str, Any], form: bool) -> Response:
        errors: dict[str, list[str]] = {}
        amount = as_int(body.get("amount"), form)
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
        metadata = check_metadata(body.get("metadata"), errors)
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
                elif not is_url(callback_url):
                    errors["callback_url"] = ["is invalid"]
            elif callback_url not in (None, "") and not is_url(callback_url):
                errors["callback_url"] = ["is invalid"]
        token: _Token | None = None
        number = ""
        if isinstance(source, dict) and stype == "creditcard":
            number = check_card(source, errors, prefix="source.", now=self._today())
            save_card = as_bool(source.get("save_card"), False)
            if save_card and not as_bool(source.get("3ds"), True):
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
            return invalid("Validation Failed", errors)

        if payment_id is not None and payment_id in self._payments:
            return error(400, "used_given_id", "Payment is already created with this given_id")
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
            manual=as_bool(source.get("manual"), False) if stype != "stcpay" else False,
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
            if stype == "creditcard" and as_bool(source.get("save_card"), False):
                saved = self._new_token(
                    number=number,
                    name=str(source.get("name")),
                    month=as_int(source.get("month"), True) or 0,
                    year=norm_year(as_int(source.get("year"), True) or 0),
                    metadata={},
                    callback_url=None,
                    status="initiated",
                    verification_url=None,
                )
                rec.save_token = saved.data["id"]
                rec.data["source"]["token"] = saved.data["id"]
            if not as_bool(source.get("3ds"), True):
                self._settle_card(rec)
            elif behaviour.three_ds == "not_enrolled":
                self._transition(rec, "failed", message=behaviour.message, response_code=behaviour.response_code)
            else:
                rec.data["source"]["transaction_url"] = f"{self.base_url}/_fake/3ds/{payment_id}"
        elif stype == "applepay":
            rec.kind = "applepay"
            company, last_four = _wallet_card(source.get("token"))
            rec.data["source"] = {
                "type": "applepay",
                "company": company,
                "name": None,
                "number": "XXXX-XXXX-XXXX-" + last_four,
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
            refused = STC_PAY_TEST_MOBILES.get(source["mobile"])
            if refused:
                self._transition(rec, "failed", message=refused)
        return json_response(201, self._render(rec))

    def _api_list(self, req: Request, body: dict[str, Any], form: bool) -> Response:
        try:
            page = max(1, int(req.q("page") or 1))
        except ValueError:
            return invalid("Validation Failed", {"page": ["must be an integer"]})
        status = req.q("status")
        meta_filters = {
            m.group(1): v[0] for k, v in req.query.items() if (m := re.fullmatch(r"metadata\[([^\]]+)\]", k)) and v
        }
        created_gt = parse_iso(req.q("created[gt]"))
        created_lt = parse_iso(req.q("created[lt]"))
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
        return json_response(200, {"payments": [self._render(r) for r in chunk], "meta": meta})

    def _api_fetch(self, req: Request, body: dict[str, Any], form: bool, payment_id: str) -> Response:
        rec = self._find(payment_id)
        return json_response(200, self._render(rec)) if rec else not_found("Payment")

    def _api_update(self, req: Request, body: dict[str, Any], form: bool, payment_id: str) -> Response:
        rec = self._find(payment_id)
        if rec is None:
            return not_found("Payment")
        errors: dict[str, list[str]] = {}
        description = body.get("description", UNSET)
        if description is not UNSET and description is not None and not isinstance(description, str):
            errors["description"] = ["must be a string"]
        metadata = check_metadata(body.get("metadata"), errors) if "metadata" in body else None
        if errors:
            return invalid("Validation Failed", errors)
        if description is not UNSET:
            rec.data["description"] = description
        if metadata is not None:
            rec.data["metadata"] = metadata
        rec.data["updated_at"] = self._iso(self.now())
        return json_response(200, self._render(rec))

    def _api_capture(self, req: Request, body: dict[str, Any], form: bool, payment_id: str) -> Response:
        rec = self._find(payment_id)
        if rec is None:
            return not_found("Payment")
        p = rec.data
        amount, err = optional_positive_int(body, form)
        if err:
            return invalid("Validation Failed", {"amount": [err]})
        if p["status"] != "authorized":
            return invalid(f"Payment cannot be captured, its status is {p['status']}")
        now = self.now()
        if rec.authorized_ts is not None and now - rec.authorized_ts > self.hold_seconds:
            return invalid("Authorization has expired and can no longer be captured")
        amount = p["amount"] if amount is None else amount
        if amount > p["amount"]:
            return invalid("Validation Failed", {"amount": ["must be less than or equal to the authorized amount"]})
        p["captured"], p["captured_at"] = amount, self._iso(now)
        self._transition(rec, "captured")
        return json_response(200, self._render(rec))

    def _api_void(self, req: Request, body: dict[str, Any], form: bool, payment_id: str) -> Response:
        rec = self._find(payment_id)
        if rec is None:
            return not_found("Payment")
        p = rec.data
        if p["status"] not in ("authorized", "paid", "captured"):
            return invalid(f"Payment cannot be voided, its status is {p['status']}")
        if p["status"] != "authorized" and self._is_settled(rec):
            return invalid("Payment is already settled and cannot be voided, refund it instead")
        p["voided_at"] = self._iso(self.now())
        self._transition(rec, "voided")
        return json_response(200, self._render(rec))

    def _api_refund(self, req: Request, body: dict[str, Any], form: bool, payment_id: str) -> Response:
        rec = self._find(payment_id)
        if rec is None:
            return not_found("Payment")
        p = rec.data
        amount, err = optional_positive_int(body, form)
        if err:
            return invalid("Validation Failed", {"amount": [err]})
        if p["status"] not in ("paid", "captured", "refunded"):
            return invalid(f"Payment cannot be refunded, its status is {p['status']}")
        refundable = (p["captured"] or p["amount"]) - p["refunded"]
        if refundable <= 0:
            return invalid("Payment is already fully refunded")
        amount = refundable if amount is None else amount
        if amount > refundable:
            return invalid(
                "Refund amount exceeds the refundable amount",
                {"amount": [f"must be less than or equal to {refundable}"]},
            )
        p["refunded"] += amount
        p["refunded_at"] = self._iso(self.now())
        self._transition(rec, "refunded")
        return json_response(200, self._render(rec))

    def _api_token_create(self, req: Request, body: dict[str, Any], form: bool) -> Response:
        return self._token_create(body, form)

    def _api_token_fetch(self, req: Request, body: dict[str, Any], form: bool, token_id: str) -> Response:
        tok = self._tokens.get(token_id)
        if tok is None or tok.deleted:
            return not_found("Token")
        return json_response(200, dict(tok.data))

    def _api_token_delete(self, req: Request, body: dict[str, Any], form: bool, token_id: str) -> Response:
        tok = self._tokens.get(token_id)
        if tok is None or tok.deleted:
            return not_found("Token")
        tok.deleted = True
        return Response(204)

    def _api_stc_proceed(self, req: Request, body: dict[str, Any], form: bool, payment_id: str) -> Response:
        rec = self._find(payment_id)
        if rec is None or rec.kind != "stcpay":
            return not_found("Payment")
        supplied = req.q("otp_token") or str(body.get("otp_token") or "")
        if not rec.otp_token or not secrets.compare_digest(supplied.encode(), rec.otp_token.encode()):
            return error(401, "authentication_error", "Invalid OTP token")
        if rec.data["status"] != "initiated":
            return invalid(f"Payment is {rec.data['status']}, not waiting for an OTP")
        otp = str(body.get("otp_value") or req.q("otp_value") or "")
        if otp in ("123456", "000000"):
            self._transition(rec, "paid", message="Paid", response_code=None)
            rec.data["source"]["reference_number"] = str(secrets.randbelow(10**12)).zfill(12)
        else:
            self._transition(rec, "failed", message=STC_PAY_TEST_OTPS.get(otp, "Invalid OTP"))
        return json_response(200, self._render(rec))

    # --- tokens -----------------------------------------------------------------------------------------------

    def _token_create(self, body: dict[str, Any], form: bool) -> Response:
        errors: dict[str, list[str]] = {}
        number = check_card(body, errors, prefix="", now=self._today())
        save_only = as_bool(body.get("save_only"), False)
        callback_url = body.get("callback_url")
        if callback_url in (None, ""):
            if not save_only:
                errors["callback_url"] = ["is required"]
        elif not is_url(callback_url):
            errors["callback_url"] = ["is invalid"]
        metadata = check_metadata(body.get("metadata"), errors)
        if errors:
            return invalid("Validation Failed", errors)
        tid = "token_" + secrets.token_hex(12)
        tok = self._new_token(
            token_id=tid,
            number=number,
            name=str(body.get("name")),
            month=as_int(body.get("month"), True) or 0,
            year=norm_year(as_int(body.get("year"), True) or 0),
            metadata=metadata,
            callback_url=callback_url or None,
            status="active" if save_only else "initiated",
            verification_url=None if save_only else f"{self.base_url}/_fake/3ds/{tid}",
        )
        return json_response(201, dict(tok.data))

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
        last_day = last_day_of_month(year, month)
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

    # --- 3-D Secure -------------------------------------------------------------------------------------------

    def _three_ds(self, object_id: str, result: str | None) -> Response:
        with self._lock:
            if object_id.startswith("token_"):
                return self._three_ds_token(object_id, result)
            rec = self._find(object_id)
            if rec is None or rec.kind != "card":
                return html_response(404, "<h1>Unknown payment</h1>")
            if result is None:
                return html_response(200, three_ds_page(object_id, rec.data["amount"], rec.data["currency"]))
            if result not in ("approve", "reject"):
                return html_response(400, "<h1>result must be approve or reject</h1>")
            if rec.data["status"] == "initiated":
                if result == "approve":
                    self._settle_card(rec)
                else:
                    self._transition(rec, "failed", message=THREE_DS_FAILED)
            p = rec.data
            return self._redirect(
                p["callback_url"],
                {"id": p["id"], "status": p["status"], "message": p["source"].get("message") or ""},
            )

    def _three_ds_token(self, token_id: str, result: str | None) -> Response:
        tok = self._tokens.get(token_id)
        if tok is None or tok.deleted:
            return html_response(404, "<h1>Unknown token</h1>")
        if result is None:
            return html_response(200, three_ds_page(token_id, 100, "SAR"))
        if result not in ("approve", "reject"):
            return html_response(400, "<h1>result must be approve or reject</h1>")
        if tok.data["status"] == "initiated":
            behaviour = card_behaviour(tok.number)
            if result == "approve" and behaviour.approved:
                tok.data.update(status="active", message="Succeeded")
            else:
                tok.data.update(status="inactive", message=THREE_DS_FAILED if result == "reject" else behaviour.message)
            tok.data["updated_at"] = self._iso(self.now())
        return self._redirect(
            tok.callback_url,
            {"id": token_id, "status": tok.data["status"], "message": tok.data.get("message") or ""},
        )

    @staticmethod
    def _redirect(callback_url: str | None, params: dict[str, str]) -> Response:
        if not callback_url:
            return html_response(
                200, f"<h1>{html.escape(params['status'])}</h1><p>{html.escape(params['message'])}</p>"
            )
        parts = urlsplit(callback_url)
        query = urlencode([*parse_qsl(parts.query, keep_blank_values=True), *params.items()])
        location = urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))
        return Response(302, b"", content_type="text/plain", headers={"Location": location})

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
