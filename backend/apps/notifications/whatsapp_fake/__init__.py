"""A loopback fake of the WhatsApp Business Cloud API (/work/shared/specs/whatsapp.md, "What a faithful local fake
must do"), for development (`python -m apps.notifications.whatsapp_fake --port 8104`, started by `dev.py run`) and
tests (`WhatsAppFake(...).start()` in-process). Standard library only.

- `POST /<version>/<phone_number_id>/messages`: Bearer token (else 401, code 190), known phone-number id (else 400,
  code 100), template APPROVED in that language (132001), parameter count (132000), parameter text (132018), button
  index/sub_type; free-form text only inside the 24-hour window (131047: `csw_mode` "async" (200 then a failed
  status) or "sync" (400)); interactive buttons' limits (131009). Success: 200 with `wamid.FAKE…`.
- Status webhooks to `callback_url`, signed `X-Hub-Signature-256` with the app secret: sent → delivered → read
  (after `status_delay` seconds each). Magic recipients by last 4 digits: 0001 delivered never read, 0002 fails
  asynchronously with 131026, 0003 a synchronous 400 131026, 0004 held_for_quality_assessment then failed 132015,
  0005 never gets a status.
- `webhook_mode`: "normal", "duplicates", "out_of_order" (read before delivered), "batched", "bad_signature".
  A non-200 answer is retried a few times on a compressed schedule; attempts are in `webhook_attempts`.
- Limits: `pair_rate_seconds` (131056 for a second message to the same user sooner), `throughput_per_second`
  (130429), `messaging_limit` (unique users reached outside their window in 24 h; past it a failed status).
- Faults (`POST /_fake/faults` or `set_faults`): timeout, error_500 (131000), error_429 (400 + code 130429, with
  `Retry-After` when `retry_after` is given), http_429 (HTTP 429 + code 130429), pair_rate (131056),
  accepted_then_timeout, ok (clear).
- `POST /_fake/inbound` (`inbound(...)`): `{"from", "text"}`, `{"from", "button_payload", "context_id"}` or
  `{"from", "button_reply_id"}` posts a Meta-shaped inbound webhook and opens the window.
- `GET /_fake/messages?to=`: the outbox (text, template, parameters, buttons, payloads). `POST /_fake/verify` runs
  the GET handshake against the callback. Templates: `GET /<v>/<waba>/message_templates?name=`, `POST` (PENDING),
  `POST /_fake/templates/<name>/<lang>` `{"status"}`.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import re
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from apps.core.fakes import (
    CallLog,
    FaultQueue,
    LoopbackFake,
    Request,
    Response,
    json_response,
    until_cleared_or_count,
)
from apps.notifications.whatsapp_templates import PLACEHOLDER, TEMPLATES

FAULT_MODES = ("timeout", "error_500", "error_429", "http_429", "pair_rate", "accepted_then_timeout")
WEBHOOK_MODES = ("normal", "duplicates", "out_of_order", "batched", "bad_signature")
WINDOW_SECONDS = 24 * 3600
MESSAGING_LIMIT_CODE = 131049  # the real code for "messaging limit reached" is UNCERTAIN (spec); a stand-in
_MESSAGES = re.compile(r"^/(v\d+\.\d+)/([^/]+)/messages$")
_TEMPLATES_PATH = re.compile(r"^/(v\d+\.\d+)/([^/]+)/message_templates$")
_SET_TEMPLATE = re.compile(r"^/_fake/templates/([a-z0-9_]+)/([A-Za-z_]+)$")


def _error(status: int, code: int, message: str, details: str = "") -> Response:
    return json_response(
        status,
        {
            "error": {
                "message": f"(#{code}) {message}",
                "type": "OAuthException",
                "code": code,
                "error_data": {"messaging_product": "whatsapp", "details": details or message},
                "fbtrace_id": "AFakeTrace",
            }
        },
    )


@dataclass
class _Template:
    name: str
    language: str
    body: str
    buttons: int
    status: str = "APPROVED"
    category: str = "UTILITY"
    components: list[dict[str, Any]] = field(default_factory=list)


class WhatsAppFake(LoopbackFake):
    label = "WhatsApp Cloud API fake"
    server_version = "WhatsAppFake/1.0"

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        token: str = "fake-whatsapp-token",  # noqa: S107 - the fake's public test credentials
        phone_number_id: str = "100000000000001",
        waba_id: str = "200000000000002",
        app_secret: str = "fake-whatsapp-app-secret",  # noqa: S107
        verify_token: str = "fake-whatsapp-verify-token",  # noqa: S107
        callback_url: str = "",
        status_delay: float = 0.05,
        auto_statuses: bool = True,
    ) -> None:
        super().__init__(host=host, port=port)
        self.token = token
        self.phone_number_id = phone_number_id
        self.display_phone_number = "966500009999"
        self.waba_id = waba_id
        self.app_secret = app_secret
        self.verify_token = verify_token
        self.callback_url = callback_url
        self.status_delay = status_delay
        self.auto_statuses = auto_statuses
        self.csw_mode = "async"
        self.webhook_mode = "normal"
        self.webhook_retries = 3
        self.pair_rate_seconds: float | None = None
        self.throughput_per_second: int | None = None
        # Unique recipients reached outside their 24-hour window in a moving 24 h (Meta's messaging limit: 250 for
        # a new portfolio). Past it a template is accepted, then fails by webhook; the real code is UNCERTAIN.
        self.messaging_limit: int | None = None
        self._reached: dict[str, float] = {}
        self.faults = FaultQueue(modes=FAULT_MODES, endpoints=("messages",))
        self.calls = CallLog()
        self.webhook_attempts: list[dict[str, Any]] = []
        self.outbox: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._last_inbound: dict[str, float] = {}
        self._last_sent: dict[str, float] = {}
        self._sent_times: list[float] = []
        self._threads: list[threading.Thread] = []
        self.templates: dict[tuple[str, str], _Template] = {}
        for spec in TEMPLATES.values():
            for language, body in spec.body.items():
                self.templates[(spec.name, language)] = _Template(
                    spec.name, language, body, len(spec.buttons), components=spec.components(language)
                )

    # --- control from tests -----------------------------------------------------------------------------------

    def set_faults(self, mode: str, *, count: int | None = 1, retry_after: int | None = None) -> None:
        self.faults.add(mode, count=count, endpoint="messages", retry_after=retry_after)

    def messages(self, to: str | None = None) -> list[dict[str, Any]]:
        with self._lock:
            return [m for m in self.outbox if to is None or m["to"] == _digits(to)]

    def wait_idle(self, timeout: float = 5.0) -> bool:
        """Until every webhook this fake started sending has been delivered (or given up)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                alive = [t for t in self._threads if t.is_alive()]
                self._threads = alive
            if not alive:
                return True
            time.sleep(0.02)
        return False

    def signed(self, payload: dict[str, Any], *, secret: str | None = None) -> tuple[bytes, str]:
        """The raw body (non-ASCII escaped, as Meta sends it) and its `X-Hub-Signature-256` header value."""
        body = json.dumps(payload).encode()
        digest = hmac.new((secret or self.app_secret).encode(), body, hashlib.sha256).hexdigest()
        return body, f"sha256={digest}"

    def envelope(self, value: dict[str, Any]) -> dict[str, Any]:
        value = {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": self.display_phone_number, "phone_number_id": self.phone_number_id},
            **value,
        }
        return {
            "object": "whatsapp_business_account",
            "entry": [{"id": self.waba_id, "changes": [{"field": "messages", "value": value}]}],
        }

    def status_payload(
        self,
        wamid: str,
        status: str,
        *,
        to: str,
        callback_data: str = "",
        error_code: int | None = None,
        pricing_type: str = "regular",
    ) -> dict[str, Any]:
        item: dict[str, Any] = {
            "id": wamid,
            "status": status,
            "timestamp": str(int(time.time())),
            "recipient_id": _digits(to),
        }
        if callback_data:
            item["biz_opaque_callback_data"] = callback_data
        if status == "failed":
            item["errors"] = [
                {
                    "code": error_code or 131026,
                    "title": _TITLES.get(error_code or 131026, "Error"),
                    "message": _TITLES.get(error_code or 131026, "Error"),
                    "error_data": {"details": "fake"},
                }
            ]
        elif status in ("sent", "delivered"):
            free = pricing_type != "regular"
            item["pricing"] = {
                "billable": not free,
                "pricing_model": "PMP",
                "type": pricing_type,
                "category": "utility",
            }
        return self.envelope({"statuses": [item]})

    def emit_status(
        self, wamid: str, status: str, *, to: str, callback_data: str = "", error_code: int | None = None
    ) -> None:
        """Post one status webhook now (in the background)."""
        self._post_async(self.status_payload(wamid, status, to=to, callback_data=callback_data, error_code=error_code))

    def inbound_payload(
        self,
        *,
        sender: str,
        text: str | None = None,
        button_payload: str | None = None,
        button_text: str = "",
        context_id: str = "",
        button_reply_id: str | None = None,
        name: str = "Customer",
    ) -> dict[str, Any]:
        wa_id = _digits(sender)
        message: dict[str, Any] = {"from": wa_id, "id": self._wamid(), "timestamp": str(int(time.time()))}
        if button_payload is not None:
            message.update(type="button", button={"payload": button_payload, "text": button_text or "button"})
        elif button_reply_id is not None:
            message.update(
                type="interactive",
                interactive={"type": "button_reply", "button_reply": {"id": button_reply_id, "title": "reply"}},
            )
        else:
            message.update(type="text", text={"body": text or ""})
        if context_id:
            message["context"] = {"from": self.display_phone_number, "id": context_id}
        with self._lock:
            self._last_inbound[wa_id] = time.time()
        return self.envelope({"contacts": [{"profile": {"name": name}, "wa_id": wa_id}], "messages": [message]})

    def inbound(self, **kwargs: Any) -> int:
        """Post an inbound message webhook now and wait for the answer: its HTTP status (0: not delivered)."""
        return self._deliver(self.inbound_payload(**kwargs))

    # --- HTTP ---------------------------------------------------------------------------------------------------

    def handle(self, request: Request) -> Response:
        path = request.path
        if request.method == "GET" and path == "/_fake/messages":
            to = request.q("to")
            return json_response(200, {"messages": self.messages(to)})
        if request.method == "GET" and path == "/_fake/webhooks":
            return json_response(200, {"attempts": list(self.webhook_attempts)})
        if request.method == "POST" and path == "/_fake/faults":
            return self._faults(request)
        if request.method == "POST" and path == "/_fake/config":
            return self._config(request)
        if request.method == "POST" and path == "/_fake/inbound":
            return self._inbound(request)
        if request.method == "POST" and path == "/_fake/verify":
            return json_response(200, self.verify())
        if request.method == "POST" and (m := _SET_TEMPLATE.match(path)):
            return self._set_template(m.group(1), m.group(2), _json(request) or {})
        if m := _TEMPLATES_PATH.match(path):
            return self._templates(request, m.group(2))
        if request.method == "POST" and (m := _MESSAGES.match(path)):
            return self._send(request, m.group(2))
        return _error(400, 100, "Unsupported request", f"unknown path {path}")

    def _authorised(self, request: Request) -> bool:
        header = request.headers.get("Authorization", "") or ""
        return hmac.compare_digest(header.encode(), f"Bearer {self.token}".encode())

    def _send(self, request: Request, phone_number_id: str) -> Response:
        self.calls.record({"endpoint": "messages", "body": request.body.decode(errors="replace")})
        if not self._authorised(request):
            return _error(401, 190, "Invalid OAuth access token - Cannot parse access token")
        if phone_number_id != self.phone_number_id:
            return _error(400, 100, "Invalid parameter", f"unknown phone number id {phone_number_id}")
        body = _json(request)
        if not isinstance(body, dict) or body.get("messaging_product") != "whatsapp":
            return _error(400, 100, "Invalid parameter", "messaging_product must be whatsapp")
        to = _digits(str(body.get("to", "")))
        if not 8 <= len(to) <= 15:
            return _error(400, 100, "Invalid parameter", "to must be 8-15 digits")
        fault = self.faults.take("messages")
        if fault is not None:
            answer = self._fault(fault.mode, fault.retry_after, fault.delay)
            if answer is not None:
                return answer
        limited = self._limits(to)
        if limited is not None:
            return limited
        kind = body.get("type")
        if kind == "template":
            outcome = self._check_template(body)
        elif kind in ("text", "interactive"):
            outcome = self._check_free_form(body, to)
        else:
            outcome = _error(400, 131009, "Parameter value is not valid", f"unsupported type {kind}")
        if isinstance(outcome, Response):
            return outcome
        if to.endswith("0003"):
            return _error(400, 131026, "Message undeliverable")
        wamid = self._wamid()
        status = "accepted"
        if to.endswith("0004") and kind == "template":
            status = "held_for_quality_assessment"
        record = {
            "id": wamid,
            "to": to,
            "type": kind,
            **outcome,
            "callback_data": body.get("biz_opaque_callback_data", ""),
        }
        if kind == "template" and self._over_messaging_limit(to, time.time()):
            record["over_messaging_limit"] = True
        with self._lock:
            self.outbox.append(record)
            self._last_sent[to] = time.time()
            self._sent_times.append(time.time())
        window_closed = outcome.get("window_closed", False)
        self._schedule_statuses(record, window_closed=window_closed)
        message: dict[str, Any] = {"id": wamid}
        if kind == "template":
            message["message_status"] = status
        answer = json_response(
            200,
            {"messaging_product": "whatsapp", "contacts": [{"input": body["to"], "wa_id": to}], "messages": [message]},
        )
        if fault is not None and fault.mode == "accepted_then_timeout":
            self.pause(fault.delay or 30.0)
            return Response(0, reset=True)
        return answer

    def _fault(self, mode: str, retry_after: int | None, delay: float | None) -> Response | None:
        headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
        if mode == "timeout":
            self.pause(delay or 30.0)
            return Response(0, reset=True)
        if mode == "error_500":
            return _error(500, 131000, "Something went wrong")
        if mode == "error_429":
            answer = _error(400, 130429, "Rate limit hit", "Cloud API message throughput has been reached.")
            answer.headers.update(headers)
            return answer
        if mode == "http_429":
            answer = _error(429, 130429, "Rate limit hit", "Cloud API message throughput has been reached.")
            answer.headers.update(headers)
            return answer
        if mode == "pair_rate":
            answer = _error(400, 131056, "(Business Account, Consumer Account) pair rate limit hit")
            answer.headers.update(headers)
            return answer
        return None  # accepted_then_timeout: handled after the message is queued

    def _limits(self, to: str) -> Response | None:
        now = time.time()
        with self._lock:
            last = self._last_sent.get(to)
            if self.pair_rate_seconds is not None and last is not None and now - last < self.pair_rate_seconds:
                return _error(400, 131056, "(Business Account, Consumer Account) pair rate limit hit")
            if self.throughput_per_second is not None:
                recent = [t for t in self._sent_times if now - t < 1.0]
                self._sent_times = recent
                if len(recent) >= self.throughput_per_second:
                    return _error(400, 130429, "Rate limit hit")
        return None

    def _check_template(self, body: dict[str, Any]) -> dict[str, Any] | Response:
        template = body.get("template") or {}
        name = str(template.get("name", ""))
        language = str((template.get("language") or {}).get("code", ""))
        spec = self.templates.get((name, language))
        if spec is None or spec.status != "APPROVED":
            return _error(
                404, 132001, "Template name does not exist in the translation", f"template {name} ({language})"
            )
        params: list[str] = []
        buttons: list[dict[str, Any]] = []
        for component in template.get("components") or []:
            if component.get("type") == "body":
                for p in component.get("parameters") or []:
                    if p.get("type") != "text":
                        return _error(400, 132012, "Parameter format does not match format in the created template")
                    params.append(str(p.get("text", "")))
            elif component.get("type") == "button":
                index = component.get("index")
                if component.get("sub_type") != "quick_reply" or not isinstance(index, str) or not index.isdigit():
                    return _error(400, 131009, "Parameter value is not valid", "button sub_type/index")
                if int(index) >= spec.buttons:
                    return _error(400, 131009, "Parameter value is not valid", f"no button at index {index}")
                payload = ((component.get("parameters") or [{}])[0]).get("payload", "")
                buttons.append({"index": int(index), "payload": str(payload)})
        expected = len(set(PLACEHOLDER.findall(spec.body)))
        if len(params) != expected:
            return _error(
                400,
                132000,
                "Number of parameters does not match the expected number of params",
                f"body: expected {expected}, got {len(params)}",
            )
        for p in params:
            if not p or "\n" in p or "\t" in p or "     " in p:
                return _error(
                    400, 132018, "Param text cannot have new-line/tab characters or more than 4 consecutive spaces"
                )
        text = PLACEHOLDER.sub(lambda m: params[int(m.group(1)) - 1], spec.body)
        titles = [c["buttons"] for c in spec.components if c.get("type") == "BUTTONS"]
        button_titles = [b["text"] for b in titles[0]] if titles else []
        for b in buttons:
            b["title"] = button_titles[b["index"]]
        return {"template": name, "language": language, "params": params, "text": text, "buttons": buttons}

    def _check_free_form(self, body: dict[str, Any], to: str) -> dict[str, Any] | Response:
        if body.get("type") == "interactive":
            action = ((body.get("interactive") or {}).get("action") or {}).get("buttons") or []
            titles = [str(((b or {}).get("reply") or {}).get("title", "")) for b in action]
            ids = [str(((b or {}).get("reply") or {}).get("id", "")) for b in action]
            if not 1 <= len(action) <= 3 or len(set(titles)) != len(titles):
                return _error(400, 131009, "Parameter value is not valid", "1-3 buttons with unique titles")
            if any(len(t) > 20 or not t for t in titles) or any(len(i) > 256 or not i for i in ids):
                return _error(400, 131009, "Parameter value is not valid", "title <= 20, id <= 256")
            text = str(((body.get("interactive") or {}).get("body") or {}).get("text", ""))
            result: dict[str, Any] = {
                "text": text,
                "buttons": [{"id": i, "title": t} for i, t in zip(ids, titles, strict=True)],
            }
        else:
            result = {"text": str((body.get("text") or {}).get("body", "")), "buttons": []}
        with self._lock:
            last = self._last_inbound.get(to)
        if last is None or time.time() - last > WINDOW_SECONDS:
            if self.csw_mode == "sync":
                return _error(400, 131047, "Re-engagement message")
            result["window_closed"] = True
        return result

    # --- webhooks ---------------------------------------------------------------------------------------------

    def _schedule_statuses(self, record: dict[str, Any], *, window_closed: bool) -> None:
        if not self.auto_statuses or not self.callback_url:
            return
        to, wamid, data = record["to"], record["id"], record.get("callback_data", "")
        plan = self.status_plan(record, window_closed=window_closed)
        if not plan:
            return
        # Utility templates and free-form messages inside the customer's 24-hour window are free.
        with self._lock:
            last = self._last_inbound.get(to)
        inside = last is not None and time.time() - last <= WINDOW_SECONDS
        pricing = "free_customer_service" if inside else "regular"
        payloads = [
            self.status_payload(wamid, s, to=to, callback_data=data, error_code=c, pricing_type=pricing)
            for s, c in plan
        ]
        if self.webhook_mode == "out_of_order" and len(payloads) == 3:
            payloads = [payloads[2], payloads[0], payloads[1]]
        elif self.webhook_mode == "duplicates":
            payloads = [p for p in payloads for _ in (0, 1)]
        elif self.webhook_mode == "batched" and len(payloads) > 1:
            statuses = [p["entry"][0]["changes"][0]["value"]["statuses"][0] for p in payloads]
            payloads = [self.envelope({"statuses": statuses})]

        def run() -> None:
            for payload in payloads:
                if self.pause(self.status_delay):
                    return
                self._deliver(payload)

        self._start(run)

    def status_plan(self, record: dict[str, Any], *, window_closed: bool = False) -> list[tuple[str, int | None]]:
        """The statuses a message accepted by the fake gets, in order, as (status, error code)."""
        to = record["to"]
        if to.endswith("0005"):
            return []
        if window_closed:
            return [("failed", 131047)]
        if to.endswith("0002"):
            return [("failed", 131026)]
        if to.endswith("0004"):
            return [("failed", 132015)]
        if record.get("over_messaging_limit"):
            return [("failed", MESSAGING_LIMIT_CODE)]
        if to.endswith("0001"):
            return [("sent", None), ("delivered", None)]
        return [("sent", None), ("delivered", None), ("read", None)]

    def _over_messaging_limit(self, to: str, now: float) -> bool:
        """Count a business-initiated template to `to` outside its window against the messaging limit."""
        with self._lock:
            last = self._last_inbound.get(to)
            if self.messaging_limit is None or (last is not None and now - last <= WINDOW_SECONDS):
                return False
            self._reached = {k: t for k, t in self._reached.items() if now - t <= WINDOW_SECONDS}
            if to in self._reached:
                return False
            if len(self._reached) >= self.messaging_limit:
                return True
            self._reached[to] = now
            return False

    def _post_async(self, payload: dict[str, Any]) -> None:
        self._start(lambda: self._deliver(payload))

    def _start(self, target: Any) -> None:
        thread = threading.Thread(target=target, name=f"{self.label} webhooks", daemon=True)
        with self._lock:
            self._threads.append(thread)
        thread.start()

    def _deliver(self, payload: dict[str, Any]) -> int:
        """POST one webhook, retrying a non-200 answer a few times on a compressed schedule."""
        if not self.callback_url:
            return 0
        secret = "not-the-app-secret" if self.webhook_mode == "bad_signature" else self.app_secret
        body, signature = self.signed(payload, secret=secret)
        status = 0
        for attempt in range(1 + self.webhook_retries):
            request = urllib.request.Request(  # noqa: S310 - the configured loopback callback
                self.callback_url,
                data=body,
                method="POST",
                headers={"Content-Type": "application/json", "X-Hub-Signature-256": signature},
            )
            try:
                with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310
                    status = answer.status
            except urllib.error.HTTPError as exc:
                status = exc.code
            except OSError:
                status = 0
            with self._lock:
                self.webhook_attempts.append({"attempt": attempt + 1, "status": status, "bytes": len(body)})
            if status == 200:
                break
            if self.pause(0.05 * 2**attempt):
                break
        return status

    def verify(self) -> dict[str, Any]:
        """Meta's GET handshake against the callback: whether it answered 200 with the challenge echoed."""
        challenge = f"challenge-{next(self._ids)}"
        query = urlencode({"hub.mode": "subscribe", "hub.challenge": challenge, "hub.verify_token": self.verify_token})
        try:
            with urllib.request.urlopen(f"{self.callback_url}?{query}", timeout=10) as answer:  # noqa: S310
                text = answer.read().decode()
                return {"ok": answer.status == 200 and text == challenge, "status": answer.status}
        except urllib.error.HTTPError as exc:
            return {"ok": False, "status": exc.code}
        except OSError as exc:
            return {"ok": False, "status": 0, "error": type(exc).__name__}

    # --- control endpoints ------------------------------------------------------------------------------------

    def _faults(self, request: Request) -> Response:
        body = _json(request) or {}
        try:
            count = until_cleared_or_count(body.get("count", 1))
            self.faults.add(
                str(body.get("mode", "")), count=count, endpoint="messages", retry_after=body.get("retry_after")
            )
        except ValueError as exc:
            return json_response(400, {"message": str(exc)})
        return json_response(200, {"pending": len(self.faults)})

    def _config(self, request: Request) -> Response:
        body = _json(request) or {}
        if body.get("webhook_mode", self.webhook_mode) not in WEBHOOK_MODES:
            return json_response(400, {"message": f"webhook_mode: one of {', '.join(WEBHOOK_MODES)}"})
        for name in (
            "webhook_mode",
            "csw_mode",
            "callback_url",
            "status_delay",
            "pair_rate_seconds",
            "throughput_per_second",
            "messaging_limit",
        ):
            if name in body:
                setattr(self, name, body[name])
        return json_response(200, {"ok": True})

    def _inbound(self, request: Request) -> Response:
        body = _json(request) or {}
        if not body.get("from"):
            return json_response(400, {"message": "from is required"})
        status = self.inbound(
            sender=str(body["from"]),
            text=body.get("text"),
            button_payload=body.get("button_payload"),
            context_id=str(body.get("context_id", "")),
            button_reply_id=body.get("button_reply_id"),
        )
        return json_response(200, {"delivered": status == 200, "status": status})

    def _templates(self, request: Request, waba_id: str) -> Response:
        if not self._authorised(request):
            return _error(401, 190, "Invalid OAuth access token")
        if waba_id != self.waba_id:
            return _error(400, 100, "Invalid parameter", f"unknown WABA {waba_id}")
        if request.method == "GET":
            name = request.q("name")
            rows = [
                {
                    "name": t.name,
                    "language": t.language,
                    "status": t.status,
                    "category": t.category,
                    "components": t.components,
                }
                for t in self.templates.values()
                if name is None or t.name == name
            ]
            return json_response(200, {"data": rows})
        body = _json(request) or {}
        name, language = str(body.get("name", "")), str(body.get("language", ""))
        if not re.fullmatch(r"[a-z0-9_]+", name) or not language:
            return _error(400, 100, "Invalid parameter", "name and language")
        components = body.get("components") or []
        text = next((str(c.get("text", "")) for c in components if str(c.get("type", "")).upper() == "BODY"), "")
        buttons = sum(len(c.get("buttons") or []) for c in components if str(c.get("type", "")).upper() == "BUTTONS")
        self.templates[(name, language)] = _Template(
            name, language, text, buttons, "PENDING", str(body.get("category", "UTILITY")), components
        )
        return json_response(
            200, {"id": str(next(self._ids)), "status": "PENDING", "category": body.get("category", "UTILITY")}
        )

    def _set_template(self, name: str, language: str, body: dict[str, Any]) -> Response:
        template = self.templates.get((name, language))
        status = str(body.get("status", "")).upper()
        if template is None or status not in ("APPROVED", "REJECTED", "PAUSED", "DISABLED", "PENDING"):
            return json_response(404 if template is None else 400, {"message": "unknown template or status"})
        template.status = status
        self._post_async(
            {
                "object": "whatsapp_business_account",
                "entry": [
                    {
                        "id": self.waba_id,
                        "changes": [
                            {
                                "field": "message_template_status_update",
                                "value": {
                                    "event": status,
                                    "message_template_name": name,
                                    "message_template_language": language,
                                },
                            }
                        ],
                    }
                ],
            }
        )
        return json_response(200, {"name": name, "language": language, "status": status})

    def _wamid(self) -> str:
        return f"wamid.FAKE{next(self._ids):012d}"


_TITLES = {
    131026: "Message undeliverable",
    131047: "Re-engagement message",
    132015: "Template is paused",
}


def _digits(phone: str) -> str:
    return "".join(ch for ch in phone if ch.isdigit())


def _json(request: Request) -> Any:
    try:
        return json.loads(request.body or b"null")
    except ValueError:
        return None
