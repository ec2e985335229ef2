"""Request ids for logs, and JSON (never HTML) for errors that happen outside DRF views."""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Callable

from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse

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


def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith(("/api/", "/healthz", "/metrics", "/payments/"))


class ApiErrorMiddleware:
    """Errors outside DRF views (unknown URLs, oversized bodies, crashes in plain views) answer JSON under /api."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if _is_api(request) and response.status_code in (404, 405) and not _is_json(response):
            code = "not_found" if response.status_code == 404 else "method_not_allowed"
            message = "Not found." if response.status_code == 404 else "Method not allowed."
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
