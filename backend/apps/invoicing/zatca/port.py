"""The Fatoora port: what invoicing needs from ZATCA's e-invoicing API, as plain dataclasses and errors (no
Django, no HTTP library). shared/specs/zatca.md §3.

A report's answer is an outcome, not an error:

| HTTP | outcome `kind`  | meaning                                                                          |
|------|-----------------|----------------------------------------------------------------------------------|
| 200  | `reported`      | PASS, REPORTED                                                                   |
| 202  | `warning`       | WARNING, REPORTED: accepted; do not resend                                       |
| 400 with validationResults | `rejected` | ERROR, NOT_REPORTED: stays in the chain; a person fixes it with a new document |
| 409  | `duplicate`     | this hash was already reported successfully: treated as reported                 |

Every other answer raises a `FatooraError` subclass whose `retryable` says whether resending the identical
payload may help:

| error                   | when                                                                  | retryable |
|-------------------------|-----------------------------------------------------------------------|-----------|
| FatooraAuthError        | 401 (bad or expired CSID), 403                                        | no        |
| FatooraVersionError     | 406: `Accept-Version` missing or unsupported (a bug)                  | no        |
| FatooraRequestError     | 400 without validation results, CSID errors (`Invalid-OTP`, ...), 4xx | no        |
| FatooraUnavailable      | timeout, connection error, 5xx, HTML 504, 429, unreadable body        | yes       |
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar, Final, Literal, Protocol

REPORTED: Final = "reported"
WARNING: Final = "warning"
REJECTED: Final = "rejected"
DUPLICATE: Final = "duplicate"
OutcomeKind = Literal["reported", "warning", "rejected", "duplicate"]


@dataclass(frozen=True, slots=True)
class ZatcaMessage:
    type: str  # INFO | WARNING | ERROR
    code: str
    category: str
    message: str
    status: str

    def as_dict(self) -> dict[str, str]:
        return {
            "type": self.type,
            "code": self.code,
            "category": self.category,
            "message": self.message,
            "status": self.status,
        }


@dataclass(frozen=True, slots=True)
class ValidationOutcome:
    """The answer to a report or a compliance check."""

    kind: OutcomeKind
    status_code: int
    validation_status: str  # PASS | WARNING | ERROR | "" (409)
    reporting_status: str  # REPORTED | NOT_REPORTED | REPORTED_SUCCESSFULLY_EARLIER | ""
    messages: tuple[ZatcaMessage, ...] = ()

    @property
    def accepted(self) -> bool:
        """ZATCA holds the document as reported (a 409 duplicate included)."""
        return self.kind != REJECTED

    def messages_of(self, *types: str) -> list[ZatcaMessage]:
        return [m for m in self.messages if m.type in types]


@dataclass(frozen=True, slots=True)
class CsidResult:
    request_id: str
    binary_security_token: str = field(repr=False)
    secret: str = field(repr=False)
    disposition: str
    token_type: str = ""


class FatooraError(Exception):
    retryable: ClassVar[bool] = False

    def __init__(
        self,
        message: str,
        *,
        operation: str,
        status_code: int | None = None,
        errors: list[dict[str, str]] | None = None,
        retry_after: int | None = None,
    ) -> None:
        super().__init__(message)
        self.operation = operation
        self.status_code = status_code
        self.errors = errors or []
        self.retry_after = retry_after

    @property
    def codes(self) -> list[str]:
        return [e.get("code", "") for e in self.errors]


class FatooraAuthError(FatooraError):
    pass


class FatooraVersionError(FatooraError):
    pass


class FatooraRequestError(FatooraError):
    pass


class FatooraUnavailable(FatooraError):
    """The outcome is unknown (timeout, 5xx, 429): resend the identical payload later."""

    retryable = True

    def __init__(self, message: str, *, reason: str, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.reason = reason  # timeout | network | server | rate_limited | unreadable


class Fatoora(Protocol):
    """ZATCA's Fatoora API for one environment. Tokens are used verbatim (base64 of the base64-DER text)."""

    def compliance_csid(self, *, csr_base64: str, otp: str) -> CsidResult: ...

    def compliance_check(
        self, *, token: str, secret: str, invoice_hash: str, uuid: str, invoice_base64: str
    ) -> ValidationOutcome: ...

    def production_csid(self, *, token: str, secret: str, compliance_request_id: str) -> CsidResult: ...

    def renew_production_csid(self, *, token: str, secret: str, csr_base64: str, otp: str) -> CsidResult: ...

    def report(
        self, *, token: str, secret: str, invoice_hash: str, uuid: str, invoice_base64: str
    ) -> ValidationOutcome: ...

    def close(self) -> None: ...
