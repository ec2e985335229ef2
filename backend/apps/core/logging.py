"""JSON log lines with the request id; the id follows a request into the jobs it defers; phones are masked.

- `request_id_var` is set by `RequestIdMiddleware` for the length of a request and by the worker middleware in
  `apps.core.jobcontext` for the length of a job (with `job_var`), so `RequestIdFilter` can stamp every record.
- `MaskPhonesFilter` is a safety net: code should already log `mask_phone(...)`, but any phone number that still
  reaches a log line (in the message, an `extra` field, a nested job argument, an exception text) is masked.
"""

from __future__ import annotations

import json
import logging
import re
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from apps.core.masking import mask_phone

request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)
# (job id, task name) of the job this worker thread is running, if any.
job_var: ContextVar[tuple[int | None, str] | None] = ContextVar("job", default=None)

_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime", "request_id"}


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if not getattr(record, "request_id", None):
            record.request_id = request_id_var.get()
        job = job_var.get()
        if job is not None and not hasattr(record, "job_id"):
            record.job_id, record.task = job
        return True


# Phone-looking numbers: E.164 (`+966501234567`, also URL-encoded `%2B966...` and with single spaces or dashes
# between digits as people type them), `00` + country code, and Saudi mobiles without the `+` (`966501234567`,
# `0501234567`). Bounded so ids, amounts and timestamps are left alone.
_PHONE_RE = re.compile(
    r"(?<![\w+%])"
    r"(?:"
    r"(?:\+|%2[Bb])\d(?:[ -]?\d){7,14}"  # E.164, possibly spaced
    r"|00[1-9]\d{7,13}"  # international prefix 00
    r"|9665\d{8}"  # Saudi mobile, country code without +
    r"|05\d{8}"  # Saudi mobile, national format
    r")"
    r"(?!\w)"
)


def mask_phones(text: str) -> str:
    """Every phone-looking number in `text` replaced by its `mask_phone` form."""
    if not text or not any(ch.isdigit() for ch in text):
        return text
    return _PHONE_RE.sub(lambda m: mask_phone(m.group(0).replace("%2B", "+").replace("%2b", "+")), text)


_PLAIN = (int, float, bool, type(None))


def _mask_value(value: Any, depth: int = 0) -> Any:
    """A copy of `value` with phones masked; the same object when nothing needed masking."""
    if isinstance(value, str):
        return mask_phones(value)
    if isinstance(value, _PLAIN) or depth > 6:
        return value
    if isinstance(value, dict):
        masked = {key: _mask_value(item, depth + 1) for key, item in value.items()}
        return value if all(masked[k] is value[k] for k in value) else masked
    if isinstance(value, list | tuple | set | frozenset):
        items = [_mask_value(item, depth + 1) for item in value]
        if all(new is old for new, old in zip(items, value, strict=True)):
            return value
        return items if not isinstance(value, tuple) else tuple(items)
    # Anything else (a PhoneNumber, a model instance...) is logged through str() by the formatter: check that.
    try:
        text = str(value)
    except Exception:  # noqa: BLE001 - logging must never fail
        return value
    masked_text = mask_phones(text)
    return value if masked_text == text else masked_text


class MaskPhonesFilter(logging.Filter):
    """Masks phone numbers in the message, the `extra` fields and the exception text of every record."""

    _formatter = logging.Formatter()

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a broken format string is logged as it is
            message = str(record.msg)
        masked = mask_phones(message)
        if masked != message or record.args:
            record.msg, record.args = masked, None
        for key, value in list(record.__dict__.items()):
            if key in _STANDARD or key.startswith("_"):
                continue
            new = _mask_value(value)
            if new is not value:
                setattr(record, key, new)
        if record.exc_info and not record.exc_text:
            record.exc_text = self._formatter.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask_phones(record.exc_text)
        if record.stack_info:
            record.stack_info = mask_phones(record.stack_info)
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        payload = {
            "ts": datetime.fromtimestamp(record.created, tz=UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "event": record.getMessage(),
        }
        request_id = getattr(record, "request_id", None)
        if request_id:
            payload["request_id"] = request_id
        for key, value in record.__dict__.items():
            if key not in _STANDARD and not key.startswith("_"):
                payload[key] = value
        if record.exc_info or record.exc_text:
            payload["exc"] = record.exc_text or self.formatException(record.exc_info)
        if record.stack_info:
            payload["stack"] = record.stack_info
        return json.dumps(payload, default=str, ensure_ascii=False)
