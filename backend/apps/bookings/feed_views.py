"""`/feeds/staff/<token>.ics`: a staff member's private calendar feed, for a phone's calendar to subscribe to (no
sign-in: the secret token in the address is the key; apps/bookings/calendar_feed.py). An unknown, rotated or
revoked token answers 404, like an address that never existed."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.urls import path
from django.views.decorators.http import require_GET

from apps.bookings import calendar_feed

FEED_MAX_AGE = 300  # seconds a calendar app (or a private cache) may keep the feed before asking again


@require_GET
def staff_feed(request: HttpRequest, token: str) -> HttpResponse:
    staff = calendar_feed.feed_staff_for_token(token)
    if staff is None:
        raise Http404
    response = HttpResponse(calendar_feed.staff_feed_ics(staff), content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="mawid.ics"'
    response["Cache-Control"] = f"private, max-age={FEED_MAX_AGE}"
    response["X-Robots-Tag"] = "noindex, nofollow"
    response["Referrer-Policy"] = "no-referrer"
    return response


urlpatterns = [
    path("staff/<str:token>.ics", staff_feed, name="staff-calendar-feed"),
]
