"""What a booking of a service costs online, and what a late cancellation keeps (docs/payments.md, "Deposits and
paying at the venue" and "Late cancellation").

* The policy: the service's own (`Service.payment_policy`), else the business's. A business that does not
  require payment (`require_payment` off) takes everything at the venue.
* `full`: the whole price online (authorized, then captured). `deposit`: a fixed amount or a percentage of the
  price (the service's own, else the business's), at most the price, as a VAT-splittable part of the price
  (`core.vat.split_part`: the amount that moves is one an invoice can state). `venue`: nothing online; the booking
  is confirmed when made. A policy that would charge nothing online is `venue`.
* The late-cancellation fee: the service's fee (fixed and/or percentage of the price, the larger), else the
  business's, else the platform's settings (`MAWID_PAYMENTS_LATE_CANCEL_FEE_*`); never more than what was paid
  online, and a reachable VAT-inclusive amount (the nearest at or below). A deposit booking keeps the whole deposit
  when the business says so (`keep_deposit_on_late_cancel`).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings

from apps.catalog.models import Business, PaymentPolicy, Service
from apps.core import vat


@dataclass(frozen=True, slots=True)
class PaymentTerms:
    policy: str  # PaymentPolicy value
    online_amount: int  # what is paid online to confirm the booking (minor units); 0 for `venue`


def _percent_of(price: int, percent: int) -> int:
    return (price * percent + 50) // 100  # half up, to the halala


def effective_policy(service: Service, business: Business) -> str:
    if not business.require_payment:
        return PaymentPolicy.VENUE
    return service.payment_policy or business.payment_policy


def deposit_for(price: int, service: Service, business: Business) -> int:
    """The deposit on `price`: the service's fixed amount or percentage, else the business's; at most the price,
    moved as a VAT-splittable part of it."""
    if service.deposit_amount or service.deposit_percent:
        amount, percent = service.deposit_amount or 0, service.deposit_percent or 0
    else:
        amount, percent = business.deposit_amount, business.deposit_percent
    wanted = amount if amount else _percent_of(price, percent)
    whole = vat.split_gross(price)
    wanted = max(0, min(wanted, whole.gross))
    return vat.split_part(wanted, whole).gross if wanted else 0


def payment_terms(service: Service, business: Business, *, price: int | None = None) -> PaymentTerms:
    """The terms of a new booking of `service` (at `price`, default the service's)."""
    price = service.price_amount if price is None else price
    policy = effective_policy(service, business)
    if policy == PaymentPolicy.DEPOSIT:
        deposit = deposit_for(price, service, business)
        if deposit >= price:
            return PaymentTerms(policy=PaymentPolicy.FULL, online_amount=price)
        return PaymentTerms(policy=PaymentPolicy.DEPOSIT, online_amount=deposit) if deposit else _venue()
    if policy == PaymentPolicy.FULL and price > 0:
        return PaymentTerms(policy=PaymentPolicy.FULL, online_amount=price)
    return _venue()


def _venue() -> PaymentTerms:
    return PaymentTerms(policy=PaymentPolicy.VENUE, online_amount=0)


def late_cancel_fee(*, price: int, paid: int, is_deposit: bool, service: Service, business: Business) -> int:
    """What a customer's cancellation after the cut-off keeps of `paid` (what was paid online for the booking)."""
    if paid <= 0:
        return 0
    if is_deposit and business.keep_deposit_on_late_cancel:
        return paid
    if service.late_cancel_fee_amount is not None or service.late_cancel_fee_percent is not None:
        amount, percent = service.late_cancel_fee_amount or 0, service.late_cancel_fee_percent or 0
    elif business.late_cancel_fee_amount is not None or business.late_cancel_fee_percent is not None:
        amount, percent = business.late_cancel_fee_amount or 0, business.late_cancel_fee_percent or 0
    else:
        amount = max(0, settings.PAYMENTS_LATE_CANCEL_FEE_AMOUNT)
        percent = max(0, min(100, settings.PAYMENTS_LATE_CANCEL_FEE_PERCENT))
    fee = min(max(price * percent // 100, amount), paid)
    if fee <= 0:
        return 0
    # A kept fee is a sale of its own (an invoice, or what a refund leaves): a reachable VAT-inclusive amount, the
    # nearest at or below the fee (in the customer's favour).
    whole = vat.split_gross(paid)
    fee = min(fee, whole.gross)
    if fee == whole.gross or whole.rate_bps == 0:
        return fee
    lower, _upper = vat.nearest_reachable(fee, whole.rate_bps)
    return lower
