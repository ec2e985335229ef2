"""Domain errors. Services raise them; `core.api.exception_handler` renders them.

Each error has a stable snake_case `code` (part of the API contract), an HTTP status and a default message.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _


class DomainError(Exception):
    code = "invalid"
    status = 400
    message: Any = _("The request could not be processed.")

    def __init__(
        self,
        message: Any = None,
        *,
        fields: dict[str, list[str]] | None = None,
        retry_after: int | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        if message is not None:
            self.message = message
        self.fields = fields
        self.retry_after = retry_after
        self.extra = extra or {}
        super().__init__(str(self.message))


class ValidationFailed(DomainError):
    code, status, message = "validation_error", 400, _("Some fields are invalid.")


class NotFound(DomainError):
    code, status, message = "not_found", 404, _("Not found.")


class PermissionDenied(DomainError):
    code, status, message = "permission_denied", 403, _("You do not have permission to do this.")


class Conflict(DomainError):
    code, status, message = "conflict", 409, _("The request conflicts with the current state.")


class RateLimited(DomainError):
    code, status, message = "rate_limited", 429, _("Too many requests. Please try again later.")


class ProviderUnavailable(DomainError):
    code, status, message = "provider_unavailable", 503, _("Please try again shortly.")


class IdempotencyKeyReused(DomainError):
    code, status, message = (
        "idempotency_key_reused",
        409,
        _("This Idempotency-Key was already used with a different request."),
    )


class IdempotencyKeyInFlight(DomainError):
    code, status, message = (
        "idempotency_key_in_flight",
        409,
        _("A request with this Idempotency-Key is still being processed."),
    )


# Every code the API can answer with, for the OpenAPI schema. Apps register theirs in `ERROR_CODES`.
ERROR_CODES: dict[str, str] = {
    "validation_error": "A field is missing or invalid; see `fields`.",
    "parse_error": "The body is not valid JSON.",
    "unsupported_media_type": "Only application/json is accepted.",
    "not_authenticated": "No or invalid credentials.",
    "authentication_failed": "The credentials were rejected.",
    "token_not_valid": "The token is invalid or expired.",
    "permission_denied": "Authenticated but not allowed.",
    "not_found": "No such object (also for another user's object).",
    "method_not_allowed": "The HTTP method is not allowed here.",
    "not_acceptable": "Only JSON responses are available.",
    "throttled": "Too many requests; see Retry-After.",
    "rate_limited": "Too many requests; see Retry-After.",
    "request_too_large": "The request body is too large.",
    "conflict": "The request conflicts with the current state.",
    "idempotency_key_reused": "The Idempotency-Key was used with a different request.",
    "idempotency_key_in_flight": "A request with this Idempotency-Key is still being processed.",
    "provider_unavailable": "A provider is unavailable; nothing was changed.",
    "server_error": "Unexpected error; it was logged.",
}


def register_error(cls: type[DomainError], description: str = "") -> type[DomainError]:
    """Class decorator: list a domain error's code in the schema's error catalogue."""
    ERROR_CODES.setdefault(cls.code, description or str(cls.message))
    return cls
