"""The ledger's rule at the edges (rounding, many partial refunds, a void of captured money, the backfill) and the
statement endpoint's access, period and input checks. Rows written directly; no provider involved."""

from __future__ import annotations

import csv
import importlib
import io
from datetime import UTC, date, datetime

import pytest
import time_machine
from django.apps import apps as django_apps

from apps.bookings.tests.factories import BookingFactory
from apps.catalog.tests.factories import BusinessFactory, MembershipFactory
from apps.core.scoping import ScopeError, for_businesses
from apps.payments.models import LedgerEntry, Payment, Refund
from apps.payments.selectors import settlement_statement
from apps.payments.services.ledger import commission_for, ledger_record

pytestmark = pytest.mark.django_db
URL = "/api/v1/manage/businesses/{slug}/settlements"
NOON = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)  # 12:00 in Riyadh


def _payment(*, amount: int = 15000, captured: int | None = None, status: str = "captured", **extra) -> Payment:
    booking = BookingFactory.create(price_amount=amount)
    return Payment.objects.create(
        booking=booking,
        flow="token",
        status=status,
        amount=amount,
        authorized_amount=amount,
        captured_amount=amount if captured is None else captured,
        provider_id=f"moyasar-{booking.pk}",
        **extra,
    )


def _refund(payment: Payment, amount: int, *, kind: str = "manual", at: datetime = NOON) -> Refund:
    refund = Refund.objects.create(payment=payment, kind=kind, amount=amount, status="succeeded", completed_at=at)
    payment.refunded_amount += amount
    payment.status = "refunded" if payment.refunded_amount == payment.captured_amount else "partially_refunded"
    payment.save()
    return refund


def _csv(resp) -> list[dict]:
    return list(csv.DictReader(io.StringIO(resp.content.decode())))


@pytest.mark.parametrize(
    ("kept", "bps", "commission"),
    [(9980, 250, 250), (9940, 250, 249), (1, 5000, 1), (3, 5000, 2), (15000, 0, 0), (0, 250, 0), (15000, 10000, 15000)],
)
def test_the_commission_is_rounded_half_up_to_the_halala(kept, bps, commission):
    assert commission_for(kept, bps) == commission


def test_partial_refunds_give_back_exactly_the_commission_taken_whatever_their_number(business):
    # given: 2.5% of 9999 = 249.975 -> 250 taken at the capture
    business.commission_bps = 250
    business.save()
    payment = _payment(amount=9999)
    (capture,) = ledger_record(payment=payment, now=NOON)
    assert (capture.gross, capture.commission, capture.net) == (9999, 250, 9749)
    # when: refunded in seven pieces of 1428 halalas and a last one of 3
    for _ in range(7):
        _refund(payment, 1428)
        ledger_record(payment=payment, now=NOON)
    _refund(payment, 3)
    ledger_record(payment=payment, now=NOON)
    # then: after each refund the commission held is the rule's on what is kept; in the end nothing is held
    entries = list(LedgerEntry.objects.filter(payment=payment).order_by("pk"))
    held, kept = 0, 0
    for entry in entries:
        kept += entry.gross
        held += entry.commission
        assert held == commission_for(kept, 250)
        assert entry.net == entry.gross - entry.commission
    assert (kept, held) == (0, 0)
    assert [e.kind for e in entries] == ["capture"] + ["refund"] * 8


def test_the_rate_of_the_first_capture_stays_with_the_payment(business):
    business.commission_bps = 1000
    business.save()
    payment = _payment(amount=10000)
    ledger_record(payment=payment, now=NOON)
    business.commission_bps = 0
    business.save()
    _refund(payment, 10000)
    (refund,) = ledger_record(payment=payment, now=NOON)
    assert (refund.gross, refund.commission, refund.commission_bps) == (-10000, -1000, 1000)


def test_captured_money_voided_at_moyasar_is_given_back_by_a_void_entry(business):
    business.commission_bps = 250
    business.save()
    payment = _payment()
    ledger_record(payment=payment, now=NOON)
    Payment.objects.filter(pk=payment.pk).update(status="voided")
    payment.refresh_from_db()
    (void,) = ledger_record(payment=payment, now=NOON)
    assert (void.kind, void.gross, void.commission, void.net) == ("void", -15000, -375, -14625)
    assert ledger_record(payment=payment, now=NOON) == []


def test_the_fee_kept_by_a_late_cancellation_is_on_its_refund(business):
    payment = _payment(on_cancel="fee")
    ledger_record(payment=payment, now=NOON)
    _refund(payment, 12000, kind="cancellation")
    (refund,) = ledger_record(payment=payment, now=NOON)
    assert (refund.gross, refund.fee_kept) == (-12000, 3000)


class _Before0006:
    """The models as 0005's backfill saw them: its entries have no VAT columns yet (0006 adds and fills them)."""

    def get_model(self, app_label: str, name: str):
        model = django_apps.get_model(app_label, name)
        if name != "LedgerEntry":
            return model

        class Entry:
            objects = model.objects

            def __new__(cls, **fields):
                return model(**fields, sale_net=fields["gross"], sale_vat=0)

        return Entry


def test_the_backfill_books_what_payments_held_before_the_ledger(business):
    # given: payments from before the ledger (no entries): captured, partly refunded, voided after capture
    business.commission_bps = 250
    business.save()
    kept = _payment(captured_at=NOON)
    refunded = _payment(captured_at=NOON)
    _refund(refunded, 5000)
    voided = _payment(captured_at=NOON)
    Payment.objects.filter(pk=voided.pk).update(status="voided", voided_at=NOON)
    never = _payment(status="authorized", captured=0)
    # when: the backfill as it ran then (before 0006 added the entries' VAT columns), then 0006's fill
    importlib.import_module("apps.payments.migrations.0005_ledger").backfill(_Before0006(), None)
    importlib.import_module("apps.payments.migrations.0006_vat").fill(django_apps, None)
    # then: the same entries the live code writes
    rows = list(LedgerEntry.objects.order_by("payment_id", "pk").values_list("payment_id", "kind", "gross", "commission"))
    assert rows == [
        (kept.pk, "capture", 15000, 375),
        (refunded.pk, "capture", 15000, 375),
        (refunded.pk, "refund", -5000, -125),
        (voided.pk, "capture", 15000, 375),
        (voided.pk, "void", -15000, -375),
    ]
    assert not LedgerEntry.objects.filter(payment=never).exists()
    for payment in (kept, refunded, voided):
        payment.refresh_from_db()
        assert ledger_record(payment=payment, now=NOON) == []  # nothing missing: live code agrees


def test_the_period_is_local_dates_in_the_business_time_zone(business, manager, auth_client, django_assert_max_num_queries):
    # given: entries just inside and just outside 1-2 Dec 2026 in Riyadh (UTC+3)
    moments = {
        "before": datetime(2026, 11, 30, 20, 59, 59, tzinfo=UTC),  # 30 Nov 23:59:59 local
        "first": datetime(2026, 11, 30, 21, 0, tzinfo=UTC),  # 1 Dec 00:00 local
        "last": datetime(2026, 12, 2, 20, 59, 59, tzinfo=UTC),  # 2 Dec 23:59:59 local
        "after": datetime(2026, 12, 2, 21, 0, tzinfo=UTC),  # 3 Dec 00:00 local
    }
    payments = {}
    for name, moment in moments.items():
        payments[name] = _payment()
        ledger_record(payment=payments[name], now=moment)
    # when
    with time_machine.travel(datetime(2026, 12, 4, 9, 0, tzinfo=UTC), tick=False), django_assert_max_num_queries(6):
        resp = auth_client(manager).get(URL.format(slug="salon"), {"from": "2026-12-01", "to": "2026-12-02"})
    # then
    assert resp.status_code == 200
    rows = _csv(resp)
    assert [(r["payment_id"], r["date"]) for r in rows if r["date"]] == [
        (str(payments["first"].pk), "2026-12-01 00:00:00"),
        (str(payments["last"].pk), "2026-12-02 23:59:59"),
    ]
    assert rows[-1]["kind"] == "total"
    assert (rows[-1]["gross"], rows[-1]["net"]) == ("300.00", "300.00")


def test_a_statement_reads_in_one_query_however_many_entries(business, django_assert_num_queries):
    for _ in range(5):
        ledger_record(payment=_payment(), now=NOON)
    with for_businesses(business.pk), django_assert_num_queries(1):
        statement = settlement_statement(business=business, start=date(2026, 12, 1), end=date(2026, 12, 1))
        assert [e.payment.provider_id for e in statement.entries]  # payments came with the entries
    assert (statement.captured, statement.refunded, statement.net) == (75000, 0, 75000)


def test_the_statement_stays_inside_the_business_scope(business):
    other = BusinessFactory.create()
    ledger_record(payment=_payment(), now=NOON)
    with for_businesses(other.pk):
        statement = settlement_statement(business=business, start=date(2026, 12, 1), end=date(2026, 12, 1))
    assert statement.entries == []  # the scope filters even a query that names the business
    from apps.core.scoping import enforced

    with enforced(), pytest.raises(ScopeError):
        settlement_statement(business=business, start=date(2026, 12, 1), end=date(2026, 12, 1))


def test_only_the_businesses_owners_and_managers_and_operators_get_the_statement(
    business, manager, customer, auth_client, api_client, make_user
):
    other = BusinessFactory.create(slug="other")
    other_manager = MembershipFactory.create(business=other).user
    owner = MembershipFactory.create(business=business, role="owner").user
    staff_member = MembershipFactory.create(business=business, role="staff").user
    operator = make_user(is_superuser=True, is_staff=True)
    query = {"from": "2026-12-01", "to": "2026-12-01"}
    url = URL.format(slug="salon")
    assert api_client.get(url, query).status_code == 401
    for user in (customer, other_manager, staff_member):
        resp = auth_client(user).get(url, query)
        assert (resp.status_code, resp.json()["error"]["code"]) == (404, "not_found")
    for user in (manager, owner, operator):
        assert auth_client(user).get(url, query).status_code == 200
    assert auth_client(manager).get(URL.format(slug="nobody"), query).status_code == 404


@pytest.mark.parametrize(
    ("query", "code", "field"),
    [
        ({}, "validation_error", "from"),
        ({"from": "2026-12-01"}, "validation_error", "to"),
        ({"from": "1/12/2026", "to": "2026-12-01"}, "validation_error", "from"),
        ({"from": "2026-12-01", "to": "2026-13-01"}, "validation_error", "to"),
        ({"from": "2026-12-02", "to": "2026-12-01"}, "invalid_date_range", "to"),
        ({"from": "2026-01-01", "to": "2027-01-02"}, "invalid_date_range", "to"),
        ({"from": "9999-12-01", "to": "9999-12-31"}, "invalid_date_range", "from"),
        ({"from": "0001-01-01", "to": "0001-01-01"}, "invalid_date_range", "from"),
    ],
)
def test_a_bad_period_is_a_400_naming_the_field(business, manager, auth_client, query, code, field):
    resp = auth_client(manager).get(URL.format(slug="salon"), query, HTTP_ACCEPT="text/csv")
    assert resp.status_code == 400
    assert resp["Content-Type"] == "application/json"
    assert resp.json()["error"]["code"] == code
    assert field in resp.json()["error"]["fields"]


def test_the_admin_lists_a_managers_ledger_and_nobody_elses(business, manager, client):
    other = BusinessFactory.create(slug="other")
    ours = _payment()
    ledger_record(payment=ours, now=NOON)
    theirs = _payment()
    Payment.objects.filter(pk=theirs.pk).update(business=other)
    theirs.refresh_from_db()
    ledger_record(payment=theirs, now=NOON)
    client.force_login(manager)
    resp = client.get("/admin/payments/ledgerentry/")
    assert resp.status_code == 200
    assert list(resp.context["cl"].queryset.values_list("payment_id", flat=True)) == [ours.pk]
    assert client.get("/admin/payments/ledgerentry/add/").status_code == 403
