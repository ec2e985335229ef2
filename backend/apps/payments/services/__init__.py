"""Payments services: every write about payments goes through here (see docs/payments.md).

Imports go one way, top to bottom (the `payments-services` contract in backend/pyproject.toml):

pay.py             POST /pay: record the attempt, create it at Moyasar, record the outcome (or recover it later)
webhooks.py        verify and record webhooks; the job that processes them
booking_events.py  what booking changes mean for payments (subscribed in AppConfig.ready)
reconcile.py       the periodic safety net
venue.py           payments at the venue (cash, card terminal) recorded by the business
  sync.py          fetch from Moyasar, find or link our payment, apply and settle; the 3-D Secure return page's work
  operations.py    capture, void, refund (record, then call; fetch first, never retry blindly)
    settlement.py  the booking's money policy: settle a payment with its booking (confirm, capture timing,
                   late-cancellation fee, giving money back); `apply_and_settle`
      state.py     locks, records, operation marks; apply what Moyasar reports (forward only, refunds in flight)
      deferrals.py defer the jobs, by name (the jobs import these services, never the other way)
        ledger.py  the per-business ledger: an entry per capture, refund or void, in the same transaction
"""

from apps.payments.services.operations import (
    payment_capture,
    payment_refund,
    payment_request_capture,
    payment_request_void,
    payment_void,
    refund_execute,
)
from apps.payments.services.pay import (
    ClientParameters,
    PaymentSource,
    client_parameters,
    normalize_saudi_mobile,
    payment_create_recover,
    payment_start,
    payment_stcpay_otp,
)
from apps.payments.services.reconcile import payments_reconcile
from apps.payments.services.sync import ReturnedPayment, fetch_and_apply, payment_sync, payment_sync_on_return
from apps.payments.services.venue import venue_payment_record
from apps.payments.services.webhooks import webhook_process, webhook_receive

__all__ = [
    "ClientParameters",
    "PaymentSource",
    "ReturnedPayment",
    "client_parameters",
    "fetch_and_apply",
    "normalize_saudi_mobile",
    "payment_capture",
    "payment_create_recover",
    "payment_refund",
    "payment_request_capture",
    "payment_request_void",
    "payment_start",
    "payment_stcpay_otp",
    "payment_sync",
    "payment_sync_on_return",
    "payment_void",
    "payments_reconcile",
    "refund_execute",
    "venue_payment_record",
    "webhook_process",
    "webhook_receive",
]
