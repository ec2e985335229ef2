"""The business calendar: a branch's day (a column per staff member), a staff member's week, a booking with its
history and actions, and a walk-in or phone booking.

Same permissions as the manager API (`apps.catalog.manage_api.ManageApi`, `apps.bookings.manage_api`): the
business comes from the slug through `business_role_get` (someone else's business is a 404), every query of a
view runs inside `for_businesses(business)` (the path is a business surface: `apps.core.scoping`), a manager
(owner, manager, platform operator) sees and acts on every booking of the business, a staff member only their
own. A staff member sees their colleagues' columns (times and services, never the customers) only when the
business allows it (`Business.staff_see_all_bookings`). Completing and marking a no-show: any member (staff on
their own bookings); cancelling, moving, adding: managers (the API's `write_roles`).

The grid: a row per 5 minutes (`STEP`); each block is placed by generated classes `cal-at-N` (first row) and
`cal-len-N` (rows spanned) from web/calendar.css, never by a style attribute (the Content Security Policy). The
open page asks `.../changes?since=VERSION` every `CALENDAR_POLL_MS` (web/calendar.js): 204 when nothing changed,
else the grid's new HTML; with JavaScript off the refresh link reloads the page.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import wraps
from typing import Any, ClassVar
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.db import transaction
from django.db.models import Count, F, Max, QuerySet, TextField
from django.db.models.functions import Cast
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.formats import date_format
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from apps.accounts.phone import InvalidPhone
from apps.accounts.services import customer_get_or_create
from apps.bookings import services as booking_services
from apps.bookings.models import HOLDING_STATUSES, Booking, BookingStatusChange
from apps.catalog.availability import Interval, compute_slots, working_intervals
from apps.catalog.busy import EpochMicroseconds
from apps.catalog.manage_api import MANAGERS
from apps.catalog.models import Branch, Business, Service, Staff
from apps.catalog.selectors import (
    business_ids_run_by,
    business_role_get,
    slot_list_available,
    slot_rules,
    staff_schedules,
)
from apps.core.errors import DomainError, NotFound
from apps.core.scoping import for_businesses, platform
from apps.payments.models import VenuePayment
from apps.payments.selectors import booking_balance_for, payment_for_bookings
from apps.payments.services import venue_payment_record
from apps.web.templatetags.web_home import money_text
from apps.web.throttling import check_throttle
from apps.web.views.common import error_text, safe_next
from apps.web.views.receipt import payment_line

STEP = timedelta(minutes=5)  # one grid row
ROWS_PER_HOUR = 12
DEFAULT_HOURS = (8, 20)  # the window when nobody works that day and nothing is booked
HIDDEN = (Booking.Status.CANCELLED, Booking.Status.EXPIRED)  # not drawn (their time is free again)
WEEK_DAYS = 7
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
HOME_LIMIT = 100  # businesses listed on /calendar/ for a platform operator


# --- who is asking ------------------------------------------------------------------------------------------


@dataclass
class Desk:
    """A person's place at one business: their role there and their own staff profile (if any)."""

    user: Any
    business: Business
    role: str
    _staff: Staff | None | bool = field(default=False, repr=False)  # False: not looked up yet

    @property
    def is_manager(self) -> bool:
        return self.role in MANAGERS

    @property
    def sees_all(self) -> bool:
        return self.is_manager or self.business.staff_see_all_bookings

    @property
    def staff(self) -> Staff | None:
        """Their own staff profile at this business (one query, once)."""
        if self._staff is False:
            self._staff = Staff.objects.filter(user_id=self.user.pk).first()
        return self._staff if isinstance(self._staff, Staff) else None

    def bookings(self) -> QuerySet[Booking]:
        """The bookings they may open: all of the business for a manager, their own for staff."""
        qs = Booking.objects.select_related("customer", "service", "staff", "branch", "business")
        return qs if self.is_manager else qs.filter(staff__user_id=self.user.pk)


def business_view(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Login required; the business from the slug with the caller's role (404 for someone else's business), and
    the view run inside that business's scope."""

    @login_required
    @wraps(view)
    def wrapped(request: HttpRequest, slug: str, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            business, role = business_role_get(user=request.user, slug=slug)
        except NotFound as exc:
            raise Http404 from exc
        with for_businesses(business.pk):
            return view(request, Desk(request.user, business, role), *args, **kwargs)

    return wrapped


def managers_only(desk: Desk) -> None:
    if not desk.is_manager:
        raise DjangoPermissionDenied


# --- dates and the grid ---------------------------------------------------------------------------------------


def _today(tz: ZoneInfo) -> date:
    return timezone.now().astimezone(tz).date()


def _day_start(day: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, time(), tzinfo=tz)


def _asked_date(request: HttpRequest, tz: ZoneInfo) -> date:
    """`?date=YYYY-MM-DD`, today (business time) when missing; a bad one is a message and today."""
    raw = (request.GET.get("date") or "").strip()
    if not raw:
        return _today(tz)
    try:
        day = parse_date(raw)
    except ValueError:
        day = None
    if day is None or not date(2000, 1, 1) <= day <= date(2100, 12, 31):
        messages.error(request, _("That date could not be read; showing today."))
        return _today(tz)
    return day


def _asked_int(request: HttpRequest, name: str) -> int | None:
    raw = (request.GET.get(name) or request.POST.get(name) or "").strip()
    return int(raw) if raw.isdigit() and len(raw) < 10 else None


def hhmm(moment: datetime, tz: ZoneInfo) -> str:
    return moment.astimezone(tz).strftime("%H:%M")


def day_label(day: date) -> str:
    return date_format(day, "l j F Y")


@dataclass(frozen=True, slots=True)
class Row:
    """A booking as the grid needs it: one tuple of a `values_list` query, no model instances (a full day of 20
    staff is 300 bookings; building them with their customer, service and staff costs more than the query)."""

    pk: int
    staff_id: int
    staff_user_id: int | None
    status: str
    start: datetime
    end: datetime
    busy_start: datetime
    busy_end: datetime
    updated_at: datetime
    customer_name: str
    customer_phone: str
    service_en: str
    service_ar: str

    FIELDS: ClassVar[tuple[str, ...]] = (
        "pk", "staff_id", "staff__user_id", "status", "t_start", "t_end", "t_busy_start", "t_busy_end", "t_updated",
        "customer__name", "phone", "service__name_en", "service__name_ar",
    )  # fmt: skip

    @classmethod
    def query(cls, qs: QuerySet[Booking]) -> list[Row]:
        """The instants come as epoch microseconds and the phone as text: parsing 1,500 timestamps and 300 phone
        numbers would cost more than the rest of the page."""
        rows = qs.annotate(
            t_start=EpochMicroseconds(F("start")),
            t_end=EpochMicroseconds(F("end")),
            t_busy_start=EpochMicroseconds(F("busy_start")),
            t_busy_end=EpochMicroseconds(F("busy_end")),
            t_updated=EpochMicroseconds(F("updated_at")),
            phone=Cast("customer__phone", TextField()),
        ).values_list(*cls.FIELDS)
        out = []
        for pk, staff_id, user_id, status, *instants, name, phone, en, ar in rows:
            start, end, busy_start, busy_end, updated = (_EPOCH + timedelta(microseconds=t) for t in instants)
            out.append(
                cls(pk, staff_id, user_id, status, start, end, busy_start, busy_end, updated, name, phone, en, ar)
            )
        return out

    def service_name(self, arabic: bool) -> str:
        return self.service_ar if arabic and self.service_ar else self.service_en


@dataclass(frozen=True, slots=True)
class Block:
    kind: str  # "booking", "buffer", "off" (outside working hours, time off, closures), "other" (a colleague's)
    row: int  # first grid row, from 1
    span: int  # rows
    label: str = ""
    times: str = ""  # "10:00–10:30", shown left to right in both languages
    pk: int = 0
    url: str = ""
    status: str = ""

    def html(self, status_labels: dict[str, str]) -> str:
        """The block's element, written here rather than by the template engine: a full day is ~700 blocks."""
        place = f"cal-at-{self.row} cal-len-{self.span}"
        if self.kind == "booking":
            status = (
                f' <span class="cal-status">({escape(status_labels.get(self.status, self.status))})</span>'
                if self.status != Booking.Status.CONFIRMED
                else ""
            )
            return (
                f'<a class="cal-block cal-booking cal-s-{self.status} {place}" href="{escape(self.url)}" '
                f'data-testid="cal-booking" data-booking="{self.pk}"><span class="cal-time" dir="ltr">{self.times}'
                f"</span> {escape(self.label)}{status}</a>"
            )
        if self.kind == "other":
            return (
                f'<div class="cal-block cal-other {place}"><span class="cal-time" dir="ltr">{self.times}</span> '
                f"{escape(self.label)}</div>"
            )
        if self.kind == "buffer":
            label = escape(self.label)
            return (
                f'<div class="cal-block cal-buffer {place}" title="{label}"><span class="sr-only">{label}</span></div>'
            )
        if self.label:
            return f'<div class="cal-block cal-off cal-labelled {place}">{escape(self.label)}</div>'
        return f'<div class="cal-block cal-off {place}"></div>'


@dataclass
class Column:
    key: str
    title: str
    subtitle: str = ""
    url: str = ""  # the heading's link (a staff member's week, a day)
    blocks: list[Block] = field(default_factory=list)

    def body(self) -> str:
        labels = {value: str(label) for value, label in Booking.Status.choices}
        return mark_safe("".join(block.html(labels) for block in self.blocks))  # noqa: S308 - every value escaped


@dataclass(frozen=True, slots=True)
class Window:
    start: datetime  # local, on a full hour
    rows: int

    def place(self, start: datetime, end: datetime) -> tuple[int, int] | None:
        """The rows [start, end) covers, cut to the window; None when nothing of it is inside."""
        top = (start - self.start) / STEP
        bottom = (end - self.start) / STEP
        first, last = max(0, int(top // 1)), min(self.rows, int(-(-bottom // 1)))
        if last <= first:
            return None
        return first + 1, last - first

    def hours(self) -> list[tuple[int, str]]:
        return [
            (i * ROWS_PER_HOUR + 1, (self.start + timedelta(hours=i)).strftime("%H:%M"))
            for i in range(self.rows // ROWS_PER_HOUR)
        ]


def _window(day: date, tz: ZoneInfo, spans: Sequence[tuple[datetime, datetime]]) -> Window:
    """From the first full hour anyone works or is booked to the last one (8:00-20:00 when nothing is)."""
    start_of_day = _day_start(day, tz)
    end_of_day = _day_start(day + timedelta(days=1), tz)
    first_hour, last_hour = DEFAULT_HOURS
    inside = [(max(s, start_of_day), min(e, end_of_day)) for s, e in spans if s < end_of_day and e > start_of_day]
    if inside:
        lo = min(s for s, _e in inside).astimezone(tz)
        hi = max(e for _s, e in inside).astimezone(tz)
        first_hour = min(first_hour, lo.hour) if lo.date() == day else 0
        end_hour = hi.hour + (1 if (hi.minute or hi.second) else 0) if hi.date() == day else 24
        last_hour = max(last_hour, end_hour)
    return Window(start=start_of_day + timedelta(hours=first_hour), rows=(last_hour - first_hour) * ROWS_PER_HOUR)


def _free_gaps(window: Window, working: Sequence[Interval]) -> list[tuple[datetime, datetime]]:
    """The window minus working time: what is greyed."""
    end = window.start + window.rows * STEP
    gaps, cursor = [], window.start
    for span in working:
        if span.start > cursor:
            gaps.append((cursor, min(span.start, end)))
        cursor = max(cursor, span.end)
    if cursor < end:
        gaps.append((cursor, end))
    return [(s, e) for s, e in gaps if s < e]


@dataclass(frozen=True, slots=True)
class Marks:
    """What greys a day: time off and closures (labelled), the rest of the non-working time (unlabelled)."""

    working: list[Interval]
    time_off: list[Interval]
    closures: list[Interval]


def _blocks(
    desk: Desk,
    window: Window,
    tz: ZoneInfo,
    marks: Marks,
    bookings: Sequence[Row],
    back: str,
) -> list[Block]:
    blocks: list[Block] = []
    labelled = [(i, _("Time off")) for i in marks.time_off] + [(i, _("Closed")) for i in marks.closures]
    for start, end in _free_gaps(window, marks.working):
        placed = window.place(start, end)
        if placed:
            blocks.append(Block("off", *placed))
    for interval, label in labelled:
        placed = window.place(interval.start, interval.end)
        if placed:
            blocks.append(Block("off", *placed, label=label))
    arabic = (get_language() or "ar").startswith("ar")
    opens = reverse("web:calendar_booking", args=[desk.business.slug, 0]).rsplit("/", 1)[0] + "/"
    then = "?" + urlencode({"next": back})
    for booking in bookings:
        for start, end in ((booking.busy_start, booking.start), (booking.end, booking.busy_end)):
            placed = window.place(start, end) if start < end else None
            if placed:
                blocks.append(Block("buffer", *placed, label=_("Buffer")))
        placed = window.place(booking.start, booking.end)
        if not placed:
            continue
        times = f"{hhmm(booking.start, tz)}–{hhmm(booking.end, tz)}"
        service = booking.service_name(arabic)
        if desk.is_manager or booking.staff_user_id == desk.user.pk:
            label = f"{booking.customer_name or booking.customer_phone} · {service}"
            url = f"{opens}{booking.pk}{then}"
            blocks.append(
                Block("booking", *placed, label=label, times=times, pk=booking.pk, url=url, status=booking.status)
            )
        else:
            blocks.append(Block("other", *placed, label=service, times=times, status=booking.status))
    return blocks


def _window_bookings(staff_ids: Sequence[int], start: datetime, end: datetime) -> QuerySet[Booking]:
    """Every booking of these staff members whose held time overlaps [start, end), whatever its status (the
    version counts cancelled ones too: a cancellation is a change)."""
    return Booking.objects.filter(staff_id__in=list(staff_ids), busy_start__lt=end, busy_end__gt=start)


def _version_of(count: int, last_change: datetime | None, last_id: int | None) -> str:
    raw = f"{count}:{last_change.timestamp() if last_change else 0}:{last_id or 0}"
    return hashlib.sha256(raw.encode()).hexdigest()[:16]


def _window_rows(staff_ids: Sequence[int], start: datetime, end: datetime) -> list[Row]:
    return Row.query(_window_bookings(staff_ids, start, end))


def _version_from_rows(rows: Sequence[Row]) -> str:
    return _version_of(
        len(rows),
        max((b.updated_at for b in rows), default=None),
        max((b.pk for b in rows), default=None),
    )


def _version_from_db(staff_ids: Sequence[int], start: datetime, end: datetime) -> str:
    agg = _window_bookings(staff_ids, start, end).aggregate(n=Count("id"), last=Max("updated_at"), top=Max("id"))
    return _version_of(agg["n"], agg["last"], agg["top"])


def _no_busy(**_kwargs: Any) -> dict[int, list[Interval]]:
    """The calendar draws the bookings themselves; the schedule loader need not read their busy time."""
    return {}


# --- pages ----------------------------------------------------------------------------------------------------


@require_GET
@login_required
def calendar_home(request: HttpRequest) -> HttpResponse:
    """The businesses (and their branches) this person works at as owner, manager or staff; 403 for anyone else."""
    user = request.user
    ids = business_ids_run_by(user, managers_only=False)
    operator = bool(getattr(user, "is_superuser", False))
    if not ids and not operator:
        raise DjangoPermissionDenied
    with platform() if operator else for_businesses(ids):
        businesses = list(
            Business.objects.filter(is_active=True, **({} if operator else {"pk__in": ids})).order_by("name_en")[
                :HOME_LIMIT
            ]
        )
        branches: dict[int, list[Branch]] = {}
        for branch in Branch.objects.filter(business__in=businesses, is_active=True).order_by("display_order", "id"):
            branches.setdefault(branch.business_id, []).append(branch)
        places = [{"business": b, "branches": branches.get(b.pk, [])} for b in businesses]
        has_staff_profile = Staff.objects.filter(user_id=user.pk or 0).exists()
        return render(request, "web/calendar/home.html", {"places": places, "has_staff_profile": has_staff_profile})


def _branch_for(request: HttpRequest, desk: Desk) -> tuple[Branch, list[Branch]]:
    """The branch asked for (`?branch=`), else the staff member's own, else the first; and the branches offered."""
    branches = list(Branch.objects.filter(is_active=True).order_by("display_order", "id"))
    asked = _asked_int(request, "branch")
    own = desk.staff if not desk.is_manager else None
    if not desk.sees_all:
        branches = [b for b in branches if own is not None and b.pk == own.branch_id]
    if asked is not None:
        chosen = next((b for b in branches if b.pk == asked), None)
        if chosen is None:
            raise Http404
        return chosen, branches
    default = next((b for b in branches if own is not None and b.pk == own.branch_id), None) or (
        branches[0] if branches else None
    )
    if default is None:
        raise Http404
    return default, branches


@dataclass
class Grid:
    columns: list[Column]
    window: Window
    version: str
    empty: str = ""


def _day_staff(desk: Desk, branch: Branch) -> list[Staff]:
    """The columns: the branch's active staff (only the person's own column unless they may see all)."""
    staff = list(Staff.objects.filter(branch=branch, is_active=True).order_by("display_order", "id"))
    return staff if desk.sees_all else [s for s in staff if s.user_id == desk.user.pk]


def _day_bounds(day: date, tz: ZoneInfo, days: int = 1) -> tuple[datetime, datetime]:
    return _day_start(day, tz), _day_start(day + timedelta(days=days), tz)


def _day_grid(desk: Desk, branch: Branch, staff: list[Staff], day: date, back: str) -> Grid:
    tz = desk.business.tz
    ids = [s.pk for s in staff]
    day_start, day_end = _day_bounds(day, tz)
    if not ids:
        window = _window(day, tz, [])
        return Grid([], window, _version_of(0, None, None), empty=_("Nobody works at this branch that you can see."))
    schedules = staff_schedules(staff_ids=ids, date_from=day, date_to=day, business=desk.business, booked=_no_busy)
    rows = _window_rows(ids, day_start, day_end)
    version = _version_from_rows(rows)
    shown = sorted((b for b in rows if b.status not in HIDDEN), key=lambda b: (b.start, b.pk))
    marks = {}
    for s in staff:
        schedule = schedules[s.pk]
        marks[s.pk] = Marks(
            working=working_intervals(schedule, day, day, tz),
            time_off=[i for i in schedule.time_off if i.start < day_end and i.end > day_start],
            closures=[i for i in schedule.closures if i.start < day_end and i.end > day_start],
        )
    spans = [(i.start, i.end) for m in marks.values() for i in m.working] + [(b.busy_start, b.busy_end) for b in shown]
    window = _window(day, tz, spans)
    by_staff: dict[int, list[Row]] = {}
    for booking in shown:
        by_staff.setdefault(booking.staff_id, []).append(booking)
    columns = []
    for s in staff:
        week = (
            reverse("web:calendar_week", args=[desk.business.slug])
            + "?"
            + urlencode({"staff": s.pk, "date": day.isoformat()})
        )
        columns.append(
            Column(
                key=f"staff-{s.pk}",
                title=s.display_name,
                url=week,
                blocks=_blocks(desk, window, tz, marks[s.pk], by_staff.get(s.pk, []), back),
            )
        )
    return Grid(columns, window, version)


def _week_start(day: date) -> date:
    """The Sunday on or before `day` (the Saudi week starts on Sunday)."""
    return day - timedelta(days=(day.weekday() + 1) % 7)


def _week_grid(desk: Desk, staff: Staff, first: date, back: str) -> Grid:
    tz = desk.business.tz
    last = first + timedelta(days=WEEK_DAYS - 1)
    start, end = _day_bounds(first, tz, WEEK_DAYS)
    schedule = staff_schedules(
        staff_ids=[staff.pk], date_from=first, date_to=last, business=desk.business, booked=_no_busy
    )[staff.pk]
    rows = _window_rows([staff.pk], start, end)
    version = _version_from_rows(rows)
    shown = sorted((b for b in rows if b.status not in HIDDEN), key=lambda b: (b.start, b.pk))
    days = [first + timedelta(days=i) for i in range(WEEK_DAYS)]
    working = {d: working_intervals(schedule, d, d, tz) for d in days}
    # One window for the whole week, from the earliest hour of any day to the latest.
    spans: list[tuple[datetime, datetime]] = []
    for d in days:
        base = _day_start(d, tz)
        shift = _day_start(first, tz) - base
        spans += [(i.start + shift, i.end + shift) for i in working[d]]
        spans += [(b.busy_start + shift, b.busy_end + shift) for b in shown if b.start.astimezone(tz).date() == d]
    template = _window(first, tz, spans)
    columns = []
    for d in days:
        base = _day_start(d, tz)
        window = Window(start=base + (template.start - _day_start(first, tz)), rows=template.rows)
        d_start, d_end = base, _day_start(d + timedelta(days=1), tz)
        marks = Marks(
            working=working[d],
            time_off=[i for i in schedule.time_off if i.start < d_end and i.end > d_start],
            closures=[i for i in schedule.closures if i.start < d_end and i.end > d_start],
        )
        day_bookings = [b for b in shown if b.start.astimezone(tz).date() == d]
        url = (
            reverse("web:calendar_day", args=[desk.business.slug])
            + "?"
            + urlencode({"branch": staff.branch_id, "date": d.isoformat()})
        )
        columns.append(
            Column(
                key=f"day-{d.isoformat()}",
                title=date_format(d, "l"),
                subtitle=d.isoformat(),
                url=url,
                blocks=_blocks(desk, window, tz, marks, day_bookings, back),
            )
        )
    return Grid(columns, template, version)


def _grid_context(request: HttpRequest, grid: Grid, changes_url: str) -> dict[str, Any]:
    return {
        "grid": grid,
        "hours": grid.window.hours(),
        "rows": grid.window.rows,
        "changes_url": changes_url,
        "poll_ms": max(200, int(getattr(settings, "CALENDAR_POLL_MS", 10_000))),
    }


def _day_page(request: HttpRequest, desk: Desk, *, fragment: bool) -> HttpResponse:
    tz = desk.business.tz
    day = _asked_date(request, tz)
    branch, branches = _branch_for(request, desk)
    query = {"branch": branch.pk, "date": day.isoformat()}
    here = reverse("web:calendar_day", args=[desk.business.slug]) + "?" + urlencode(query)
    staff = _day_staff(desk, branch)
    if fragment:
        bounds = _day_bounds(day, tz)
        return _fragment(request, [s.pk for s in staff], bounds, lambda: _day_grid(desk, branch, staff, day, here))
    grid = _day_grid(desk, branch, staff, day, here)
    changes = reverse("web:calendar_day_changes", args=[desk.business.slug]) + "?" + urlencode(query)
    slug = desk.business.slug
    context = {
        **_grid_context(request, grid, changes),
        "desk": desk,
        "business": desk.business,
        "branch": branch,
        "branches": branches,
        "day": day,
        "day_label": day_label(day),
        "here": here,
        "prev_url": reverse("web:calendar_day", args=[slug])
        + "?"
        + urlencode({"branch": branch.pk, "date": (day - timedelta(days=1)).isoformat()}),
        "next_url": reverse("web:calendar_day", args=[slug])
        + "?"
        + urlencode({"branch": branch.pk, "date": (day + timedelta(days=1)).isoformat()}),
        "today_url": reverse("web:calendar_day", args=[slug]) + "?" + urlencode({"branch": branch.pk}),
        "new_url": reverse("web:calendar_new", args=[slug]) + "?" + urlencode(query),
    }
    return render(request, "web/calendar/day.html", context)


def _fragment(
    request: HttpRequest, staff_ids: list[int], bounds: tuple[datetime, datetime], build: Callable[[], Grid]
) -> HttpResponse:
    """The grid's HTML when it changed since `?since=VERSION`, else 204 (no body): one small query decides."""
    since = request.GET.get("since", "")
    if since and since == _version_from_db(staff_ids, *bounds):
        response = HttpResponse(status=204)
        version = since
    else:
        grid = build()
        response = render(request, "web/calendar/_grid.html", _grid_context(request, grid, ""))
        version = grid.version
    response["X-Calendar-Version"] = version
    response["Cache-Control"] = "no-store"
    return response


@require_GET
@business_view
def calendar_day(request: HttpRequest, desk: Desk) -> HttpResponse:
    return _day_page(request, desk, fragment=False)


@require_GET
@business_view
def calendar_day_changes(request: HttpRequest, desk: Desk) -> HttpResponse:
    """The day's grid when it changed since `?since=VERSION` (the polling of web/calendar.js), else 204."""
    return _day_page(request, desk, fragment=True)


def _staff_for_week(request: HttpRequest, desk: Desk) -> Staff:
    asked = _asked_int(request, "staff")
    if asked is None:
        own = desk.staff
        if own is None:
            raise Http404
        return own
    staff = Staff.objects.select_related("branch").filter(pk=asked).first()
    if staff is None or not (desk.sees_all or staff.user_id == desk.user.pk):
        raise Http404
    return staff


def _week_page(request: HttpRequest, desk: Desk, *, fragment: bool) -> HttpResponse:
    tz = desk.business.tz
    day = _asked_date(request, tz)
    staff = _staff_for_week(request, desk)
    first = _week_start(day)
    query = {"staff": staff.pk, "date": first.isoformat()}
    slug = desk.business.slug
    here = reverse("web:calendar_week", args=[slug]) + "?" + urlencode(query)
    if fragment:
        bounds = _day_bounds(first, tz, WEEK_DAYS)
        return _fragment(request, [staff.pk], bounds, lambda: _week_grid(desk, staff, first, here))
    grid = _week_grid(desk, staff, first, here)
    changes = reverse("web:calendar_week_changes", args=[slug]) + "?" + urlencode(query)
    context = {
        **_grid_context(request, grid, changes),
        "desk": desk,
        "business": desk.business,
        "staff": staff,
        "day": first,
        "week_label": f"{first.isoformat()} – {(first + timedelta(days=WEEK_DAYS - 1)).isoformat()}",
        "here": here,
        "prev_url": reverse("web:calendar_week", args=[slug])
        + "?"
        + urlencode({"staff": staff.pk, "date": (first - timedelta(days=WEEK_DAYS)).isoformat()}),
        "next_url": reverse("web:calendar_week", args=[slug])
        + "?"
        + urlencode({"staff": staff.pk, "date": (first + timedelta(days=WEEK_DAYS)).isoformat()}),
        "day_url": reverse("web:calendar_day", args=[slug])
        + "?"
        + urlencode({"branch": staff.branch_id, "date": day.isoformat()}),
    }
    return render(request, "web/calendar/week.html", context)


@require_GET
@business_view
def calendar_week(request: HttpRequest, desk: Desk) -> HttpResponse:
    return _week_page(request, desk, fragment=False)


@require_GET
@business_view
def calendar_week_changes(request: HttpRequest, desk: Desk) -> HttpResponse:
    return _week_page(request, desk, fragment=True)


# --- a booking ------------------------------------------------------------------------------------------------


def _booking(desk: Desk, booking_id: int) -> Booking:
    booking = desk.bookings().filter(pk=booking_id).first()
    if booking is None:
        raise Http404
    return booking


def _free_starts(desk: Desk, booking: Booking, day: date) -> list[datetime]:
    """The starts the booking could move to on `day`: the availability the API offers for its staff member and
    service (the same loader and engine: `staff_schedules` + `compute_slots`), its own time left out."""
    rules = slot_rules(service=booking.service, business=desk.business)
    schedule = staff_schedules(
        staff_ids=[booking.staff_id],
        date_from=day,
        date_to=day,
        business=desk.business,
        exclude_booking_id=booking.pk,
        service=booking.service,
    )[booking.staff_id]
    return [slot.start for slot in compute_slots(schedule, rules, day, day) if slot.start != booking.start]


def _back(request: HttpRequest, default: str) -> str:
    return safe_next(request, default)


@require_GET
@business_view
def calendar_booking(request: HttpRequest, desk: Desk, booking_id: int) -> HttpResponse:
    booking = _booking(desk, booking_id)
    tz = desk.business.tz
    local = booking.start.astimezone(tz)
    move_day = _asked_date(request, tz) if request.GET.get("date") else local.date()
    history = list(
        BookingStatusChange.objects.filter(booking_id=booking.pk).select_related("actor").order_by("created_at", "id")
    )
    payment = payment_for_bookings([booking.pk]).get(booking.pk)
    balance = booking_balance_for(booking.pk)
    day_url = (
        reverse("web:calendar_day", args=[desk.business.slug])
        + "?"
        + urlencode({"branch": booking.branch_id or booking.staff.branch_id, "date": local.date().isoformat()})
    )
    back = _back(request, day_url)
    holds = booking.status in HOLDING_STATUSES
    can_move = desk.is_manager and holds
    free = _free_starts(desk, booking, move_day) if can_move else []
    entries = [
        {
            "at": f"{c.created_at.astimezone(tz):%Y-%m-%d %H:%M}",
            "what": (
                _("Moved from %(old)s to %(new)s")
                % {
                    "old": f"{c.old_start.astimezone(tz):%Y-%m-%d %H:%M}",
                    "new": f"{c.new_start.astimezone(tz):%Y-%m-%d %H:%M}",
                }
                if c.old_start and c.new_start
                else (
                    f"{Booking.Status(c.from_status).label} → {Booking.Status(c.to_status).label}"
                    if c.from_status
                    else str(Booking.Status(c.to_status).label)
                )
            ),
            "by": (c.actor.name or str(c.actor.phone)) if c.actor else _("System"),
            "reason": c.reason,
        }
        for c in history
    ]
    context = {
        "desk": desk,
        "business": desk.business,
        "booking": booking,
        "when_day": day_label(local.date()),
        "when_times": f"{hhmm(booking.start, tz)}–{hhmm(booking.end, tz)}",
        "status": booking.get_status_display(),
        "payment_text": payment_line(payment, booking),
        "balance": balance,
        "paid_online_text": money_text(balance.paid_online, booking.currency),
        "paid_at_venue_text": money_text(balance.paid_at_venue, booking.currency),
        "due_text": money_text(balance.due, booking.currency),
        "due_value": f"{balance.due // 100}.{balance.due % 100:02d}",
        "can_take_payment": balance.due > 0 and booking.status in VENUE_PAYABLE,
        "venue_methods": VenuePayment.Method.choices,
        "history": entries,
        "back": back,
        "can_finish": booking.status == Booking.Status.CONFIRMED and timezone.now() >= booking.start,
        "can_cancel": desk.is_manager and holds,
        "can_confirm": desk.is_manager and booking.status == Booking.Status.PENDING_PAYMENT,
        "can_move": can_move,
        "move_day": move_day,
        "free": [(s.astimezone(tz).isoformat(), hhmm(s, tz)) for s in free],
        "self_url": reverse("web:calendar_booking", args=[desk.business.slug, booking.pk]),
    }
    return render(request, "web/calendar/booking.html", context)


def _act(
    request: HttpRequest, desk: Desk, booking_id: int, action: Callable[[Booking], Any], done: str
) -> HttpResponse:
    booking = _booking(desk, booking_id)
    page = reverse("web:calendar_booking", args=[desk.business.slug, booking.pk])
    back = _back(request, "")
    try:
        check_throttle(request)  # the API's rate for this user, counted in the same place
        action(booking)
    except DomainError as exc:
        messages.error(request, error_text(exc))
    else:
        messages.success(request, done)
    return HttpResponseRedirect(page + ("?" + urlencode({"next": back}) if back else ""))


@require_POST
@business_view
def calendar_complete(request: HttpRequest, desk: Desk, booking_id: int) -> HttpResponse:
    return _act(
        request,
        desk,
        booking_id,
        lambda b: booking_services.booking_complete(booking_id=b.pk, actor=desk.user),
        _("Marked as completed."),
    )


@require_POST
@business_view
def calendar_no_show(request: HttpRequest, desk: Desk, booking_id: int) -> HttpResponse:
    return _act(
        request,
        desk,
        booking_id,
        lambda b: booking_services.booking_mark_no_show(booking_id=b.pk, actor=desk.user),
        _("Marked as a no-show."),
    )


@require_POST
@business_view
def calendar_confirm(request: HttpRequest, desk: Desk, booking_id: int) -> HttpResponse:
    """An unpaid booking paid at the counter: confirmed by a manager (the API's `confirm`)."""
    managers_only(desk)
    return _act(
        request,
        desk,
        booking_id,
        lambda b: booking_services.booking_confirm(
            booking_id=b.pk, actor=desk.user, reason="confirmed by the business"
        ),
        _("The booking is confirmed."),
    )


VENUE_PAYABLE = frozenset({Booking.Status.PENDING_PAYMENT, Booking.Status.CONFIRMED, Booking.Status.COMPLETED})


def parse_amount(text: str) -> int | None:
    """ "105", "105.5", "105.50" (Arabic-Indic digits too) → minor units; None when it is not an amount."""
    text = text.strip().translate(str.maketrans("٠١٢٣٤٥٦٧٨٩٫", "0123456789."))
    whole, dot, part = text.partition(".")
    if not whole.isdigit() or len(whole) > 9 or (dot and not (part.isdigit() and 1 <= len(part) <= 2)):
        return None
    return int(whole) * 100 + (int(part.ljust(2, "0")) if part else 0)


@require_POST
@business_view
def calendar_venue_payment(request: HttpRequest, desk: Desk, booking_id: int) -> HttpResponse:
    """Money taken at the counter (cash or the card terminal), by the staff member or a manager: recorded against
    what is due (never more), and an unpaid booking is confirmed by it (the manager API's `venue-payments`)."""
    amount = parse_amount(request.POST.get("amount") or "")
    method = request.POST.get("method") or ""
    if amount is None or amount <= 0 or method not in VenuePayment.Method.values:
        _booking(desk, booking_id)
        messages.error(request, _("Enter the amount paid (e.g. 105.00) and how it was paid."))
        return HttpResponseRedirect(reverse("web:calendar_booking", args=[desk.business.slug, booking_id]))
    note = (request.POST.get("note") or "").strip()[:500]
    return _act(
        request,
        desk,
        booking_id,
        lambda b: venue_payment_record(booking_id=b.pk, amount=amount, method=method, actor=desk.user, note=note),
        _("Recorded %(amount)s paid at the venue.") % {"amount": money_text(amount, desk.business.currency)},
    )


@require_POST
@business_view
def calendar_cancel(request: HttpRequest, desk: Desk, booking_id: int) -> HttpResponse:
    managers_only(desk)
    reason = (request.POST.get("reason") or "").strip()[:500]
    if not reason:
        _booking(desk, booking_id)
        messages.error(request, _("Write the reason for the customer."))
        page = reverse("web:calendar_booking", args=[desk.business.slug, booking_id])
        return HttpResponseRedirect(page)
    return _act(
        request,
        desk,
        booking_id,
        lambda b: booking_services.booking_cancel(booking_id=b.pk, actor=desk.user, reason=reason),
        _("The booking was cancelled."),
    )


def _asked_start(request: HttpRequest) -> datetime | None:
    raw = (request.POST.get("start") or "").strip()
    try:
        start = parse_datetime(raw) if raw else None
    except ValueError:
        return None
    return start if start is not None and start.utcoffset() is not None else None


@require_POST
@business_view
def calendar_reschedule(request: HttpRequest, desk: Desk, booking_id: int) -> HttpResponse:
    managers_only(desk)
    start = _asked_start(request)
    if start is None:
        _booking(desk, booking_id)
        messages.error(request, _("Choose a new time."))
        return HttpResponseRedirect(reverse("web:calendar_booking", args=[desk.business.slug, booking_id]))
    return _act(
        request,
        desk,
        booking_id,
        lambda b: booking_services.booking_reschedule(
            booking_id=b.pk, start=start, actor=desk.user, reason=_("moved in the calendar")
        ),
        _("The booking was moved to %(time)s.") % {"time": f"{start.astimezone(desk.business.tz):%Y-%m-%d %H:%M}"},
    )


# --- a walk-in or phone booking -------------------------------------------------------------------------------


def _walk_in(desk: Desk, values: dict[str, str], staff: Staff, service: Service, start: datetime) -> Booking:
    """The customer found or created by phone and the booking, together or not at all (a refused time leaves no
    new customer behind)."""
    with transaction.atomic():
        customer, _created = customer_get_or_create(phone=values["phone"], name=values["name"])
        booking = booking_services.booking_create(
            customer=customer, staff_id=staff.pk, service=service, start=start, business=desk.business
        )
        if booking.status == Booking.Status.PENDING_PAYMENT:
            booking = booking_services.booking_confirm(
                booking_id=booking.pk, actor=desk.user, reason="walk-in or phone booking: paid at the business"
            )
    return booking


@business_view
def calendar_new(request: HttpRequest, desk: Desk) -> HttpResponse:
    """A booking the business makes for a customer's phone number (found or created), at a free time of the
    staff member and service chosen: `booking_create` (the rules and locks of every booking), confirmed at once
    (they pay at the business)."""
    managers_only(desk)
    tz = desk.business.tz
    branch, branches = _branch_for(request, desk)
    day = _asked_date(request, tz)
    staff = list(Staff.objects.filter(branch=branch, is_active=True).order_by("display_order", "id"))
    services = list(Service.objects.filter(is_active=True).order_by("display_order", "id"))
    staff_id, service_id = _asked_int(request, "staff"), _asked_int(request, "service")
    chosen_staff = next((s for s in staff if s.pk == staff_id), None)
    chosen_service = next((s for s in services if s.pk == service_id), None)
    errors: dict[str, str] = {}
    values = {"phone": "", "name": ""}
    if request.method == "POST":
        values = {"phone": (request.POST.get("phone") or "").strip(), "name": (request.POST.get("name") or "").strip()}
        start = _asked_start(request)
        if chosen_staff is None or chosen_service is None:
            errors["staff"] = _("Choose a staff member and a service.")
        if start is None:
            errors["start"] = _("Choose a time.")
        if not values["phone"]:
            errors["phone"] = _("Enter the customer's phone number.")
        if not errors and chosen_staff is not None and chosen_service is not None and start is not None:
            try:
                check_throttle(request)  # counted whatever becomes of the booking
                booking = _walk_in(desk, values, chosen_staff, chosen_service, start)
            except InvalidPhone as exc:
                errors["phone"] = str(exc)
            except DomainError as exc:
                errors["start"] = error_text(exc)
            else:
                messages.success(request, _("The booking was added."))
                return HttpResponseRedirect(reverse("web:calendar_booking", args=[desk.business.slug, booking.pk]))
    free: list[tuple[str, str]] = []
    if chosen_staff is not None and chosen_service is not None:
        try:
            result = slot_list_available(staff=chosen_staff, service=chosen_service, date_from=day, date_to=day)
            free = [(slot.start.astimezone(tz).isoformat(), hhmm(slot.start, tz)) for slot in result.slots]
        except DomainError as exc:
            errors.setdefault("staff", error_text(exc))
    context = {
        "desk": desk,
        "business": desk.business,
        "branch": branch,
        "branches": branches,
        "day": day,
        "day_label": day_label(day),
        "staff": staff,
        "services": services,
        "chosen_staff": chosen_staff,
        "chosen_service": chosen_service,
        "free": free,
        "errors": errors,
        "values": values,
        "asked_start": request.POST.get("start", ""),
        "day_url": reverse("web:calendar_day", args=[desk.business.slug])
        + "?"
        + urlencode({"branch": branch.pk, "date": day.isoformat()}),
    }
    return render(request, "web/calendar/new.html", context, status=400 if errors and request.method == "POST" else 200)


urlpatterns = [
    path("calendar/", calendar_home, name="calendar"),
    path("calendar/<slug:slug>/day", calendar_day, name="calendar_day"),
    path("calendar/<slug:slug>/day/changes", calendar_day_changes, name="calendar_day_changes"),
    path("calendar/<slug:slug>/week", calendar_week, name="calendar_week"),
    path("calendar/<slug:slug>/week/changes", calendar_week_changes, name="calendar_week_changes"),
    path("calendar/<slug:slug>/new", calendar_new, name="calendar_new"),
    path("calendar/<slug:slug>/bookings/<int:booking_id>", calendar_booking, name="calendar_booking"),
    path(
        "calendar/<slug:slug>/bookings/<int:booking_id>/complete", calendar_complete, name="calendar_booking_complete"
    ),
    path("calendar/<slug:slug>/bookings/<int:booking_id>/confirm", calendar_confirm, name="calendar_booking_confirm"),
    path(
        "calendar/<slug:slug>/bookings/<int:booking_id>/venue-payments",
        calendar_venue_payment,
        name="calendar_booking_venue_payment",
    ),
    path("calendar/<slug:slug>/bookings/<int:booking_id>/no-show", calendar_no_show, name="calendar_booking_no_show"),
    path("calendar/<slug:slug>/bookings/<int:booking_id>/cancel", calendar_cancel, name="calendar_booking_cancel"),
    path(
        "calendar/<slug:slug>/bookings/<int:booking_id>/reschedule",
        calendar_reschedule,
        name="calendar_booking_reschedule",
    ),
]
