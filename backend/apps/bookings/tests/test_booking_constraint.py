"""The last line: the exclusion constraint refuses overlaps whatever wrote them, and the services turn its
IntegrityError into 409 `slot_unavailable`, never a 500."""

from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta

import pytest
from django.db import IntegrityError, connection, connections, transaction

from apps.accounts.tests.factories import UserFactory
from apps.bookings.errors import SlotUnavailable
from apps.bookings.models import Booking
from apps.bookings.services import booking_reschedule
from apps.bookings.tests.factories import BookingFactory

INSERT = """
    INSERT INTO bookings_booking (business_id, customer_id, staff_id, service_id, status, start, "end", busy_start,
                                  busy_end, price_amount, price_net, price_vat, vat_rate_bps, currency, notes,
                                  customer_address, hold_expires_at, cancel_reason, created_at, updated_at)
    SELECT st.business_id, %s, st.id, %s, %s, %s, %s, %s, %s, 15000, 15000, 0, 0, 'SAR', '', '', %s, '', now(), now()
      FROM catalog_staff st WHERE st.id = %s
"""


def raw_insert(
    cursor,
    *,
    customer_id: int,
    staff_id: int,
    service_id: int,
    start: datetime,
    minutes: int = 30,
    status: str = "confirmed",
    before: int = 0,
    after: int = 0,
) -> None:
    end = start + timedelta(minutes=minutes)
    hold = start if status == "pending_payment" else None
    cursor.execute(
        INSERT,
        [
            customer_id,
            service_id,
            status,
            start,
            end,
            start - timedelta(minutes=before),
            end + timedelta(minutes=after),
            hold,
            staff_id,
        ],
    )


@pytest.mark.django_db
class TestConstraintAlone:
    def test_a_raw_sql_insert_of_an_overlap_is_refused(self, staff, service, customer, at):
        BookingFactory(staff=staff, service=service, start=at("10:00"))

        with (
            pytest.raises(IntegrityError, match="booking_no_overlap"),
            transaction.atomic(),
            connection.cursor() as cur,
        ):
            raw_insert(
                cur,
                customer_id=customer.pk,
                staff_id=staff.pk,
                service_id=service.pk,
                start=at("10:15"),
                status="pending_payment",
            )
        assert Booking.objects.count() == 1

    def test_the_widened_range_counts_not_only_the_slot(self, staff, service, customer, at):
        BookingFactory(staff=staff, service=service, start=at("10:00"))

        # [10:30, 11:00) touches, but 5 minutes of buffer before it reach back to 10:25
        with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cur:
            raw_insert(
                cur, customer_id=customer.pk, staff_id=staff.pk, service_id=service.pk, start=at("10:30"), before=5
            )

    def test_touching_other_staff_and_released_bookings_are_allowed(self, staff, other_staff, service, customer, at):
        BookingFactory(staff=staff, service=service, start=at("10:00"))
        BookingFactory(staff=staff, service=service, start=at("12:00"), status=Booking.Status.CANCELLED)
        BookingFactory(staff=staff, service=service, start=at("13:00"), status=Booking.Status.EXPIRED)

        with connection.cursor() as cur:
            raw_insert(cur, customer_id=customer.pk, staff_id=staff.pk, service_id=service.pk, start=at("10:30"))
            raw_insert(cur, customer_id=customer.pk, staff_id=other_staff.pk, service_id=service.pk, start=at("10:00"))
            raw_insert(cur, customer_id=customer.pk, staff_id=staff.pk, service_id=service.pk, start=at("12:00"))
            raw_insert(cur, customer_id=customer.pk, staff_id=staff.pk, service_id=service.pk, start=at("13:00"))
        assert Booking.objects.count() == 7

    def test_reviving_a_cancelled_booking_over_a_new_one_is_refused(self, staff, service, at):
        old = BookingFactory(staff=staff, service=service, start=at("10:00"), status=Booking.Status.CANCELLED)
        BookingFactory(staff=staff, service=service, start=at("10:00"))

        with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cur:
            cur.execute("UPDATE bookings_booking SET status = 'confirmed' WHERE id = %s", [old.pk])


def _hold_a_conflicting_insert(*, inserted: threading.Event, release_after: float, **row) -> None:
    """In another connection: insert a conflicting row without the staff lock, keep it uncommitted a while."""
    conn = connections.create_connection("default")
    try:
        with conn.cursor() as cur:
            cur.execute("BEGIN")
            raw_insert(cur, **row)
            inserted.set()
            time.sleep(release_after)
            cur.execute("COMMIT")
    finally:
        conn.close()


@pytest.mark.django_db(transaction=True)
class TestConstraintBehindTheService:
    """A writer that skips the staff lock (a script, a bug): the service's checks cannot see its uncommitted row,
    its insert waits on the constraint and then loses. The API answers 409, not 500."""

    def test_post_bookings_answers_409_when_the_constraint_refuses(self, staff, service, customer, at, auth_client):
        inserted = threading.Event()
        writer = threading.Thread(
            target=_hold_a_conflicting_insert,
            kwargs={
                "inserted": inserted,
                "release_after": 0.5,
                "customer_id": UserFactory().pk,
                "staff_id": staff.pk,
                "service_id": service.pk,
                "start": at("10:00"),
            },
        )
        writer.start()
        assert inserted.wait(10)

        response = auth_client(customer).post(
            "/api/v1/bookings",
            {"staff": staff.pk, "service": service.pk, "start": at("10:15").isoformat()},
            format="json",
        )
        writer.join(10)

        assert response.status_code == 409, response.json()
        assert response.json()["error"]["code"] == "slot_unavailable"
        assert Booking.objects.filter(staff=staff).count() == 1
        assert Booking.objects.get().customer_id != customer.pk

    def test_reschedule_turns_the_constraint_into_slot_unavailable(self, staff, service, customer, at):
        booking = BookingFactory(staff=staff, service=service, customer=customer, start=at("10:00"))
        inserted = threading.Event()
        writer = threading.Thread(
            target=_hold_a_conflicting_insert,
            kwargs={
                "inserted": inserted,
                "release_after": 0.5,
                "customer_id": UserFactory().pk,
                "staff_id": staff.pk,
                "service_id": service.pk,
                "start": at("14:00"),
            },
        )
        writer.start()
        assert inserted.wait(10)

        with pytest.raises(SlotUnavailable) as caught:
            booking_reschedule(booking_id=booking.pk, start=at("14:00"), actor=customer)
        writer.join(10)

        assert isinstance(caught.value.__cause__, IntegrityError)
        booking.refresh_from_db()
        assert booking.start == at("10:00")
