"""Reading invoices: a customer's (their bookings' only) and a business's for a period (managers)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from apps.accounts.models import User
from apps.bookings.models import Booking
from apps.catalog.errors import InvalidDateRange
from apps.catalog.models import Business
from apps.core.errors import NotFound
from apps.invoicing.models import Invoice
from apps.invoicing.rendering import LABELS

EXPORT_MAX_DAYS = 366
_FIRST_DAY, _LAST_DAY = date(2000, 1, 1), date(9000, 12, 31)


def _customer_booking(*, user: User, booking_id: int) -> Booking:
    """The booking if it is `user`'s own (as its customer); NotFound for anyone else, staff and managers included:
    an invoice is the customer's document (managers export theirs from the manager API)."""
    booking = Booking.objects.filter(pk=booking_id, customer_id=user.pk).first()
    if booking is None:
        raise NotFound()
    return booking


def invoices_for_customer_booking(*, user: User, booking_id: int) -> list[Invoice]:
    booking = _customer_booking(user=user, booking_id=booking_id)
    return list(Invoice.objects.filter(booking=booking).select_related("original").order_by("icv"))


def invoice_for_customer(*, user: User, booking_id: int, invoice_id: int) -> Invoice:
    booking = _customer_booking(user=user, booking_id=booking_id)
    invoice = Invoice.objects.filter(booking=booking, pk=invoice_id).select_related("original").first()
    if invoice is None:
        raise NotFound()
    return invoice


def invoices_for_period(*, business: Business, start: date, end: date) -> QuerySet[Invoice]:
    """The business's invoices and credit notes issued on local dates `start`..`end` (its time zone, both
    included), in ICV order. `InvalidDateRange` for a reversed or too long period."""
    for name, day in (("from", start), ("to", end)):
        if not _FIRST_DAY <= day <= _LAST_DAY:
            raise InvalidDateRange(fields={name: [f"A date from {_FIRST_DAY} to {_LAST_DAY}."]})
    if end < start:
        raise InvalidDateRange(fields={"to": ["The period ends before it starts."]})
    if (end - start).days + 1 > EXPORT_MAX_DAYS:
        raise InvalidDateRange(
            _("An export covers at most %(days)s days.") % {"days": EXPORT_MAX_DAYS},
            fields={"to": [f"At most {EXPORT_MAX_DAYS} days after `from`."]},
        )
    tz = business.tz
    since = datetime.combine(start, time.min, tzinfo=tz)
    until = datetime.combine(end + timedelta(days=1), time.min, tzinfo=tz)
    return (
        Invoice.objects.filter(business=business, issued_at__gte=since, issued_at__lt=until)
        .select_related("original")
        .order_by("icv")
    )


def invoices_for_booking(booking: Booking) -> list[Invoice]:
    """A booking's documents in issue order (the caller has checked who may see them)."""
    return list(Invoice.objects.filter(booking=booking).order_by("icv"))


def invoice_label(invoice: Invoice, language: str) -> str:
    """ "فاتورة ضريبية مبسطة INV-000001" / "Simplified Tax Invoice INV-000001" (the document's own title)."""
    ar, en = LABELS["credit" if invoice.kind == Invoice.Kind.CREDIT else "invoice"]
    return f"{ar if language == 'ar' else en} {invoice.number}"
