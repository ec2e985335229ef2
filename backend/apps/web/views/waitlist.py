"""The waitlist's pages: joining from the free-times fragment (`/waitlist/join`), "My waitlist" (`/my/waitlist`: the
customer's entries, a live offer's held time and claim link, leaving), and the claim page
(`/waitlist/claim/<token>`), where the message's link leads: the time held for the signed-in customer until the
claim window ends, and two buttons, take it or let it go. Taking it confirms the booking, or leads to its payment
page when the service is paid online; the services decide every rule (`apps.waitlist.services`). Someone else's
link or entry is 404."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from apps.bookings.models import Booking
from apps.catalog.selectors import service_get_active
from apps.core.errors import DomainError, NotFound, ValidationFailed
from apps.waitlist import selectors
from apps.waitlist import services as waitlist
from apps.waitlist.models import WaitlistEntry, WaitlistOffer
from apps.web.views.common import error_text, hijri_label


@login_required
def waitlist_claim(request: HttpRequest, token: str) -> HttpResponse:
    try:
        offer = selectors.offer_get_for_customer(token=token, customer_id=request.user.pk or 0)
    except NotFound as missing:
        raise Http404 from missing
    error = ""
    if request.method == "POST":
        try:
            if request.POST.get("action") == "decline":
                waitlist.waitlist_offer_decline(token=token, customer=request.user)  # type: ignore[arg-type]
                return redirect("web:waitlist_claim", token=token)
            _offer, hold = waitlist.waitlist_offer_claim(token=token, customer=request.user)  # type: ignore[arg-type]
        except DomainError as refused:
            error = error_text(refused)
        else:
            if hold.status == Booking.Status.PENDING_PAYMENT:
                return redirect("web:booking_pay", booking_id=hold.pk)
            return redirect("web:booking", booking_id=hold.pk)
        offer = selectors.offer_get_for_customer(token=token, customer_id=request.user.pk or 0)
    tz = offer.business.tz
    is_open = offer.status == WaitlistOffer.Status.OFFERED and timezone.now() < offer.expires_at
    context = {
        "offer": offer,
        "service": offer.entry.service,
        "start": offer.start.astimezone(tz),
        "hijri": hijri_label(offer.start.astimezone(tz)),
        "expires": offer.expires_at.astimezone(tz),
        "is_open": is_open,
        "pays_online": offer.hold.online_amount > 0,
        "error": error,
    }
    return render(request, "web/waitlist_claim.html", context, status=200 if is_open or error else 410)


@require_POST
def waitlist_join(request: HttpRequest) -> HttpResponse:
    """The free-times page's "join the waitlist" form: the service, the staff member (empty: anyone), the dates
    and the daily window of start times; back to the page with a message either way (signed out: sign in first,
    then back to the page)."""
    back = request.POST.get("back", "")
    if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
        back = reverse("web:home")
    if not request.user.is_authenticated:
        return redirect_to_login(back, reverse("web:login"))
    form = request.POST
    try:
        service = service_get_active(_int(form.get("service")))
        waitlist.waitlist_join(
            customer=request.user,
            service=service,
            staff_id=_int(form.get("staff")) if form.get("staff") else None,
            date_from=_date(form.get("date_from")),
            date_to=_date(form.get("date_to") or form.get("date_from")),
            time_from=_time(form.get("time_from")),
            time_to=_time(form.get("time_to")),
        )
    except DomainError as refused:
        details = [str(text) for texts in (refused.fields or {}).values() for text in texts]
        messages.error(request, " ".join([error_text(refused), *details]))
        return redirect(back)
    messages.success(request, _("You are on the waitlist. We will send you a link when a time frees."))
    return redirect("web:my_waitlist")


# --- My waitlist --------------------------------------------------------------------------------------------

E = WaitlistEntry.Status
LIST_LIMIT = 50  # entries per section; the API lists them all
BADGE: dict[str, str] = {E.WAITING: "", E.OFFERED: "warn", E.BOOKED: "", E.EXPIRED: "bad", E.LEFT: "bad"}


@dataclass(frozen=True, slots=True)
class OfferView:
    date: str  # the held time's day, local, in the active language
    hijri: str  # the same day in the Umm al-Qura calendar ("" outside its range)
    time: str  # its start, local HH:MM
    staff: str
    expires: str  # when the hold runs out (local HH:MM)
    claim_path: str


@dataclass(frozen=True, slots=True)
class EntryView:
    entry: WaitlistEntry
    dates: str
    times: str
    staff: str  # the staff member's name, or "anyone"
    status: str
    badge: str
    live: bool  # still in line: the customer may leave
    offer: OfferView | None  # a time held for them now


def _status_text(entry: WaitlistEntry, offer: OfferView | None, *, live: bool) -> str:
    if offer is not None:
        return _("Time held for you")
    if live:
        return _("Waiting for a time")
    closed: dict[str, str] = {E.BOOKED: _("Booked"), E.LEFT: _("You left the waitlist")}
    return closed.get(entry.status, _("Its dates have passed"))


def _dates_text(first: date, last: date) -> str:
    if first == last:
        return date_format(first, "l j F Y")
    if first.year == last.year:
        return f"{date_format(first, 'j F')} – {date_format(last, 'j F Y')}"
    return f"{date_format(first, 'j F Y')} – {date_format(last, 'j F Y')}"


def entry_views(*, customer_id: int, now: datetime) -> tuple[list[EntryView], list[EntryView]]:
    """The customer's entries as the page shows them: still in line (soonest dates first) and earlier ones
    (latest first). Two queries whatever their number (the entries, their live offers)."""
    entries = list(selectors.entry_list_for_customer(customer_id=customer_id)[: LIST_LIMIT * 2])
    offers = selectors.live_offers_of(entry_ids=[e.pk for e in entries if e.status == E.OFFERED])
    live: list[EntryView] = []
    earlier: list[EntryView] = []
    for entry in entries:
        tz = entry.business.tz
        in_line = entry.status in (E.WAITING, E.OFFERED) and entry.date_to >= now.astimezone(tz).date()
        offer = offers.get(entry.pk)
        shown = None
        if in_line and offer is not None and now < offer.expires_at:
            start = offer.start.astimezone(tz)
            shown = OfferView(
                date=date_format(start, "l j F Y"),
                hijri=hijri_label(start),
                time=f"{start:%H:%M}",
                staff=offer.staff.display_name,
                expires=offer.expires_at.astimezone(tz).strftime("%H:%M"),
                claim_path=reverse("web:waitlist_claim", args=[selectors.offer_token(hold_id=offer.hold_id)]),
            )
        view = EntryView(
            entry=entry,
            dates=_dates_text(entry.date_from, entry.date_to),
            times=f"{entry.time_from:%H:%M}–{entry.time_to:%H:%M}",
            staff=entry.staff.display_name if entry.staff else _("anyone available"),
            status=_status_text(entry, shown, live=in_line),
            badge="warn" if shown else ("" if in_line else BADGE.get(entry.status, "bad")),
            live=in_line,
            offer=shown,
        )
        (live if in_line else earlier).append(view)
    live.sort(key=lambda v: (v.entry.date_from, v.entry.time_from, v.entry.pk))
    return live[:LIST_LIMIT], earlier[:LIST_LIMIT]


@require_GET
@login_required
def my_waitlist(request: HttpRequest) -> HttpResponse:
    live, earlier = entry_views(customer_id=request.user.pk or 0, now=timezone.now())
    return render(request, "web/my_waitlist.html", {"live": live, "earlier": earlier})


@require_POST
@login_required
def my_waitlist_leave(request: HttpRequest, entry_id: int) -> HttpResponse:
    """Leave one entry (a live offer is withdrawn and its time passed on); someone else's entry is 404."""
    try:
        waitlist.waitlist_leave(entry_id=entry_id, customer=request.user)  # type: ignore[arg-type]
    except NotFound as missing:
        raise Http404 from missing
    except DomainError as refused:
        messages.error(request, error_text(refused))
    else:
        messages.success(request, _("You left the waitlist."))
    return redirect("web:my_waitlist")


def _int(raw: str | None) -> int:
    try:
        return int(raw or "")
    except ValueError as exc:
        raise NotFound() from exc


def _date(raw: str | None) -> date:
    try:
        return date.fromisoformat(raw or "")
    except ValueError as exc:
        raise ValidationFailed(fields={"date": [_("Not a valid date.")]}) from exc


def _time(raw: str | None) -> time:
    try:
        return time.fromisoformat(raw or "")
    except ValueError as exc:
        raise ValidationFailed(fields={"time": [_("Not a valid time.")]}) from exc


urlpatterns = [
    path("my/waitlist", my_waitlist, name="my_waitlist"),
    path("my/waitlist/<int:entry_id>/leave", my_waitlist_leave, name="my_waitlist_leave"),
    path("waitlist/join", waitlist_join, name="waitlist_join"),
    path("waitlist/claim/<str:token>", waitlist_claim, name="waitlist_claim"),
]
