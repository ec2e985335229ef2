"""Retry-After, read one way for every provider client: seconds, HTTP-dates, and junk that must not leak through."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from apps.core.retry_after import MAX_RETRY_AFTER_SECONDS, parse_retry_after

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)  # a Sunday; the dates below are relative to it


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        # delay-seconds, as RFC 9110 has it, and the lenient extras vendors send
        ("120", 120.0),
        ("0", 0.0),
        (" 7 ", 7.0),
        ("1.5", 1.5),
        (".5", 0.5),
        ("5.", 5.0),
        ("+4", 4.0),
        # negative: "now"
        ("-3", 0.0),
        ("-0.5", 0.0),
        # HTTP-dates: ahead, behind, an obsolete form, no zone
        ("Sun, 01 Mar 2026 12:01:30 GMT", 90.0),
        ("Sun, 01 Mar 2026 11:00:00 GMT", 0.0),
        ("Sunday, 01-Mar-26 12:00:10 GMT", 10.0),
        ("Sun, 01 Mar 2026 12:00:20 -0000", 20.0),
        ("Sun, 01 Mar 2026 15:00:30 +0300", 30.0),
        # NaN and infinity, in every spelling float() takes: unreadable, never a number
        ("nan", None),
        ("NaN", None),
        ("inf", None),
        ("-inf", None),
        ("Infinity", None),
        ("1e999", None),
        # garbage
        ("soon", None),
        ("12abc", None),
        ("1e3", None),
        ("1_000", None),
        ("0x10", None),
        ("١٢٠", None),  # Arabic-Indic digits: float() reads them, HTTP does not
        ("Mon, 99 Foo 2026 00:00:00 GMT", None),
        ("Fri, 31 Dec 99999 23:59:59 GMT", None),
        ("", None),
        ("   ", None),
        (None, None),
        # huge: cut to a day
        ("86401", MAX_RETRY_AFTER_SECONDS),
        ("99999999999", MAX_RETRY_AFTER_SECONDS),
        ("9" * 400, MAX_RETRY_AFTER_SECONDS),  # float() makes this inf: still "very long", not junk
        ("Fri, 31 Dec 9999 23:59:59 GMT", MAX_RETRY_AFTER_SECONDS),
    ],
)
def test_retry_after_values(header: str | None, expected: float | None) -> None:
    assert parse_retry_after(header, now=NOW) == expected


def test_a_date_is_read_against_the_current_time_by_default() -> None:
    assert parse_retry_after("Thu, 01 Jan 1970 00:00:00 GMT") == 0.0
    assert parse_retry_after("Fri, 31 Dec 9999 23:59:59 GMT") == MAX_RETRY_AFTER_SECONDS
