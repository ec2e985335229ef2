"""My bookings: the signed-in customer's own bookings, upcoming and past, each with its payment."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path
from django.utils import timezone
from django.views.decorators.http import require_GET

from apps.bookings.models import Booking
from apps.bookings.selectors import booking_list_for_user
from apps.payments.models import Payment
from apps.payments.selectors import payment_for_bookings
from apps.web.views.receipt import BookingView, booking_view

SECTION_LIMIT = 50  # bookings per section; older past ones are in the API's paginated list
ACTIVE = (Booking.Status.PENDING_PAYMENT, Booking.Status.CONFIRMED)


@dataclass(frozen=True, slots=True)
class Sections:
    upcoming: list[BookingView]
    past: list[BookingView]


def my_bookings_sections(*, user: Any) -> Sections:
    """The customer's own bookings (never those they see as staff or manager): upcoming (still to happen, soonest
    first) and past (over, cancelled or expired; latest first). Three queries whatever their number."""
    now = timezone.now()
    own = booking_list_for_user(user=user).filter(customer_id=user.pk).select_related("branch", "staff__branch")
    coming = Q(status__in=ACTIVE, end__gt=now)
    upcoming = list(own.filter(coming).order_by("start", "id")[:SECTION_LIMIT])
    past = list(own.exclude(coming).order_by("-start", "-id")[:SECTION_LIMIT])
    payments: dict[int, Payment] = payment_for_bookings([b.pk for b in upcoming + past])
    return Sections(
        upcoming=[booking_view(b, payments.get(b.pk), now=now) for b in upcoming],
        past=[booking_view(b, payments.get(b.pk), now=now) for b in past],
    )


@require_GET
@login_required
def my_bookings(request: HttpRequest) -> HttpResponse:
    sections = my_bookings_sections(user=request.user)
    return render(request, "web/my_bookings.html", {"upcoming": sections.upcoming, "past": sections.past})


urlpatterns = [
    path("my/bookings", my_bookings, name="my_bookings"),
]
