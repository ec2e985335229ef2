"""Request ids for logs, request metrics, and JSON (never HTML) for errors that happen outside DRF views."""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse

from apps.core import metrics
from apps.core.api import error_body
from apps.core.logging import request_id_var

logger = logging.getLogger("mawid.http")
_SAFE_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


class RequestIdMiddleware:
    """Takes `X-Request-ID` from the client (when well-formed) or makes one; echoes it on the response."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.headers.get("X-Request-ID", "")
        request_id = incoming if _SAFE_ID.match(incoming) else uuid.uuid4().hex
        request.request_id = request_id  # type: ignore[attr-defined]
        token = request_id_var.set(request_id)
        try:
            response = self.get_response(request)
        finally:
            request_id_var.reset(token)
        response["X-Request-ID"] = request_id
        return response


class MetricsMiddleware:
    """Counts and times every request by its URL route pattern (first in MIDDLEWARE: it sees the final status)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = self.get_response(request)
        try:
            metrics.observe_request(
                method=request.method or "", route=metrics.route_of(request), status=response.status_code,
                seconds=time.perf_counter() - started,
            )
        except Exception:  # noqa: BLE001 - metrics must never break a response
            logger.warning("metrics_failed", exc_info=True)
        return response


def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith(("/api/", "/healthz", "/metrics", "/payments/"))


def _is_machine_api(request: HttpRequest) -> bool:
    """Paths only programs call (not /payments/return, which people see in a browser)."""
    return request.path.startswith(("/api/", "/healthz", "/metrics"))


def _declared_too_large(request: HttpRequest) -> bool:
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    if limit is None:
        return False
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0) > limit
    except ValueError:
        return False


_FALLBACK_ERRORS = {
    400: ("bad_request", "The request could not be understood."),
    403: ("permission_denied", "You do not have permission to perform this action."),
    413: ("request_too_large", "The request body is too large."),
    500: ("server_error", "An unexpected error occurred."),
}


class ApiErrorMiddleware:
    """Errors outside DRF views (unknown URLs, oversized bodies, crashes in plain views) answer JSON under /api."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if _is_api(request) and _declared_too_large(request):
            # Refused before any view or middleware (CSRF reads form bodies) touches the body, DRF view or not.
            return JsonResponse(error_body("request_too_large", "The request body is too large."), status=413)
        response = self.get_response(request)
        if _is_json(response) or response.status_code < 400:
            return response
        if _is_api(request) and response.status_code in (404, 405):
            code = "not_found" if response.status_code == 404 else "method_not_allowed"
            message = "Not found." if response.status_code == 404 else "Method not allowed."
            return JsonResponse(error_body(code, message), status=response.status_code)
        if _is_machine_api(request) and response.status_code in _FALLBACK_ERRORS:
            # Django's own HTML answers (a CSRF 403, a SuspiciousOperation 400, a crash in a middleware).
            code, message = _FALLBACK_ERRORS[response.status_code]
            return JsonResponse(error_body(code, message), status=response.status_code)
        return response

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, RequestDataTooBig):
            return JsonResponse(error_body("request_too_large", "The request body is too large."), status=413)
        if not _is_api(request):
            return None
        logger.exception("unhandled_exception", extra={"path": request.path})
        return JsonResponse(error_body("server_error", "An unexpected error occurred."), status=500)


def _is_json(response: HttpResponse) -> bool:
    return response.get("Content-Type", "").startswith("application/json")
