"""My bookings: the signed-in customer's own bookings, upcoming and past, each with its payment; and "My data", the
download of everything Mawid holds about them (the same document as `GET /api/v1/me/export`, docs/privacy.md)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, cast

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from apps.accounts.services import personal_data_document
from apps.bookings.models import Booking
from apps.bookings.selectors import booking_list_for_user
from apps.core.throttling import count_hit, parse_rate
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


EXPORT_SCOPE = "personal_data_export"  # the API's throttle scope: the page and the API share one limit


@require_GET
@login_required
def my_data(request: HttpRequest) -> HttpResponse:
    """Everything Mawid holds about the signed-in person, as a JSON file (a few downloads an hour)."""
    rate = cast(dict[str, Any], settings.REST_FRAMEWORK)["DEFAULT_THROTTLE_RATES"][EXPORT_SCOPE]
    allowed, duration = parse_rate(rate)
    hits, wait = count_hit(f"throttle_{EXPORT_SCOPE}_{request.user.pk}", duration)
    if hits > allowed:
        response = HttpResponse(
            _("You downloaded your data a moment ago. Please try again later."),
            status=429,
            content_type="text/plain; charset=utf-8",
        )
        response["Retry-After"] = str(int(wait) + 1)
        return response
    document = personal_data_document(user=request.user)  # type: ignore[arg-type]
    response = HttpResponse(
        json.dumps(document, cls=DjangoJSONEncoder, ensure_ascii=False, indent=2),
        content_type="application/json; charset=utf-8",
    )
    response["Content-Disposition"] = f'attachment; filename="mawid-my-data-{document["generated_at"][:10]}.json"'
    response["Cache-Control"] = "no-store"
    return response


urlpatterns = [
    path("my/bookings", my_bookings, name="my_bookings"),
    path("my/data", my_data, name="my_data"),
]
