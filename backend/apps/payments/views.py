"""`GET /payments/return?id=...`: where Moyasar sends the payer's browser after 3-D Secure (or its form/SDK).

The query string is never trusted (anyone can type `status=paid`): the payment is fetched from Moyasar with the
secret key and applied like a webhook, and only when the id is one of ours (`services.payment_sync_on_return`),
so the page cannot be used to spend our Moyasar rate limit. The page is rate limited per client address. The
answer is a small HTML page, or JSON for `Accept: application/json`.
"""

from __future__ import annotations

import math
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.html import escape
from django.views.decorators.http import require_GET

from apps.core.api import error_body
from apps.core.throttling import AnonThrottle
from apps.payments import services
from apps.payments.models import Payment

P = Payment.Status

_OUTCOMES: dict[str, str] = {
    P.AUTHORIZED: "paid",
    P.CAPTURED: "paid",
    P.PARTIALLY_REFUNDED: "refunded",
    P.REFUNDED: "refunded",
    P.INITIATED: "pending",
    P.AWAITING_CLIENT: "pending",
    P.ABANDONED: "failed",
    P.FAILED: "failed",
    P.VOIDED: "cancelled",
}
_TEXT = {
    "paid": ("Payment received. Your booking is confirmed.", "تم استلام الدفع. تم تأكيد حجزك."),
    "pending": ("Your payment is still being processed.", "ما زال الدفع قيد المعالجة."),
    "failed": ("The payment did not go through. You can try again.", "لم تتم عملية الدفع. يمكنك المحاولة مرة أخرى."),
    "refused": (
        "This payment does not match the booking and will be returned.",
        "هذا الدفع لا يطابق الحجز وسيتم إرجاعه.",
    ),
    "cancelled": ("This payment was cancelled; you have not been charged.", "تم إلغاء هذا الدفع ولم يتم خصم أي مبلغ."),
    "refunded": ("This payment was refunded.", "تم استرداد هذا الدفع."),
}


def _wants_json(request: HttpRequest) -> bool:
    accept = request.headers.get("Accept", "")
    return "application/json" in accept and "text/html" not in accept


def _page(request: HttpRequest, body: dict[str, Any], status: int) -> HttpResponse:
    if _wants_json(request):
        return JsonResponse(body, status=status)
    outcome = body.get("outcome", "failed")
    english, arabic = _TEXT.get(outcome, _TEXT["failed"])
    html = (
        "<!doctype html><html><head><meta charset='utf-8'><meta name='viewport' content='width=device-width'>"
        f"<title>Mawid</title></head><body data-outcome='{escape(outcome)}'>"
        f"<h1>{escape(english)}</h1><p dir='rtl' lang='ar'>{escape(arabic)}</p>"
        f"<p>Booking #{escape(body.get('booking', ''))}</p></body></html>"
    )
    return HttpResponse(html, status=status, content_type="text/html; charset=utf-8")


class PaymentReturnThrottle(AnonThrottle):
    """Per client address, whoever it is (`MAWID_THROTTLE_PAYMENT_RETURN`, read when the page is hit)."""

    scope = "payment_return"

    def get_rate(self) -> str:
        return settings.PAYMENTS_RETURN_THROTTLE

    def get_cache_key(self, request, view) -> str:
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


def _throttled(request: HttpRequest) -> HttpResponse | None:
    throttle = PaymentReturnThrottle()
    if throttle.allow_request(request, None):
        return None
    wait = max(1, math.ceil(throttle.wait() or 1))
    response = JsonResponse(error_body("throttled", "Too many requests; see Retry-After."), status=429)
    response["Retry-After"] = str(wait)
    return response


@require_GET
def payment_return(request: HttpRequest) -> HttpResponse:
    if (refused := _throttled(request)) is not None:
        return refused
    provider_id = request.GET.get("id", "")
    if not provider_id or len(provider_id) > 64:
        return JsonResponse(error_body("validation_error", "The payment id is missing."), status=400)
    returned = services.payment_sync_on_return(reference=provider_id)
    if returned is None:
        return JsonResponse(error_body("not_found", "Unknown payment."), status=404)
    if not returned.confirmed:
        # A job asks Moyasar again (the webhook and the reconciliation would too); the payer waits, not pays again.
        return _page(request, {"outcome": "pending", "status": "unknown"}, status=200)
    payment = returned.payment
    outcome = "refused" if payment.mismatch else _OUTCOMES.get(payment.status, "pending")
    body = {
        "outcome": outcome,
        "payment": payment.pk,
        "status": payment.status,
        "booking": payment.booking_id,
        "booking_status": returned.booking_status,
    }
    return _page(request, body, status=200)
