"""The per-business ledger and the settlement statement: every capture, refund and void of captured money is one
entry, written with the totals that caused it, and the CSV a manager downloads reconciles to the payments to the
halala. End to end: the Moyasar fake over HTTP, jobs in the real worker, the statement through the API."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.bookings import events as booking_events
from apps.bookings.models import Booking
from apps.catalog.models import Service
from apps.catalog.tests.factories import BusinessFactory, MembershipFactory, ServiceFactory, StaffFactory
from apps.core.events import publish
from apps.core.testing import run_jobs
from apps.payments import services
from apps.payments.models import LedgerEntry, Payment
from apps.payments.services.ledger import ledger_record
from apps.payments.tests.conftest import RIYADH, client_for, make_capture_due, return_to, three_ds

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.urls("apps.payments.tests.urls")]


def _half_up(value: Decimal) -> int:
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def _expected_commission(kept: int, bps: int) -> int:
    """The rule, computed independently: kept x rate, rounded half up to the halala."""
    return _half_up(Decimal(kept) * Decimal(bps) / Decimal(10_000))


def _captured(authorized, hhmm: str) -> tuple[dict, Payment]:
    booking, payment = authorized(hhmm)
    make_capture_due(payment)
    run_jobs(queues=["payments"])
    payment.refresh_from_db()
    assert payment.status == "captured"
    return booking, payment


def _statement(client, slug: str, **params) -> tuple[list[dict], dict[str, dict]]:
    today = timezone.now().astimezone(RIYADH).date()
    query = {"from": str(today - timedelta(days=1)), "to": str(today + timedelta(days=1)), **params}
    resp = client.get(f"/api/v1/manage/businesses/{slug}/settlements", query, HTTP_ACCEPT="text/csv")
    assert resp.status_code == 200, resp.content
    assert resp["Content-Type"] == "text/csv; charset=utf-8"
    assert resp["Content-Disposition"].startswith(f'attachment; filename="settlement-{slug}-')
    rows = list(csv.DictReader(io.StringIO(resp.content.decode())))
    entries = [r for r in rows if r["date"]]
    totals = {r["kind"]: r for r in rows if not r["date"]}
    return entries, totals


def _halalas(text: str) -> int:
    return int(Decimal(text) * 100)


def _webhook(api_client, fake, payment: Payment, event_id: str, event_type: str) -> None:
    """Moyasar delivering an event about the payment (the job fetches the payment; the body is not trusted)."""
    payment.refresh_from_db()
    body = fake.payment(payment.provider_id or str(payment.given_id))
    body.pop("_fake")
    event = {
        "id": event_id,
        "type": event_type,
        "created_at": "2026-01-01T00:00:00Z",
        "secret_token": "fake-webhook-secret",
        "account_name": "Mawid",
        "live": False,
        "data": body,
    }
    assert api_client.post("/api/v1/webhooks/moyasar", event, format="json").status_code == 200


def test_the_statement_reconciles_to_the_payments_to_the_halala(
    fake, business, service, authorized, manager, manager_client, customer_client, customer, at
):
    # given: the salon takes 2.5% commission; five payments: kept in full, partly refunded by a manager, refunded
    # in full (the business cancelled), a late cancellation (20% fee kept), and a price whose commission is a
    # half halala (9980 x 2.5% = 249.5 -> 250)
    business.commission_bps = 250
    business.save()
    _, full = _captured(authorized, "09:00")
    _, partial = _captured(authorized, "10:00")
    services.payment_refund(payment_id=partial.pk, amount=3333, actor=manager, reason="goodwill")
    run_jobs(queues=["payments"])
    cancelled, refunded = _captured(authorized, "11:00")
    assert manager_client.post(f"/api/v1/bookings/{cancelled['id']}/cancel", {}, format="json").status_code == 200
    run_jobs(queues=["payments"])
    late, fee_kept = _captured(authorized, "12:00")
    with transaction.atomic():
        Booking.objects.filter(pk=late["id"]).update(status="cancelled")
        publish(booking_events.BookingCancelled(booking_id=late["id"], by_business=False, before_cutoff=False))
    run_jobs(queues=["payments"])
    Service.objects.filter(pk=service.pk).update(price_amount=9980)
    _, odd = _captured(authorized, "13:00")
    # and another business with a captured payment of its own
    other = BusinessFactory.create(slug="other", commission_bps=1000)
    other_service = ServiceFactory.create(business=other, price_amount=20000)
    other_staff = StaffFactory.create(business=other, services=[other_service])
    resp = customer_client.post(
        "/api/v1/bookings",
        {"staff": other_staff.pk, "service": other_service.pk, "start": at("10:00").isoformat()},
        format="json",
    )
    assert resp.status_code == 201, resp.content
    paid = customer_client.post(
        f"/api/v1/bookings/{resp.json()['id']}/pay",
        {"source": {"type": "token", "token": fake.create_token(number="4111111111111111")["id"]}},
        format="json",
    ).json()
    return_to(client_for(customer), three_ds(paid["transaction_url"]))
    theirs = Payment.objects.get(pk=paid["id"])
    make_capture_due(theirs)
    run_jobs(queues=["payments"])
    theirs.refresh_from_db()
    assert theirs.status == "captured"

    # when: the salon's manager downloads the statement
    entries, totals = _statement(manager_client, "salon")

    # then: the payments ended as meant
    ours = [full, partial, refunded, fee_kept, odd]
    for payment in ours:
        payment.refresh_from_db()
    assert [(p.status, p.captured_amount, p.refunded_amount) for p in ours] == [
        ("captured", 15000, 0),
        ("partially_refunded", 15000, 3333),
        ("refunded", 15000, 15000),
        ("partially_refunded", 15000, 12000),
        ("captured", 9980, 0),
    ]
    # one line per capture and refund, the other business's never
    assert sorted((int(r["payment_id"]), r["kind"]) for r in entries) == sorted(
        [(p.pk, "capture") for p in ours] + [(partial.pk, "refund"), (refunded.pk, "refund"), (fee_kept.pk, "refund")]
    )
    assert str(theirs.pk) not in {r["payment_id"] for r in entries}
    assert {r["moyasar_id"] for r in entries} == {p.provider_id for p in ours}
    assert {int(r["booking_id"]) for r in entries} == {p.booking_id for p in ours}
    # the totals are the payments' captured - refunded, to the halala, and the commission is 2.5% of what is kept
    kept = sum(p.captured_amount - p.refunded_amount for p in ours)
    commission = sum(_expected_commission(p.captured_amount - p.refunded_amount, 250) for p in ours)
    total = totals["total"]
    assert _halalas(total["gross"]) == kept == 15000 + 11667 + 0 + 3000 + 9980
    assert _halalas(total["commission"]) == commission == 375 + 292 + 0 + 75 + 250
    assert _halalas(total["net"]) == kept - commission
    assert _halalas(totals["subtotal_capture"]["gross"]) == 4 * 15000 + 9980
    assert _halalas(totals["subtotal_refund"]["gross"]) == -(3333 + 15000 + 12000)
    assert _halalas(total["late_cancellation_fee_kept"]) == 3000
    # every line adds up, and the lines add up to the totals
    for row in entries:
        assert _halalas(row["net"]) == _halalas(row["gross"]) - _halalas(row["commission"])
    assert sum(_halalas(r["net"]) for r in entries) == _halalas(total["net"])
    odd_capture = next(r for r in entries if r["payment_id"] == str(odd.pk))
    assert (odd_capture["gross"], odd_capture["commission"], odd_capture["net"]) == ("99.80", "2.50", "97.30")
    refund_of_partial = next(r for r in entries if r["payment_id"] == str(partial.pk) and r["kind"] == "refund")
    assert (refund_of_partial["gross"], refund_of_partial["commission"]) == ("-33.33", "-0.83")  # 375 -> 292
    # and the other business's manager sees only theirs, at their rate
    their_manager = MembershipFactory.create(business=other).user
    their_entries, their_totals = _statement(client_for(their_manager), "other")
    assert [(r["payment_id"], r["gross"], r["commission"]) for r in their_entries] == [
        (str(theirs.pk), "200.00", "20.00")
    ]
    assert their_totals["total"]["net"] == "180.00"


def test_a_webhook_applied_twice_writes_one_entry(fake, authorized, api_client, moyasar_client):
    # given: authorized; then captured and partly refunded from Moyasar's dashboard
    _booking, payment = authorized()
    moyasar_client.capture(payment_id=payment.provider_id)
    # when: the capture is announced twice (two deliveries, two event ids), processed by two workers at once
    _webhook(api_client, fake, payment, "evt-capture-1", "payment_captured")
    _webhook(api_client, fake, payment, "evt-capture-2", "payment_captured")
    run_jobs(queues=["payments"], concurrency=2)
    # and a refund made at Moyasar is announced twice too
    moyasar_client.refund(payment_id=payment.provider_id, amount=5000)
    _webhook(api_client, fake, payment, "evt-refund-1", "payment_refunded")
    _webhook(api_client, fake, payment, "evt-refund-2", "payment_refunded")
    run_jobs(queues=["payments"], concurrency=2)
    # then: one capture, one refund
    payment.refresh_from_db()
    assert (payment.captured_amount, payment.refunded_amount) == (15000, 5000)
    assert list(LedgerEntry.objects.filter(payment=payment).values_list("kind", "gross")) == [
        ("capture", 15000),
        ("refund", -5000),
    ]
    # a sync finds nothing more to write, and a second writer is stopped by the key
    services.payment_sync(payment_id=payment.pk)
    assert LedgerEntry.objects.filter(payment=payment).count() == 2
    with transaction.atomic():
        assert ledger_record(payment=Payment.objects.select_for_update().get(pk=payment.pk), now=timezone.now()) == []
    first = LedgerEntry.objects.filter(payment=payment).first()
    first.pk = None
    with pytest.raises(IntegrityError), transaction.atomic():
        first.save()
