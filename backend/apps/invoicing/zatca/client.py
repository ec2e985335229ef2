"""`FatooraClient`: the `Fatoora` port over httpx (shared/specs/zatca.md §3). No Django: settings are passed in.

`base_url` is the environment's root, e.g. `https://gw-fatoora.zatca.gov.sa/e-invoicing/core` (the fake serves
the same paths under `http://127.0.0.1:8103/e-invoicing/...`). Every call sends `Accept-Version: V2`,
`Accept-Language` and JSON; authenticated calls send `Authorization: Basic base64(token + ":" + secret)` with the
token verbatim. Timeouts: 10 s connect, 30 s read. The client never retries: the caller (the reporting job)
resends the identical payload with backoff when `FatooraUnavailable` says the outcome is unknown.

Bodies are parsed defensively: messages may sit under `validationResults` or at the top level, `infoMessages`
may be an object instead of a list (the compliance endpoint's quirk), error bodies come as `errors[]` or as
`{errorCode, errorMessage}`, and anything unreadable is `FatooraUnavailable(reason="unreadable")` when the status
is 5xx (or 2xx), else a `FatooraRequestError`.

Logs go to `mawid.providers.zatca`, one line per call (`zatca_request`) with `operation`, `status_code`,
`duration_ms`, `outcome`: never the token, the secret, the OTP, the CSR or the document.
"""

from __future__ import annotations

import base64
import json
import logging
import time
from typing import Any

import httpx

from apps.core.retry_after import parse_retry_after

from .port import (
    DUPLICATE,
    REJECTED,
    REPORTED,
    WARNING,
    CsidResult,
    FatooraAuthError,
    FatooraError,
    FatooraRequestError,
    FatooraUnavailable,
    FatooraVersionError,
    OutcomeKind,
    ValidationOutcome,
    ZatcaMessage,
)

logger = logging.getLogger("mawid.providers.zatca")

USER_AGENT = f"Mawid/1.0 (+https://mawid.sa) python-httpx/{httpx.__version__}"


def basic_auth(token: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{token}:{secret}".encode()).decode()


def _messages(value: Any, default_type: str) -> list[ZatcaMessage]:
    """A list of messages from a list, a single object or nothing."""
    if value is None:
        return []
    items = value if isinstance(value, list) else [value]
    out: list[ZatcaMessage] = []
    for item in items:
        if not isinstance(item, dict):
            continue
        out.append(
            ZatcaMessage(
                type=str(item.get("type") or default_type),
                code=str(item.get("code") or item.get("errorCode") or ""),
                category=str(item.get("category") or ""),
                message=str(item.get("message") or item.get("errorMessage") or ""),
                status=str(item.get("status") or ""),
            )
        )
    return out


def parse_validation(data: dict[str, Any]) -> tuple[str, list[ZatcaMessage]]:
    """(validation status, messages) from a reporting or compliance body, wherever the fields sit."""
    results = data.get("validationResults")
    source = results if isinstance(results, dict) else data
    status = str(source.get("status") or data.get("status") or "")
    messages = (
        _messages(source.get("infoMessages"), "INFO")
        + _messages(source.get("warningMessages") or data.get("warningMessages"), "WARNING")
        + _messages(source.get("errorMessages") or data.get("errorMessages"), "ERROR")
    )
    return status, messages


def _errors(data: Any) -> list[dict[str, str]]:
    if not isinstance(data, dict):
        return []
    raw = data.get("errors")
    if isinstance(raw, list):
        return [m.as_dict() for m in _messages(raw, "ERROR")]
    if data.get("errorCode") or data.get("errorMessage"):
        return [m.as_dict() for m in _messages(data, "ERROR")]
    return []


class FatooraClient:
    """The `Fatoora` port over HTTP. Thread-safe; `close()` when done (or use `with`)."""

    provider = "zatca"

    def __init__(
        self,
        *,
        base_url: str,
        language: str = "en",
        connect_timeout: float = 10.0,
        read_timeout: float = 30.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self._http = httpx.Client(
            base_url=base_url.rstrip("/") + "/",
            timeout=httpx.Timeout(read_timeout, connect=connect_timeout),
            headers={
                "User-Agent": USER_AGENT,
                "Accept": "application/json",
                "Accept-Version": "V2",
                "Accept-Language": "ar" if language == "ar" else "en",
            },
            transport=transport,
            follow_redirects=False,
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> FatooraClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"FatooraClient(base_url={str(self._http.base_url)!r})"

    # --- the port --------------------------------------------------------------------------------------------

    def compliance_csid(self, *, csr_base64: str, otp: str) -> CsidResult:
        response = self._send("compliance_csid", "POST", "compliance", {"csr": csr_base64}, headers={"OTP": otp})
        return self._csid("compliance_csid", response)

    def compliance_check(
        self, *, token: str, secret: str, invoice_hash: str, uuid: str, invoice_base64: str
    ) -> ValidationOutcome:
        body = {"invoiceHash": invoice_hash, "uuid": uuid, "invoice": invoice_base64}
        response = self._send("compliance_check", "POST", "compliance/invoices", body, auth=(token, secret))
        return self._outcome("compliance_check", response)

    def production_csid(self, *, token: str, secret: str, compliance_request_id: str) -> CsidResult:
        body = {"compliance_request_id": compliance_request_id}
        response = self._send("production_csid", "POST", "production/csids", body, auth=(token, secret))
        return self._csid("production_csid", response)

    def renew_production_csid(self, *, token: str, secret: str, csr_base64: str, otp: str) -> CsidResult:
        response = self._send(
            "renew_csid", "PATCH", "production/csids", {"csr": csr_base64}, auth=(token, secret), headers={"OTP": otp}
        )
        return self._csid("renew_csid", response)

    def report(
        self, *, token: str, secret: str, invoice_hash: str, uuid: str, invoice_base64: str
    ) -> ValidationOutcome:
        body = {"invoiceHash": invoice_hash, "uuid": uuid, "invoice": invoice_base64}
        response = self._send(
            "report", "POST", "invoices/reporting/single", body, auth=(token, secret), headers={"Clearance-Status": "0"}
        )
        return self._outcome("report", response)

    # --- HTTP ------------------------------------------------------------------------------------------------

    def _send(
        self,
        operation: str,
        method: str,
        path: str,
        body: dict[str, Any],
        *,
        auth: tuple[str, str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        sent = dict(headers or {})
        if auth is not None:
            sent["Authorization"] = basic_auth(*auth)
        started = time.monotonic()
        outcome = "answered"
        status: int | None = None
        try:
            response = self._http.request(method, path, json=body, headers=sent)
            status = response.status_code
            return response
        except httpx.TimeoutException as exc:
            outcome = "timeout"
            raise FatooraUnavailable("ZATCA did not answer in time.", reason="timeout", operation=operation) from exc
        except httpx.TransportError as exc:
            outcome = "network"
            raise FatooraUnavailable("ZATCA could not be reached.", reason="network", operation=operation) from exc
        finally:
            logger.info(
                "zatca_request",
                extra={
                    "operation": operation,
                    "method": method,
                    "status_code": status,
                    "duration_ms": round((time.monotonic() - started) * 1000),
                    "outcome": outcome,
                },
            )

    @staticmethod
    def _json(response: httpx.Response) -> Any:
        try:
            return response.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            return None

    def _fail(self, operation: str, response: httpx.Response, data: Any) -> FatooraError:
        """The error for an answer that is not an outcome."""
        code = response.status_code
        kwargs: dict[str, Any] = {"operation": operation, "status_code": code, "errors": _errors(data)}
        if code == 406:
            return FatooraVersionError("ZATCA refused the API version (Accept-Version).", **kwargs)
        if code in (401, 403):
            return FatooraAuthError("ZATCA refused the credentials (CSID).", **kwargs)
        if code == 429:
            retry_after = parse_retry_after(response.headers.get("Retry-After"))
            return FatooraUnavailable(
                "ZATCA is limiting requests.", reason="rate_limited", retry_after=retry_after, **kwargs
            )
        if code >= 500 or data is None and code < 400:
            reason = "server" if code >= 500 else "unreadable"
            return FatooraUnavailable(f"ZATCA answered {code}; the outcome is unknown.", reason=reason, **kwargs)
        return FatooraRequestError(f"ZATCA refused the request ({code}).", **kwargs)

    def _csid(self, operation: str, response: httpx.Response) -> CsidResult:
        data = self._json(response)
        if response.status_code != 200 or not isinstance(data, dict):
            raise self._fail(operation, response, data)
        token, secret = data.get("binarySecurityToken"), data.get("secret")
        if not isinstance(token, str) or not token or not isinstance(secret, str) or not secret:
            raise FatooraRequestError(
                "ZATCA issued no certificate.", operation=operation, status_code=200, errors=_errors(data)
            )
        return CsidResult(
            request_id=str(data.get("requestID") or ""),
            binary_security_token=token,
            secret=secret,
            disposition=str(data.get("dispositionMessage") or ""),
            token_type=str(data.get("tokenType") or ""),
        )

    def _outcome(self, operation: str, response: httpx.Response) -> ValidationOutcome:
        code = response.status_code
        data = self._json(response)
        if not isinstance(data, dict):
            raise self._fail(operation, response, data)
        reporting = str(data.get("reportingStatus") or "")
        if code == 409:
            _, messages = parse_validation(data)
            return ValidationOutcome(DUPLICATE, code, "", reporting, tuple(messages))
        if code in (200, 202, 400) and (isinstance(data.get("validationResults"), dict) or "status" in data):
            status, messages = parse_validation(data)
            kind: OutcomeKind
            if code == 400 or status == "ERROR" or reporting == "NOT_REPORTED":
                kind = REJECTED
            elif code == 202 or status == "WARNING":
                kind = WARNING
            else:
                kind = REPORTED
            return ValidationOutcome(kind, code, status, reporting, tuple(messages))
        raise self._fail(operation, response, data)
