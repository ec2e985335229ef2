"""The early overlap check: a POST /bookings for a time that is plainly taken is refused while the request is
validated, before the booking service queues for the customer's and the staff member's row locks. Under a rush for
one slot (50 requests, test_booking_races) that is what keeps the losers from waiting in line for a lock only to
be told 409; the service's re-check under the lock and the exclusion constraint still decide the close calls."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.bookings.models import Booking
from apps.bookings.tests.factories import BookingFactory

pytestmark = pytest.mark.django_db
URL = "/api/v1/bookings"
# The JWT's user, the throttle's counter (one upsert), the staff + service lookup, the overlap query. Without the
# early check the request goes on to take the customer's and the staff member's row locks, count the customer's
# bookings, load the business settings, the schedules and the busy time, all to answer the same 409.
EARLY_REFUSAL_MAX_QUERIES = 4


def _is_lock(sql: str) -> bool:
    return " FOR UPDATE" in sql.upper() or " FOR NO KEY UPDATE" in sql.upper()


def test_a_plainly_taken_slot_is_refused_before_any_lock(auth_client, customer, staff, service, at):
    BookingFactory(staff=staff, service=service, start=at("10:00"))
    client = auth_client(customer)
    body = {"staff": staff.pk, "service": service.pk, "start": at("10:15").isoformat()}

    with CaptureQueriesContext(connection) as queries:
        response = client.post(URL, body, format="json")

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "slot_unavailable"
    sql = [q["sql"] for q in queries.captured_queries]
    assert not [s for s in sql if _is_lock(s)], "the early check should have answered before the locked path"
    assert len(sql) <= EARLY_REFUSAL_MAX_QUERIES, "\n".join(sql)
    assert Booking.objects.count() == 1


def test_a_free_slot_goes_on_to_the_locked_path(auth_client, customer, staff, service, at):
    # The same measurement on a free slot takes the locks: the test above would notice the early check missing.
    client = auth_client(customer)
    body = {"staff": staff.pk, "service": service.pk, "start": at("10:15").isoformat()}

    with CaptureQueriesContext(connection) as queries:
        response = client.post(URL, body, format="json")

    assert response.status_code == 201
    # Customer, then staff: two statements, sent in one message (so split what was sent into statements).
    statements = [part for q in queries.captured_queries for part in q["sql"].split(";\n")]
    locks = [sql for sql in statements if _is_lock(sql)]
    assert len(locks) == 2
    assert '"accounts_user"' in locks[0]
    assert '"catalog_staff"' in locks[1]
