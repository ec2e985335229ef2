"""Cards in the Moyasar fake: Moyasar's test cards and what each does, card-field validation, amounts, and the
3-D Secure page."""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from apps.payments.providers.base import luhn_ok

from .http import as_int

MINOR_UNITS = {"BHD": 3, "JOD": 3, "KWD": 3, "OMR": 3, "TND": 3, "JPY": 0, "KRW": 0}
APPROVED = ("APPROVED", "00")
THREE_DS_NOT_ENROLLED = "3-D Secure transaction attempt failed (Card not enrolled)"
THREE_DS_FAILED = "3-D Secure transaction attempt failed (Authentication failed)"


@dataclass(frozen=True)
class CardBehaviour:
    brand: str
    message: str  # APPROVED or the decline reason
    response_code: str | None
    approved: bool = True
    three_ds: str = "ok"  # ok | not_enrolled | rejected


TEST_CARDS: dict[str, CardBehaviour] = {
    "4111111111111111": CardBehaviour("visa", *APPROVED),
    "4201320111111010": CardBehaviour("mada", *APPROVED),
    "5421080101000000": CardBehaviour("master", *APPROVED),
    "340000000900000": CardBehaviour("amex", *APPROVED),
    "4123120001090000": CardBehaviour("visa", "INSUFFICIENT FUNDS", "51", approved=False),
    "4201320000311101": CardBehaviour("mada", "INSUFFICIENT FUNDS", "51", approved=False),
    "4123120001090109": CardBehaviour("visa", "DECLINED", "05", approved=False),
    "4201321234411220": CardBehaviour("mada", "DECLINED", "05", approved=False),
    "4123120000000000": CardBehaviour("visa", "UNSPECIFIED FAILURE", "99", approved=False),
    "4123128518640738": CardBehaviour("visa", "EXPIRED CARD", "54", approved=False),
    "4111116611600661": CardBehaviour("visa", THREE_DS_NOT_ENROLLED, None, approved=False, three_ds="not_enrolled"),
    "4111115784228433": CardBehaviour("visa", THREE_DS_FAILED, None, approved=False, three_ds="rejected"),
}


def _brand_for(number: str) -> str:
    if number.startswith(("34", "37")):
        return "amex"
    if number[:6] in ("420132", "440647", "588845", "968208", "636120"):
        return "mada"
    if number.startswith("4"):
        return "visa"
    if number[:2] in ("51", "52", "53", "54", "55") or number[:1] == "2":
        return "master"
    return "unknown"


def card_behaviour(number: str) -> CardBehaviour:
    """What the fake does with a card number: the test-card table, else a decline (unlisted numbers fail)."""
    return TEST_CARDS.get(number) or CardBehaviour(_brand_for(number), "INVALID CARD", "14", approved=False)


def check_card(src: Mapping[str, Any], errors: dict[str, list[str]], *, prefix: str, now: datetime) -> str:
    """Validate name, number, month, year (not expired at `now`) and CVC into `errors`; the bare card number."""
    name = src.get("name")
    if not isinstance(name, str) or len(name.split()) < 2:
        errors[prefix + "name"] = ["must be a first and last name"]
    number = re.sub(r"[\s-]", "", str(src.get("number") or ""))
    if not re.fullmatch(r"\d{12,19}", number) or not luhn_ok(number):
        errors[prefix + "number"] = ["is invalid"]
    month = as_int(src.get("month"), True)
    year = as_int(src.get("year"), True)
    if month is None or not 1 <= month <= 12:
        errors[prefix + "month"] = ["is invalid"]
    if year is None or year < 0:
        errors[prefix + "year"] = ["is invalid"]
    elif month is not None and 1 <= month <= 12 and (norm_year(year), month) < (now.year, now.month):
        errors[prefix + "year"] = ["card is expired"]
    cvc = str(src.get("cvc") or "")
    cvc_len = 4 if number.startswith(("34", "37")) else 3
    if not re.fullmatch(rf"\d{{{cvc_len}}}", cvc):
        errors[prefix + "cvc"] = ["is invalid"]
    return number


def norm_year(year: int) -> int:
    return year + 2000 if 0 <= year < 100 else year


def last_day_of_month(year: int, month: int) -> str | None:
    if not 1 <= month <= 12 or year < 1:
        return None
    nxt = datetime(year + (month == 12), month % 12 + 1, 1, tzinfo=UTC)
    return datetime.fromtimestamp(nxt.timestamp() - 1, UTC).isoformat().replace("+00:00", "Z")


def format_amount(amount: int, currency: str) -> str:
    """`15000, "SAR"` -> `"150.00 SAR"` (integer arithmetic, the currency's minor unit)."""
    digits = MINOR_UNITS.get(currency, 2)
    sign = "-" if amount < 0 else ""
    value = abs(int(amount))
    if digits == 0:
        return f"{sign}{value} {currency}"
    unit = 10**digits
    return f"{sign}{value // unit}.{value % unit:0{digits}d} {currency}"


def three_ds_page(object_id: str, amount: int, currency: str) -> str:
    """The payer's 3-D Secure challenge: two links, approve and reject (an accessible page of its own, no script)."""
    oid = quote(object_id, safe="")
    label = html.escape(format_amount(amount, currency))
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'><title>3-D Secure (fake)</title><link rel='icon' href='data:,'>"
        "<style>body{font:16px/1.5 system-ui,sans-serif;margin:0;padding:1rem;color:#13201f}"
        "main{max-width:28rem;margin:auto}a{display:inline-block;margin:.5rem .5rem 0 0;padding:.7rem 1.2rem;"
        "border-radius:10px;text-decoration:none;font-weight:700}#approve{background:#0b6b62;color:#fff}"
        "#reject{border:1px solid #a61b1b;color:#a61b1b}</style></head><body><main>"
        f"<h1>Moyasar fake 3-D Secure</h1><p>Payment <code>{html.escape(object_id)}</code>: {label}</p>"
        "<p>Your bank asks you to confirm this payment.</p>"
        f"<p><a id='approve' href='/_fake/3ds/{oid}?result=approve'>Approve</a> "
        f"<a id='reject' href='/_fake/3ds/{oid}?result=reject'>Reject</a></p></main></body></html>"
    )
