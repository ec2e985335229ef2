"""The test and developer half of the Moyasar fake: `MoyasarFake`, with in-process controls and the same ones
over HTTP under `/_fake/` (no auth; loopback only), and the command line (`python -m
apps.payments.providers.fake`). The package docstring lists the routes."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from apps.core.fakes import Request, Response, json_response, run_until_signalled

from .api import (
    DEFAULT_PUBLISHABLE_KEY,
    DEFAULT_SECRET_KEY,
    DEFAULT_WEBHOOK_SECRET,
    EVENT_FOR_STATUS,
    STATUSES,
    MoyasarApi,
)
from .cards import APPROVED
from .http import UNSET, BadBody, as_bool, parse_body


class MoyasarFake(MoyasarApi):
    """The Moyasar fake: `MoyasarApi` plus its controls. Thread-safe; all state lives behind one lock."""

    # --- in-process controls ----------------------------------------------------------------------------------

    def advance_clock(self, seconds: float) -> None:
        with self._lock:
            self._clock_offset += float(seconds)

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
                message, response_code = APPROVED
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
        count: int | None = 1,
        endpoint: str | None = None,
        delay: float | None = None,
        after: int = 0,
    ) -> None:
        """Spoil the next `count` calls to `endpoint` (`all`, the default, or one of `ENDPOINTS`; `create` for
        `ambiguous_create`) after letting `after` through. `count=None` (or -1) until cleared; mode `ok` clears
        (one endpoint's faults, or all)."""
        if endpoint is None and mode == "ambiguous_create":
            endpoint = "create"
        self._faults.add(mode, count=count, endpoint=None if endpoint == "all" else endpoint, delay=delay, after=after)

    def clear_faults(self) -> None:
        self._faults.clear()

    def faults(self) -> list[dict[str, Any]]:
        """Pending faults; `count` is None for "until cleared"."""
        return [
            {"mode": f.mode, "endpoint": f.endpoint or "all", "count": f.remaining, "delay": f.delay, "after": f.after}
            for f in self._faults.pending()
        ]

    def configure_webhooks(
        self,
        *,
        url: Any = UNSET,
        secret: Any = UNSET,
        mode: Any = UNSET,
        duplicates: Any = UNSET,
        window: Any = UNSET,
        retry_delays: Any = UNSET,
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
        return self._calls.entries(endpoint)

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

    # --- control surface --------------------------------------------------------------------------------------

    def _outside_api(self, request: Request) -> Response:
        if request.path == "/_fake" or request.path.startswith("/_fake/"):
            return self._control(request)
        return super()._outside_api(request)

    def _control(self, req: Request) -> Response:
        path = req.path.rstrip("/") or "/"
        parts = [unquote(p) for p in path.split("/")[2:]]  # after "/_fake"
        method = req.method
        try:
            body, _ = parse_body(req) if method in ("POST", "PUT", "PATCH") else ({}, False)
        except BadBody as exc:
            return json_response(400, {"error": str(exc)})
        try:
            return self._control_route(method, parts, body, req)
        except KeyError:
            return json_response(404, {"error": "not found"})
        except (ValueError, TypeError) as exc:
            return json_response(400, {"error": str(exc)})

    def _control_route(self, method: str, parts: list[str], body: dict[str, Any], req: Request) -> Response:
        match (method, parts):
            case ("GET", []):
                return json_response(200, {"routes": CONTROL_ROUTES, "api": self.api_url})
            case ("GET", ["mpf", name]) if name in FORM_ASSETS:
                return form_asset(name)
            case ("GET", ["3ds", object_id]):
                return self._three_ds(object_id, req.q("result"))
            case ("GET", ["payments"]):
                return json_response(200, {"payments": self.payments()})
            case ("GET", ["payments", pid]):
                return json_response(200, self.payment(pid))
            case ("POST", ["payments", pid, "settle"]):
                return json_response(200, self.settle(pid))
            case ("POST", ["payments", pid, "status"]):
                return json_response(
                    200,
                    self.force_status(
                        pid,
                        str(body.get("status")),
                        message=body.get("message"),
                        response_code=body.get("response_code"),
                        fire_event=as_bool(body.get("event"), True),
                    ),
                )
            case ("POST", ["payments", pid, "events"]):
                event = self.fire_event(pid, body.get("type"))
                return json_response(200, {"event": event, "sent": event is not None})
            case ("GET", ["tokens"]):
                return json_response(200, {"tokens": self.tokens()})
            case ("GET", ["faults"]):
                return json_response(200, {"faults": self.faults()})
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
                return json_response(200, {"faults": self.faults()})
            case ("GET", ["webhooks"]):
                return json_response(200, self.webhook_config())
            case ("POST", ["webhooks"]):
                allowed = ("url", "secret", "mode", "duplicates", "window")
                return json_response(200, self.configure_webhooks(**{k: body[k] for k in allowed if k in body}))
            case ("POST", ["webhooks", "flush"]):
                return json_response(200, {"released": self.flush_webhooks()})
            case ("GET", ["webhooks", "attempts"]):
                return json_response(200, {"attempts": self.webhook_attempts()})
            case ("GET", ["calls"]):
                return json_response(200, {"calls": self.calls(req.q("endpoint"))})
            case ("GET", ["clock"]):
                return json_response(200, {"now": self._iso(self.now()), "offset": self._clock_offset})
            case ("POST", ["clock"]):
                advance = body.get("advance", 0)
                if isinstance(advance, bool) or not isinstance(advance, int | float):
                    raise ValueError("advance must be a number of seconds")
                self.advance_clock(advance)
                return json_response(200, {"now": self._iso(self.now()), "offset": self._clock_offset})
            case ("POST", ["reset"]):
                self.reset()
                return json_response(200, {"reset": True})
        return json_response(404, {"error": "unknown control route", "routes": CONTROL_ROUTES})


# The payment form (an equivalent of Moyasar's `mpf` on its CDN), for the website's payment page.
FORM_ASSETS = {"moyasar.js": "application/javascript; charset=utf-8", "moyasar.css": "text/css; charset=utf-8"}
_FORM_DIR = Path(__file__).resolve().parent / "mpf"


def form_asset(name: str) -> Response:
    """A public asset, readable by any page (tools such as axe-core read stylesheets with a cross-origin fetch)."""
    body = (_FORM_DIR / name).read_bytes()
    return Response(
        200,
        body,
        content_type=FORM_ASSETS[name],
        headers={"Cache-Control": "no-cache", "Access-Control-Allow-Origin": "*"},
    )


CONTROL_ROUTES = [
    "GET /_fake/mpf/moyasar.js, /_fake/mpf/moyasar.css   the payment form (Moyasar.init), for web pages",
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


# --- command line -----------------------------------------------------------------------------------------------


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

    def make() -> MoyasarFake:
        return MoyasarFake(
            host=args.host,
            port=args.port,
            secret_key=args.secret_key,
            publishable_key=args.publishable_key,
            webhook_url=args.webhook_url or None,
            webhook_secret=args.webhook_secret,
            account_name=args.account_name,
        )

    def banner(fake: MoyasarFake) -> str:
        return (
            f"Moyasar fake listening on {fake.base_url} (API {fake.api_url}, controls {fake.base_url}/_fake)\n"
            f"webhooks: {args.webhook_url or 'off'}"
        )

    return run_until_signalled(make, name="Moyasar fake", banner=banner)
