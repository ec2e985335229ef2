"""Rows for invoicing tests: a VAT-registered business with its tax profile, and its bookings."""

from __future__ import annotations

from typing import Any

from apps.bookings.models import Booking
from apps.bookings.tests.factories import BookingFactory
from apps.catalog.models import Business
from apps.catalog.tests.factories import BusinessFactory, ServiceFactory, StaffFactory
from apps.invoicing.models import TaxProfile

VAT_NUMBER = "310122393500003"


def vat_business(*, vat_number: str = VAT_NUMBER, profile: bool = True, **kwargs: Any) -> Business:
    business = BusinessFactory.create(vat_number=vat_number, **kwargs)
    if profile:
        TaxProfile.objects.create(
            business=business,
            legal_name_ar="صالون مواعيد",
            legal_name_en="Mawid Salon",
            cr_number="1010010000",
            street="King Fahd Road",
            building_number="1234",
            additional_number="5678",
            district="Al Olaya",
            city="Riyadh",
            postal_code="12214",
        )
    return business


def booking_of(business: Business, *, price: int = 11500, **kwargs: Any) -> Booking:
    service = ServiceFactory.create(business=business, price_amount=price, name_en="Haircut", name_ar="قص شعر")
    staff = StaffFactory.create(business=business, services=[service])
    return BookingFactory.create(service=service, staff=staff, **kwargs)


def captured_payment(booking: Booking, amount: int | None = None):
    from apps.payments.models import Payment

    amount = amount if amount is not None else booking.price_amount
    return Payment.objects.create(
        booking=booking,
        flow=Payment.Flow.TOKEN,
        status=Payment.Status.CAPTURED,
        amount=amount,
        authorized_amount=amount,
        captured_amount=amount,
        is_booking_payment=True,
    )


def refund_of(payment, amount: int, *, kind: str = "cancellation", reason: str = ""):
    from apps.payments.models import Refund

    return Refund.objects.create(payment=payment, kind=kind, amount=amount, reason=reason, status="succeeded")
