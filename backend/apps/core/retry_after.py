"""Reading a provider's `Retry-After` header, one way for every client. Standard library only, no Django.

RFC 9110 allows delay-seconds (`120`) or an HTTP-date (`Fri, 31 Dec 2027 23:59:59 GMT`). Vendors also send a
sign or a fraction (`-3`, `1.5`), which are read leniently. Everything else is unreadable and gives None (the
caller's own backoff applies): `nan`, `inf`, exponents (`1e3`), underscores, non-ASCII digits, junk. A date or a
number in the past gives 0; anything longer than `MAX_RETRY_AFTER_SECONDS` (a day) is cut to it, so a
mistaken or hostile header cannot park a job for years or overflow a later `int()`.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

MAX_RETRY_AFTER_SECONDS = 86_400.0
_SECONDS = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)")


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After value, in [0, MAX_RETRY_AFTER_SECONDS]; None when absent or unreadable.

    `now` (aware) is the reference for an HTTP-date; the current time when not given.
    """
    if not value:
        return None
    text = value.strip()
    if _SECONDS.fullmatch(text):
        seconds = float(text)  # a very long digit string is inf here: "wait very long", so the cap below
    else:
        try:
            when = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError, OverflowError):
            return None
        if when.tzinfo is None:  # "-0000" in the date: UTC, with the origin unknown
            when = when.replace(tzinfo=UTC)
        seconds = (when - (now or datetime.now(UTC))).total_seconds()
    return min(max(0.0, seconds), MAX_RETRY_AFTER_SECONDS)
