"""Moyasar (https://docs.moyasar.com) HTTP client implementing the `PaymentGateway` port.

No Django here: settings are passed in (`base_url`, `secret_key`). The client owns an `httpx.Client` with
HTTP Basic auth (secret key, empty password), an explicit User-Agent and JSON bodies.

Recovery rules (see shared/specs/moyasar.md, "Idempotency"):

* `create_payment` is keyed by `given_id`. After a failure where the request may have reached Moyasar (read
  timeout, dropped connection, 5xx, unreadable body) the client first asks `GET /payments/{given_id}`:
  200 -> that payment is the answer; 404 -> nothing was created, so it creates again (at most
  `create_retries` more times, with a short backoff, and none once `create_deadline` seconds have passed); the
  fetch failing too -> `GatewayAmbiguous`. A request
  that certainly never left (connect error / connect timeout) is retried without the fetch. A `400
  used_given_id` is answered by fetching the existing payment. A payment found this way must have the amount
  and currency we asked for, else `GatewayGivenIdUsed`. When retries run out: if some attempt timed out or lost
  its connection it may still be running at Moyasar, so the outcome is unknown -> `GatewayAmbiguous`; if every
  attempt was answered (5xx) or never sent, and the lookups said 404 -> `GatewayUnavailable(maybe_processed=
  False)`. A 429/401 on a retry after an uncertain attempt is also `GatewayAmbiguous`.
* capture / void / refund carry no idempotency key and are never retried blindly. After an ambiguous failure
  the payment is re-fetched: when it shows the operation took effect (status `captured` with the requested
  amount / `voided` / `refunded` grown by the requested amount) that payment is returned; otherwise
  `GatewayUnavailable(maybe_processed=..., payment=<current state or None>)` is raised. `refund` reads the
  payment first so that "grown by the requested amount" can be judged; callers serialise refunds of one
  payment.

Logs go to `mawid.providers.moyasar`, one line per HTTP call (`moyasar_request`) with `extra` fields
`operation`, `payment_id`, `method`, `status_code`, `duration_ms`, `outcome`, `attempt`; and recovery
decisions (`moyasar_recovery`). Never the key, never card data, never the request body.
"""

from __future__ import annotations

import functools
import logging
import ssl
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, TypedDict
from urllib.parse import quote

import httpx

from apps.core.retry_after import parse_retry_after

from .base import (
    CAPTURED,
    INITIATED,
    REFUNDED,
    VOIDED,
    GatewayAmbiguous,
    GatewayAuthError,
    GatewayError,
    GatewayGivenIdUsed,
    GatewayInvalidRequest,
    GatewayNotFound,
    GatewayPayment,
    GatewayRateLimited,
    GatewayToken,
    GatewayUnavailable,
    masked_card_bin,
    redact_card_data,
)

logger = logging.getLogger("mawid.providers.moyasar")

USER_AGENT = f"Mawid/1.0 (+https://mawid.sa) python-httpx/{httpx.__version__}"


@functools.cache
def _ssl_context() -> ssl.SSLContext:
    """One verifying TLS context per process: building one (loading the CA bundle) costs ~100 ms, and clients
    are cheap to create per use otherwise."""
    return httpx.create_ssl_context()


class _Call(TypedDict):
    """Which call an error is about (the keyword arguments every `GatewayError` takes)."""

    operation: str
    payment_id: str | None


class MoyasarClient:
    """`PaymentGateway` over Moyasar's REST API. Thread-safe; call `close()` (or use `with`) when done."""

    provider = "moyasar"

    def __init__(
        self,
        *,
        base_url: str,
        secret_key: str,
        connect_timeout: float = 5.0,
        read_timeout: float = 20.0,
        transport: httpx.BaseTransport | None = None,
        create_retries: int = 2,
        retry_backoff: float = 0.25,
        user_agent: str = USER_AGENT,
        create_deadline: float | None = None,
    ) -> None:
        """`create_deadline`: seconds after which `create_payment` starts no further attempt (when someone waits for
        the answer); what it knows by then is the answer (`GatewayAmbiguous` if an attempt may still land)."""
        if not secret_key:
            raise ValueError("MoyasarClient needs a secret key")
        self._create_retries = max(0, create_retries)
        self._retry_backoff = max(0.0, retry_backoff)
        self._create_deadline = create_deadline
        self._http = httpx.Client(
            base_url=base_url.rstrip("/") + "/",
            auth=httpx.BasicAuth(secret_key, ""),
            timeout=httpx.Timeout(read_timeout, connect=connect_timeout),
            headers={"User-Agent": user_agent, "Accept": "application/json"},
            transport=transport,
            verify=_ssl_context(),
            follow_redirects=False,
        )

    # --- lifecycle -------------------------------------------------------------------------------------------

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> MoyasarClient:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def __repr__(self) -> str:  # never the key
        return f"MoyasarClient(base_url={str(self._http.base_url)!r})"

    # --- the port --------------------------------------------------------------------------------------------

    def create_payment(
        self,
        *,
        given_id: str,
        amount: int,
        currency: str,
        description: str,
        callback_url: str,
        source: dict[str, Any],
        metadata: dict[str, str],
    ) -> GatewayPayment:
        body: dict[str, Any] = {
            "given_id": given_id,
            "amount": amount,
            "currency": currency,
            "description": description,
            "callback_url": callback_url,
            "source": source,
            "metadata": dict(metadata),
        }
        attempts = 1 + self._create_retries
        in_flight = False  # an attempt may still be running at Moyasar: a 404 then does not prove "not created"
        last: GatewayUnavailable | None = None
        started = time.monotonic()
        for attempt in range(1, attempts + 1):
            if (
                attempt > 1
                and self._create_deadline is not None
                and time.monotonic() - started >= self._create_deadline
            ):
                self._log_recovery("create", given_id, "deadline_passed", attempt=attempt)
                break
            try:
                data = self._request("create", "POST", "/payments", json=body, payment_id=given_id, attempt=attempt)
            except GatewayGivenIdUsed as exc:
                return self._existing_after_used_given_id(given_id, amount, currency, exc)
            except (GatewayRateLimited, GatewayAuthError) as exc:
                if in_flight:
                    raise self._ambiguous(given_id, "create retry refused after an uncertain attempt") from exc
                raise
            except GatewayUnavailable as exc:
                last = exc
                if exc.maybe_processed:
                    found = self._lookup_after_create_failure(given_id)
                    if found is not None:
                        self._check_same_payment(found, given_id, amount, currency)
                        self._log_recovery("create", given_id, "recovered_existing", attempt=attempt)
                        return found
                    in_flight = in_flight or exc.reason in ("timeout", "network")
                if attempt < attempts:
                    self._log_recovery("create", given_id, "retrying_create", attempt=attempt)
                    time.sleep(self._retry_backoff * attempt)
                continue
            return _to_payment(data)
        if in_flight or last is None:
            self._log_recovery("create", given_id, "ambiguous")
            raise self._ambiguous(given_id, "create outcome unknown after retries") from last
        self._log_recovery("create", given_id, "not_created")
        raise GatewayUnavailable(
            "Moyasar failed; the payment was not created.",
            maybe_processed=False,
            reason=last.reason,
            operation="create",
            payment_id=given_id,
            status_code=last.status_code,
        ) from last

    def fetch_payment(self, payment_id: str) -> GatewayPayment:
        data = self._request("fetch", "GET", f"/payments/{_seg(payment_id)}", payment_id=payment_id, mutation=False)
        return _to_payment(data)

    def capture(self, *, payment_id: str, amount: int | None = None) -> GatewayPayment:
        body = {} if amount is None else {"amount": amount}

        def took_effect(p: GatewayPayment) -> bool:
            return p.status == CAPTURED and p.captured == (p.amount if amount is None else amount)

        return self._mutate("capture", payment_id, body, took_effect)

    def void(self, *, payment_id: str) -> GatewayPayment:
        return self._mutate("void", payment_id, {}, lambda p: p.status == VOIDED)

    def refund(self, *, payment_id: str, amount: int | None = None) -> GatewayPayment:
        before = self.fetch_payment(payment_id)
        requested = before.refundable if amount is None else amount
        body = {} if amount is None else {"amount": amount}

        def took_effect(p: GatewayPayment) -> bool:
            return p.status == REFUNDED and requested > 0 and p.refunded >= before.refunded + requested

        return self._mutate("refund", payment_id, body, took_effect)

    def stcpay_otp(self, *, payment_id: str, transaction_url: str, otp: str) -> GatewayPayment:
        """`POST {transaction_url}` with `otp_value` (Moyasar's STC Pay step 2). The URL must be on Moyasar's host
        (the one `base_url` names): the OTP and the payment never go anywhere else. No API key is sent: the URL's
        own `otp_token` is what Moyasar checks (its custom UI guide posts it from the browser).

        Whatever the answer (a payment, a 4xx for a wrong or used OTP, a timeout), the payment is then what tells:
        a 2xx payment answer is returned as is; otherwise the payment is fetched with the secret key, and returned
        once it is no longer `initiated` (the OTP was judged). Still `initiated` after a 4xx: the error is
        raised; after a timeout or 5xx: `GatewayUnavailable` with the current payment."""
        target = httpx.URL(transaction_url)
        base = self._http.base_url
        if (target.scheme, target.host, target.port) != (base.scheme, base.host, base.port):
            raise GatewayInvalidRequest(
                "The STC Pay transaction URL is not on Moyasar's host.", operation="stcpay_otp", payment_id=payment_id
            )
        try:
            data = self._request(
                "stcpay_otp", "POST", str(target), json={"otp_value": otp}, payment_id=payment_id, anonymous=True
            )
        except (GatewayInvalidRequest, GatewayNotFound, GatewayAuthError) as exc:
            current = self.fetch_payment(payment_id)
            if current.status != INITIATED:
                self._log_recovery("stcpay_otp", payment_id, "judged_after_error")
                return current
            raise exc
        except GatewayUnavailable as exc:
            try:
                current = self.fetch_payment(payment_id)
            except GatewayError:
                raise exc from None
            if current.status != INITIATED:
                self._log_recovery("stcpay_otp", payment_id, "recovered_effect")
                return current
            raise GatewayUnavailable(
                exc.message,
                maybe_processed=exc.maybe_processed,
                reason=exc.reason,
                payment=current,
                operation="stcpay_otp",
                payment_id=payment_id,
                status_code=exc.status_code,
            ) from exc
        if data.get("id") == payment_id and isinstance(data.get("status"), str):
            return _to_payment(data)
        return self.fetch_payment(payment_id)

    def list_payments(
        self,
        *,
        page: int = 1,
        status: str | None = None,
        metadata: Mapping[str, str] | None = None,
    ) -> tuple[list[GatewayPayment], dict[str, Any]]:
        params: dict[str, str | int] = {"page": page}
        if status:
            params["status"] = status
        for key, value in (metadata or {}).items():
            params[f"metadata[{key}]"] = value
        data = self._request("list", "GET", "/payments", params=params, mutation=False)
        items = data.get("payments")
        if not isinstance(items, list):
            raise GatewayUnavailable(
                "Moyasar list answer has no payments array.",
                reason="bad_response",
                maybe_processed=False,
                operation="list",
            )
        meta = data.get("meta")
        payments = [_to_payment(item) for item in items if isinstance(item, dict)]
        return payments, dict(meta) if isinstance(meta, dict) else {}

    # --- extras beyond the port ------------------------------------------------------------------------------

    def update_payment(
        self, *, payment_id: str, description: str | None = None, metadata: Mapping[str, str] | None = None
    ) -> GatewayPayment:
        """`PUT /payments/{id}` (description and metadata only). Moyasar's answer body may be empty, so the
        payment is re-fetched unless the answer is a payment."""
        body: dict[str, Any] = {}
        if description is not None:
            body["description"] = description
        if metadata is not None:
            body["metadata"] = dict(metadata)
        data = self._request(
            "update", "PUT", f"/payments/{_seg(payment_id)}", json=body, payment_id=payment_id, allow_empty=True
        )
        if data.get("id") == payment_id and "status" in data:
            return _to_payment(data)
        return self.fetch_payment(payment_id)

    def fetch_token(self, token_id: str) -> GatewayToken:
        data = self._request("token_fetch", "GET", f"/tokens/{_seg(token_id)}", payment_id=token_id, mutation=False)
        return _to_token(data)

    def delete_token(self, token_id: str) -> None:
        self._request("token_delete", "DELETE", f"/tokens/{_seg(token_id)}", payment_id=token_id, allow_empty=True)

    # --- recovery helpers ------------------------------------------------------------------------------------

    def _lookup_after_create_failure(self, given_id: str) -> GatewayPayment | None:
        try:
            return self.fetch_payment(given_id)
        except GatewayNotFound:
            return None
        except GatewayError as exc:
            self._log_recovery("create", given_id, "ambiguous")
            raise self._ambiguous(given_id, "create failed and the payment could not be looked up") from exc

    def _existing_after_used_given_id(
        self, given_id: str, amount: int, currency: str, used: GatewayGivenIdUsed
    ) -> GatewayPayment:
        try:
            found = self.fetch_payment(given_id)
        except GatewayNotFound as exc:
            # Moyasar says the id is used but does not show it (yet): we cannot tell which payment it is.
            raise self._ambiguous(given_id, "given_id is used but the payment is not visible") from exc
        except GatewayError as exc:
            raise self._ambiguous(given_id, "given_id is used and the payment could not be looked up") from exc
        self._check_same_payment(found, given_id, amount, currency, cause=used)
        self._log_recovery("create", given_id, "recovered_existing")
        return found

    def _check_same_payment(
        self,
        found: GatewayPayment,
        given_id: str,
        amount: int,
        currency: str,
        cause: GatewayGivenIdUsed | None = None,
    ) -> None:
        if found.amount != amount or found.currency.upper() != currency.upper():
            self._log_recovery("create", given_id, "given_id_conflict")
            raise GatewayGivenIdUsed(
                "given_id already names a different payment (amount or currency differ).",
                error_type=cause.error_type if cause else "used_given_id",
                errors=cause.errors if cause else None,
                operation="create",
                payment_id=given_id,
                status_code=cause.status_code if cause else None,
            )

    def _ambiguous(self, given_id: str, message: str) -> GatewayAmbiguous:
        return GatewayAmbiguous(message, operation="create", payment_id=given_id)

    def _mutate(
        self,
        operation: str,
        payment_id: str,
        body: dict[str, Any],
        took_effect: Callable[[GatewayPayment], bool],
    ) -> GatewayPayment:
        path = f"/payments/{_seg(payment_id)}/{operation}"
        try:
            data = self._request(operation, "POST", path, json=body, payment_id=payment_id)
        except GatewayUnavailable as exc:
            if not exc.maybe_processed:
                raise
            try:
                current = self.fetch_payment(payment_id)
            except GatewayError as fetch_exc:
                self._log_recovery(operation, payment_id, "unknown")
                raise GatewayUnavailable(
                    f"Moyasar {operation} failed and the payment could not be re-read.",
                    maybe_processed=True,
                    reason=exc.reason,
                    operation=operation,
                    payment_id=payment_id,
                    status_code=exc.status_code,
                ) from fetch_exc
            if took_effect(current):
                self._log_recovery(operation, payment_id, "recovered_effect")
                return current
            # The provider answered (5xx) and the re-read shows no effect: nothing happened. After a timeout or
            # a dropped connection the request may still be in flight.
            in_flight = exc.reason in ("timeout", "network")
            self._log_recovery(operation, payment_id, "not_applied" if not in_flight else "unknown")
            raise GatewayUnavailable(
                f"Moyasar {operation} failed; the payment is {current.status}.",
                maybe_processed=in_flight,
                reason=exc.reason,
                payment=current,
                operation=operation,
                payment_id=payment_id,
                status_code=exc.status_code,
            ) from exc
        return _to_payment(data)

    # --- HTTP ------------------------------------------------------------------------------------------------

    def _request(
        self,
        operation: str,
        method: str,
        path: str,
        *,
        json: dict[str, Any] | None = None,
        params: Mapping[str, str | int] | None = None,
        payment_id: str | None = None,
        mutation: bool = True,
        attempt: int = 1,
        allow_empty: bool = False,
        anonymous: bool = False,
    ) -> dict[str, Any]:
        """One HTTP call: the decoded JSON object of a 2xx answer, or a typed `GatewayError`."""
        started = time.monotonic()
        ctx = {"operation": operation, "payment_id": payment_id, "method": method, "attempt": attempt}

        def log(outcome: str, status_code: int | None, level: int = logging.INFO) -> None:
            logger.log(
                level,
                "moyasar_request",
                extra={
                    **ctx,
                    "provider": self.provider,
                    "status_code": status_code,
                    "duration_ms": round((time.monotonic() - started) * 1000, 1),
                    "outcome": outcome,
                },
            )

        common: _Call = {"operation": operation, "payment_id": payment_id}
        try:
            if anonymous:  # no API key (an absolute URL on Moyasar's host: the STC Pay OTP step)
                response = self._http.request(method, path, json=json, params=params, auth=None)
            else:
                response = self._http.request(method, path.lstrip("/"), json=json, params=params)
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
            log("connect_error", None, logging.WARNING)
            raise GatewayUnavailable(
                f"Could not connect to Moyasar ({type(exc).__name__}).",
                maybe_processed=False,
                reason="connect",
                **common,
            ) from exc
        except httpx.TimeoutException as exc:
            log("timeout", None, logging.WARNING)
            raise GatewayUnavailable(
                f"Moyasar did not answer in time ({type(exc).__name__}).",
                maybe_processed=mutation,
                reason="timeout",
                **common,
            ) from exc
        except httpx.TransportError as exc:
            log("network_error", None, logging.WARNING)
            raise GatewayUnavailable(
                f"The connection to Moyasar failed ({type(exc).__name__}).",
                maybe_processed=mutation,
                reason="network",
                **common,
            ) from exc

        status = response.status_code
        data = _json_object(response)
        if 200 <= status < 300:
            if data is None:
                if allow_empty and not response.content.strip():
                    log("ok", status)
                    return {}
                log("bad_response", status, logging.WARNING)
                raise GatewayUnavailable(
                    "Moyasar answered with a body that is not a JSON object.",
                    maybe_processed=mutation,
                    reason="bad_response",
                    status_code=status,
                    **common,
                )
            log("ok", status)
            return data

        body = data or {}
        err_type = body.get("type") if isinstance(body.get("type"), str) else None
        message = body.get("message") if isinstance(body.get("message"), str) else None
        errors = body.get("errors")
        if status >= 500:
            log("server_error", status, logging.WARNING)
            raise GatewayUnavailable(
                f"Moyasar answered {status}" + (f": {message}" if message else "."),
                maybe_processed=mutation,
                reason="server_error",
                status_code=status,
                **common,
            )
        if status == 429:
            log("rate_limited", status, logging.WARNING)
            raise GatewayRateLimited(
                message or None, retry_after=parse_retry_after(response.headers.get("Retry-After")), **common
            )
        if status in (401, 403, 405):
            log("auth_error", status, logging.ERROR)
            raise GatewayAuthError(message or None, status_code=status, **common)
        if status == 404:
            log("not_found", status)
            raise GatewayNotFound(message or None, status_code=status, **common)
        if _is_used_given_id(err_type, message):
            log("used_given_id", status)
            raise GatewayGivenIdUsed(
                message or None,
                error_type=err_type,
                errors=errors if isinstance(errors, dict | str) else None,
                status_code=status,
                **common,
            )
        log("invalid_request", status, logging.WARNING)
        raise GatewayInvalidRequest(
            message or (None if data is not None else f"Moyasar answered {status}."),
            error_type=err_type,
            errors=errors if isinstance(errors, dict | str) else None,
            status_code=status,
            **common,
        )

    def _log_recovery(self, operation: str, payment_id: str, outcome: str, **extra: Any) -> None:
        logger.info(
            "moyasar_recovery",
            extra={
                "provider": self.provider,
                "operation": operation,
                "payment_id": payment_id,
                "outcome": outcome,
                **extra,
            },
        )


# --- parsing ------------------------------------------------------------------------------------------------


def _seg(value: str) -> str:
    """An id as one path segment: `../x` or `a/b` cannot escape `/payments/{id}`."""
    return quote(str(value), safe="")


def _json_object(response: httpx.Response) -> dict[str, Any] | None:
    try:
        data = response.json()
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def _is_used_given_id(err_type: str | None, message: str | None) -> bool:
    if err_type == "used_given_id":
        return True
    return bool(message) and "already created" in (message or "").lower()


def _int(value: Any) -> int:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    try:
        return int(str(value))
    except (TypeError, ValueError):
        return 0


def _str_or_none(value: Any) -> str | None:
    if value is None or value == "":
        return None
    return str(value)


def _dt(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _to_payment(data: dict[str, Any]) -> GatewayPayment:
    if not isinstance(data.get("id"), str) or not isinstance(data.get("status"), str):
        raise GatewayUnavailable(
            "Moyasar answered with something that is not a payment.", reason="bad_response", maybe_processed=True
        )
    original = data.get("source")
    original_source: dict[str, Any] = original if isinstance(original, dict) else {}
    raw = redact_card_data(data)
    source = raw.get("source") if isinstance(raw.get("source"), dict) else {}
    metadata = raw.get("metadata") if isinstance(raw.get("metadata"), dict) else {}
    status = raw["status"]
    return GatewayPayment(
        id=raw["id"],
        status=status,
        amount=_int(raw.get("amount")),
        currency=str(raw.get("currency") or "SAR"),
        captured=_int(raw.get("captured")),
        refunded=_int(raw.get("refunded")),
        fee=_int(raw.get("fee")),
        description=_str_or_none(raw.get("description")),
        metadata={str(k): "" if v is None else str(v) for k, v in metadata.items()},
        transaction_url=_str_or_none(source.get("transaction_url")) if status == INITIATED else None,
        source_message=_str_or_none(source.get("message")),
        response_code=_str_or_none(source.get("response_code")),
        created_at=_dt(raw.get("created_at")),
        raw=raw,
        source_type=_str_or_none(source.get("type")),
        card_token=_str_or_none(source.get("token")),
        updated_at=_dt(raw.get("updated_at")),
        card_company=(_str_or_none(source.get("company")) or "").lower() or None,
        card_bin=masked_card_bin(original_source.get("number")),
    )


def _to_token(data: dict[str, Any]) -> GatewayToken:
    if not isinstance(data.get("id"), str):
        raise GatewayUnavailable("Moyasar answered with something that is not a token.", reason="bad_response")
    raw = redact_card_data(data)

    def opt_int(v: Any) -> int | None:
        return _int(v) if v not in (None, "") else None

    return GatewayToken(
        id=raw["id"],
        status=str(raw.get("status") or ""),
        brand=_str_or_none(raw.get("brand")),
        last_four=_str_or_none(raw.get("last_four")),
        month=opt_int(raw.get("month")),
        year=opt_int(raw.get("year")),
        name=_str_or_none(raw.get("name")),
        message=_str_or_none(raw.get("message")),
        verification_url=_str_or_none(raw.get("verification_url")),
        raw=raw,
    )
