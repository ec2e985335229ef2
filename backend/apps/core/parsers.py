"""The JSON parser of every API view (`REST_FRAMEWORK["DEFAULT_PARSER_CLASSES"]`).

DRF's `JSONParser` turns malformed JSON into a 400 `parse_error`, but lets `RecursionError` through: a body of
20,000 nested brackets (`[[[[...]]]]`, 40 kB, well under the body size limit) blows Python's stack in `json.loads`
and answered 500, on unauthenticated endpoints too. This one refuses it as `parse_error`, and refuses any body
nested deeper than `max_depth` even when it does parse: nothing we accept is more than a few levels deep, and a
deep structure could still exhaust the stack later (validation, `json.dumps` into a JSONField, logging).
A view that reads its body itself (a webhook checking a signature over the raw bytes) uses `parse_json`, which
applies the same rules.
"""

from __future__ import annotations

import json
from typing import Any

from rest_framework import parsers
from rest_framework.exceptions import ParseError

# Deeper than any body we accept (a Moyasar webhook is about 4 levels deep), far shallower than the stack.
MAX_JSON_DEPTH = 32


def json_depth_exceeds(value: Any, limit: int) -> bool:
    """Whether lists/objects in `value` nest more than `limit` levels deep (iterative: no recursion itself)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else None
        if children is None:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False


class JSONParser(parsers.JSONParser):
    max_depth = MAX_JSON_DEPTH

    def parse(self, stream, media_type=None, parser_context=None) -> Any:
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError as exc:
            raise ParseError("JSON parse error - the document is nested too deeply.") from exc
        if json_depth_exceeds(data, self.max_depth):
            raise ParseError(f"JSON parse error - the document is nested more than {self.max_depth} levels deep.")
        return data


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def parse_json(raw: bytes | str, *, max_depth: int = MAX_JSON_DEPTH) -> Any:
    """The same rules for a view that reads its body itself (to check a signature over the raw bytes, say):
    malformed, NaN/Infinity, or nested deeper than `max_depth` is a `ParseError` (400 `parse_error`)."""
    try:
        data = json.loads(raw, parse_constant=_refuse_constant)
    except RecursionError as exc:
        raise ParseError("JSON parse error - the document is nested too deeply.") from exc
    except ValueError as exc:  # JSONDecodeError, bad UTF-8, NaN/Infinity
        raise ParseError(f"JSON parse error - {exc}") from exc
    if json_depth_exceeds(data, max_depth):
        raise ParseError(f"JSON parse error - the document is nested more than {max_depth} levels deep.")
    return data
