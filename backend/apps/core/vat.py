"""VAT arithmetic in integer halalas (shared/specs/zatca.md, "VAT 15 % and rounding").

Saudi VAT is 15 % (category S) since 1 July 2020; the rate is a setting with its effective dates
(`MAWID_VAT_RATES`, "YYYY-MM-DD:basis points" pairs, e.g. "2020-07-01:1500") so that a change of rate applies to
sales from its day. Rounding is half-up on final results only, in integers: `vat = (net * rate + 5000) // 10000`
for a rate in basis points. Never `round()` (half-even) or floats.

The VAT-inclusive price trap: the customer sees and pays a VAT-inclusive price, but an invoice is built from its
net amount (VAT = net × 15 %, rounded), and many round prices have no net whose total comes back to them (10.00 SAR:
8.70 + 1.31 = 10.01, 8.69 + 1.30 = 9.99). Mawid's decision (docs/invoicing.md): the card charge always equals the
invoice total. A VAT-registered business's price list is checked when a price is set (an unreachable price is
refused with the two nearest reachable ones, `nearest_reachable`); a price stored before the business registered
(or before a change of rate) is split with `split_gross`, whose `gross` — the invoice total, at most one halala off
the list price — is what the booking records, shows and charges.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.conf import settings

STANDARD_RATE_BPS = 1500
DEFAULT_RATES = "2020-07-01:1500"


@dataclass(frozen=True, slots=True)
class VatSplit:
    """One amount as an invoice states it: net + vat == gross, all in halalas, at `rate_bps`."""

    net: int
    vat: int
    gross: int
    rate_bps: int

    def __post_init__(self) -> None:
        if self.net < 0 or self.vat < 0 or self.net + self.vat != self.gross:
            raise ValueError(f"VAT split does not add up: {self.net} + {self.vat} != {self.gross}")


def parse_rates(text: str) -> list[tuple[date, int]]:
    """'2020-07-01:1500,2030-01-01:1700' -> [(date, bps), ...] sorted by date. Raises ValueError on bad input."""
    rates: list[tuple[date, int]] = []
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        day, _, bps = part.partition(":")
        value = int(bps)
        if not 0 <= value <= 10_000:
            raise ValueError(f"VAT rate out of range: {part!r}")
        rates.append((date.fromisoformat(day.strip()), value))
    if not rates:
        raise ValueError("no VAT rate configured")
    return sorted(rates)


def rate_on(day: date) -> int:
    """The VAT rate (basis points) in force on `day` (0 before the first configured date)."""
    rate = 0
    for start, bps in parse_rates(getattr(settings, "MAWID_VAT_RATES", DEFAULT_RATES)):
        if start <= day:
            rate = bps
    return rate


def vat_of_net(net: int, rate_bps: int = STANDARD_RATE_BPS) -> int:
    """VAT on a net amount, half-up to the halala (BR-KSA-50 / the document's TaxAmount)."""
    if net < 0:
        raise ValueError("net amount must not be negative")
    return (net * rate_bps + 5000) // 10000


def from_net(net: int, rate_bps: int = STANDARD_RATE_BPS) -> VatSplit:
    vat = vat_of_net(net, rate_bps)
    return VatSplit(net=net, vat=vat, gross=net + vat, rate_bps=rate_bps)


def _candidates(gross: int, rate_bps: int) -> list[VatSplit]:
    # net ≈ gross / (1 + rate); the exact answer, if any, is within one halala of the rounded quotient.
    denominator = 10000 + rate_bps
    middle = (gross * 10000 * 2 + denominator) // (2 * denominator)
    return [from_net(n, rate_bps) for n in (middle - 1, middle, middle + 1) if n >= 0]


def split_gross(gross: int, rate_bps: int = STANDARD_RATE_BPS) -> VatSplit:
    """A VAT-inclusive price as an invoice can state it. When `gross` is reachable the split's gross equals it;
    otherwise the nearest invoice total (the lower one on a tie), which is what is charged."""
    if gross < 0:
        raise ValueError("gross amount must not be negative")
    if rate_bps == 0:
        return VatSplit(net=gross, vat=0, gross=gross, rate_bps=0)
    return min(_candidates(gross, rate_bps), key=lambda s: (abs(s.gross - gross), s.gross))


def reachable(gross: int, rate_bps: int = STANDARD_RATE_BPS) -> bool:
    """Whether some net amount gives exactly this VAT-inclusive total."""
    return split_gross(gross, rate_bps).gross == gross


def nearest_reachable(gross: int, rate_bps: int = STANDARD_RATE_BPS) -> tuple[int, int]:
    """The nearest reachable totals at or below and at or above `gross` (both `gross` when it is reachable)."""
    lower = gross
    while lower > 0 and not reachable(lower, rate_bps):
        lower -= 1
    upper = gross
    while not reachable(upper, rate_bps):
        upper += 1
    return lower, upper


def split_part(part: int, whole: VatSplit) -> VatSplit:
    """A part of a sale (a refund, a kept fee, a deposit) at the whole's rate, as its own document states it (a
    credit note's totals are computed like an invoice's). The amount that moves is the split's `gross`: `part`
    itself when reachable, else the nearest reachable amount above it (in the customer's favour for a refund),
    never more than the whole, else the one below."""
    if not 0 <= part <= whole.gross:
        raise ValueError("a part must be between 0 and the whole")
    if part == whole.gross:
        return whole
    if whole.rate_bps == 0:
        return VatSplit(net=part, vat=0, gross=part, rate_bps=0)
    lower, upper = nearest_reachable(part, whole.rate_bps)
    return split_gross(upper if upper <= whole.gross else lower, whole.rate_bps)
