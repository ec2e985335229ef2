"""Authentica (authentica.sa) client: OTP send/verify, plain SMS and balance over its `/api/v2` JSON API.

See `shared/specs/authentica.md`. Implements `MessagingProvider`; turns HTTP into return values or the typed
`ProviderError`s of `base.py`.

Outcome rules (the spec leaves the vendor's error shapes UNCERTAIN, so everything is parsed defensively):
- send-otp / send-sms succeed only on HTTP 2xx **and** `success is True` in a JSON object body.
- verify-otp is True only on HTTP 2xx **and** `status is True` (`success`/`verified` true also accepted).
  A rejection comes back as False in both styles seen in the wild: `400 {"status": false}` and
  `200 {"status": false}`; any other 4xx except 401/403 and 429 is also a rejection. (403 is treated like 401,
  a refused key or account, rather than as a wrong code: it needs a person, not a new code.)
- 401/403 -> ProviderConfigurationError (also 404/405/3xx on a send: a wrong base URL), 400/422 and other 4xx ->
  ProviderValidationError (with `fields`), 429 -> ProviderRateLimited (`retry_after` from Retry-After), 402 or
  an "insufficient balance" text in any answer -> ProviderInsufficientBalance, 5xx / 408 / timeout / connection
  error / non-JSON body / 2xx with `success` not true -> ProviderUnavailable.

Retry rule: a call is retried at most once, and only when the request certainly never reached Authentica
(`httpx.ConnectError` / `httpx.ConnectTimeout`: no connection was made, nothing was sent). send-otp and
send-sms are not idempotent (there is no idempotency key), so a second attempt after a read timeout, a dropped
connection or a 5xx could deliver and bill a second message; verify-otp consumes the code, so it is never
retried after any response either. Everything else surfaces at once as a typed error, and the background job
layer decides about retrying later with backoff (`ProviderError.retryable`, `retry_after`,
`ProviderUnavailable.maybe_delivered`).

Logging: one structured record per call on `mawid.providers.authentica` with `extra` fields `provider`,
`operation`, `phone` (masked), `status_code`, `duration_ms`, `outcome`, `attempts`. The API key, OTP codes and
SMS text are never logged, and are scrubbed from vendor error text carried by exceptions.
"""

from __future__ import annotations

import functools
import logging
import math
import re
import time
from collections.abc import Mapping
from types import TracebackType
from typing import Any, Self, TypeVar

import httpx

from apps.core.masking import mask_phone
from apps.core.retry_after import parse_retry_after

from .base import (
    CHANNELS,
    ProviderConfigurationError,
    ProviderError,
    ProviderInsufficientBalance,
    ProviderRateLimited,
    ProviderUnavailable,
    ProviderValidationError,
    SendResult,
)

logger = logging.getLogger("mawid.providers.authentica")

PROVIDER = "authentica"
DEFAULT_BASE_URL = "https://api.authentica.sa"
API_PREFIX = "/api/v2"
USER_AGENT = "mawid/1.0"

E = TypeVar("E", bound=ProviderError)

# Building an SSL context (loading the CA bundle) costs tens of ms; share one, as SSLContext is thread-safe.
_ssl_context = functools.cache(httpx.create_ssl_context)

# Wording of an out-of-credit answer; its real shape is UNCERTAIN, so look for it in any error text.
_INSUFFICIENT_BALANCE = re.compile(
    r"(insufficient|not\s+enough|low|no)\s+(balance|credit)|balance\s+(is\s+)?(insufficient|too\s+low)|رصيد",
    re.IGNORECASE,
)


class AuthenticaClient:
    """`MessagingProvider` over Authentica's HTTP API. Thread-safe; reuse one instance, `close()` when done."""

    def __init__(
        self,
        *,
        base_url: str = DEFAULT_BASE_URL,
        api_key: str,
        template_id: int = 1,
        sender_name: str | None = None,
        connect_timeout: float = 5.0,
        read_timeout: float = 10.0,
        transport: httpx.BaseTransport | None = None,
        connect_retry_delay: float = 0.2,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.template_id = int(template_id)
        self.sender_name = sender_name or None
        self.connect_retry_delay = connect_retry_delay
        self._api_key = api_key or ""
        api_base = self.base_url if self.base_url.endswith(API_PREFIX) else self.base_url + API_PREFIX
        self._http = httpx.Client(
            base_url=api_base,
            headers={
                "X-Authorization": self._api_key,
                "Accept": "application/json",
                "Content-Type": "application/json",
                "User-Agent": USER_AGENT,
            },
            timeout=httpx.Timeout(connect=connect_timeout, read=read_timeout, write=read_timeout, pool=connect_timeout),
            follow_redirects=False,
            verify=_ssl_context(),
            transport=transport,
        )

    def __repr__(self) -> str:  # never show the key
        return f"AuthenticaClient(base_url={self.base_url!r}, template_id={self.template_id})"

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    # -- MessagingProvider -------------------------------------------------------------------------------------

    def send_otp(self, *, phone: str, channel: str, code: str | None = None, template_id: int | None = None) -> None:
        call = _Call("send_otp", phone=phone, secrets=(code, self._api_key))
        if channel not in CHANNELS:
            raise call.fail(
                ProviderValidationError(
                    f"Unsupported OTP channel {channel!r}; expected one of {', '.join(CHANNELS)}.",
                    fields={"method": [f"Unsupported channel {channel!r}."]},
                ),
                "invalid",
            )
        template = self.template_id if template_id is None else int(template_id)
        payload: dict[str, Any] = {"method": channel, "phone": phone, "template_id": template}
        if code is not None:
            payload["otp"] = str(code)
        response = self._request(call, "POST", "/send-otp", payload)
        self._success_body(call, response)
        call.log("sent", channel=channel, custom_code=code is not None, template_id=template)

    def verify_otp(self, *, phone: str, code: str) -> bool:
        call = _Call("verify_otp", phone=phone, secrets=(code, self._api_key))
        response = self._request(call, "POST", "/verify-otp", {"phone": phone, "otp": str(code)})
        body = _json_body(response)
        if response.is_client_error and response.status_code not in (401, 403, 429):
            # Rejection style A (400 {"status": false}), or any other 4xx: invalid, expired or used up.
            call.log("rejected", level=logging.INFO if isinstance(body, dict) else logging.WARNING)
            return False
        if not response.is_success:
            raise self._error(call, response, body)
        if not isinstance(body, dict):
            raise call.fail(ProviderUnavailable("Authentica answered verify-otp with a non-JSON body."), "bad_body")
        verified = any(body.get(flag) is True for flag in ("status", "success", "verified"))
        call.log("verified" if verified else "rejected")  # rejection style B: 200 {"status": false}
        return verified

    def send_sms(self, *, phone: str, message: str, sender_name: str | None = None) -> SendResult:
        call = _Call("send_sms", phone=phone, secrets=(message, self._api_key))
        payload: dict[str, Any] = {"phone": phone, "message": message}
        sender = sender_name or self.sender_name
        if sender:
            payload["sender_name"] = sender
        response = self._request(call, "POST", "/send-sms", payload)
        body = self._success_body(call, response)
        call.log("sent")
        return SendResult(provider_message_id=_message_id(body))

    def balance(self) -> int | float:
        call = _Call("balance", phone=None, secrets=(self._api_key,))
        response = self._request(call, "GET", "/balance", None)
        body = self._success_body(call, response)
        data = body.get("data")
        value = _number(data.get("balance")) if isinstance(data, dict) else None
        if value is None:
            raise call.fail(ProviderUnavailable("Authentica's balance answer has no numeric data.balance."), "bad_body")
        call.log("ok")
        return value

    # -- HTTP --------------------------------------------------------------------------------------------------

    def _request(self, call: _Call, method: str, path: str, payload: dict[str, Any] | None) -> httpx.Response:
        """One request, plus one retry if and only if the first attempt never connected (see the module doc)."""
        if not self._api_key:
            raise call.fail(
                ProviderConfigurationError("AUTHENTICA_API_KEY is not set."), "not_configured", level=logging.ERROR
            )
        while True:
            call.attempts += 1
            try:
                response = self._http.request(method, path, json=payload)
            except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
                if call.attempts == 1:  # nothing reached the server: safe to try once more, whatever the call
                    call.log("connect_retry", level=logging.WARNING, error=type(exc).__name__)
                    if self.connect_retry_delay > 0:
                        time.sleep(self.connect_retry_delay)
                    continue
                raise call.fail(
                    ProviderUnavailable(
                        f"Could not connect to Authentica ({type(exc).__name__}).", maybe_delivered=False
                    ),
                    "connect_error",
                ) from exc
            except httpx.UnsupportedProtocol as exc:
                raise call.fail(
                    ProviderConfigurationError(f"AUTHENTICA_BASE_URL is not an http(s) URL: {self.base_url!r}."),
                    "not_configured",
                    level=logging.ERROR,
                ) from exc
            except httpx.PoolTimeout as exc:  # waited for a free connection of our own pool: nothing was sent
                raise call.fail(
                    ProviderUnavailable("No free HTTP connection to Authentica (pool timeout).", maybe_delivered=False),
                    "pool_timeout",
                ) from exc
            except httpx.TimeoutException as exc:  # read/write timeout: the request may have been processed
                raise call.fail(
                    ProviderUnavailable(f"Authentica did not answer in time ({type(exc).__name__})."), "timeout"
                ) from exc
            except httpx.TransportError as exc:  # connection dropped mid-request, protocol error, ...
                raise call.fail(
                    ProviderUnavailable(f"The connection to Authentica failed ({type(exc).__name__})."),
                    "transport_error",
                ) from exc
            call.status_code = response.status_code
            return response

    # -- outcome mapping ---------------------------------------------------------------------------------------

    def _success_body(self, call: _Call, response: httpx.Response) -> dict[str, Any]:
        """The body of a successful send/balance answer: HTTP 2xx, a JSON object and `success is True`."""
        body = _json_body(response)
        if not response.is_success:
            raise self._error(call, response, body)
        if not isinstance(body, dict):
            raise call.fail(
                ProviderUnavailable(f"Authentica answered {response.status_code} with a body that is not JSON."),
                "bad_body",
            )
        if body.get("success") is True:
            return body
        text = call.scrub(_error_text(body))
        if _INSUFFICIENT_BALANCE.search(text):
            raise call.fail(ProviderInsufficientBalance(text or None), "insufficient_balance")
        raise call.fail(
            ProviderUnavailable(f"Authentica answered {response.status_code} without success: {text or 'no message'}"),
            "success_false",
        )

    def _error(self, call: _Call, response: httpx.Response, body: Any) -> ProviderError:
        """The typed error for a non-2xx answer (logged here, raised by the caller)."""
        status = response.status_code
        text = call.scrub(_error_text(body))
        if status >= 500:
            return call.fail(ProviderUnavailable(f"Authentica answered {status}. {text}".strip()), "server_error")
        if status == 429:
            retry_after = parse_retry_after(response.headers.get("Retry-After"))
            return call.fail(ProviderRateLimited(text or None, retry_after=retry_after), "rate_limited")
        if status == 402 or _INSUFFICIENT_BALANCE.search(text):
            return call.fail(ProviderInsufficientBalance(text or None), "insufficient_balance")
        if status in (401, 403):
            return call.fail(
                ProviderConfigurationError(f"Authentica refused our API key ({status}). {text}".strip()),
                "unauthorized",
                level=logging.ERROR,
            )
        if status in (404, 405) or not 400 <= status < 500:
            return call.fail(
                ProviderConfigurationError(
                    f"Authentica answered {status} for {call.operation}; check AUTHENTICA_BASE_URL ({self.base_url})."
                ),
                "misrouted",
                level=logging.ERROR,
            )
        if status == 408:
            return call.fail(ProviderUnavailable("Authentica timed the request out (408)."), "timeout")
        fields = {name: [call.scrub(m) for m in messages] for name, messages in _error_fields(body).items()}
        return call.fail(ProviderValidationError(text or None, fields=fields), "invalid")


class _Call:
    """One client call: what to log about it, and which values must never appear in logs or error text."""

    def __init__(self, operation: str, *, phone: str | None, secrets: tuple[str | None, ...]) -> None:
        self.operation = operation
        self.phone = phone
        self.started = time.monotonic()
        self.attempts = 0
        self.status_code: int | None = None
        self._replacements = [(str(s), "***") for s in secrets if s and len(str(s)) >= 3]
        if phone:
            self._replacements.append((phone, mask_phone(phone)))

    def scrub(self, text: str) -> str:
        """Vendor text with the key, the code, the SMS text and the full phone number taken out."""
        for value, replacement in self._replacements:
            text = text.replace(value, replacement)
        return text

    def log(self, outcome: str, *, level: int = logging.INFO, **extra: Any) -> None:
        fields: dict[str, Any] = {
            "provider": PROVIDER,
            "operation": self.operation,
            "phone": mask_phone(self.phone) if self.phone else None,
            "status_code": self.status_code,
            "duration_ms": round((time.monotonic() - self.started) * 1000, 1),
            "outcome": outcome,
            "attempts": self.attempts,
            **extra,
        }
        where = f" phone={fields['phone']}" if self.phone else ""
        logger.log(
            level,
            "authentica %s %s%s status=%s duration_ms=%s attempts=%s",
            self.operation,
            outcome,
            where,
            self.status_code,
            fields["duration_ms"],
            self.attempts,
            extra=fields,
        )

    def fail(self, error: E, outcome: str, *, level: int = logging.WARNING) -> E:
        """Stamp `error` with this call's details, log it, and hand it back to be raised."""
        error.provider = PROVIDER
        error.operation = self.operation
        error.status_code = self.status_code
        error.attempts = self.attempts
        extra: dict[str, Any] = {"error": type(error).__name__, "retryable": error.retryable}
        if isinstance(error, ProviderUnavailable):
            extra["maybe_delivered"] = error.maybe_delivered
        if isinstance(error, ProviderRateLimited):
            extra["retry_after"] = error.retry_after
        self.log(outcome, level=level, **extra)
        return error


# -- parsing helpers ---------------------------------------------------------------------------------------------


def _json_body(response: httpx.Response) -> Any:
    """The decoded JSON body, or None when it is empty or not JSON."""
    if not response.content:
        return None
    try:
        return response.json()
    except ValueError:  # JSONDecodeError and UnicodeDecodeError
        return None


def _first_text(value: Any) -> str:
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, list):
        for item in value:
            text = _first_text(item)
            if text:
                return text
    if isinstance(value, dict):
        for key in ("message", "msg", "detail", "error"):
            text = _first_text(value.get(key))
            if text:
                return text
    return ""


def _error_text(body: Any) -> str:
    """Vendor error text from `errors[0].message`, `errors.<field>[0]`, `message` or `error`, in that order."""
    if not isinstance(body, dict):
        return ""
    errors = body.get("errors")
    text = ""
    if isinstance(errors, list):
        text = _first_text(errors)
    elif isinstance(errors, dict):
        for value in errors.values():
            text = _first_text(value)
            if text:
                break
    elif isinstance(errors, str):
        text = errors.strip()
    return (text or _first_text(body.get("message")) or _first_text(body.get("error")))[:500]


def _error_fields(body: Any) -> dict[str, list[str]]:
    """`errors` as {field: [messages]} when the vendor keyed them by field (Laravel style), else {}."""
    errors = body.get("errors") if isinstance(body, dict) else None
    fields: dict[str, list[str]] = {}
    if isinstance(errors, dict):
        for key, value in errors.items():
            messages = value if isinstance(value, list) else [value]
            fields[str(key)] = [m if isinstance(m, str) else _first_text(m) for m in messages if m]
    elif isinstance(errors, list):
        for item in errors:
            if isinstance(item, dict) and isinstance(item.get("field"), str):
                fields.setdefault(item["field"], []).append(_first_text(item))
    return fields


def _number(value: Any) -> int | float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return value if math.isfinite(value) else None
    if isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            return None
        if not math.isfinite(number):
            return None
        return int(number) if number.is_integer() else number
    return None


def _message_id(body: Mapping[str, Any]) -> str | None:
    data = body.get("data")
    for source in (data if isinstance(data, dict) else {}, body):
        for key in ("message_id", "messageId", "id", "uuid"):
            value = source.get(key)
            if isinstance(value, str | int) and not isinstance(value, bool) and str(value):
                return str(value)
    return None
