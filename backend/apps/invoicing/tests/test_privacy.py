# ruff: noqa: F811 - pytest fixtures are imported by name and then requested as same-named arguments
"""A customer's data export and account deletion, end to end (docs/privacy.md): the real payment flow (the Moyasar
fake over HTTP, the real worker), a VAT-registered salon that issues invoices, a second business, notifications
from the real events. The export holds every kind of row the customer has and nothing of anyone else's; after
deletion no table holds the person's name, phone or email, the money trail is unchanged and reconciles, future
bookings are cancelled with the money returned, old tokens and sessions are dead, and the phone signs up afresh.
Time is pinned to a Tuesday morning in Riyadh and ticks from there (the fake and the worker run in real threads),
as the website's payment tests do; dates are built from that day."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.apps import apps
from django.contrib.sessions.models import Session
from django.db import models
from django.db.models import TextField
from django.db.models.functions import Cast
from django.test import Client
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from apps.accounts import services as accounts
from apps.accounts.api import ExportThrottle
from apps.accounts.models import OtpChallenge, User
from apps.accounts.tests.factories import UserFactory
from apps.bookings.models import Booking
from apps.bookings.tests.factories import BookingFactory
from apps.bookings.tests.fixtures import manager, other_customer  # noqa: F401
from apps.catalog.models import Business, Membership, Service, Staff
from apps.catalog.tests.factories import BusinessFactory, ServiceFactory, StaffFactory
from apps.core.testing import run_jobs
from apps.invoicing.models import Invoice, TaxProfile
from apps.payments.models import LedgerEntry, Payment, Refund
from apps.payments.tests.conftest import (  # noqa: F401
    CALLBACK,
    VISA_OK,
    authorized,
    book,
    browser,
    client_for,
    customer_client,
    fake,
    fake_payment,
    make_capture_due,
    manager_client,
    pay,
)
from apps.payments.tests.fakes import moyasar_fake  # noqa: F401

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.urls("apps.payments.tests.urls")]

PINNED = datetime(2027, 1, 12, 9, 30, tzinfo=ZoneInfo("Asia/Riyadh"))
NAME = "Zubaida Qaswarah"
EMAIL = "zubaida.qaswarah@example.com"
PHONE = "+966501112233"


@pytest.fixture(autouse=True)
def pinned():
    with time_machine.travel(PINNED, tick=True):
        yield PINNED


@pytest.fixture
def business_settings() -> dict[str, Any]:
    return {"max_pending_per_customer": 5, "vat_number": "310122393500003"}


@pytest.fixture
def service(business: Business) -> Service:
    TaxProfile.objects.create(
        business=business,
        legal_name_ar="صالون مواعيد",
        legal_name_en="Mawid Salon",
        street="King Fahd Road",
        building_number="1234",
        district="Al Olaya",
        city="Riyadh",
        postal_code="12214",
    )
    return ServiceFactory.create(name_en="Haircut", name_ar="قص شعر", duration_minutes=30, price_amount=11500)


@pytest.fixture
def customer(business) -> User:
    return UserFactory.create(phone=PHONE, name=NAME, email=EMAIL, notify_whatsapp=True)


@pytest.fixture
def card_token(fake):
    """The customer types their own name on the card form: Moyasar's JSON carries it."""

    def make(number: str = VISA_OK) -> str:
        return fake.create_token(number=number, name=NAME, save_only=True, callback_url=CALLBACK)["id"]

    return make


@pytest.fixture
def clinic(at) -> Booking:
    """A second business, where the customer has a booking too (written straight, unpaid)."""
    other = BusinessFactory.create(slug="clinic-b", name_en="Clinic B", name_ar="عيادة ب")
    service = ServiceFactory.create(business=other, name_en="Check-up", name_ar="فحص")
    staff = StaffFactory.create(business=other, services=[service])
    return BookingFactory.create(business=other, service=service, staff=staff, start=at("11:00", days=2))


def _captured(authorized, hhmm: str) -> tuple[dict[str, Any], Payment]:
    booking, payment = authorized(hhmm)
    make_capture_due(payment)
    run_jobs(queues=["payments"])
    payment.refresh_from_db()
    assert payment.status == "captured"
    return booking, payment


def _delete_code(user: User) -> str:
    resp = client_for(user).post("/api/v1/me/delete/code", {}, format="json")
    assert resp.status_code == 202, resp.content
    return accounts.otp_code_for(OtpChallenge.objects.filter(phone=str(user.phone)).latest("created_at"))


def _rows_holding(needles: list[str]) -> list[str]:
    """Every row of every model whose text, JSON, email or phone column contains one of `needles`."""
    found = []
    for model in apps.get_models():
        manager_ = model._base_manager
        for field in model._meta.concrete_fields:
            if field.is_relation:
                continue
            if isinstance(field, models.JSONField):
                queryset = manager_.annotate(_as_text=Cast(field.name, TextField()))
                lookup = "_as_text__icontains"
            elif isinstance(field, models.CharField | models.TextField | models.EmailField):
                queryset, lookup = manager_.all(), f"{field.name}__icontains"
            else:
                continue
            for needle in needles:
                if queryset.filter(**{lookup: needle}).exists():
                    found.append(f"{model._meta.label}.{field.name} holds {needle!r}")
    return found


# --- export -------------------------------------------------------------------------------------------------------


def test_the_export_holds_every_kind_of_row_the_customer_has_and_nothing_of_anyone_elses(
    fake, authorized, manager_client, customer, customer_client, other_customer, clinic, settings
):
    # given: a captured and then cancelled booking at the salon (invoice, refund, credit note), a booking at a
    # second business, messages, and another customer with a booking at the same salon
    clinic.customer = customer
    clinic.save(update_fields=["customer"])
    booking, payment = _captured(authorized, "10:00")
    assert manager_client.post(f"/api/v1/bookings/{booking['id']}/cancel", {"reason": "x"}, format="json").status_code
    run_jobs(queues=["payments"])
    other = UserFactory.create(name="Otherperson Unrelated", phone="+966509998877", email="other@example.com")
    BookingFactory.create(customer=other, notes="other's private note")
    notification = apps.get_model("notifications", "Notification")
    assert notification.objects.filter(recipient=customer).exists()

    # when
    resp = customer_client.get("/api/v1/me/export")

    # then: a versioned JSON file
    assert resp.status_code == 200, resp.content
    assert resp["Content-Disposition"].startswith('attachment; filename="mawid-my-data-')
    doc = resp.json()
    assert (doc["format"], doc["version"], doc["user_id"]) == ("mawid.personal-data", 1, customer.pk)
    assert doc["generated_at"].startswith("2027-01-12T")
    assert doc["profile"][0]["phone"] == PHONE
    assert doc["profile"][0]["email"] == EMAIL
    assert doc["profile"][0]["consents"] == {"notify_sms": True, "notify_whatsapp": True, "notify_email": True}
    assert doc["profile"][0]["language"] == "ar"
    assert {b["business"]["slug"] for b in doc["bookings"]} == {"salon", "clinic-b"}
    salon_booking = next(b for b in doc["bookings"] if b["id"] == booking["id"])
    assert [h["to"] for h in salon_booking["history"]][-1] == "cancelled"
    assert [(p["id"], p["card_last4"], p["refunded"]) for p in doc["payments"]] == [(payment.pk, "1111", 11500)]
    assert [r["amount"] for r in doc["refunds"]] == [11500]
    assert sorted(i["kind"] for i in doc["invoices"]) == ["credit", "invoice"]
    assert all(i["html"].startswith(f"/api/v1/bookings/{booking['id']}/invoices/") for i in doc["invoices"])
    assert doc["messages"]
    assert all(m["text"] for m in doc["messages"])
    assert doc["login_codes"] == []
    assert doc["business_roles"] == []
    # nothing of anyone else's, no card data, no provider internals
    text = json.dumps(doc, ensure_ascii=False)
    for foreign in ("Otherperson", "509998877", "other@example.com", "other's private note", other_customer.name):
        assert foreign not in text
    for secret in ("4111111111111111", "token_", "provider_raw", "given_id", payment.provider_id):
        assert secret not in text


def test_the_export_is_throttled(customer_client, monkeypatch):
    # three downloads an hour for this test; the fourth is refused with the machine-readable throttle error
    rates = {**ExportThrottle.THROTTLE_RATES, "personal_data_export": "3/hour"}
    monkeypatch.setattr(ExportThrottle, "THROTTLE_RATES", rates)
    assert [customer_client.get("/api/v1/me/export").status_code for _ in range(4)] == [200, 200, 200, 429]
    assert customer_client.get("/api/v1/me/export").json()["error"]["code"] == "throttled"


def test_the_export_needs_a_login():
    assert APIClient().get("/api/v1/me/export").status_code == 401


# --- deletion -----------------------------------------------------------------------------------------------------


def test_deleting_the_account_erases_the_identity_keeps_the_money_trail_and_returns_future_money(
    fake, authorized, customer, clinic, other_customer
):
    # given: a future booking paid and captured (invoice), a future one authorized only, one at a second business,
    # a refresh token, an access token and a website session
    clinic.customer = customer
    clinic.notes = f"call {NAME} on arrival"
    clinic.save(update_fields=["customer", "notes"])
    captured_booking, captured = _captured(authorized, "10:00")
    authorized_booking, held = authorized("12:00")
    refresh = RefreshToken.for_user(customer)
    access = str(refresh.access_token)
    web = Client()
    web.force_login(customer)
    assert Session.objects.count() == 1
    invoice = Invoice.objects.get(payment=captured)
    invoice_before = (invoice.number, invoice.invoice_hash, invoice.xml, invoice.qr, invoice.gross)
    ledger_before = list(LedgerEntry.objects.order_by("pk").values())
    assert any(NAME in row for row in _rows_holding([NAME]))  # the card name and the notes hold it until now
    code = _delete_code(customer)

    # when: the account is deleted with the fresh code
    api = client_for(customer)
    resp = api.delete("/api/v1/me", {"code": code}, format="json")
    assert resp.status_code == 204, resp.content
    run_jobs(queues=["payments"])

    # then: future bookings cancelled as the business would, money returned in full at Moyasar
    for b in (captured_booking, authorized_booking):
        assert Booking.objects.get(pk=b["id"]).status == "cancelled"
    clinic.refresh_from_db()
    assert (clinic.status, clinic.notes) == ("cancelled", "")
    captured.refresh_from_db()
    held.refresh_from_db()
    assert (captured.status, captured.refunded_amount) == ("refunded", 11500)
    assert fake_payment(fake, captured)["refunded"] == 11500
    assert held.status == "voided"
    assert fake_payment(fake, held)["status"] == "voided"
    assert Refund.objects.get(payment=captured).amount == 11500
    # the money trail is unchanged and still reconciles; the invoice is as issued, a credit note added
    invoice.refresh_from_db()
    assert (invoice.number, invoice.invoice_hash, invoice.xml, invoice.qr, invoice.gross) == invoice_before
    assert list(LedgerEntry.objects.filter(pk__in=[r["id"] for r in ledger_before]).order_by("pk").values()) == (
        ledger_before
    )
    assert sum(LedgerEntry.objects.filter(payment=captured).values_list("gross", flat=True)) == 0
    assert Invoice.objects.filter(booking_id=captured_booking["id"], kind="credit").count() == 1
    # the person's identity is gone from every table; the rows stay with an anonymous customer
    assert _rows_holding([NAME, "Zubaida", "Qaswarah", EMAIL, PHONE, PHONE[4:], "0" + PHONE[4:]]) == []
    anonymous = User.objects.get(pk=customer.pk)
    assert not anonymous.is_active
    assert not anonymous.has_usable_password()
    assert str(anonymous.phone).startswith("deleted:")
    assert anonymous.email is None
    assert Booking.objects.filter(customer=anonymous).count() == 3
    assert anonymous.is_deleted
    # old tokens and the session are refused
    assert client_for_access(access).get("/api/v1/me").status_code == 401
    refreshed = APIClient().post("/api/v1/auth/token/refresh", {"refresh": str(refresh)}, format="json")
    assert (refreshed.status_code, refreshed.json()["error"]["code"]) == (401, "token_not_valid")
    assert Session.objects.count() == 0
    assert web.get("/my/bookings").status_code == 302  # to the login page
    # the other customer is untouched
    other_customer.refresh_from_db()
    assert other_customer.is_active
    assert other_customer.name == "Other customer"
    # the phone signs up afresh, as a new person
    challenge = accounts.otp_request(phone=PHONE)
    login = accounts.otp_verify(phone=PHONE, code=accounts.otp_code_for(challenge))
    assert login.created
    assert login.user.pk != customer.pk
    assert str(login.user.phone) == PHONE
    assert Booking.objects.filter(customer=login.user).count() == 0


def client_for_access(access: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    return client


def test_a_wrong_code_changes_nothing(customer):
    booking = BookingFactory.create(customer=customer, notes="ring twice")
    _delete_code(customer)
    resp = client_for(customer).delete("/api/v1/me", {"code": "000000"}, format="json")
    assert resp.status_code == 400
    assert resp.json()["error"]["code"] == "otp_invalid"
    customer.refresh_from_db()
    booking.refresh_from_db()
    assert (customer.is_active, customer.name, str(customer.phone)) == (True, NAME, PHONE)
    assert (booking.status, booking.notes) == ("confirmed", "ring twice")
    assert client_for(customer).get("/api/v1/me").status_code == 200


def test_no_code_at_all_is_refused(customer):
    resp = client_for(customer).delete("/api/v1/me", {"code": "123456"}, format="json")
    assert (resp.status_code, resp.json()["error"]["code"]) == (400, "otp_invalid")
    assert User.objects.get(pk=customer.pk).is_active


def test_staff_and_managers_cannot_delete_themselves_while_they_hold_a_role(manager, staff):
    for person in (manager, staff.user):
        resp = client_for(person).post("/api/v1/me/delete/code", {}, format="json")
        assert resp.status_code == 409
        assert (resp.json()["error"]["code"], resp.json()["error"]["businesses"]) == ("holds_business_role", ["salon"])
        resp = client_for(person).delete("/api/v1/me", {"code": "123456"}, format="json")
        assert (resp.status_code, resp.json()["error"]["code"]) == (409, "holds_business_role")
        person.refresh_from_db()
        assert person.is_active
    assert not OtpChallenge.objects.exists()  # refused before a text was sent


def test_a_former_staff_member_may_delete_their_account_and_their_profile_stays_nameless(staff):
    person = staff.user
    Membership.objects.filter(user=person).delete()
    Staff.objects.filter(pk=staff.pk).update(is_active=False, bio="Ten years of experience.")
    code = _delete_code(person)
    assert client_for(person).delete("/api/v1/me", {"code": code}, format="json").status_code == 204
    staff.refresh_from_db()
    assert (staff.display_name, staff.bio, staff.user_id) == ("موظف سابق / Former staff member", "", person.pk)
    assert not User.objects.get(pk=person.pk).is_active


def test_the_export_of_a_manager_lists_their_roles(manager):
    doc = client_for(manager).get("/api/v1/me/export").json()
    assert [(r["business"], r["role"]) for r in doc["business_roles"]] == [("salon", "manager")]
    assert doc["bookings"] == []
