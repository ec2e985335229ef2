"""The booking flow: service → staff member or "anyone" → a date strip and the free times → (sign in) → review →
confirm, which makes the booking with the bookings services (the API's own) and goes on to the payment page.

Everything is plain links and forms (it works with JavaScript off); web/booking.js only swaps the times fragment
in place when a date is tapped. The times are the catalog's availability (`slot_list_available`,
`slot_list_any_staff`: slots, notice, advance window, buffers, "anyone"), computed once per request; the booking
is `booking_create` / `booking_create_anyone` after the API's early checks (`booking_request_get`,
`anyone_request_get`), so the website offers and accepts exactly what the API does.

Addresses (query parameters: `service` id, `staff` id or `any`, `branch` id (with `any`), `date` YYYY-MM-DD,
`start` YYYY-MM-DDTHH:MM in the business's time zone):

- `/b/SLUG/book` (`web:book`): the steps, as far as the parameters go;
- `/b/SLUG/book/times?service=&staff=&branch=&date=` (`web:book_times`): the free times of one date, alone;
- `/b/SLUG/book/review?service=&staff=&branch=&start=` (`web:book_review`): signed in, the summary and "Confirm";
- `POST /b/SLUG/book/confirm` (`web:book_confirm`): the booking, then `/my/bookings/ID/pay` (or `/my/bookings/ID`
  when the business confirms at once).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, QueryDict
from django.shortcuts import render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from apps.bookings import services as bookings
from apps.bookings.errors import SlotUnavailable
from apps.bookings.models import Booking
from apps.bookings.selectors import anyone_request_get, booking_request_get
from apps.catalog.errors import BusinessMissing, ServiceMissing, ServiceNotOffered, StaffMissing
from apps.catalog.models import Branch, Business, Service, Staff
from apps.catalog.payment_terms import payment_terms
from apps.catalog.selectors import (
    service_givers,
    service_list,
    slot_list_any_staff_range,
    slot_list_available,
    staff_list,
    staff_service_get_active,
)
from apps.core.errors import DomainError, NotFound
from apps.web.throttling import check_throttle
from apps.web.views.common import error_text, hijri_label

ANY = "any"
STRIP_DAYS = 14  # the date strip: today and the 13 days after it (cut to the business's booking window)
NEAREST = 4  # how many free times a taken slot offers instead


class BadChoice(DomainError):
    """A parameter of the flow that is missing or malformed (a hand-edited address): 400 with a message."""

    code, status = "bad_choice", 400


# --- what the customer has chosen so far ------------------------------------------------------------------------


@dataclass
class Choice:
    business: Business
    service: Service | None = None
    staff: Staff | None = None  # None with `anyone`
    anyone: bool = False
    branch: Branch | None = None  # anyone's branch; a staff member's own

    @property
    def the_service(self) -> Service:
        if self.service is None:
            raise BadChoice(_("Choose a service first."))
        return self.service

    @property
    def the_staff(self) -> Staff:
        if self.staff is None:
            raise BadChoice(_("Choose a staff member first."))
        return self.staff

    @property
    def the_branch(self) -> Branch:
        if self.branch is None:
            raise BadChoice(_("Choose a branch first."))
        return self.branch

    @property
    def staff_param(self) -> str:
        return ANY if self.anyone else (str(self.staff.pk) if self.staff else "")

    def params(self, **extra: Any) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.service is not None:
            out["service"] = self.service.pk
        if self.staff_param:
            out["staff"] = self.staff_param
        if self.anyone and self.branch is not None:
            out["branch"] = self.branch.pk
        return out | extra

    def url(self, name: str, **extra: Any) -> str:
        return f"{reverse(name, args=[self.business.slug])}?{urlencode(self.params(**extra))}"

    @property
    def tz(self) -> Any:
        return self.business.tz


def _business(slug: str) -> Business:
    """The active business (listed or not: its link is shared); one query."""
    business = Business.objects.filter(slug=slug, is_active=True).first()
    if business is None:
        raise BusinessMissing()
    return business


def _positive_int(raw: str | None, missing: str) -> int:
    """An id from the address; `missing` is the message when there is none."""
    if raw is None or not raw.strip():
        raise BadChoice(missing)
    try:
        value = int(raw)
    except ValueError as exc:
        raise BadChoice(_("This link is not valid. Please start again from the business page.")) from exc
    if not 0 < value < 2**63:
        raise BadChoice(_("This link is not valid. Please start again from the business page."))
    return value


def _choice(slug: str, params: QueryDict, *, need_staff: bool) -> Choice:
    """The business, the service and (when given or needed) the staff member or "anyone" with its branch, checked
    against each other: another business's service or staff member is not found, a staff member who does not
    give the service is refused. One query for a staff member (with the service and the business: the API's
    `staff_service_get_active`), two for "anyone" (the service with its business, the branches)."""
    raw_service = params.get("service")
    if raw_service is None and not need_staff:
        return Choice(business=_business(slug))
    service_id = _positive_int(raw_service, _("Choose a service first."))
    raw_staff = (params.get("staff") or "").strip()
    if raw_staff and raw_staff != ANY:
        staff_id = _positive_int(raw_staff, _("Choose a staff member first."))
        try:
            staff, service = staff_service_get_active(staff_id=staff_id, service_id=service_id)
        except ServiceNotOffered:
            if not Staff.objects.filter(pk=staff_id, business__slug=slug).exists():
                raise StaffMissing() from None
            raise
        business = service.business
        if business.slug != slug or not business.is_active:
            _business(slug)  # an unknown or inactive business says so
            raise ServiceMissing()
        if staff.business_id != business.pk:
            raise StaffMissing()
        staff.business = business
        return Choice(business=business, service=service, staff=staff)
    found = (
        Service.objects.select_related("business")
        .filter(pk=service_id, is_active=True, business__slug=slug, business__is_active=True)
        .first()
    )
    if found is None:
        _business(slug)
        raise ServiceMissing()
    choice = Choice(business=found.business, service=found)
    if not raw_staff:
        if need_staff:
            raise BadChoice(_("Choose a staff member first."))
        return choice
    choice.anyone = True
    branches = list(Branch.objects.filter(business_id=choice.business.pk, is_active=True))
    raw_branch = params.get("branch")
    if raw_branch:
        branch_id = _positive_int(raw_branch, _("Choose a branch first."))
        choice.branch = next((b for b in branches if b.pk == branch_id), None)
        if choice.branch is None:
            raise NotFound(_("No such branch of this business."))
    elif len(branches) == 1:
        choice.branch = branches[0]
    else:
        raise BadChoice(_("Choose a branch: this service is offered at several."))
    return choice


# --- dates and free times ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Day:
    date: date
    weekday: str  # short, in the active language
    number: int
    month: str
    label: str  # long, for screen readers and the heading
    url: str  # the whole page at this date
    fragment: str  # the times of this date, alone
    empty: bool = False  # known to have no free time (the strip shows it dimmed)


@dataclass(frozen=True, slots=True)
class FreeTime:
    start: datetime  # in the business's time zone
    label: str  # "14:30" (Western digits)
    url: str  # the review page for this time

    @property
    def iso(self) -> str:
        return self.start.isoformat()


def _today(business: Business) -> date:
    return timezone.now().astimezone(business.tz).date()


def _window(business: Business) -> tuple[date, date]:
    """The dates that can be booked: today .. today + max_advance_days (the engine's `clip_range`)."""
    today = _today(business)
    return today, today + timedelta(days=business.max_advance_days)


def _strip_end(business: Business) -> date:
    first, last = _window(business)
    return min(last, first + timedelta(days=STRIP_DAYS - 1))


def _strip(choice: Choice, chosen: date, free: dict[date, list[datetime]] | None = None) -> list[Day]:
    """Today .. the strip's last date (and the chosen date when it is later); with `free` (the starts by date),
    the dates without any are marked."""
    first, last = _window(choice.business)
    end = _strip_end(choice.business)
    dates = [first + timedelta(days=i) for i in range((end - first).days + 1)]
    if end < chosen <= last:  # a later date asked for by its address: shown at the end of the strip
        dates.append(chosen)
    return [_day(choice, day, empty=free is not None and not free.get(day)) for day in dates]


def _day(choice: Choice, day: date, *, empty: bool = False) -> Day:
    iso = day.isoformat()
    label = date_format(day, "l j F Y")
    return Day(
        date=day,
        weekday=date_format(day, "D"),
        number=day.day,
        month=date_format(day, "M"),
        label=f"{label}, {_('no free times')}" if empty else label,
        url=choice.url("web:book", date=iso),
        fragment=choice.url("web:book_times", date=iso),
        empty=empty,
    )


def _parse_date(raw: str | None, business: Business) -> date:
    """The asked date (default: the first of the window); outside the booking window: `BadChoice`."""
    first, last = _window(business)
    if not raw:
        return first
    try:
        day = date.fromisoformat(raw.strip())
    except ValueError as exc:
        raise BadChoice(_("Not a valid date.")) from exc
    if not first <= day <= last:
        raise BadChoice(
            _("This date cannot be booked: choose a date between today and %(days)d days ahead.")
            % {"days": business.max_advance_days}
        )
    return day


def _free_starts_by_day(choice: Choice, first: date, last: date) -> dict[date, list[datetime]]:
    """The bookable starts of the local dates [first, last] by date, in the business's time zone: the catalog's
    availability (the API's), computed once for the whole range."""
    tz = choice.tz
    if choice.anyone:
        service = choice.the_service
        service.staff_ids = service_givers(service_id=service.pk, branch_id=choice.the_branch.pk)  # type: ignore[attr-defined]
        starts = [row.slot.start for row in slot_list_any_staff_range(service=service, date_from=first, date_to=last)]
    else:
        found = slot_list_available(staff=choice.the_staff, service=choice.the_service, date_from=first, date_to=last)
        starts = [slot.start for slot in found.slots]
    out: dict[date, list[datetime]] = {}
    for start in starts:
        local = start.astimezone(tz)
        out.setdefault(local.date(), []).append(local)
    return out


def _free_starts(choice: Choice, day: date) -> list[datetime]:
    """The bookable starts of one date."""
    return _free_starts_by_day(choice, day, day).get(day, [])


def _times(choice: Choice, starts: list[datetime]) -> list[FreeTime]:
    base = choice.url("web:book_review")  # one reverse() for them all
    return [FreeTime(start=s, label=s.strftime("%H:%M"), url=f"{base}&start={s:%Y-%m-%dT%H:%M}") for s in starts]


def _nearest(choice: Choice, asked: datetime) -> tuple[date, list[datetime], list[FreeTime]]:
    """The free times nearest the asked one: on its date, else on the first following date (a week at most) that
    has any. Returns that date, all its free starts and the nearest ones."""
    day = asked.astimezone(choice.tz).date()
    _first, last = _window(choice.business)
    for _i in range(8):
        if day > last:
            break
        starts = _free_starts(choice, day)
        if starts:
            near = sorted(starts, key=lambda s: abs(s - asked))[:NEAREST]
            return day, starts, _times(choice, sorted(near))
        day += timedelta(days=1)
    day = asked.astimezone(choice.tz).date()
    return day, [], []


# --- pages ------------------------------------------------------------------------------------------------------


def error_page(request: HttpRequest, error: DomainError, business: Business | None = None) -> HttpResponse:
    """Unknown business, service or staff member (404), a link that does not fit together (400): said plainly."""
    return render(
        request,
        "web/book_error.html",
        {"business": business, "error": error_text(error), "not_found": error.status == 404},
        status=error.status,
    )


def _staff_step(choice: Choice) -> dict[str, Any]:
    """Who gives the service (active, at a branch where it is offered), and "anyone" at each of their branches."""
    people = list(staff_list(service_id=choice.the_service.pk, business_id=choice.business.pk))
    branch_ids = {s.branch_id for s in people}
    branches = [b for b in Branch.objects.filter(pk__in=branch_ids, is_active=True)] if branch_ids else []
    by_id = {b.pk: b for b in branches}
    several = len(branches) > 1
    anyone = [
        {
            "branch": b,
            "label": _("Anyone at %(branch)s") % {"branch": b.name} if several else _("Anyone available"),
            "url": f"{reverse('web:book', args=[choice.business.slug])}?"
            + urlencode({"service": choice.the_service.pk, "staff": ANY, "branch": b.pk}),
        }
        for b in branches
    ]
    staff = [
        {
            "staff": s,
            "branch": by_id.get(s.branch_id),
            "url": f"{reverse('web:book', args=[choice.business.slug])}?"
            + urlencode({"service": choice.the_service.pk, "staff": s.pk}),
        }
        for s in people
        if s.branch_id in by_id
    ]
    return {"people": staff, "anyone": anyone, "several_branches": several}


def _times_context(choice: Choice, day: date, *, starts: list[datetime] | None = None) -> dict[str, Any]:
    if starts is None:
        starts = _free_starts(choice, day)
    return {
        "choice": choice,
        "day": _day(choice, day),
        "times": _times(choice, starts),
        "fragment_url": choice.url("web:book_times", date=day.isoformat()),
    }


def _branch_of(choice: Choice) -> Branch | None:
    if choice.branch is not None:
        return choice.branch
    if choice.staff is not None:
        return Branch.objects.filter(pk=choice.staff.branch_id).first()
    return None


@require_GET
def book(request: HttpRequest, slug: str) -> HttpResponse:
    """The steps as far as the parameters go: the services; who (staff or anyone); the date strip and times."""
    try:
        choice = _choice(slug, request.GET, need_staff=False)
    except DomainError as exc:
        return error_page(request, exc)
    business = choice.business
    context: dict[str, Any] = {"choice": choice, "business": business, "message": ""}
    if choice.service is None:
        context["step"] = "service"
        context["services"] = list(service_list(business_id=business.pk))
    elif choice.staff is None and not choice.anyone:
        context["step"] = "staff"
        context.update(_staff_step(choice))
    else:
        raw_date = request.GET.get("date")
        try:
            asked = _parse_date(raw_date, business)
        except DomainError as exc:
            return _time_step_error(request, choice, exc)
        first = _window(business)[0]
        free = _free_starts_by_day(choice, first, max(asked, _strip_end(business)))  # one computation for all
        # no date asked: the first one with a free time (else today)
        day = asked if raw_date else next((d for d in sorted(free) if free[d]), asked)
        context.update(
            _times_context(choice, day, starts=free.get(day, [])),
            step="time",
            strip=_strip(choice, day, free),
            branch=_branch_of(choice),
        )
    return render(request, "web/book.html", context)


def _time_step_error(request: HttpRequest, choice: Choice, exc: DomainError) -> HttpResponse:
    """A date outside the window (or malformed) on the times step: the strip from today, the message, 400."""
    if choice.service is None or (choice.staff is None and not choice.anyone):
        return error_page(request, exc, choice.business)
    today = _today(choice.business)
    context = {
        "choice": choice,
        "business": choice.business,
        "step": "time",
        "message": error_text(exc),
        "strip": _strip(choice, today),
        "day": None,
        "times": [],
        "branch": _branch_of(choice),
    }
    return render(request, "web/book.html", context, status=exc.status)


@require_GET
def times(request: HttpRequest, slug: str) -> HttpResponse:
    """The free times of one date, alone (fetched by web/booking.js; also a page of its own without it)."""
    try:
        choice = _choice(slug, request.GET, need_staff=True)
        day = _parse_date(request.GET.get("date"), choice.business)
        context = _times_context(choice, day)
    except DomainError as exc:
        return render(request, "web/_times.html", {"times_message": error_text(exc), "times": []}, status=exc.status)
    return render(request, "web/_times.html", context)


def _parse_start(raw: str | None, business: Business) -> datetime:
    if not raw:
        raise BadChoice(_("Choose a time first."))
    try:
        naive = datetime.fromisoformat(raw.strip())
    except ValueError as exc:
        raise BadChoice(_("Not a valid time.")) from exc
    if naive.tzinfo is not None:
        return naive.astimezone(business.tz)
    return naive.replace(tzinfo=business.tz)


def _login_redirect(request: HttpRequest, next_url: str) -> HttpResponse:
    return redirect_to_login(next_url, reverse("web:login"))


def _review_context(choice: Choice, start: datetime, **extra: Any) -> dict[str, Any]:
    local = start.astimezone(choice.tz)
    return {
        "choice": choice,
        "business": choice.business,
        "service": choice.the_service,
        "staff": choice.staff,
        "branch": _branch_of(choice),
        "start": local,
        "start_param": local.strftime("%Y-%m-%dT%H:%M"),
        "date_label": date_format(local.date(), "l j F Y"),
        "hijri_label": hijri_label(local),
        "time_label": local.strftime("%H:%M"),
        "end_label": (local + choice.the_service.duration).strftime("%H:%M"),
        # The price as the booking will record and charge it (VAT-registered: the invoice total, core.vat).
        "price": choice.business.price_split(choice.the_service.price_amount, start),
        "terms": payment_terms(choice.the_service, choice.business),
        "back_url": choice.url("web:book", date=local.date().isoformat()),
        "error": "",
        "address": "",
        **extra,
    }


def _offered(choice: Choice, start: datetime) -> None:
    """`SlotUnavailable` unless `start` is one of the free times of its date (the same availability the times
    step shows), so that the review page never offers a time that cannot be had."""
    if start not in _free_starts(choice, start.astimezone(choice.tz).date()):
        raise SlotUnavailable()


def _taken(request: HttpRequest, choice: Choice, start: datetime) -> HttpResponse:
    """The slot went meanwhile: the times step of its date (fresh), the nearest free times first, 409."""
    day, starts, nearest = _nearest(choice, start)
    context = {
        "business": choice.business,
        "step": "time",
        "taken": True,
        "message": _("Sorry, this time was just taken. Here are the nearest free times."),
        "nearest": nearest,
        "strip": _strip(choice, day),
        "branch": _branch_of(choice),
        **_times_context(choice, day, starts=starts),  # the same computation: no second look
    }
    return render(request, "web/book.html", context, status=409)


@require_GET
def review(request: HttpRequest, slug: str) -> HttpResponse:
    """Signed in: the business, branch, service, staff member, local date and time, price, and "Confirm"."""
    if not request.user.is_authenticated:
        return _login_redirect(request, request.get_full_path())
    business: Business | None = None
    try:
        choice = _choice(slug, request.GET, need_staff=True)
        business = choice.business
        start = _parse_start(request.GET.get("start"), business)
        _offered(choice, start)
    except SlotUnavailable:
        return _taken(request, choice, start)
    except DomainError as exc:
        return error_page(request, exc, business)
    return render(request, "web/book_review.html", _review_context(choice, start))


@require_POST
def confirm(request: HttpRequest, slug: str) -> HttpResponse:
    """Make the booking (the API's services, the same customer limits), then pay (or see it, when the business
    confirms at once). A slot taken meanwhile: the times again with the nearest free ones (409); any other
    refusal: the review page with the reason (4xx). Nothing is written unless the booking is made."""
    params = request.POST
    if not request.user.is_authenticated:
        query = urlencode({k: params.get(k, "") for k in ("service", "staff", "branch", "start") if params.get(k)})
        return _login_redirect(request, f"{reverse('web:book_review', args=[slug])}?{query}")
    business: Business | None = None
    try:
        choice = _choice(slug, params, need_staff=True)
        business = choice.business
        start = _parse_start(params.get("start"), business)
    except DomainError as exc:
        return error_page(request, exc, business)
    address = (params.get("customer_address") or "").strip()[:500]
    try:
        check_throttle(request)  # the API's own throttle and counters
        if business.serves_at_home and not address:
            raise BadChoice(_("This business comes to you: give the address."))
        booking = _book(request, choice, start, address if business.serves_at_home else "")
    except SlotUnavailable:
        return _taken(request, choice, start)
    except DomainError as exc:
        context = _review_context(choice, start, error=error_text(exc), address=address)
        return render(request, "web/book_review.html", context, status=exc.status)
    if booking.status == Booking.Status.PENDING_PAYMENT:
        return HttpResponseRedirect(f"/my/bookings/{booking.pk}/pay")
    return HttpResponseRedirect(f"/my/bookings/{booking.pk}")


def _book(request: HttpRequest, choice: Choice, start: datetime, address: str) -> Booking:
    """As `POST /api/v1/bookings`: the early check, then `booking_create` (or `booking_create_anyone` over the
    free staff, the fairest first), which decides again under the locks."""
    customer: Any = request.user
    if choice.anyone:
        found = anyone_request_get(service_id=choice.the_service.pk, branch_id=choice.the_branch.pk, start=start)
        if found.branch_error:
            raise BadChoice(_("This service is not offered at this branch."))
        if not found.candidates:
            raise SlotUnavailable()
        return bookings.booking_create_anyone(
            customer=customer, service=found.service, candidates=found.candidates, start=start,
            customer_address=address, business=found.business,
        )  # fmt: skip
    early = booking_request_get(staff_id=choice.the_staff.pk, service_id=choice.the_service.pk, start=start)
    if not early.offered_here:
        raise ServiceNotOffered()
    if early.taken:
        raise SlotUnavailable()
    return bookings.booking_create(
        customer=customer, staff_id=early.staff.pk, service=early.service, start=start,
        customer_address=address, business=early.business,
    )  # fmt: skip


urlpatterns = [
    path("b/<slug:slug>/book", book, name="book"),
    path("b/<slug:slug>/book/times", times, name="book_times"),
    path("b/<slug:slug>/book/review", review, name="book_review"),
    path("b/<slug:slug>/book/confirm", confirm, name="book_confirm"),
]
