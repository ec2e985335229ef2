"""Extension points for apps above bookings (payments), so bookings never imports them.

`register_payment_summary(fn)`: `fn(booking_ids) -> {booking_id: {...}}` returns the payment summary shown as
`"payment"` in booking JSON, for a whole page of bookings in one query. Bookings missing from the result (and
every booking while nothing is registered) show `"payment": null`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

PaymentSummary = Callable[[list[int]], Mapping[int, dict[str, Any]]]

_payment_summary: PaymentSummary | None = None


def register_payment_summary(fn: PaymentSummary | None) -> None:
    """Register (or, with None, remove) the payment summary provider. The last registration wins."""
    global _payment_summary
    _payment_summary = fn


@contextmanager
def use_payment_summary(fn: PaymentSummary | None) -> Iterator[None]:
    """Swap the provider for a block (tests), then put the previous one back."""
    previous = _payment_summary
    register_payment_summary(fn)
    try:
        yield
    finally:
        register_payment_summary(previous)


def payment_summaries(booking_ids: Iterable[int]) -> dict[int, dict[str, Any]]:
    ids = list(booking_ids)
    if _payment_summary is None or not ids:
        return {}
    return dict(_payment_summary(ids))
