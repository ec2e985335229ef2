"""Calendar files (RFC 5545, `icalendar`): one booking's `.ics` for its customer, and a staff member's private feed.

One builder for both, so that a booking is the same event wherever a calendar meets it:

- UID `booking-<id>@<host>` (the host of MAWID_PUBLIC_BASE_URL), stable for the booking's life;
- SEQUENCE: the number of changes in the booking's history after it was made (each reschedule and each status
  change is one `BookingStatusChange` row; the history is append-only, so it only grows);
- STATUS: TENTATIVE while it waits for its payment, CONFIRMED once held (and after it took place), CANCELLED once
  cancelled or expired; a single cancelled booking's file carries METHOD:CANCEL, so that importing it removes the
  event the customer added before.

The staff feed (`/feeds/staff/<token>.ics`) lists the staff member's bookings from FEED_DAYS_BACK days ago to
FEED_DAYS_AHEAD days ahead with only the customer's first name and the service: no phone, email, notes or address.
Its address holds a secret token; only its SHA-256 is stored (`CalendarFeedToken`), rotating replaces it and
revoking deletes it, and an unknown or revoked token is simply not found.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from icalendar import Calendar, Event

from apps.bookings.models import Booking, CalendarFeedToken
from apps.catalog.models import Staff

S = Booking.Status
FEED_DAYS_BACK = 30
FEED_DAYS_AHEAD = 180
FEED_MAX_EVENTS = 2000  # a bound on one response, whatever the staff member's volume
TOKEN_BYTES = 32
TOKEN_MAX_LENGTH = 64  # secrets.token_urlsafe(32) is 43 characters; anything much longer is not ours

ICS_STATUS: dict[str, str] = {
    S.PENDING_PAYMENT: "TENTATIVE",
    S.CONFIRMED: "CONFIRMED",
    S.COMPLETED: "CONFIRMED",
    S.NO_SHOW: "CONFIRMED",
    S.CANCELLED: "CANCELLED",
    S.EXPIRED: "CANCELLED",
}
CHANGES = Q(history__from_status__gt="")  # every history row but the one written when the booking was made


def booking_uid(booking: Booking) -> str:
    host = urlsplit(settings.PUBLIC_BASE_URL).hostname or "mawid"
    return f"booking-{booking.pk}@{host}"


def booking_sequence(booking: Booking) -> int:
    """How many times the booking changed after it was made (reschedules and status changes)."""
    annotated = getattr(booking, "ics_sequence", None)
    if isinstance(annotated, int):
        return annotated
    return booking.history.filter(from_status__gt="").count()


def _with_sequence(qs: QuerySet[Booking]) -> QuerySet[Booking]:
    return qs.annotate(ics_sequence=Count("history", filter=CHANGES))


def _calendar(method: str, name: str = "") -> Calendar:
    calendar = Calendar()
    calendar.add("prodid", "-//Mawid//Bookings//EN")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", method)
    if name:
        calendar.add("x-wr-calname", name)
    return calendar


def _event(booking: Booking, *, now: datetime, summary: str, description: str) -> Event:
    event = Event()
    event.add("uid", booking_uid(booking))
    event.add("sequence", booking_sequence(booking))
    event.add("dtstamp", now.astimezone(UTC))
    event.add("last-modified", booking.updated_at.astimezone(UTC))
    event.add("dtstart", booking.start.astimezone(UTC))
    event.add("dtend", booking.end.astimezone(UTC))
    event.add("summary", summary)
    event.add("description", description)
    event.add("status", ICS_STATUS.get(booking.status, "CANCELLED"))
    branch = booking.branch or booking.staff.branch
    if branch is not None:
        place = ", ".join(part for part in (branch.name, branch.address, branch.city) if part)
        if place:
            event.add("location", place)
    return event


def booking_ics(booking: Booking, *, url: str = "", now: datetime | None = None) -> bytes:
    """The customer's file of one booking: business, service, staff member, place and the booking's page."""
    now = now or timezone.now()
    cancelled = ICS_STATUS.get(booking.status) == "CANCELLED"
    calendar = _calendar("CANCEL" if cancelled else "PUBLISH")
    event = _event(
        booking,
        now=now,
        summary=f"{booking.service.name} · {booking.business.name}",
        description=_("With %(staff)s. Booking %(ref)s.")
        % {"staff": booking.staff.display_name, "ref": f"MW-{booking.pk:06d}"},
    )
    branch = booking.branch or booking.staff.branch
    if branch is not None and branch.latitude is not None and branch.longitude is not None:
        event.add("geo", (branch.latitude, branch.longitude))
    event.add("url", url or f"{settings.PUBLIC_BASE_URL}/my/bookings/{booking.pk}")
    calendar.add_component(event)
    return bytes(calendar.to_ical())


def booking_ics_for_customer(*, booking_id: int, customer_id: int) -> Booking | None:
    """The booking with what its file needs, if it is this customer's own; None otherwise."""
    qs = Booking.objects.select_related("business", "service", "staff__branch", "branch")
    return _with_sequence(qs).filter(pk=booking_id, customer_id=customer_id).first()


def first_name(name: str) -> str:
    """The first word of a customer's name: all a staff member's feed says about them."""
    words = name.split()
    return words[0] if words else _("Customer")


def staff_feed_bookings(staff: Staff, *, now: datetime) -> list[Booking]:
    """The staff member's bookings in the feed's window, in one query (sequence annotated)."""
    qs = (
        Booking.objects.filter(
            staff_id=staff.pk,
            start__gte=now - timedelta(days=FEED_DAYS_BACK),
            start__lt=now + timedelta(days=FEED_DAYS_AHEAD),
        )
        .exclude(status=S.EXPIRED)  # a hold never paid: it was never on the staff member's day
        .select_related("service", "branch", "staff__branch", "customer")
        .order_by("start", "id")
    )
    return list(_with_sequence(qs)[:FEED_MAX_EVENTS])


def staff_feed_ics(staff: Staff, *, now: datetime | None = None) -> bytes:
    """The staff member's feed: each booking as the customer's first name and the service, nothing else."""
    now = now or timezone.now()
    calendar = _calendar("PUBLISH", name=f"Mawid · {staff.display_name}")
    calendar.add("refresh-interval", timedelta(hours=1), parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", "PT1H")
    for booking in staff_feed_bookings(staff, now=now):
        who = first_name(booking.customer.name)
        calendar.add_component(
            _event(
                booking,
                now=now,
                summary=f"{booking.service.name} · {who}",
                description=_("Booking %(ref)s.") % {"ref": f"MW-{booking.pk:06d}"},
            )
        )
    return bytes(calendar.to_ical())


# --- the feed's secret token ------------------------------------------------------------------------------------


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def feed_token_get(staff: Staff) -> CalendarFeedToken | None:
    return CalendarFeedToken.objects.filter(staff_id=staff.pk).first()


@transaction.atomic
def feed_token_issue(staff: Staff, *, now: datetime | None = None) -> str:
    """A new secret token for the staff member's feed (the old one, if any, stops working). Returned once."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    CalendarFeedToken.objects.update_or_create(
        staff=staff,
        defaults={"token_hash": _hash(token), "created_at": now or timezone.now(), "business_id": staff.business_id},
    )
    return token


def feed_token_revoke(staff: Staff) -> bool:
    """Stop the staff member's feed; whether there was one."""
    deleted, _rows = CalendarFeedToken.objects.filter(staff_id=staff.pk).delete()
    return deleted > 0


def feed_staff_for_token(token: str) -> Staff | None:
    """The staff member whose feed this token opens; None for an unknown, revoked or rotated token. The lookup is
    by the token's SHA-256 (an equality on a hash of 256 random bits reveals nothing about the token)."""
    if not token or len(token) > TOKEN_MAX_LENGTH:
        return None
    row = CalendarFeedToken.objects.select_related("staff", "staff__branch").filter(token_hash=_hash(token)).first()
    if row is None or not secrets.compare_digest(row.token_hash, _hash(token)):
        return None
    return row.staff
