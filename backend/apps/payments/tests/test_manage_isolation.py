"""Isolation between businesses, for every route under `/api/v1/`: one table, one entry per route.

The routes come from the URL resolver, so a route added without an entry in `ROUTES` fails
`test_every_route_is_isolated[<route>]`; every HTTP method a business route's view answers must be probed too
(`test_every_method_is_probed`), so a new method without a probe fails as well.

An entry is either `Public(reason)`: the route serves no business's private rows (sign-in, the caller's own
account, the public catalog, the provider's webhook); or `Probes(make)`: `make(world)` returns the requests that
business A's manager and A's staff member make against business B's rows. Each probe states the statuses it may
get (404 for B's rows; 400 for a body naming B's rows at A's address; 403 when the role alone refuses), and may
check the body (a list must not show B's rows). After the probes of a route, every row B owns must be exactly as
it was: nothing created in B, moved into B, changed or deleted there.

Adding a route: add its pattern to `ROUTES`, usually with `manage_probes(...)` for a `/manage/businesses/<slug>/`
route (B's address, and A's address with B's ids) or `booking_probes(...)` for a route about one booking.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Any

import pytest
from django.apps import apps as django_apps
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.test import APIClient

from apps.accounts.models import User
from apps.accounts.tests.factories import UserFactory
from apps.bookings.calendar_feed import feed_token_issue
from apps.bookings.models import Booking, BookingStatusChange, CalendarFeedToken
from apps.bookings.tests.factories import BookingFactory
from apps.catalog.holidays import saudi_holidays
from apps.catalog.models import (
    Branch,
    Business,
    Closure,
    Membership,
    ScheduleException,
    Season,
    SeasonalHours,
    Service,
    Staff,
    TimeOffRequest,
    WorkingHours,
)
from apps.catalog.tests.factories import BusinessFactory, MembershipFactory, ServiceFactory, StaffFactory, main_branch
from apps.catalog.tests.fixtures import RIYADH
from apps.payments.models import Payment

pytestmark = pytest.mark.django_db

API = "api/v1/"
MANAGE = "api/v1/manage/businesses/<slug:slug>/"
WRITES = ("post", "put", "patch", "delete")


# --- the two businesses ---------------------------------------------------------------------------------------


@dataclass
class Side:
    business: Business
    branch: Branch
    service: Service
    staff: Staff
    manager: User
    booking: Booking
    closure: Closure
    time_off: ScheduleException
    request: TimeOffRequest
    payment: Payment
    season: Season


@dataclass
class World:
    a: Side
    b: Side
    customer: User
    day: Any
    clients: dict[str, APIClient] = field(default_factory=dict)

    def at(self, hhmm: str) -> datetime:
        hours, minutes = map(int, hhmm.split(":"))
        return datetime.combine(self.day, time(hours, minutes), tzinfo=RIYADH)


def _side(business: Business, customer: User, start: datetime) -> Side:
    service = ServiceFactory.create(business=business)
    staff = StaffFactory.create(business=business, services=[service])
    booking = BookingFactory.create(
        customer=customer, staff=staff, service=service, business=business, branch=staff.branch, start=start
    )
    time_off = ScheduleException.objects.create(staff=staff, start=start.replace(hour=15), end=start.replace(hour=16))
    feed_token_issue(staff)  # a calendar feed: the staff member's own route must never touch another business's
    season = Season.objects.create(
        business=business,
        name_en="Summer",
        start_date=start.date() + timedelta(days=20),
        end_date=start.date() + timedelta(days=30),
    )
    SeasonalHours.objects.create(season=season, staff=staff, weekday=0, start_time=time(16), end_time=time(22))
    return Side(
        season=season,
        business=business,
        branch=main_branch(business),
        service=service,
        staff=staff,
        manager=MembershipFactory.create(business=business, role=Membership.Role.MANAGER).user,
        booking=booking,
        closure=Closure.objects.create(business=business, name="Eid", start_date=start.date(), end_date=start.date()),
        time_off=time_off,
        request=TimeOffRequest.objects.create(
            staff=staff, start=start.replace(hour=12), end=start.replace(hour=13), reason="asked"
        ),
        payment=Payment.objects.create(
            booking=booking,
            flow=Payment.Flow.TOKEN,
            status=Payment.Status.AUTHORIZED,
            amount=15000,
            authorized_amount=15000,
        ),
    )


@pytest.fixture
def world(business, day, auth_client) -> World:
    customer = UserFactory.create(name="Shared customer")
    start = datetime.combine(day, time(10), tzinfo=RIYADH)
    a = _side(business, customer, start)
    b = _side(BusinessFactory.create(slug="other-business"), customer, start)
    w = World(a=a, b=b, customer=customer, day=day)
    w.clients = {"manager": auth_client(a.manager), "staff": auth_client(a.staff.user)}
    return w


def snapshot(business: Business) -> dict[str, list[dict[str, Any]]]:
    """Every row `business` owns (and its own row), as stored."""
    models: list[Any] = [
        Branch,
        Service,
        Staff,
        WorkingHours,
        ScheduleException,
        Closure,
        Membership,
        TimeOffRequest,
        Season,
        SeasonalHours,
        Booking,
        BookingStatusChange,
        CalendarFeedToken,
        Payment,
    ]
    rows: dict[str, list[dict[str, Any]]] = {
        m.__name__: list(m.objects.filter(business=business).order_by("pk").values()) for m in models
    }
    rows["Business"] = [dict(row) for row in Business.objects.filter(pk=business.pk).values()]
    # The tax profile (apps.invoicing, above this app: looked up by name, not imported), written by a manager route.
    tax_profile = django_apps.get_model("invoicing", "TaxProfile")
    rows["TaxProfile"] = [dict(row) for row in tax_profile.objects.filter(business=business).order_by("pk").values()]
    links: list[tuple[str, Any, str]] = [
        ("service.branches", Service.branches.through, "service__business"),
        ("staff.services", Staff.services.through, "staff__business"),
    ]
    for name, model, path in links:
        rows[name] = list(model.objects.filter(**{path: business}).order_by("pk").values())
    return rows


# --- the table ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Probe:
    who: str  # "manager" or "staff": of business A
    method: str
    path: str  # after /api/v1/
    body: dict[str, Any] | None = None
    expect: frozenset[int] = frozenset({404})
    check: Callable[[Any, World], None] | None = None  # on the response, e.g. B's rows absent from a list


@dataclass(frozen=True)
class Public:
    reason: str


@dataclass(frozen=True)
class Probes:
    make: Callable[[World], list[Probe]]
    not_probed: dict[str, str] = field(default_factory=dict)  # method -> why it needs no probe


Entry = Public | Probes

NOT_FOUND = frozenset({404})
REFUSED = frozenset({403, 404})  # a staff member's write at A's address: the role refuses before any lookup
INVALID = frozenset({400})


def _absent(attr: str, key: str = "results") -> Callable[[Any, World], None]:
    """The list `key` of the response shows A's row `attr` (so it is not trivially empty) and not B's."""

    def check(response: Any, w: World) -> None:
        ids = [row["id"] for row in response.json()[key]]
        assert getattr(w.a, attr).pk in ids, f"A's {attr} missing from {key}"
        assert getattr(w.b, attr).pk not in ids, f"B's {attr} listed in {key}"

    return check


def _both(*checks: Callable[[Any, World], None]) -> Callable[[Any, World], None]:
    def check(response: Any, w: World) -> None:
        for one in checks:
            one(response, w)

    return check


def manage_probes(
    sub: str,
    *,
    ids: dict[str, str] | None = None,
    bodies: dict[str, Callable[[World], dict[str, Any]]] | None = None,
    staff_reads: bool = True,
    get: bool = True,
    at_a: Callable[[World], list[Probe]] | None = None,
) -> Probes:
    """The probes of a `/manage/businesses/<slug>/` route, for each method in `bodies` (GET needs no body):

    - A's manager and A's staff at B's address, with B's ids: 404;
    - when the route names rows (`ids`: path parameter -> attribute of a side), A's manager at A's address with
      B's ids: 404; A's staff there: 404 for reads, 403 or 404 for writes;
    - `at_a(world)`: more probes at A's address (B's ids in a body or a filter: 400; lists without B's rows).
    Bodies are valid, so that a request that reached B's rows would change them (and the snapshot would tell).
    """
    ids = ids or {}
    bodies = bodies or {}

    def path(w: World, side: Side, other: Side) -> str:
        text = sub
        for param, attr in ids.items():
            text = text.replace(f"<{param}>", str(getattr(other, attr).pk))
        return f"manage/businesses/{side.business.slug}/{text}"

    def make(w: World) -> list[Probe]:
        probes = []
        for method in (["get"] if get else []) + list(bodies):
            body = bodies[method](w) if method in bodies else None
            for who in ("manager", "staff"):
                probes.append(Probe(who, method, path(w, w.b, w.b), body))
            if ids:
                probes.append(Probe("manager", method, path(w, w.a, w.b), body))
                staff_expect = REFUSED if method in WRITES or not staff_reads else NOT_FOUND
                probes.append(Probe("staff", method, path(w, w.a, w.b), body, staff_expect))
        return probes + (at_a(w) if at_a else [])

    return Probes(make)


def booking_probes(path: str, body: Callable[[World], dict[str, Any]] | None = None, method: str = "post") -> Probes:
    """A customer-API route about one booking (or payment): A's manager and staff ask for B's row: 404."""

    def make(w: World) -> list[Probe]:
        url = path.format(booking=w.b.booking.pk, payment=w.b.payment.pk)
        payload = body(w) if body else None
        return [Probe(who, method, url, payload) for who in ("manager", "staff")]

    return Probes(make)


def _no_b_payment_in_csv(response: Any, w: World) -> None:
    """The statement is A's: no line names B's payment (column payment_id)."""
    import csv
    import io

    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert str(w.b.payment.pk) not in {row.get("payment_id") for row in rows}


def _b_waitlist_entry(w: World) -> Any:
    """A waitlist entry of B's (the customer's). The waitlist app is above payments: its model by name."""
    from django.utils import timezone

    return django_apps.get_model("waitlist", "WaitlistEntry").objects.create(
        business=w.b.business,
        customer=w.customer,
        service=w.b.service,
        date_from=w.day,
        date_to=w.day,
        time_from=time(10),
        time_to=time(11),
        created_at=timezone.now(),
    )


def waitlist_probes(path: str, method: str) -> Probes:
    """A customer-API waitlist route: A's manager and staff name B's entry, or an offer link that is not theirs
    (offers are found by their secret token and the signed-in customer): 404."""

    def make(w: World) -> list[Probe]:
        url = path.format(entry=_b_waitlist_entry(w).pk, token="0" * 40)
        return [Probe(who, method, url) for who in ("manager", "staff")]

    return Probes(make)


def _no_b_waitlist(w: World) -> list[Probe]:
    entry = _b_waitlist_entry(w)

    def check(response: Any, world: World) -> None:
        assert entry.pk not in {row["id"] for row in response.json()}

    return [Probe(who, "get", "waitlist", expect=frozenset({200}), check=check) for who in ("manager", "staff")]


TAX_PROFILE = {
    "legal_name_ar": "مسبار",
    "street": "Probe Street",
    "building_number": "1234",
    "district": "Probe",
    "city": "Riyadh",
    "postal_code": "12214",
}


def _a(w: World, sub: str) -> str:
    return f"manage/businesses/{w.a.business.slug}/{sub}"


def _period_probes(sub: str) -> Callable[[World], list[Probe]]:
    """A period route at A's address: A's staff member 404, A's manager 200."""

    def make(w: World) -> list[Probe]:
        query = f"{sub}?from={w.day}&to={w.day}"
        return [
            Probe("staff", "get", _a(w, query), expect=frozenset({404})),
            Probe("manager", "get", _a(w, query), expect=frozenset({200})),
        ]

    return make


def _service_body(w: World) -> dict[str, Any]:
    return {"name_en": "Probe", "name_ar": "تجربة", "duration_minutes": 30, "price_amount": 1, "branches": []}


def _staff_body(w: World) -> dict[str, Any]:
    return {"phone": "0559876543", "name": "Probe", "branch": w.b.branch.pk}


def _span(w: World) -> dict[str, Any]:
    return {"start": w.at("12:00").isoformat(), "end": w.at("13:00").isoformat(), "reason": "probe"}


def _closure_body(w: World) -> dict[str, Any]:
    return {"name": "Probe", "start_date": str(w.day), "end_date": str(w.day)}


def _season_body(w: World, staff: int | None = None) -> dict[str, Any]:
    """A season of its own dates (no overlap with the sides' seasons), for everyone or for `staff`."""
    return {
        "name_en": "Probe",
        "start_date": str(w.day + timedelta(days=40)),
        "end_date": str(w.day + timedelta(days=45)),
        "hours": [{"staff": staff, "weekday": 6, "start_time": "10:00", "end_time": "12:00"}],
    }


def _holiday_keys(w: World) -> dict[str, Any]:
    """Every coming holiday: a request that reached B would create B's closures."""
    return {"keys": [h.key for h in saudi_holidays(w.day)]}


ROUTES: dict[str, Entry] = {
    # --- no business's private rows --------------------------------------------------------------------------
    "auth/otp/request": Public("sign-in: a phone number, no business"),
    "auth/otp/verify": Public("sign-in"),
    "auth/token/refresh": Public("sign-in"),
    "auth/logout": Public("sign-in"),
    "me": Public("the caller's own account"),
    "me/export": Public("the caller's own data, from rows that are theirs (docs/privacy.md)"),
    "me/delete/code": Public("sends a code to the caller's own phone"),
    "services": Public("the public catalog of the only business"),
    "services/<int:service_id>": Public("the public catalog"),
    "staff": Public("the public catalog"),
    "staff/<int:staff_id>": Public("the public catalog"),
    "staff/<int:staff_id>/availability": Public("the public catalog: free slots"),
    "availability": Public("the public catalog: free slots"),
    "payments/config": Public("the publishable key"),
    "businesses": Public("discovery: listed businesses' public profiles"),
    "businesses/<slug:slug>": Public("one business's public page"),
    "businesses/<slug:slug>/services": Public("one business's public catalog"),
    "businesses/<slug:slug>/staff": Public("one business's public catalog"),
    "businesses/<slug:slug>/availability": Public("one business's free slots"),
    "manage/businesses/<slug:slug>/settlements": manage_probes(
        "settlements",
        staff_reads=False,
        at_a=lambda w: [
            Probe("staff", "get", _a(w, "settlements"), expect=frozenset({404})),
            Probe(
                "manager",
                "get",
                _a(w, f"settlements?from={w.day}&to={w.day}"),
                expect=frozenset({200}),
                check=_no_b_payment_in_csv,
            ),
        ],
    ),
    "webhooks/moyasar": Public("Moyasar's, verified by its secret token; no user acts here"),
    "webhooks/whatsapp": Public("Meta's, verified by the app secret's signature; a tap acts only as the booking's customer"),
    # --- the customer API: a business's manager or staff sees no other business's bookings or payments --------
    "bookings": Probes(
        lambda w: [
            Probe(who, "get", "bookings", expect=frozenset({200}), check=_absent("booking"))
            for who in ("manager", "staff")
        ],
        not_probed={"post": "a customer's own new booking: anyone may book at any business"},
    ),
    "bookings/<int:booking_id>": booking_probes("bookings/{booking}", method="get"),
    "bookings/<int:booking_id>/cancel": booking_probes("bookings/{booking}/cancel", lambda w: {"reason": "x"}),
    "bookings/<int:booking_id>/reschedule": booking_probes(
        "bookings/{booking}/reschedule", lambda w: {"start": w.at("11:00").isoformat()}
    ),
    "bookings/<int:booking_id>/complete": booking_probes("bookings/{booking}/complete"),
    "bookings/<int:booking_id>/no-show": booking_probes("bookings/{booking}/no-show"),
    "bookings/<int:booking_id>/ics": booking_probes("bookings/{booking}/ics", method="get"),  # the customer's only
    "bookings/<int:booking_id>/pay": booking_probes("bookings/{booking}/pay", lambda w: {}),
    "waitlist": Probes(
        _no_b_waitlist, not_probed={"post": "a customer's own place in line: anyone may wait at any business"}
    ),
    "waitlist/<int:entry_id>": waitlist_probes("waitlist/{entry}", "delete"),
    "waitlist/offers/<str:token>": waitlist_probes("waitlist/offers/{token}", "get"),
    "waitlist/offers/<str:token>/claim": waitlist_probes("waitlist/offers/{token}/claim", "post"),
    "waitlist/offers/<str:token>/decline": waitlist_probes("waitlist/offers/{token}/decline", "post"),
    "payments/<int:payment_id>": booking_probes("payments/{payment}", method="get"),
    "payments/<int:payment_id>/capture": booking_probes("payments/{payment}/capture", lambda w: {}),
    "payments/<int:payment_id>/void": booking_probes("payments/{payment}/void", lambda w: {}),
    "payments/<int:payment_id>/refund": booking_probes("payments/{payment}/refund", lambda w: {"amount": 100}),
    "payments/<int:payment_id>/stcpay-otp": booking_probes(
        "payments/{payment}/stcpay-otp", lambda w: {"otp": "123456"}
    ),
    # invoices (apps.invoicing): the booking's customer only; a business's period for its managers
    "bookings/<int:booking_id>/invoices": booking_probes("bookings/{booking}/invoices", method="get"),
    "bookings/<int:booking_id>/invoices/<int:invoice_id>.html": booking_probes(
        "bookings/{booking}/invoices/1.html", method="get"
    ),
    "bookings/<int:booking_id>/invoices/<int:invoice_id>.xml": booking_probes(
        "bookings/{booking}/invoices/1.xml", method="get"
    ),
    **{
        f"manage/businesses/<slug:slug>/{sub}": manage_probes(sub, staff_reads=False, at_a=_period_probes(sub))
        for sub in ("invoices", "invoices/export.csv", "invoices/export.zip")
    },
    "manage/businesses/<slug:slug>/tax-profile": manage_probes(
        "tax-profile",
        bodies={"put": lambda w: TAX_PROFILE},
        at_a=lambda w: [
            Probe("staff", "get", _a(w, "tax-profile"), expect=frozenset({403})),
            Probe("staff", "put", _a(w, "tax-profile"), TAX_PROFILE, expect=frozenset({403})),
            Probe("manager", "get", _a(w, "tax-profile"), expect=frozenset({200})),
        ],
    ),
    # --- the manager API ---------------------------------------------------------------------------------------
    "manage/businesses/<slug:slug>/branches": manage_probes(
        "branches",
        bodies={"post": lambda w: {"name_en": "Probe"}},
        at_a=lambda w: [Probe("manager", "get", _a(w, "branches"), expect=frozenset({200}), check=_absent("branch"))],
    ),
    "manage/businesses/<slug:slug>/branches/<int:branch_id>": manage_probes(
        "branches/<id>",
        ids={"id": "branch"},
        bodies={"patch": lambda w: {"name_en": "Moved"}, "delete": lambda w: {}},
    ),
    "manage/businesses/<slug:slug>/services": manage_probes(
        "services",
        bodies={"post": _service_body},
        at_a=lambda w: [
            Probe("manager", "post", _a(w, "services"), {**_service_body(w), "branches": [w.b.branch.pk]}, INVALID),
            Probe("manager", "get", _a(w, "services"), expect=frozenset({200}), check=_absent("service")),
        ],
    ),
    "manage/businesses/<slug:slug>/services/<int:service_id>": manage_probes(
        "services/<id>",
        ids={"id": "service"},
        bodies={"patch": lambda w: {"price_amount": 1}, "delete": lambda w: {}},
        at_a=lambda w: [
            Probe("manager", "patch", _a(w, f"services/{w.a.service.pk}"), {"branches": [w.b.branch.pk]}, INVALID)
        ],
    ),
    "manage/businesses/<slug:slug>/staff": manage_probes(
        "staff",
        bodies={"post": lambda w: {**_staff_body(w), "branch": w.b.branch.pk}},
        at_a=lambda w: [
            Probe("manager", "post", _a(w, "staff"), _staff_body(w), INVALID),
            Probe(
                "manager",
                "post",
                _a(w, "staff"),
                {**_staff_body(w), "branch": w.a.branch.pk, "services": [w.b.service.pk]},
                INVALID,
            ),
            Probe("manager", "get", _a(w, "staff"), expect=frozenset({200}), check=_absent("staff")),
        ],
    ),
    "manage/businesses/<slug:slug>/staff/<int:staff_id>": manage_probes(
        "staff/<id>",
        ids={"id": "staff"},
        bodies={"patch": lambda w: {"display_name": "Moved"}, "delete": lambda w: {}},
        at_a=lambda w: [
            Probe("manager", "patch", _a(w, f"staff/{w.a.staff.pk}"), {"branch": w.b.branch.pk}, INVALID),
            Probe("manager", "patch", _a(w, f"staff/{w.a.staff.pk}"), {"services": [w.b.service.pk]}, INVALID),
        ],
    ),
    "manage/businesses/<slug:slug>/staff/<int:staff_id>/hours": manage_probes(
        "staff/<id>/hours",
        ids={"id": "staff"},
        bodies={"put": lambda w: {"hours": [{"weekday": 0, "start_time": "09:00", "end_time": "10:00"}]}},
    ),
    "manage/businesses/<slug:slug>/staff/<int:staff_id>/time-off": manage_probes(
        "staff/<id>/time-off", ids={"id": "staff"}, bodies={"post": _span}
    ),
    "manage/businesses/<slug:slug>/staff/<int:staff_id>/time-off/<int:time_off_id>": manage_probes(
        "staff/<staff>/time-off/<id>",
        get=False,
        ids={"staff": "staff", "id": "time_off"},
        bodies={"delete": lambda w: {}},
    ),
    "manage/businesses/<slug:slug>/closures": manage_probes(
        "closures",
        bodies={"post": _closure_body},
        at_a=lambda w: [
            Probe("manager", "post", _a(w, "closures"), {**_closure_body(w), "branch": w.b.branch.pk}, INVALID),
            Probe("manager", "get", _a(w, "closures"), expect=frozenset({200}), check=_absent("closure")),
        ],
    ),
    "manage/businesses/<slug:slug>/closures/<int:closure_id>": manage_probes(
        "closures/<id>",
        ids={"id": "closure"},
        bodies={"patch": lambda w: {"name": "Moved"}, "delete": lambda w: {}},
        at_a=lambda w: [
            Probe("manager", "patch", _a(w, f"closures/{w.a.closure.pk}"), {"branch": w.b.branch.pk}, INVALID)
        ],
    ),
    "manage/businesses/<slug:slug>/holidays": manage_probes(
        "holidays",
        at_a=lambda w: [Probe("staff", "get", _a(w, "holidays"), expect=REFUSED)],
    ),
    "manage/businesses/<slug:slug>/holidays/accept": manage_probes(
        "holidays/accept",
        get=False,
        bodies={"post": _holiday_keys},
        at_a=lambda w: [Probe("staff", "post", _a(w, "holidays/accept"), _holiday_keys(w), REFUSED)],
    ),
    "manage/businesses/<slug:slug>/seasons": manage_probes(
        "seasons",
        bodies={"post": _season_body},
        at_a=lambda w: [
            Probe("manager", "post", _a(w, "seasons"), {**_season_body(w), "branch": w.b.branch.pk}, INVALID),
            Probe("manager", "post", _a(w, "seasons"), _season_body(w, staff=w.b.staff.pk), INVALID),
            Probe("manager", "get", _a(w, "seasons"), expect=frozenset({200}), check=_absent("season")),
        ],
    ),
    "manage/businesses/<slug:slug>/seasons/<int:season_id>": manage_probes(
        "seasons/<id>",
        ids={"id": "season"},
        bodies={"patch": lambda w: {"name_en": "Moved"}, "delete": lambda w: {}},
        at_a=lambda w: [
            Probe("manager", "patch", _a(w, f"seasons/{w.a.season.pk}"), {"branch": w.b.branch.pk}, INVALID),
            Probe(
                "manager",
                "patch",
                _a(w, f"seasons/{w.a.season.pk}"),
                {"hours": [{"staff": w.b.staff.pk, "weekday": 0, "start_time": "10:00", "end_time": "11:00"}]},
                INVALID,
            ),
        ],
    ),
    "manage/businesses/<slug:slug>/seasons/ramadan-proposal": manage_probes(
        "seasons/ramadan-proposal",
        at_a=lambda w: [Probe("staff", "get", _a(w, "seasons/ramadan-proposal"), expect=REFUSED)],
    ),
    "manage/businesses/<slug:slug>/seasons/ramadan": manage_probes(
        "seasons/ramadan",
        get=False,
        bodies={"post": lambda w: {}},
        at_a=lambda w: [
            Probe("staff", "post", _a(w, "seasons/ramadan"), {}, REFUSED),
            Probe("manager", "post", _a(w, "seasons/ramadan"), {"branch": w.b.branch.pk}, INVALID),
        ],
    ),
    "manage/businesses/<slug:slug>/policies": manage_probes(
        "policies", bodies={"patch": lambda w: {"min_notice_minutes": 1, "name_en": "Taken over"}}
    ),
    "manage/businesses/<slug:slug>/time-off-requests": manage_probes(
        "time-off-requests",
        staff_reads=False,
        at_a=lambda w: [
            Probe("manager", "get", _a(w, "time-off-requests"), expect=frozenset({200}), check=_absent("request"))
        ],
    ),
    "manage/businesses/<slug:slug>/time-off-requests/<int:request_id>/approve": manage_probes(
        "time-off-requests/<id>/approve", get=False, ids={"id": "request"}, bodies={"post": lambda w: {}}
    ),
    "manage/businesses/<slug:slug>/time-off-requests/<int:request_id>/decline": manage_probes(
        "time-off-requests/<id>/decline", get=False, ids={"id": "request"}, bodies={"post": lambda w: {}}
    ),
    "manage/businesses/<slug:slug>/waitlist": manage_probes(
        "waitlist",
        at_a=lambda w: [
            Probe("manager", "get", _a(w, "waitlist"), expect=frozenset({200})),
            Probe("staff", "get", _a(w, "waitlist"), expect=frozenset({403})),
        ],
    ),
    "manage/businesses/<slug:slug>/bookings": manage_probes(
        "bookings",
        at_a=lambda w: [
            Probe("manager", "get", _a(w, f"bookings?date={w.day}"), expect=frozenset({200}), check=_absent("booking")),
            Probe("staff", "get", _a(w, f"bookings?date={w.day}"), expect=frozenset({200}), check=_absent("booking")),
            Probe("manager", "get", _a(w, f"bookings?date={w.day}&branch={w.b.branch.pk}"), expect=INVALID),
            Probe("manager", "get", _a(w, f"bookings?date={w.day}&staff={w.b.staff.pk}"), expect=INVALID),
        ],
    ),
    "manage/businesses/<slug:slug>/bookings/<int:booking_id>": manage_probes("bookings/<id>", ids={"id": "booking"}),
    "manage/businesses/<slug:slug>/bookings/<int:booking_id>/venue-payments": manage_probes(
        "bookings/<id>/venue-payments",
        ids={"id": "booking"},
        bodies={"post": lambda w: {"amount": 100, "method": "cash"}},
    ),
    "manage/businesses/<slug:slug>/bookings/<int:booking_id>/confirm": manage_probes(
        "bookings/<id>/confirm", get=False, ids={"id": "booking"}, bodies={"post": lambda w: {}}
    ),
    "manage/businesses/<slug:slug>/bookings/<int:booking_id>/complete": manage_probes(
        "bookings/<id>/complete", get=False, ids={"id": "booking"}, bodies={"post": lambda w: {}}
    ),
    "manage/businesses/<slug:slug>/bookings/<int:booking_id>/no-show": manage_probes(
        "bookings/<id>/no-show", get=False, ids={"id": "booking"}, bodies={"post": lambda w: {}}
    ),
    "manage/businesses/<slug:slug>/bookings/<int:booking_id>/cancel": manage_probes(
        "bookings/<id>/cancel", get=False, ids={"id": "booking"}, bodies={"post": lambda w: {"reason": "probe"}}
    ),
    "manage/businesses/<slug:slug>/bookings/<int:booking_id>/reschedule": manage_probes(
        "bookings/<id>/reschedule",
        get=False,
        ids={"id": "booking"},
        bodies={"post": lambda w: {"start": w.at("11:00").isoformat()}},
    ),
    # --- a staff member's own: always their business's rows --------------------------------------------------
    "manage/me/schedule": Probes(
        lambda w: [
            Probe(
                "staff",
                "get",
                "manage/me/schedule",
                expect=frozenset({200}),
                check=_both(_absent("booking", "bookings"), _absent("time_off", "time_off")),
            ),
            Probe("manager", "get", "manage/me/schedule"),  # no staff profile: 404
        ]
    ),
    "manage/me/calendar-feed": Probes(
        lambda w: [
            Probe("staff", "get", "manage/me/calendar-feed", expect=frozenset({200})),
            Probe("staff", "post", "manage/me/calendar-feed", expect=frozenset({201})),  # A's own, never B's
            Probe("staff", "delete", "manage/me/calendar-feed", expect=frozenset({204})),
            *(Probe("manager", method, "manage/me/calendar-feed") for method in ("get", "post", "delete")),  # 404
        ]
    ),
    "manage/me/time-off": Probes(
        lambda w: [
            Probe("staff", "get", "manage/me/time-off", expect=frozenset({200}), check=_absent("request")),
            Probe("staff", "post", "manage/me/time-off", _span(w), expect=frozenset({201})),  # A's, never B's
            Probe("manager", "post", "manage/me/time-off", _span(w)),
        ]
    ),
}


# --- the routes -------------------------------------------------------------------------------------------------


def _walk(patterns: list[Any], prefix: str = "") -> Iterator[tuple[str, URLPattern]]:
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _walk(pattern.url_patterns, prefix + str(pattern.pattern))
        else:
            yield prefix + str(pattern.pattern), pattern


def api_routes() -> dict[str, URLPattern]:
    """Every route under /api/v1/, by its pattern after the prefix (`bookings/<int:booking_id>/cancel`)."""
    return {
        route[len(API) :]: pattern for route, pattern in _walk(get_resolver().url_patterns) if route.startswith(API)
    }


def _methods(pattern: URLPattern) -> set[str]:
    view = getattr(pattern.callback, "view_class", None)
    return {m for m in ("get", "post", "put", "patch", "delete") if view is not None and hasattr(view, m)}


@pytest.mark.parametrize("route", sorted(api_routes()))
def test_every_route_is_isolated(route, world):
    entry = ROUTES.get(route)
    assert entry is not None, f"/api/v1/{route} has no entry in ROUTES: say how it keeps businesses apart"
    if isinstance(entry, Public):
        return
    before = snapshot(world.b.business)
    probes = entry.make(world)
    assert probes
    for probe in probes:
        client = world.clients[probe.who]
        response = getattr(client, probe.method)(f"/api/v1/{probe.path}", probe.body, format="json")
        assert response.status_code in probe.expect, (probe, response.status_code, response.content[:300])
        if probe.check:
            probe.check(response, world)
    assert snapshot(world.b.business) == before, f"/api/v1/{route} changed business B's rows"


@pytest.mark.parametrize("route", sorted(r for r, e in ROUTES.items() if isinstance(e, Probes)))
def test_every_method_is_probed(route, world):
    routes = api_routes()
    assert route in routes, f"ROUTES names /api/v1/{route}, which no longer exists: remove it"
    entry = ROUTES[route]
    assert isinstance(entry, Probes)
    probed = {probe.method for probe in entry.make(world)} | set(entry.not_probed)
    assert _methods(routes[route]) <= probed, f"/api/v1/{route}: no probe for {_methods(routes[route]) - probed}"


def test_stale_public_entries_are_removed():
    assert {r for r, e in ROUTES.items() if isinstance(e, Public)} <= set(api_routes())


def test_a_customers_bookings_span_businesses(world):
    client = APIClient()
    from rest_framework_simplejwt.tokens import RefreshToken

    client.credentials(HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(world.customer).access_token}")
    rows = client.get("/api/v1/bookings").json()["results"]
    assert {(row["id"], row["business"]) for row in rows} == {
        (world.a.booking.pk, world.a.business.pk),
        (world.b.booking.pk, world.b.business.pk),
    }


def test_a_manager_cancelling_a_paid_booking_refunds_it_in_full(world):
    """The payments subscriber runs inside the manager API's business scope (its rows are the booking's)."""
    a = world.a
    Payment.objects.filter(pk=a.payment.pk).update(status=Payment.Status.CAPTURED, captured_amount=15000)
    response = world.clients["manager"].post(
        f"/api/v1/manage/businesses/{a.business.slug}/bookings/{a.booking.pk}/cancel",
        {"reason": "Closed"},
        format="json",
    )
    assert response.status_code == 200, response.content
    assert response.json()["payment"] is not None
    payment = Payment.objects.get(pk=a.payment.pk)
    assert payment.on_cancel == Payment.OnCancel.FULL
    assert Booking.objects.get(pk=a.booking.pk).status == Booking.Status.CANCELLED
