"""OpenAPI: document the error shape and the error responses of every operation."""

from __future__ import annotations

from typing import Any

from apps.core.errors import ERROR_CODES

ERROR_SCHEMA = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {
                "code": {"type": "string", "description": "Stable snake_case code; see the list in the API description."},
                "message": {"type": "string"},
                "fields": {
                    "type": "object",
                    "additionalProperties": True,
                    "description": "Validation errors per field (only for validation_error).",
                },
            },
            "additionalProperties": True,
        }
    },
}

_DESCRIPTIONS = {
    "400": "Validation error (`validation_error`, `parse_error`) or a domain rule refused the request.",
    "401": "Not authenticated (`not_authenticated`, `token_not_valid`, `authentication_failed`).",
    "403": "Not allowed (`permission_denied`).",
    "404": "Not found (`not_found`), also for another user's object.",
    "405": "Method not allowed (`method_not_allowed`).",
    "409": "Conflict with the current state.",
    "413": "Request body too large (`request_too_large`).",
    "415": "Only application/json is accepted (`unsupported_media_type`).",
    "429": "Rate limited (`throttled`, `rate_limited`); see the Retry-After header.",
    "500": "Unexpected error (`server_error`); logged, no internals returned.",
    "503": "A provider is unavailable and nothing was changed (`provider_unavailable`).",
}


def add_error_responses(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict[str, Any]:
    components = result.setdefault("components", {}).setdefault("schemas", {})
    components["Error"] = ERROR_SCHEMA
    ref = {"$ref": "#/components/schemas/Error"}
    for path_item in result.get("paths", {}).values():
        for method, operation in path_item.items():
            if method not in {"get", "post", "put", "patch", "delete"}:
                continue
            responses = operation.setdefault("responses", {})
            for status, description in _DESCRIPTIONS.items():
                responses.setdefault(
                    status, {"description": description, "content": {"application/json": {"schema": ref}}}
                )
    codes = "\n".join(f"- `{code}`: {text}" for code, text in sorted(ERROR_CODES.items()))
    info = result.setdefault("info", {})
    info["description"] = (
        f"{info.get('description', '')}\n\nErrors always have the shape "
        '`{"error": {"code", "message", "fields"?}}`. Error codes:\n' + codes
    )
    return result
