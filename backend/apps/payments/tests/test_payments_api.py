"""Reading payments, the client configuration, booking JSON with its payment, and managers' operations."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction

from apps.accounts.models import User
from apps.accounts.tests.factories import UserFactory
from apps.core.testing import job_rows, run_jobs
from apps.payments.models import Payment, Refund
from apps.payments.tests.conftest import client_for, fake_payment, make_capture_due

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.urls("apps.payments.tests.urls")]


def _captured(authorized) -> tuple[dict, Payment]:
    booking, payment = authorized()
    make_capture_due(payment)
    run_jobs(queues=["payments"])
    payment.refresh_from_db()
    return booking, payment


def test_payments_config_gives_the_publishable_key_and_the_callback_url(fake, customer_client):
    resp = customer_client.get("/api/v1/payments/config")
    assert resp.status_code == 200
    assert resp.json() == {
        "publishable_key": fake.publishable_key,
        "callback_url": "http://testserver/payments/return",
        "currency": "SAR",
        "live": False,
    }


def test_a_payment_is_visible_to_its_customer_staff_member_and_managers_only(
    fake, authorized, customer_client, manager_client, other_customer, staff
):
    _booking, payment = authorized()
    url = f"/api/v1/payments/{payment.pk}"
    body = customer_client.get(url).json()
    assert body["id"] == payment.pk
    assert body["status"] == "authorized"
    assert body["amount"] == body["authorized"] == {"amount": 15000, "currency": "SAR"}
    assert body["card"] == "visa XXXX-XXXX-XXXX-1111"
    assert (body["client"], body["transaction_url"]) == (None, None)
    assert client_for(staff.user).get(url).status_code == 200
    assert manager_client.get(url).status_code == 200
    assert client_for(other_customer).get(url).status_code == 404
    assert customer_client.get("/api/v1/payments/999999").status_code == 404


def test_booking_lists_show_each_bookings_payment_in_one_query(
    fake, book, pay, customer_client, django_assert_max_num_queries
):
    paid = [book("10:00"), book("11:00"), book("12:00")]
    for booking in paid:
        assert pay(booking["id"]).status_code == 201
    unpaid = book("13:00")
    # user, count, page, business settings, payments, balances (+1 spare)
    with django_assert_max_num_queries(7):
        resp = customer_client.get("/api/v1/bookings")
    payments = {b["id"]: b["payment"] for b in resp.json()["results"]}
    assert payments[unpaid["id"]] is None
    assert {payments[b["id"]]["status"] for b in paid} == {"initiated"}
    assert payments[paid[0]["id"]]["transaction_url"]


# --- managers -------------------------------------------------------------------------------------------------


def test_a_refund_over_the_captured_amount_is_refused_with_a_clear_error(fake, authorized, manager_client):
    _booking, payment = _captured(authorized)
    resp = manager_client.post(
        f"/api/v1/payments/{payment.pk}/refund", {"amount": 15001, "reason": "goodwill"}, format="json"
    )
    assert resp.status_code == 409
    assert resp.json()["error"]["code"] == "refund_exceeds_captured"
    assert resp.json()["error"]["refundable"] == {"amount": 15000, "currency": "SAR"}
    assert Refund.objects.count() == 0
    assert fake.calls("refund") == []


def test_a_manager_refunds_in_parts_until_nothing_is_left(fake, authorized, manager_client, manager):
    _booking, payment = _captured(authorized)
    url = f"/api/v1/payments/{payment.pk}/refund"
    first = manager_client.post(url, {"amount": 5000, "reason": "late start"}, format="json")
    assert first.status_code == 202, first.content
    assert first.json()["status"] == "pending"
    run_jobs(queues=["payments"])
    payment.refresh_from_db()
    assert (payment.status, payment.refunded_amount) == ("partially_refunded", 5000)
    # what is pending counts already: a second refund for more than what is left is refused
    rest = manager_client.post(url, {"reason": "complaint"}, format="json")
    assert rest.status_code == 202
    assert rest.json()["amount"] == {"amount": 10000, "currency": "SAR"}
    over = manager_client.post(url, {"amount": 1, "reason": "more"}, format="json")
    assert over.json()["error"]["code"] == "refund_exceeds_captured"
    run_jobs(queues=["payments"])
    payment.refresh_from_db()
    assert (payment.status, payment.refunded_amount) == ("refunded", 15000)
    assert fake_payment(fake, payment)["refunded"] == 15000
    assert list(Refund.objects.values_list("requested_by", "reason")) == [
        (manager.pk, "late start"),
        (manager.pk, "complaint"),
    ]


def test_refunding_an_authorized_payment_is_refused(fake, authorized, manager_client):
    _booking, payment = authorized()
    resp = manager_client.post(f"/api/v1/payments/{payment.pk}/refund", {"reason": "x"}, format="json")
    assert resp.status_code == 409
    assert resp.json()["error"]["code"] == "payment_not_refundable"


def test_a_manager_captures_and_voids(fake, authorized, manager_client):
    _booking, first = authorized("10:00")
    _booking, second = authorized("11:00")
    assert (
        manager_client.post(
            f"/api/v1/payments/{first.pk}/capture", {"reason": "paid in shop"}, format="json"
        ).status_code
        == 202
    )
    assert (
        manager_client.post(f"/api/v1/payments/{second.pk}/void", {"reason": "goodwill"}, format="json").status_code
        == 202
    )
    run_jobs(queues=["payments"])
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, second.status) == ("captured", "voided")
    assert first.events.filter(kind="capture_requested", reason="paid in shop").exists()
    again = manager_client.post(f"/api/v1/payments/{second.pk}/void", {"reason": "again"}, format="json")
    assert again.json()["error"]["code"] == "payment_not_voidable"


def _everything_about(payment: Payment) -> dict:
    """The payment's row, its events and refunds, and every job: what an operation would change."""
    return {
        "payment": Payment.objects.filter(pk=payment.pk).values().get(),
        "events": list(payment.events.values_list("pk", flat=True)),
        "refunds": list(Refund.objects.filter(payment=payment).values()),
        "jobs": [(row["id"], row["status"]) for row in job_rows()],
    }


@pytest.mark.parametrize(
    ("operation", "body"),
    [
        ("capture", {"reason": "x"}),
        ("void", {"reason": "x"}),
        ("refund", {"reason": "x"}),
        ("refund", {"reason": "x", "amount": 100}),
    ],
)
def test_customers_cannot_operate_payments(fake, authorized, customer_client, operation, body):
    # given: the customer's own payment, authorized (capture, void) or captured (refund)
    _booking, payment = _captured(authorized) if operation == "refund" else authorized()
    before, calls = _everything_about(payment), fake.calls()
    # when
    resp = customer_client.post(f"/api/v1/payments/{payment.pk}/{operation}", body, format="json")
    # then: refused, nothing written, nothing deferred, Moyasar never asked
    assert resp.status_code == 403
    assert resp.json()["error"]["code"] == "permission_denied"
    assert _everything_about(payment) == before
    assert fake.calls() == calls


# --- the totals always add up -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "changes",
    [
        {"captured_amount": 16000},
        {"refunded_amount": 1},
        {"authorized_amount": 15001},
        {"status": "captured"},
    ],
)
def test_the_database_refuses_totals_that_do_not_add_up(fake, authorized, changes):
    _booking, payment = authorized()
    with pytest.raises(IntegrityError), transaction.atomic():
        Payment.objects.filter(pk=payment.pk).update(**changes)


def test_one_booking_has_at_most_one_paying_payment(fake, authorized):
    _booking, payment = authorized()
    other = Payment.objects.create(booking=payment.booking, flow="token", status="initiated", amount=15000)
    with pytest.raises(IntegrityError), transaction.atomic():
        Payment.objects.filter(pk=other.pk).update(is_booking_payment=True)


def test_the_admin_lists_payments_and_flags(fake, authorized, client):
    _booking, payment = authorized()
    admin = UserFactory(role=User.Role.MANAGER, is_staff=True, is_superuser=True)
    client.force_login(admin)
    assert client.get("/admin/payments/payment/").status_code == 200
    assert client.get(f"/admin/payments/payment/{payment.pk}/change/").status_code == 200
    resp = client.post(
        "/admin/payments/payment/",
        {"action": "void", "_selected_action": [payment.pk], "confirm": "1", "reason": "customer asked"},
    )
    assert resp.status_code == 302
    run_jobs(queues=["payments"])
    payment.refresh_from_db()
    assert payment.status == "voided"
    assert payment.events.filter(kind="void_requested", actor=admin, reason="customer asked").exists()


def test_a_manager_refunds_part_of_a_payment_from_the_admin(fake, authorized, client):
    _booking, payment = _captured(authorized)
    admin = UserFactory(role=User.Role.MANAGER, is_staff=True, is_superuser=True)
    client.force_login(admin)
    form = client.post("/admin/payments/payment/", {"action": "refund", "_selected_action": [payment.pk]})
    assert form.status_code == 200
    assert b"Amount (minor units)" in form.content
    resp = client.post(
        "/admin/payments/payment/",
        {"action": "refund", "_selected_action": [payment.pk], "confirm": "1", "reason": "late", "amount": "2500"},
    )
    assert resp.status_code == 302
    run_jobs(queues=["payments"])
    payment.refresh_from_db()
    assert (payment.status, payment.refunded_amount) == ("partially_refunded", 2500)
    refund = Refund.objects.get()
    assert (refund.requested_by, refund.reason, refund.kind) == (admin, "late", "manual")


def test_moyasar_is_never_called_inside_a_transaction(fake):
    from apps.payments.gateway import get_gateway

    with pytest.raises(RuntimeError, match="outside transactions"), transaction.atomic():
        get_gateway()
