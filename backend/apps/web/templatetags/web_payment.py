"""How a booking was paid, in the active language: "mada card", "Apple Pay · Visa", "STC Pay" (from
`Payment.method` and `Payment.card_scheme`)."""

from __future__ import annotations

from django import template
from django.utils.translation import gettext as _

from apps.payments.models import Payment

register = template.Library()

M = Payment.Method


def _scheme(scheme: str) -> str:
    return {
        "mada": _("mada"),
        "visa": _("Visa"),
        "mastercard": _("Mastercard"),
        "amex": _("American Express"),
    }.get(scheme, "")


def payment_method(payment: Payment | None) -> str:
    """The payment's method for the customer: a card by its scheme ("mada card"), a wallet by its name (Apple Pay
    with the card's scheme when known), Moyasar's form as "Online payment" (or the card it used)."""
    if payment is None:
        return ""
    scheme = _scheme(payment.card_scheme)
    if payment.method == M.STCPAY:
        return _("STC Pay")
    if payment.method == M.APPLEPAY:
        return _("Apple Pay · %(scheme)s") % {"scheme": scheme} if scheme else _("Apple Pay")
    if scheme:
        return _("%(scheme)s card") % {"scheme": scheme}
    return _("Card") if payment.method == M.CARD else _("Online payment")


register.filter("payment_method", payment_method)
