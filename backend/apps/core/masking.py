"""Masking for values that must not reach logs in full: phone numbers and secrets.

Pure functions with no Django imports, so provider clients and fakes can use them standalone. They never raise:
junk in, a safe string out.
"""

from __future__ import annotations

import re

# ITU country calling codes are 1-3 digits and prefix-free. These are the 1- and 2-digit ones; all others have 3.
_CC_1 = frozenset({"1", "7"})
# fmt: off
_CC_2 = frozenset({
    "20", "27", "30", "31", "32", "33", "34", "36", "39", "40", "41", "43", "44", "45", "46", "47", "48", "49",
    "51", "52", "53", "54", "55", "56", "57", "58", "60", "61", "62", "63", "64", "65", "66",
    "81", "82", "84", "86", "90", "91", "92", "93", "94", "95", "98",
})
# fmt: on
_SEPARATORS = re.compile(r"[\s\-().]")
_DIGITS = re.compile(r"\+?\d+")


def _country_code_length(digits: str) -> int:
    if digits[:1] in _CC_1:
        return 1
    if digits[:2] in _CC_2:
        return 2
    return 3


def mask_phone(phone: object) -> str:
    """`+966501234567` -> `+96650*****67`: the country code and 2 digits, then the last 2.

    Numbers without `+` keep their first 3 and last 2 digits (`0501234567` -> `050*****67`). Anything too short to
    mask meaningfully, or not a phone number at all, comes back as stars only; `None` and empty give `""`.
    """
    if phone is None:
        return ""
    text = _SEPARATORS.sub("", str(phone))
    if not text:
        return ""
    if text.startswith("00") and len(text) > 2:
        text = "+" + text[2:]
    if not _DIGITS.fullmatch(text):
        return "***"
    if text.startswith("+"):
        digits = text[1:]
        head = 1 + _country_code_length(digits) + 2
    else:
        digits = text
        head = 3
    tail = 2
    if len(text) - head - tail < 3:  # too short: keeping head and tail would reveal most of it
        if len(digits) < 8:
            return "***"
        return "*" * (len(text) - tail) + text[-tail:]
    return text[:head] + "*" * (len(text) - head - tail) + text[-tail:]


def mask_secret(value: object) -> str:
    """An API key or token for display: `****` plus its last 4 characters when it is long enough to spare them.

    Short values (under 12 characters) are fully hidden; `None` and empty give `""` so "missing" stays visible.
    """
    if value is None:
        return ""
    text = str(value)
    if not text:
        return ""
    if len(text) < 12:
        return "****"
    return "****" + text[-4:]
