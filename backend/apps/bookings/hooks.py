"""Extension points for apps above bookings (payments), so bookings never imports them (`apps.core.registry`).

`payment_summary_source`, a `Slot`: `fn(booking_ids) -> {booking_id: {...}}` returns the payment summary shown
as `"payment"` in booking JSON, for a whole page of bookings in one query. Payments fills it in
`PaymentsConfig.ready()`. Optional: bookings missing from the result (and every booking while the slot is
empty) show `"payment": null`.

The rows other apps add to the booking admin page are in `apps.bookings.admin.booking_inlines`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from apps.core.registry import Slot

PaymentSummary = Callable[[list[int]], Mapping[int, dict[str, Any]]]

payment_summary_source: Slot[PaymentSummary] = Slot(
    "bookings.payment_summary_source", filled_by="PaymentsConfig.ready() fills it."
)


def payment_summaries(booking_ids: Iterable[int]) -> dict[int, dict[str, Any]]:
    ids = list(booking_ids)
    fn = payment_summary_source.peek()
    if fn is None or not ids:
        return {}
    return dict(fn(ids))


#: `fn(booking_ids) -> {booking_id: {...}}`: what each booking has paid (online, at the venue) and what is due,
#: shown as `"balance"` in booking JSON (payments fills it; `null` while it is empty).
booking_balance_source: Slot[PaymentSummary] = Slot(
    "bookings.booking_balance_source", filled_by="PaymentsConfig.ready() fills it."
)


def booking_balances(booking_ids: Iterable[int]) -> dict[int, dict[str, Any]]:
    ids = list(booking_ids)
    fn = booking_balance_source.peek()
    if fn is None or not ids:
        return {}
    return dict(fn(ids))
