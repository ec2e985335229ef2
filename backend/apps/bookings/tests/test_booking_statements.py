"""What one POST /bookings costs the database, so that it cannot creep back up unnoticed (issue 12, "the booking
path gets lean"). Every round trip to PostgreSQL counts: on a busy 2-CPU server the API made about 150 bookings a
second against about 1,900 for the same lock-check-insert in raw SQL (bench/bookings.py), and most of the gap was
statements and the Python that builds them.

The path, in order (docs/booking-path.md lists the SQL):

 1. the JWT's user                                  (authentication)
 2. the throttle's counter, one upsert             (throttling)
 3. the early check: staff member, service, business settings and "is it plainly taken?", in one query, no lock
    -- BEGIN --
 4. the customer's row lock                        } one message, one round trip
 5. the staff member's row lock, with their services and the customer's booking counts (the limits)
 6. weekly hours, time off and closures            (after the lock: time off is written under it)
 7. the time bookings hold                         (after the lock: bookings are written under it)
 8. the booking and its audit row, one INSERT
    -- COMMIT --
and no payment lookup for the response: a booking just made has none. 8 statements, 9 round trips with BEGIN
and COMMIT (Django's per-request connection health check costs none: config/postgresql/base.py).
"""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.bookings.models import Booking, BookingStatusChange

pytestmark = pytest.mark.django_db
URL = "/api/v1/bookings"
MAX_STATEMENTS = 8
MAX_ROUND_TRIPS = 7  # without BEGIN and COMMIT (in a test: the SAVEPOINT and its RELEASE)
_TRANSACTION_CONTROL = ("SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK TO SAVEPOINT", "BEGIN", "COMMIT", "ROLLBACK")


def _is_transaction_control(sql: str) -> bool:
    return sql.lstrip().upper().startswith(_TRANSACTION_CONTROL)


def _is_lock(sql: str) -> bool:
    return " FOR UPDATE" in sql.upper() or " FOR NO KEY UPDATE" in sql.upper()


def _numbered(sql: list[str]) -> str:
    return "\n".join(f"{i:2d}. {' '.join(s.split())[:160]}" for i, s in enumerate(sql, 1))


def _post(client, body):
    """The response, and each SQL text sent (one message may carry several statements: see `_statements`)."""
    with CaptureQueriesContext(connection) as queries:
        response = client.post(URL, body, format="json")
    return response, [q["sql"] for q in queries.captured_queries]


def _statements(sent: list[str]) -> list[str]:
    """The statements in what was sent: messages split where a statement ends a line (enough for these tests,
    whose values hold no such thing)."""
    return [part for sql in sent for part in sql.split(";\n")]


def test_a_booking_costs_at_most_eight_statements_in_one_transaction(auth_client, customer, staff, service, at):
    client = auth_client(customer)
    _post(client, {"staff": staff.pk, "service": service.pk, "start": at("11:00").isoformat()})  # warm caches

    response, sql = _post(client, {"staff": staff.pk, "service": service.pk, "start": at("10:00").isoformat()})

    assert response.status_code == 201, response.json()
    sent = [s for s in sql if not _is_transaction_control(s)]
    statements = _statements(sent)
    assert len(statements) <= MAX_STATEMENTS, _numbered(statements)
    assert len(sent) <= MAX_ROUND_TRIPS, _numbered(sent)
    # One transaction (a savepoint here, as the test runs inside a transaction of its own), and nothing else
    # rolled back or nested.
    assert [s.split()[0] for s in sql if _is_transaction_control(s)] == ["SAVEPOINT", "RELEASE"], _numbered(sql)
    # The three layers are all still there: the early check before any lock, the two row locks in the lock
    # order, the insert last.
    locks = [i for i, s in enumerate(statements) if _is_lock(s)]
    assert len(locks) == 2, _numbered(statements)
    assert '"accounts_user"' in statements[locks[0]]
    assert '"catalog_staff"' in statements[locks[1]]
    assert any("EXISTS" in s and "bookings_booking" in s for s in statements[: locks[0]]), "the early check"
    assert statements[-1].lstrip().upper().startswith("WITH")
    assert "INSERT" in statements[-1].upper()
    assert not [s for s in statements if "payments_payment" in s]
    # The booking and its audit row are both there, as the service used to write them one by one.
    booking = Booking.objects.get(pk=response.json()["id"])
    assert response.json()["payment"] is None
    assert list(booking.history.values_list("from_status", "to_status", "actor_id")) == [
        ("", "pending_payment", customer.pk)
    ]
    assert BookingStatusChange.objects.count() == 2


def test_a_refused_booking_rolls_back_and_costs_no_more(auth_client, customer, staff, service, at, business):
    business.max_pending_per_customer = 1
    business.save()
    client = auth_client(customer)
    first, _sql = _post(client, {"staff": staff.pk, "service": service.pk, "start": at("11:00").isoformat()})
    assert first.status_code == 201

    response, sql = _post(client, {"staff": staff.pk, "service": service.pk, "start": at("10:00").isoformat()})

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "too_many_pending_bookings"
    assert len(_statements([s for s in sql if not _is_transaction_control(s)])) <= MAX_STATEMENTS - 3, _numbered(sql)
    assert Booking.objects.count() == 1


def test_with_server_side_binding_the_locks_go_one_by_one(auth_client, customer, staff, service, at, monkeypatch):
    """Two statements in one message need client-side binding (Django's default); with the `server_side_binding`
    option the service sends them one after the other instead, and the booking is made all the same."""
    from django.db.backends.postgresql.base import ServerBindingCursor

    connection.ensure_connection()
    monkeypatch.setattr(connection.connection, "cursor_factory", ServerBindingCursor)
    with connection.cursor() as cursor:
        assert isinstance(cursor.cursor, ServerBindingCursor)

    response, sql = _post(auth_client(customer), {"staff": staff.pk, "service": service.pk, "start": at("10:00").isoformat()})

    assert response.status_code == 201, response.json()
    locks = [s for s in sql if _is_lock(s)]
    assert len(locks) == 2
    assert '"accounts_user"' in locks[0]
    assert '"catalog_staff"' in locks[1]


def test_an_idempotency_key_costs_two_statements_more(auth_client, customer, staff, service, at):
    """The key is claimed by one committed statement before the work (a new key: no transaction, no lock) and
    the answer is stored by one more after it; a replay answers from the stored row."""
    client = auth_client(customer)
    body = {"staff": staff.pk, "service": service.pk, "start": at("10:00").isoformat()}

    with CaptureQueriesContext(connection) as queries:
        response = client.post(URL, body, format="json", HTTP_IDEMPOTENCY_KEY="key-1")
    sql = [q["sql"] for q in queries.captured_queries]

    assert response.status_code == 201, response.json()
    statements = _statements([s for s in sql if not _is_transaction_control(s)])
    assert len(statements) <= MAX_STATEMENTS + 2, _numbered(statements)
    assert [s.split()[0] for s in sql if _is_transaction_control(s)] == ["SAVEPOINT", "RELEASE"], _numbered(sql)
    replay = client.post(URL, body, format="json", HTTP_IDEMPOTENCY_KEY="key-1")
    assert replay.status_code == 201
    assert replay["Idempotent-Replayed"] == "true"
    assert replay.json() == response.json()
    assert Booking.objects.count() == 1


def test_a_key_in_flight_is_409_and_a_stale_claim_is_taken_over(auth_client, customer, staff, service, at):
    """A key seen before still takes the locked path: another request with it still at work is told to retry;
    a claim left behind by a request that died is taken over."""
    from django.utils import timezone

    from apps.core.idempotency import IN_FLIGHT_TIMEOUT
    from apps.core.models import IdempotencyRecord

    client = auth_client(customer)
    body = {"staff": staff.pk, "service": service.pk, "start": at("10:00").isoformat()}
    first = client.post(URL, body, format="json", HTTP_IDEMPOTENCY_KEY="key-2")
    record = IdempotencyRecord.objects.get(key="key-2")
    IdempotencyRecord.objects.filter(pk=record.pk).update(completed_at=None, status_code=None, response_body=None)

    in_flight = client.post(URL, body, format="json", HTTP_IDEMPOTENCY_KEY="key-2")

    assert first.status_code == 201
    assert in_flight.status_code == 409
    assert in_flight.json()["error"]["code"] == "idempotency_key_in_flight"

    IdempotencyRecord.objects.filter(pk=record.pk).update(created_at=timezone.now() - IN_FLIGHT_TIMEOUT * 2)
    later = {"staff": staff.pk, "service": service.pk, "start": at("11:00").isoformat()}
    taken_over = client.post(URL, later, format="json", HTTP_IDEMPOTENCY_KEY="key-2")

    assert taken_over.status_code == 201, taken_over.json()
    assert IdempotencyRecord.objects.get(key="key-2").completed_at is not None
    assert Booking.objects.count() == 2
