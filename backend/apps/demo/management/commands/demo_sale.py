"""`manage.py demo_sale`: one paid sale of the VAT-registered demo business, with its ZATCA simplified tax invoice.

After `seed_demo`, the latest completed booking of `riyadh-home-care` gets a captured card payment (written as a
reconciliation would record one Moyasar reports: the demo never calls Moyasar) and the invoice the capture issues
(`apps.invoicing.services.invoice_issue`): a number, the hash chain, the UBL XML and a QR code a phone can read.
Idempotent: a second run prints the invoice already issued. `python3 dev.py run` runs it after `seed_demo`.

Tax invoices are never deleted (docs/invoicing.md), so once this has run `seed_demo --force` cannot wipe that booking:
start the demo over on a fresh database (`python3 dev.py stop-db`, then remove `.data/postgres`).
"""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from apps.bookings.models import Booking
from apps.core.scoping import platform
from apps.invoicing.models import Invoice
from apps.invoicing.services import invoice_issue
from apps.payments.models import Payment

BUSINESS = "riyadh-home-care"


class Command(BaseCommand):
    help = "Give one completed demo booking of the VAT-registered demo business a paid payment and its tax invoice."

    def handle(self, *args, **options):
        if settings.MAWID_ENV == "production":
            raise CommandError("demo_sale records a made-up payment; it does not run in production.")
        with platform(), transaction.atomic():
            invoice = Invoice.objects.filter(business__slug=BUSINESS, kind=Invoice.Kind.INVOICE).order_by("icv").first()
            if invoice is None:
                invoice = self._sale()
            customer_page = reverse("invoice_page", args=[invoice.booking_id, invoice.pk])
            self.stdout.write(
                self.style.SUCCESS(
                    f"demo tax invoice {invoice.number} ({BUSINESS}, booking #{invoice.booking_id}, "
                    f"{invoice.gross / 100:.2f} SAR incl. VAT {invoice.vat / 100:.2f}): "
                    f"{settings.PUBLIC_BASE_URL}{customer_page} (signed in as {invoice.booking.customer.phone})"
                )
            )

    def _sale(self) -> Invoice:
        booking = (
            Booking.objects.select_for_update(of=("self",))
            .filter(business__slug=BUSINESS, status=Booking.Status.COMPLETED, payments__isnull=True)
            .order_by("-start")
            .first()
        )
        if booking is None:
            raise CommandError(f"no completed booking of {BUSINESS} without a payment: run seed_demo first")
        if not booking.business.vat_number:
            raise CommandError(f"{BUSINESS} is not VAT-registered: run seed_demo --force")
        at = min(booking.start, timezone.now())
        payment = Payment.objects.create(
            booking=booking,
            flow=Payment.Flow.TOKEN,
            status=Payment.Status.CAPTURED,
            provider_id=f"demo-{booking.pk}",
            provider_status="captured",
            amount=booking.price_amount,
            amount_net=booking.price_net,
            amount_vat=booking.price_vat,
            authorized_amount=booking.price_amount,
            captured_amount=booking.price_amount,
            currency=booking.currency,
            card="mada 4201-32XX-XXXX-1010",
            authorized_at=at,
            captured_at=at,
            is_booking_payment=True,
        )
        invoice = invoice_issue(
            booking_id=booking.pk, gross=payment.captured_amount, means="card", payment_id=payment.pk
        )
        if invoice is None:  # the business is registered (checked above): not expected
            raise CommandError("no invoice was issued")
        return invoice
