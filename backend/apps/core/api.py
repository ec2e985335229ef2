"""The single exception handler: every error leaves as `{"error": {"code", "message", "fields"?}}`."""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.http import Http404
from rest_framework import exceptions as drf
from rest_framework.response import Response
from rest_framework.views import set_rollback

from apps.core.errors import DomainError

logger = logging.getLogger("mawid.api")


def error_body(code: str, message: Any, fields: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    error: dict[str, Any] = {"code": code, "message": str(message)}
    if fields:
        error["fields"] = fields
    error.update(extra)
    return {"error": error}


def _flatten(detail: Any) -> Any:
    if isinstance(detail, dict):
        return {str(key): _flatten(value) for key, value in detail.items()}
    if isinstance(detail, list):
        if all(not isinstance(item, dict | list) for item in detail):
            return [str(item) for item in detail]
        return [_flatten(item) for item in detail]
    return [str(detail)]


def _validation_response(detail: Any) -> Response:
    fields = _flatten(detail) if isinstance(detail, dict) else {"non_field_errors": _flatten(detail)}
    first = next(iter(fields.values()), None) if isinstance(fields, dict) else None
    message = first[0] if isinstance(first, list) and first and isinstance(first[0], str) else "Invalid input."
    return Response(error_body("validation_error", message, fields), status=400)


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, DomainError):
        set_rollback()
        response = Response(error_body(exc.code, exc.message, exc.fields, **exc.extra), status=exc.status)
        if exc.retry_after is not None:
            response["Retry-After"] = str(max(1, int(exc.retry_after)))
        return response
    if isinstance(exc, RequestDataTooBig):
        set_rollback()
        return Response(error_body("request_too_large", "The request body is too large."), status=413)
    if isinstance(exc, DjangoValidationError):
        set_rollback()
        detail = exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        return _validation_response(detail)
    if isinstance(exc, Http404):
        exc = drf.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = drf.PermissionDenied()
    if isinstance(exc, drf.ValidationError):
        set_rollback()
        return _validation_response(exc.detail)
    if isinstance(exc, drf.APIException):
        set_rollback()
        code = exc.default_code if not isinstance(exc.detail, dict | list) else exc.default_code
        if isinstance(exc.detail, str) and getattr(exc.detail, "code", None):
            code = exc.detail.code
        if isinstance(exc, drf.NotAuthenticated):
            code = "not_authenticated"
        message = exc.detail if isinstance(exc.detail, str) else exc.default_detail
        if isinstance(exc.detail, dict) and "detail" in exc.detail:
            message = exc.detail["detail"]
            code = getattr(exc.detail["detail"], "code", None) or exc.detail.get("code", code)
        response = Response(error_body(str(code), message), status=exc.status_code)
        if isinstance(exc, drf.Throttled) and exc.wait is not None:
            response["Retry-After"] = str(max(1, int(exc.wait + 0.999)))
        if getattr(exc, "auth_header", None):
            response["WWW-Authenticate"] = exc.auth_header
        return response
    # Anything else is a bug: log it with its traceback, roll back, answer without internals.
    set_rollback()
    if transaction.get_connection().in_atomic_block:
        transaction.set_rollback(True)
    view = context.get("view")
    logger.exception("unhandled_exception", extra={"view": type(view).__name__ if view else None})
    return Response(error_body("server_error", "An unexpected error occurred."), status=500)
