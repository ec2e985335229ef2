"""VAT on the money that moves for a booking: what part of a payment, a refund or a ledger entry is VAT.

The arithmetic is apps/core/vat.py's (its docstring holds the decision about VAT-inclusive prices); this module
only says which whole an amount is a part of. A booking's price is split when it is booked (`Booking.price_net`,
`price_vat`, at `vat_rate_bps`; no VAT when the business is not VAT-registered). Then:

* an amount Mawid chooses (a refund, the late-cancellation fee kept) is `chosen_part(amount, whole)` =
  `core.vat.split_part`: the amount that moves is its `gross` (the requested amount when an invoice can state it,
  else the nearest one that can, in the customer's favour, never more than the whole);
* an amount Mawid did not choose (what Moyasar reports: a client payment of another amount, a refund made in
  Moyasar's dashboard) is `reported_part(amount, whole)`: the same split when it is reachable, otherwise the VAT
  of the nearest invoice total and the net taking the rest, so that net + VAT always equals the amount that moved.

`remaining(whole, parts)` is what is left of a whole once parts were taken: a last part that takes all that is
left takes exactly its net and VAT, so a payment refunded in several parts comes back to zero to the halala.
"""

from __future__ import annotations

from collections.abc import Iterable

from apps.core.vat import VatSplit, split_gross, split_part


def chosen_part(amount: int, whole: VatSplit) -> VatSplit:
    """The split of a part Mawid chooses to move (0 < amount <= whole.gross); move its `gross`. An amount beyond
    the whole (the records disagree: not expected) is split as reported."""
    if not 0 <= amount <= whole.gross:
        return reported_part(amount, whole)
    return split_part(amount, whole)


def reported_part(amount: int, whole: VatSplit) -> VatSplit:
    """The split of an amount that moved whatever Mawid asked (net + VAT == amount, always)."""
    if amount == whole.gross:
        return whole
    if whole.rate_bps == 0:
        return VatSplit(net=amount, vat=0, gross=amount, rate_bps=0)
    if 0 <= amount < whole.gross:
        split = split_part(amount, whole)
        if split.gross == amount:
            return split
    vat = min(amount, split_gross(amount, whole.rate_bps).vat)
    return VatSplit(net=amount - vat, vat=vat, gross=amount, rate_bps=whole.rate_bps)


def remaining(whole: VatSplit, parts: Iterable[tuple[int, int]]) -> VatSplit:
    """`whole` less `parts` ((net, vat) pairs already taken), never below zero."""
    net, vat = whole.net, whole.vat
    for part_net, part_vat in parts:
        net, vat = net - part_net, vat - part_vat
    net, vat = max(0, net), max(0, vat)
    return VatSplit(net=net, vat=vat, gross=net + vat, rate_bps=whole.rate_bps)
