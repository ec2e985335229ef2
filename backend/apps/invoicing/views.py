"""The customer's invoice page on the website: `/my/bookings/ID/invoices/INVOICE_ID`, linked from the booking's
page. The booking's customer only (404 for anyone else, managers included: they export from the manager API)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import path
from django.views.decorators.http import require_GET

from apps.core.errors import NotFound
from apps.invoicing.rendering import invoice_html
from apps.invoicing.selectors import invoice_for_customer


@require_GET
@login_required
def invoice_page(request: HttpRequest, booking_id: int, invoice_id: int) -> HttpResponse:
    try:
        invoice = invoice_for_customer(user=request.user, booking_id=booking_id, invoice_id=invoice_id)  # type: ignore[arg-type]
    except NotFound as missing:
        raise Http404 from missing
    response = HttpResponse(invoice_html(invoice, inline_css=False))  # the website's CSP: styles from files only
    response["Cache-Control"] = "private, no-store"
    return response


urlpatterns = [
    path("my/bookings/<int:booking_id>/invoices/<int:invoice_id>", invoice_page, name="invoice_page"),
]
