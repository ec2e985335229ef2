"""Many businesses on one admin: a manager (or staff member) of business A gets nothing of business B's rows, on
every route the admin has, and can create or move nothing into B.

One table (`ROUTES`) names, for every ModelAdmin registered on the site, how to find a business's rows and which
posts try to reach B from A; `test_every_registered_admin_has_a_route` fails when an admin is registered without
an entry, so a new route cannot ship untested. For each route: the list (B's rows absent), B's change, delete and
history pages (never 200), the add form's choices (no B option anywhere, inlines included), the posts (refused,
nothing written), the autocomplete of each relation, and each action on B's ids (nothing happens). A superuser
sees both businesses; a staff member of A sees their own bookings only; a manager of A who is staff at B manages
A and sees their own bookings at B. Outside the middleware, an admin query raises `ScopeError`.

Lives under config/ (the site as a whole): it reads every app's models, which no app may import all of.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib import admin
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core.management import call_command
from django.db import connection, models
from django.forms import ModelChoiceField
from django.test import Client, RequestFactory
from django.utils import timezone

from apps.accounts.models import OtpChallenge, OtpVerifyAttempt, User
from apps.accounts.tests.factories import UserFactory
from apps.bookings.models import Booking, BookingStatusChange
from apps.bookings.tests.factories import BookingFactory
from apps.catalog.models import (
    Branch,
    Business,
    BusinessOwned,
    Closure,
    Membership,
    ScheduleException,
    Season,
    SeasonalHours,
    Service,
    Staff,
    WorkingHours,
)
from apps.catalog.tests.factories import BusinessFactory, MembershipFactory, ServiceFactory, StaffFactory, main_branch
from apps.core.scoping import ScopeError, enforced
from apps.invoicing.models import Invoice, InvoiceSeries, TaxProfile, ZatcaCredential
from apps.invoicing.services import invoice_issue
from apps.notifications.models import Notification, NotificationAttempt, WhatsAppContact, WhatsAppEvent
from apps.payments.models import LedgerEntry, Payment, PaymentEvent, Refund, VenuePayment, WebhookEvent
from apps.waitlist.models import WaitlistEntry, WaitlistOffer

pytestmark = pytest.mark.django_db


# --- two businesses ---------------------------------------------------------------------------------------------


@dataclass
class Side:
    business: Business
    branch: Branch
    service: Service
    staff: Staff
    customer: User
    booking: Booking
    payment: Payment
    notification: Notification
    membership: Membership
    entry: WaitlistEntry
    offer: WaitlistOffer
    people: list[User] = field(default_factory=list)


def _side(business: Business, n: int) -> Side:
    branch = main_branch(business)
    service = ServiceFactory(business=business, name_en=f"Service {n}")
    staff = StaffFactory(business=business, branch=branch, services=[service], display_name=f"Staff {n}")
    customer = UserFactory(name=f"Customer {n}")
    booking = BookingFactory(staff=staff, service=service, customer=customer, status=Booking.Status.PENDING_PAYMENT)
    BookingStatusChange.objects.create(booking=booking, from_status="", to_status=booking.status)
    payment = Payment.objects.create(
        booking=booking, flow="token", status="authorized", amount=15000, authorized_amount=15000,
        needs_attention=True,
    )
    Refund.objects.create(payment=payment, kind=Refund.Kind.MANUAL, amount=100)
    VenuePayment.objects.create(booking=booking, amount=100, method=VenuePayment.Method.CASH)
    PaymentEvent.objects.create(payment=payment, kind="created", source=PaymentEvent.Source.ADMIN)
    WebhookEvent.objects.create(event_id=f"evt-{n}", type="payment_paid", live=False, payload={}, payment=payment)
    notification = Notification.objects.create(
        event_key=f"booking_confirmed:{booking.pk}", template="booking_confirmed", recipient=customer,
        channel="sms", language="ar", booking=booking, status=Notification.Status.FAILED,
    )
    NotificationAttempt.objects.create(notification=notification, number=1)
    ScheduleException.objects.create(
        staff=staff, start=timezone.now() + timedelta(days=20), end=timezone.now() + timedelta(days=20, hours=1)
    )
    Closure.objects.create(business=business, branch=branch, name=f"Closed {n}", start_date="2027-01-01",
                           end_date="2027-01-02")
    season = Season.objects.create(business=business, name_en=f"Season {n}", start_date="2027-02-08",
                                   end_date="2027-03-08")
    SeasonalHours.objects.create(season=season, staff=staff, weekday=0, start_time="21:00", end_time="23:00")
    member = MembershipFactory(business=business, role=Membership.Role.MANAGER, user__name=f"Manager {n}")
    Business.objects.filter(pk=business.pk).update(vat_number=f"3{n:013d}3")
    TaxProfile.objects.create(business=business, legal_name_ar=f"نشاط {n}", street="S", building_number="1234",
                              district="D", city="C", postal_code="12345")
    invoice_issue(booking_id=booking.pk, gross=15000, means="card")
    ZatcaCredential.objects.create(business=business, environment="sandbox", egs_serial=f"egs-{n}",
                                   private_key_pem="-", csr_pem="-")
    day = (timezone.now() + timedelta(days=5)).date()
    entry = WaitlistEntry.objects.create(business=business, customer=customer, service=service, staff=staff,
                                         date_from=day, date_to=day, time_from="10:00", time_to="12:00",
                                         status=WaitlistEntry.Status.OFFERED, created_at=timezone.now())
    colleague = StaffFactory(business=business, branch=branch, services=[service], display_name=f"Colleague {n}")
    hold = BookingFactory(staff=colleague, service=service, customer=customer, status=Booking.Status.PENDING_PAYMENT)
    offer = WaitlistOffer.objects.create(business=business, entry=entry, staff=colleague, start=hold.start,
                                         end=hold.end,
                                         hold=hold, expires_at=timezone.now() + timedelta(minutes=15),
                                         token_hash=f"{n:064d}", created_at=timezone.now())
    WhatsAppEvent.objects.create(key=f"message:wamid-{n}", kind=WhatsAppEvent.Kind.MESSAGE, payload={"n": n})
    WhatsAppContact.objects.create(wa_id=str(customer.phone).lstrip("+"), last_inbound_at=timezone.now())
    people = [staff.user, customer, member.user]
    for person in people:
        OtpChallenge.objects.create(phone=str(person.phone), nonce="n", expires_at=timezone.now())
        OtpVerifyAttempt.objects.create(phone=str(person.phone), client_key="k", pool="untrusted")
        attempt = AccessAttempt.objects.create(username=str(person.phone), ip_address="198.51.100.1", user_agent="t",
                                               http_accept="*", path_info="/admin/", get_data="", post_data="",
                                               failures_since_start=1)
        AccessLog.objects.create(username=str(person.phone), ip_address="198.51.100.1", user_agent="t",
                                 http_accept="*", path_info="/admin/")
        AccessFailureLog.objects.create(username=str(person.phone), ip_address="198.51.100.1", user_agent="t",
                                        http_accept="*", path_info="/admin/", locked_out=False)
        assert attempt.pk
    return Side(business, branch, service, staff, customer, booking, payment, notification, member, entry, offer,
                people)


@dataclass
class World:
    a: Side
    b: Side
    manager: User  # runs A only


@pytest.fixture
def world(business) -> World:
    a = _side(business, 1)
    b = _side(BusinessFactory(slug="other", name_en="Other"), 2)
    manager = UserFactory(name="Manager of A", is_staff=True)
    MembershipFactory(business=a.business, user=manager, role=Membership.Role.MANAGER)
    call_command("setup_roles", stdout=open("/dev/null", "w"))  # noqa: SIM115, PTH123
    return World(a, b, manager)


def login(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


# --- the table: every registered admin ------------------------------------------------------------------------

Rows = Callable[[Side], models.QuerySet]
Attack = Callable[[World], tuple[str, dict[str, Any]]]


def owned(model: type[models.Model]) -> Rows:
    return lambda side: model.objects.filter(business=side.business)


def by_phone(model: type[models.Model], name: str) -> Rows:
    """Sign-in records of a business's members (not of its customers: docs/privacy.md)."""
    return lambda side: model.objects.filter(
        **{f"{name}__in": [str(p.phone) for p in side.people if p.pk != side.customer.pk]}
    )


@dataclass(frozen=True)
class Route:
    rows: Rows | None  # a business's rows; None: the platform's only (no manager sees the list)
    attacks: tuple[Attack, ...] = ()


def _url(model: type[models.Model], suffix: str = "") -> str:
    return f"/admin/{model._meta.app_label}/{model._meta.model_name}/{suffix}"


def _service_form(w: World, **extra: Any) -> dict[str, Any]:
    return {"business": w.a.business.pk, "name_en": "New", "name_ar": "جديد", "duration_minutes": 30,
            "price_amount": 100, "currency": "SAR", "buffer_before_minutes": 0, "buffer_after_minutes": 0,
            "is_active": "on", "display_order": 0, **extra}


def _staff_form(w: World, **extra: Any) -> dict[str, Any]:
    return {"user": w.a.customer.pk, "branch": w.a.branch.pk, "display_name": "New", "bio": "", "photo_url": "",
            "is_active": "on", "display_order": 0, "working_hours-TOTAL_FORMS": 0, "working_hours-INITIAL_FORMS": 0,
            "exceptions-TOTAL_FORMS": 0, "exceptions-INITIAL_FORMS": 0, **extra}


def _season_form(w: World, **extra: Any) -> dict[str, Any]:
    return {"business": w.a.business.pk, "name_en": "New", "name_ar": "", "start_date": "2027-06-01",
            "end_date": "2027-06-10", "hours-TOTAL_FORMS": 0, "hours-INITIAL_FORMS": 0, **extra}


ROUTES: dict[str, Route] = {
    "catalog.business": Route(
        lambda side: Business.objects.filter(pk=side.business.pk),
        (
            lambda w: (_url(Business, "add/"), {"slug": "sneaky", "name_en": "Sneaky", "category": "salon"}),
            lambda w: (_url(Business, f"{w.b.business.pk}/change/"), {"slug": "taken", "name_en": "Taken"}),
            lambda w: (_url(Business, f"{w.a.business.pk}/change/"), {"commission_bps": 0, "is_active": ""}),
        ),
    ),
    "catalog.branch": Route(
        owned(Branch),
        (
            lambda w: (_url(Branch, "add/"), {"business": w.b.business.pk, "name_en": "Mine now",
                                              "is_active": "on", "display_order": 0}),
            lambda w: (_url(Branch, f"{w.b.branch.pk}/change/"), {"name_en": "Taken", "display_order": 0}),
        ),
    ),
    "catalog.membership": Route(
        owned(Membership),
        (
            lambda w: (_url(Membership, "add/"), {"business": w.b.business.pk, "phone": "0509999999",
                                                  "role": "owner"}),
            lambda w: (_url(Membership, f"{w.b.membership.pk}/change/"), {"role": "staff"}),
            lambda w: (_url(Membership, f"{w.b.membership.pk}/delete/"), {"post": "yes"}),
        ),
    ),
    "catalog.service": Route(
        owned(Service),
        (
            lambda w: (_url(Service, "add/"), _service_form(w, business=w.b.business.pk)),
            lambda w: (_url(Service, "add/"), _service_form(w, branches=[w.b.branch.pk])),
            lambda w: (_url(Service, f"{w.a.service.pk}/change/"), _service_form(w, branches=[w.b.branch.pk])),
            lambda w: (_url(Service, f"{w.b.service.pk}/change/"), _service_form(w, name_en="Taken")),
            lambda w: (_url(Service), {"form-TOTAL_FORMS": 1, "form-INITIAL_FORMS": 1, "form-0-id": w.b.service.pk,
                                       "form-0-display_order": 7, "_save": "Save"}),
        ),
    ),
    "catalog.staff": Route(
        owned(Staff),
        (
            lambda w: (_url(Staff, "add/"), _staff_form(w, branch=w.b.branch.pk)),
            lambda w: (_url(Staff, "add/"), _staff_form(w, services=[w.b.service.pk])),
            lambda w: (_url(Staff, "add/"), _staff_form(w, user=w.b.customer.pk)),
            lambda w: (_url(Staff, f"{w.a.staff.pk}/change/"),
                       _staff_form(w, user=w.a.staff.user_id, services=[w.b.service.pk])),
            lambda w: (_url(Staff, f"{w.a.staff.pk}/change/"),
                       _staff_form(w, user=w.a.staff.user_id, branch=w.b.branch.pk)),
            lambda w: (_url(Staff, f"{w.b.staff.pk}/change/"), _staff_form(w, user=w.b.staff.user_id)),
        ),
    ),
    "catalog.workinghours": Route(
        owned(WorkingHours),
        (
            lambda w: (_url(WorkingHours, "add/"), {"staff": w.b.staff.pk, "weekday": 0, "start_time": "01:00",
                                                    "end_time": "02:00"}),
        ),
    ),
    "catalog.scheduleexception": Route(
        owned(ScheduleException),
        (
            lambda w: (_url(ScheduleException, "add/"), {"staff": w.b.staff.pk, "kind": "time_off",
                                                         "start_0": "2027-02-01", "start_1": "10:00",
                                                         "end_0": "2027-02-01", "end_1": "11:00"}),
        ),
    ),
    "catalog.closure": Route(
        owned(Closure),
        (
            lambda w: (_url(Closure, "add/"), {"business": w.b.business.pk, "name": "Eid", "start_date": "2027-03-01",
                                               "end_date": "2027-03-02"}),
            lambda w: (_url(Closure, "add/"), {"branch": w.b.branch.pk, "name": "Eid", "start_date": "2027-03-01",
                                               "end_date": "2027-03-02"}),
        ),
    ),
    "catalog.season": Route(
        owned(Season),
        (
            lambda w: (_url(Season, "add/"), _season_form(w, business=w.b.business.pk)),
            lambda w: (_url(Season, "add/"), _season_form(w, branch=w.b.branch.pk)),
            lambda w: (_url(Season, "add/"), _season_form(w, **{"hours-TOTAL_FORMS": 1, "hours-0-staff": w.b.staff.pk,
                                                                  "hours-0-weekday": 0, "hours-0-start_time": "10:00",
                                                                  "hours-0-end_time": "11:00"})),
            lambda w: (_url(Season, f"{Season.objects.get(business=w.b.business).pk}/change/"),
                       _season_form(w, name_en="Taken")),
        ),
    ),
    "bookings.booking": Route(
        owned(Booking),
        (
            lambda w: (_url(Booking, f"{w.b.booking.pk}/change/"), {"notes": "mine"}),
            lambda w: (_url(Booking, f"{w.b.booking.pk}/reschedule/"), {"date": "2027-01-05", "time": "10:00"}),
            lambda w: (_url(Booking, f"{w.b.booking.pk}/cancel/"), {"reason": "taken"}),
        ),
    ),
    "payments.payment": Route(owned(Payment)),
    "payments.refund": Route(owned(Refund)),
    "payments.venuepayment": Route(owned(VenuePayment)),  # read-only: no post reaches it
    "payments.ledgerentry": Route(owned(LedgerEntry)),
    "payments.webhookevent": Route(owned(WebhookEvent)),
    "invoicing.invoice": Route(owned(Invoice)),  # read-only: no post reaches it
    "invoicing.invoiceseries": Route(owned(InvoiceSeries)),
    "invoicing.zatcacredential": Route(owned(ZatcaCredential)),  # read-only: no post reaches it
    "invoicing.taxprofile": Route(
        owned(TaxProfile),
        (
            lambda w: (_url(TaxProfile, "add/"), {"business": w.b.business.pk, "legal_name_ar": "مملوك",
                                                  "street": "S", "building_number": "1234", "district": "D",
                                                  "city": "C", "postal_code": "12345"}),
        ),
    ),
    "notifications.notification": Route(owned(Notification)),
    "notifications.whatsappevent": Route(  # the platform's alone
        None,
        (lambda w: (_url(WhatsAppEvent, f"{WhatsAppEvent.objects.first().pk}/change/"), {"outcome": "mine"}),),
    ),
    "notifications.whatsappcontact": Route(
        None,
        (lambda w: (_url(WhatsAppContact, f"{WhatsAppContact.objects.first().pk}/delete/"), {"post": "yes"}),),
    ),
    "waitlist.waitlistentry": Route(  # read-only: every change goes through the waitlist's services
        owned(WaitlistEntry),
        (
            lambda w: (_url(WaitlistEntry, f"{w.b.entry.pk}/change/"), {"status": "left"}),
            lambda w: (_url(WaitlistEntry, f"{w.b.entry.pk}/delete/"), {"post": "yes"}),
            lambda w: (_url(WaitlistEntry, "add/"), {"customer": w.b.customer.pk, "service": w.b.service.pk,
                                                     "date_from": "2027-02-01", "date_to": "2027-02-01",
                                                     "time_from": "10:00", "time_to": "11:00"}),
        ),
    ),
    "waitlist.waitlistoffer": Route(
        owned(WaitlistOffer),
        (
            lambda w: (_url(WaitlistOffer, f"{w.b.offer.pk}/change/"), {"status": "claimed"}),
            lambda w: (_url(WaitlistOffer, f"{w.b.offer.pk}/delete/"), {"post": "yes"}),
        ),
    ),
    "accounts.user": Route(
        lambda side: User.objects.filter(pk__in=[p.pk for p in side.people]),
        (
            lambda w: (_url(User, "add/"), {"phone": "0508888888", "password1": "x-Long-pass-1",
                                            "password2": "x-Long-pass-1"}),
            lambda w: (_url(User, f"{w.b.customer.pk}/change/"), {"phone": "0508888887", "is_superuser": "on"}),
            lambda w: (_url(User, f"{w.a.customer.pk}/change/"), {"phone": "0508888886", "is_superuser": "on"}),
        ),
    ),
    "accounts.otpchallenge": Route(by_phone(OtpChallenge, "phone")),
    "accounts.otpverifyattempt": Route(by_phone(OtpVerifyAttempt, "phone")),
    "axes.accessattempt": Route(by_phone(AccessAttempt, "username")),
    "axes.accesslog": Route(by_phone(AccessLog, "username")),
    "axes.accessfailurelog": Route(None),  # no manager permission: the platform's
    "auth.group": Route(None),
    "token_blacklist.outstandingtoken": Route(None),
    "token_blacklist.blacklistedtoken": Route(None),
    "procrastinate.procrastinatejob": Route(None),
}

LABELS = sorted(ROUTES)


def _admin(label: str) -> tuple[type[models.Model], admin.ModelAdmin]:
    for model, model_admin in admin.site._registry.items():
        if model._meta.label_lower == label:
            return model, model_admin
    raise AssertionError(f"{label} is not registered")


# --- what B has, before and after ---------------------------------------------------------------------------


def _scoped_models() -> list[type[models.Model]]:
    from django.apps import apps

    return [m for m in apps.get_models() if issubclass(m, BusinessOwned)]


def snapshot(w: World) -> dict[str, Any]:
    """Everything of B (its rows, every column), its people, the platform's businesses, and the job queue."""
    state: dict[str, Any] = {
        m._meta.label: sorted(map(repr, m.objects.filter(business=w.b.business).values())) for m in _scoped_models()
    }
    # Every business's own columns; the search columns are derived from its branches and services (a branch or
    # service added to A rightly refreshes A's), so they are left out.
    derived = {"search_text", "catalog_text", "city_keys"}
    columns = [f.attname for f in Business._meta.concrete_fields if f.attname not in derived]
    state["businesses"] = sorted(map(repr, Business.objects.values(*columns)))
    state["people"] = sorted(map(repr, User.objects.exclude(pk=w.manager.pk).values()))
    state["links"] = sorted(map(repr, Service.branches.through.objects.values())) + sorted(
        map(repr, Staff.services.through.objects.values())
    )
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM procrastinate_jobs")
        state["jobs"] = cursor.fetchone()[0]
    return state


def cross_business_links() -> list[str]:
    """Rows that point at a row of another business (none may exist)."""
    bad = [f"staff {s.pk}: branch" for s in Staff.objects.select_related("branch") if s.branch.business_id != s.business_id]
    bad += [
        f"service {link.service_id}: branch {link.branch_id}"
        for link in Service.branches.through.objects.select_related("service", "branch")
        if link.service.business_id != link.branch.business_id
    ]
    bad += [
        f"staff {link.staff_id}: service {link.service_id}"
        for link in Staff.services.through.objects.select_related("staff", "service")
        if link.staff.business_id != link.service.business_id
    ]
    bad += [
        f"closure {c.pk}" for c in Closure.objects.select_related("branch") if c.branch and c.branch.business_id != c.business_id
    ]
    bad += [
        f"{m.__name__} {row.pk}"
        for m in (WorkingHours, ScheduleException)
        for row in m.objects.select_related("staff")
        if row.staff.business_id != row.business_id
    ]
    return bad


# --- the suite --------------------------------------------------------------------------------------------------


def test_every_registered_admin_has_a_route():
    registered = {model._meta.label_lower for model in admin.site._registry}
    assert registered - set(ROUTES) == set(), "a registered admin without an isolation route: add it to ROUTES"
    assert set(ROUTES) - registered == set(), "a route for an admin that is no longer registered"


@pytest.mark.parametrize("label", LABELS)
def test_the_list_shows_a_manager_their_business_only(world, label):
    route = ROUTES[label]
    model, _model_admin = _admin(label)
    response = login(world.manager).get(_url(model))

    if route.rows is None:
        assert response.status_code == 403
        return
    assert response.status_code == 200
    shown = {obj.pk for obj in response.context["cl"].queryset}
    assert shown.isdisjoint(route.rows(world.b).values_list("pk", flat=True))
    assert set(route.rows(world.a).values_list("pk", flat=True)) <= shown
    # The filters offer no B row (a staff filter lists the staff of the rows shown).
    for spec in response.context["cl"].filter_specs:
        for choice in getattr(spec, "lookup_choices", []):
            value = choice[0] if isinstance(choice, tuple) else choice
            assert str(value) not in {str(pk) for pk in _b_pks_of(world, getattr(spec, "field", None))}


def _b_pks_of(w: World, field: Any) -> set[int]:
    if field is None or not getattr(field, "is_relation", False):
        return set()
    related = field.related_model
    if related is Business:
        return {w.b.business.pk}
    if issubclass(related, BusinessOwned):
        return set(related.objects.filter(business=w.b.business).values_list("pk", flat=True))
    if related is User:
        return {p.pk for p in w.b.people}
    return set()


@pytest.mark.parametrize("label", LABELS)
def test_bs_pages_are_not_there_for_a_manager_of_a(world, label):
    route = ROUTES[label]
    model, _model_admin = _admin(label)
    client = login(world.manager)
    rows = route.rows(world.b) if route.rows else model._default_manager.all()
    for pk in list(rows.values_list("pk", flat=True))[:3]:
        for page in ("change/", "delete/", "history/"):
            response = client.get(_url(model, f"{pk}/{page}"))
            assert response.status_code in (302, 403, 404), (label, pk, page)


@pytest.mark.parametrize("label", LABELS)
def test_the_add_form_offers_no_b_choice(world, label):
    model, model_admin = _admin(label)
    response = login(world.manager).get(_url(model, "add/"))
    if response.status_code != 200:
        assert response.status_code == 403
        return
    forms = [response.context["adminform"].form]
    forms += [formset.formset.empty_form for formset in response.context["inline_admin_formsets"]]
    for form in forms:
        for name, form_field in form.fields.items():
            if isinstance(form_field, ModelChoiceField):
                offered = set(form_field.queryset.values_list("pk", flat=True))
                b_rows = _b_pks_of(world, form._meta.model._meta.get_field(name))
                assert offered.isdisjoint(b_rows), (label, name)
    assert "business" not in response.context["adminform"].form.fields  # theirs, set for them


@pytest.mark.parametrize("label", [label for label in LABELS if ROUTES[label].attacks])
def test_posts_cannot_reach_into_b(world, label):
    client = login(world.manager)
    before = snapshot(world)

    for attack in ROUTES[label].attacks:
        url, data = attack(world)
        response = client.post(url, data)
        assert response.status_code in (200, 302, 403, 404), (url, response.status_code)  # a form error, never 500

    assert snapshot(world) == before
    assert cross_business_links() == []


@pytest.mark.parametrize("label", LABELS)
def test_autocomplete_returns_no_b_row(world, label):
    model, _model_admin = _admin(label)
    client = login(world.manager)
    for db_field in model._meta.get_fields():
        if not (db_field.is_relation and db_field.concrete and (db_field.many_to_one or db_field.many_to_many)):
            continue
        response = client.get(
            "/admin/autocomplete/",
            {"app_label": model._meta.app_label, "model_name": model._meta.model_name, "field_name": db_field.name,
             "term": ""},
        )
        if response.status_code != 200:
            assert response.status_code in (403, 404)
            continue
        found = {int(item["id"]) for item in response.json()["results"] if str(item["id"]).isdigit()}
        assert found.isdisjoint(_b_pks_of(world, db_field)), (label, db_field.name)


@pytest.mark.parametrize("label", LABELS)
def test_actions_on_bs_ids_do_nothing(world, label):
    route = ROUTES[label]
    model, _model_admin = _admin(label)
    client = login(world.manager)
    listing = client.get(_url(model))
    if listing.status_code != 200 or "action_form" not in listing.context or listing.context["action_form"] is None:
        return
    names = [name for name, _text in listing.context["action_form"].fields["action"].choices if name]
    rows = route.rows(world.b) if route.rows else model._default_manager.none()
    ids = list(rows.values_list("pk", flat=True))
    assert ids, label
    before = snapshot(world)

    for name in names:
        response = client.post(
            _url(model),
            {"action": name, ACTION_CHECKBOX_NAME: ids, "index": 0, "post": "yes", "apply": "1", "confirm": "1",
             "reason": "taken"},
        )
        assert response.status_code in (200, 302), (label, name)

    assert snapshot(world) == before


# --- who sees what ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("label", [label for label in LABELS if ROUTES[label].rows is not None])
def test_a_superuser_sees_both_businesses(world, label):
    route = ROUTES[label]
    model, _model_admin = _admin(label)
    boss = User.objects.create_superuser(phone="+966500000999", password="pw-for-tests")

    response = login(boss).get(_url(model))

    assert response.status_code == 200
    shown = {obj.pk for obj in response.context["cl"].queryset}
    assert route.rows is not None
    assert set(route.rows(world.a).values_list("pk", flat=True)) | set(
        route.rows(world.b).values_list("pk", flat=True)
    ) <= shown


def test_a_staff_member_of_a_sees_only_their_own_bookings(world):
    user = world.a.staff.user
    user.is_staff = True
    user.save()
    colleague = StaffFactory(business=world.a.business, services=[world.a.service])
    theirs = BookingFactory(staff=colleague, service=world.a.service)
    call_command("setup_roles", stdout=open("/dev/null", "w"))  # noqa: SIM115, PTH123
    client = login(user)

    listing = client.get(_url(Booking))
    staff_list = client.get(_url(Staff))

    assert {b.pk for b in listing.context["cl"].queryset} == {world.a.booking.pk}
    assert client.get(_url(Booking, f"{theirs.pk}/change/")).status_code == 302
    assert client.get(_url(Booking, f"{world.b.booking.pk}/change/")).status_code == 302
    assert {s.pk for s in staff_list.context["cl"].queryset} == {world.a.staff.pk}
    assert client.get(_url(Payment)).status_code == 403
    assert client.get(_url(Membership)).status_code == 403


def test_a_manager_of_a_who_is_staff_at_b_runs_a_and_sees_their_own_bookings_at_b(world):
    person = world.b.staff.user
    person.is_staff = True
    person.save()
    MembershipFactory(business=world.a.business, user=person, role=Membership.Role.MANAGER)
    call_command("setup_roles", stdout=open("/dev/null", "w"))  # noqa: SIM115, PTH123
    other_at_b = StaffFactory(business=world.b.business, services=[world.b.service])
    not_theirs = BookingFactory(staff=other_at_b, service=world.b.service)
    client = login(person)
    before = snapshot(world)

    listing = client.get(_url(Booking))
    own_page = client.get(_url(Booking, f"{world.b.booking.pk}/change/"))
    client.post(_url(Booking), {"action": "confirm_bookings", ACTION_CHECKBOX_NAME: [world.b.booking.pk]})
    client.post(_url(Booking, f"{world.b.booking.pk}/change/"), {"notes": "edited"})
    services = client.get(_url(Service))
    client.post(_url(Service), {"form-TOTAL_FORMS": 1, "form-INITIAL_FORMS": 1, "form-0-id": world.b.service.pk,
                                "form-0-display_order": 9, "form-0-is_active": "", "_save": "Save"})
    add_staff = client.get(_url(Staff, "add/"))

    a_bookings = set(Booking.objects.filter(business=world.a.business).values_list("pk", flat=True))
    assert {b.pk for b in listing.context["cl"].queryset} == a_bookings | {world.b.booking.pk}
    assert not_theirs.pk not in {b.pk for b in listing.context["cl"].queryset}
    assert own_page.status_code == 200
    assert 'name="notes"' not in own_page.content.decode()  # their booking at B: read-only
    assert world.b.service.pk in {s.pk for s in services.context["cl"].queryset}  # B's services: read-only
    assert set(add_staff.context["adminform"].form.fields["branch"].queryset) == {world.a.branch}
    assert snapshot(world) == before  # confirm is a manager's action: not at B


def test_a_manager_of_two_businesses_picks_one_and_cannot_mix_them(world):
    third = BusinessFactory(slug="third")
    MembershipFactory(business=third, user=world.manager, role=Membership.Role.OWNER)
    client = login(world.manager)

    page = client.get(_url(Service, "add/"))
    mixed = client.post(_url(Service, "add/"), _service_form(world, business=third.pk,
                                                              branches=[world.a.branch.pk]))
    other = client.post(_url(Service, "add/"), _service_form(world, business=world.b.business.pk))

    assert set(page.context["adminform"].form.fields["business"].queryset) == {world.a.business, third}
    assert mixed.status_code == 200  # a form error: A's branch on a service of the third business
    assert "belongs to another business" in mixed.content.decode()
    assert other.status_code == 200
    assert not Service.objects.filter(name_en="New").exists()
    assert cross_business_links() == []


def test_a_manager_adds_a_member_by_phone_and_only_an_owner_makes_an_owner(world):
    client = login(world.manager)

    owner = client.post(_url(Membership, "add/"), {"phone": "0507777777", "role": "owner"})
    staff = client.post(_url(Membership, "add/"), {"phone": "0507777777", "role": "staff", "name": "Huda"})

    assert owner.status_code == 200
    assert staff.status_code == 302
    member = Membership.objects.get(user__phone="+966507777777")
    assert (member.business, member.role) == (world.a.business, Membership.Role.STAFF)
    assert member.user.is_staff
    assert list(member.user.groups.values_list("name", flat=True)) == ["Staff"]


def test_a_manager_edits_their_business_but_not_the_platforms_commission(world):
    client = login(world.manager)
    page = client.get(_url(Business, f"{world.a.business.pk}/change/"))

    assert page.status_code == 200
    body = page.content.decode()
    assert 'name="name_en"' in body
    assert 'name="commission_bps"' not in body
    assert client.get(_url(Business, f"{world.a.business.pk}/delete/")).status_code == 403
    assert client.get(_url(Business, "add/")).status_code == 403


def test_an_admin_query_outside_any_scope_raises(world):
    request = RequestFactory().get(_url(Booking))
    request.user = world.manager
    request.managed_business_ids = [world.a.business.pk]  # type: ignore[attr-defined]

    with enforced():
        for label in ("bookings.booking", "catalog.service", "payments.payment", "notifications.notification"):
            _model, model_admin = _admin(label)
            with pytest.raises(ScopeError):
                list(model_admin.get_queryset(request))
