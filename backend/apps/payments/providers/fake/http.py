"""HTTP the Moyasar way, for the fake: its error bodies, its request bodies (JSON or nested form fields) and the
lenient readings of values it accepts. The server itself is `apps.core.fakes.LoopbackFake`."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from apps.core.fakes import Request, Response, json_response

from ..base import redact_card_data

UNSET: Any = object()  # "argument not given", where None is a value

# --- answers --------------------------------------------------------------------------------------------------


def error(status: int, error_type: str, message: str, errors: Any = None) -> Response:
    return json_response(status, {"type": error_type, "message": message, "errors": errors})


def invalid(message: str, errors: Any = None) -> Response:
    return error(400, "invalid_request_error", message, errors)


def not_found(what: str = "Object") -> Response:
    return error(404, "api_error", f"{what} not found")


# --- request bodies -------------------------------------------------------------------------------------------


class BadBody(Exception):
    pass


def parse_form(raw: str) -> dict[str, Any]:
    """`source[type]=creditcard&metadata[k]=v` -> nested dicts (Moyasar accepts form-encoded input too)."""
    out: dict[str, Any] = {}
    for key, value in parse_qsl(raw, keep_blank_values=True):
        parts = re.findall(r"[^\[\]]+", key)
        if not parts:
            continue
        cur = out
        for part in parts[:-1]:
            nxt = cur.get(part)
            if not isinstance(nxt, dict):
                nxt = cur[part] = {}
            cur = nxt
        cur[parts[-1]] = value
    return out


def parse_body(req: Request) -> tuple[dict[str, Any], bool]:
    """The request body as a dict and whether it was form-encoded."""
    if not req.body.strip():
        return {}, False
    ctype = (req.headers.get("Content-Type") or "").split(";")[0].strip().lower()
    text = req.body.decode("utf-8", errors="replace")
    if ctype == "application/x-www-form-urlencoded":
        return parse_form(text), True
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise BadBody("Body is not valid JSON") from exc
    if not isinstance(data, dict):
        raise BadBody("Body must be a JSON object")
    return data, False


# --- values ---------------------------------------------------------------------------------------------------


def as_int(value: Any, form: bool) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if form and isinstance(value, str) and re.fullmatch(r"-?\d+", value.strip()):
        return int(value)
    return None


def as_bool(value: Any, default: bool) -> bool:
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        return value.strip().lower() in ("true", "1", "yes", "on")
    if isinstance(value, int):
        return value != 0
    return default


def optional_positive_int(body: Mapping[str, Any], form: bool) -> tuple[int | None, str | None]:
    if body.get("amount") in (None, ""):
        return None, None
    value = as_int(body.get("amount"), form)
    if value is None:
        return None, "must be an integer"
    if value <= 0:
        return None, "must be greater than 0"
    return value, None


def is_url(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def check_metadata(value: Any, errors: dict[str, list[str]]) -> dict[str, str]:
    if value in (None, ""):
        return {}
    if not isinstance(value, dict):
        errors["metadata"] = ["must be an object"]
        return {}
    out: dict[str, str] = {}
    problems: list[str] = []
    if len(value) > 30:
        problems.append("must have at most 30 keys")
    for key, item in value.items():
        if len(str(key)) > 40:
            problems.append(f"key {str(key)[:40]}... is longer than 40 characters")
        if isinstance(item, dict | list):
            problems.append(f"{key} must be a string")
            continue
        text = "" if item is None else str(item).lower() if isinstance(item, bool) else str(item)
        if len(text) > 500:
            problems.append(f"{key} is longer than 500 characters")
        out[str(key)] = text
    if problems:
        errors["metadata"] = problems
    return out


def parse_iso(value: str | None) -> float | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.timestamp()


def redact_path(path: str) -> str:
    redacted: str = redact_card_data(path)
    return redacted
