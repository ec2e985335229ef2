"""An existing single-business database (the schema before the marketplace) migrates into a marketplace of one:
every row lands in that business, nothing is lost.

The test builds the old schema in a database of its own (`migrate` to the last pre-marketplace migrations), writes
old-shape rows with SQL (a salon, a manager, two staff members with hours and time off, a closure, bookings with
their history, a payment with a refund and events, a webhook, notifications with attempts, an idempotency record),
migrates to the head and compares.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path
from urllib.parse import urlencode

import psycopg
import pytest
from django.db import connection

BACKEND = Path(__file__).resolve().parents[3]

BEFORE = [
    ("catalog", "0002_business_max_upcoming_per_customer"),
    ("bookings", "0001_initial"),
    ("payments", "0002_refund_sent_baseline"),
    ("notifications", "0001_initial"),
    ("core", "0003_throttle_hits"),
]

OWNED = [
    "catalog_service",
    "catalog_staff",
    "catalog_workinghours",
    "catalog_scheduleexception",
    "catalog_closure",
    "bookings_booking",
    "bookings_bookingstatuschange",
    "payments_payment",
    "payments_refund",
    "payments_paymentevent",
    "payments_webhookevent",
    "notifications_notification",
    "notifications_notificationattempt",
]


def _server() -> dict[str, object]:
    database = connection.settings_dict
    return {
        "host": database["HOST"] or database["OPTIONS"].get("host") or "127.0.0.1",
        "port": database["PORT"] or database["OPTIONS"].get("port") or 5432,
        "user": database["USER"],
        "password": database["PASSWORD"] or None,
    }


@pytest.fixture
def scratch_database():
    server = _server()
    name = f"mawid_migration_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(dbname="postgres", autocommit=True, **server) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield name, server
    finally:
        with psycopg.connect(dbname="postgres", autocommit=True, **server) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _migrate(name: str, server: dict[str, object], *target: str) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "MAWID_"))}
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.test",
        DATABASE_URL=f"postgres://{server['user']}:{server['password'] or ''}@/{name}?"
        + urlencode({"host": server["host"], "port": server["port"]}),
        MAWID_DOTENV="off",
    )
    subprocess.run(  # noqa: S603 - our own manage.py
        [sys.executable, "manage.py", "migrate", "--noinput", *target],
        cwd=BACKEND,
        env=env,
        check=True,
        capture_output=True,
        timeout=300,
    )


OLD_ROWS = """
INSERT INTO catalog_businesssettings (id, name, timezone, currency, slot_step_minutes, min_notice_minutes,
    max_advance_days, hold_minutes, cancellation_cutoff_hours, require_payment, max_pending_per_customer,
    max_upcoming_per_customer)
VALUES (1, 'Salon Noor', 'Asia/Riyadh', 'SAR', 15, 120, 60, 10, 24, true, 3, 10);

INSERT INTO accounts_user (id, password, phone, name, language, role, notify_sms, notify_whatsapp, notify_email,
    is_active, is_staff, is_superuser, date_joined)
VALUES (1, '!', '+966500000001', 'Manager', 'ar', 'manager', true, false, true, true, true, false, now()),
       (2, '!', '+966500000002', 'Staff A', 'ar', 'staff', true, false, true, true, true, false, now()),
       (3, '!', '+966500000003', 'Staff B', 'ar', 'staff', true, false, true, true, true, false, now()),
       (4, '!', '+966500000004', 'Customer', 'ar', 'customer', true, false, true, true, false, false, now());

INSERT INTO catalog_service (id, name_en, name_ar, description_en, description_ar, duration_minutes, price_amount,
    currency, buffer_before_minutes, buffer_after_minutes, is_active, display_order)
VALUES (1, 'Haircut', 'قص', '', '', 30, 15000, 'SAR', 0, 0, true, 0),
       (2, 'Colour', 'صبغة', '', '', 60, 30000, 'SAR', 0, 10, true, 1);

INSERT INTO catalog_staff (id, user_id, display_name, bio, photo_url, is_active, display_order)
VALUES (1, 2, 'Staff A', '', '', true, 0), (2, 3, 'Staff B', '', '', true, 1);
INSERT INTO catalog_staff_services (staff_id, service_id) VALUES (1, 1), (1, 2), (2, 1);
INSERT INTO catalog_workinghours (staff_id, weekday, start_time, end_time)
SELECT s, d, '09:00', '17:00' FROM generate_series(1, 2) s, generate_series(0, 6) d;
INSERT INTO catalog_scheduleexception (staff_id, kind, start, "end", reason)
VALUES (1, 'time_off', '2026-12-10 06:00+00', '2026-12-10 09:00+00', 'dentist');
INSERT INTO catalog_closure (name, start_date, end_date) VALUES ('National Day', '2026-09-23', '2026-09-23');

INSERT INTO bookings_booking (id, customer_id, staff_id, service_id, status, start, "end", busy_start, busy_end,
    price_amount, currency, notes, hold_expires_at, cancel_reason, created_at, updated_at)
VALUES (1, 4, 1, 1, 'confirmed', '2026-12-08 07:00+00', '2026-12-08 07:30+00', '2026-12-08 07:00+00',
        '2026-12-08 07:30+00', 15000, 'SAR', '', NULL, '', now(), now()),
       (2, 4, 2, 1, 'cancelled', '2026-12-08 07:00+00', '2026-12-08 07:30+00', '2026-12-08 07:00+00',
        '2026-12-08 07:30+00', 15000, 'SAR', '', NULL, 'plans', now(), now());
INSERT INTO bookings_bookingstatuschange (booking_id, from_status, to_status, actor_id, reason, created_at)
VALUES (1, '', 'pending_payment', 4, '', now()), (1, 'pending_payment', 'confirmed', NULL, '', now()),
       (2, '', 'confirmed', 4, '', now()), (2, 'confirmed', 'cancelled', 4, 'plans', now());
"""


def _count(cursor: psycopg.Cursor, table: str, where: str = "") -> int:
    row = cursor.execute(f"SELECT count(*) FROM {table} {where}").fetchone()  # noqa: S608 - our table names
    assert row is not None
    return int(row[0])


def _payment_rows(cursor: psycopg.Cursor) -> None:
    """A captured payment with a partial refund, its events, a webhook and notifications: columns as the old
    schema has them (every NOT NULL column of each table, read from the catalog)."""

    def insert(table: str, values: dict[str, object]) -> None:
        columns = [
            name
            for (name,) in cursor.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_name = %s AND is_nullable = 'NO'"
                " AND column_default IS NULL AND column_name <> 'id'",
                [table],
            ).fetchall()
        ]
        missing = set(columns) - set(values)
        assert not missing, f"{table}: give {sorted(missing)}"
        names = ", ".join(f'"{c}"' for c in values)
        marks = ", ".join(["%s"] * len(values))
        cursor.execute(f"INSERT INTO {table} ({names}) VALUES ({marks})", list(values.values()))  # noqa: S608

    import datetime as dt

    now = dt.datetime(2026, 12, 3, 9, tzinfo=dt.UTC)
    cursor.execute(
        "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = 'payments_payment'"
        " AND is_nullable = 'NO' AND column_default IS NULL AND column_name <> 'id'"
    )
    defaults: dict[str, object] = {"integer": 0, "bigint": 0, "smallint": 0, "boolean": False, "text": ""}
    defaults.update({"character varying": "", "jsonb": "{}", "timestamp with time zone": now, "uuid": uuid.uuid4()})
    payment = {name: defaults[kind] for name, kind in cursor.fetchall()}
    payment.update(
        booking_id=1,
        flow="token",
        status="partially_refunded",
        amount=15000,
        authorized_amount=15000,
        captured_amount=15000,
        refunded_amount=5000,
        currency="SAR",
        given_id=uuid.uuid4(),
    )
    insert("payments_payment", payment)
    (payment_id,) = cursor.execute("SELECT id FROM payments_payment").fetchone()  # type: ignore[misc]
    for table, extra in [
        ("payments_refund", {"payment_id": payment_id, "amount": 5000, "status": "succeeded", "kind": "full"}),
        ("payments_paymentevent", {"payment_id": payment_id, "kind": "captured"}),
        ("payments_webhookevent", {"payment_id": payment_id, "event_id": "evt_1", "type": "payment_paid"}),
        ("notifications_notification", {"booking_id": 1, "recipient_id": 4, "event_key": "booking_confirmed:1"}),
    ]:
        cursor.execute(
            "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = %s"
            " AND is_nullable = 'NO' AND column_default IS NULL AND column_name <> 'id'",
            [table],
        )
        row = {name: defaults[kind] for name, kind in cursor.fetchall()}
        row.update(extra)
        insert(table, row)
    (notification_id,) = cursor.execute("SELECT id FROM notifications_notification").fetchone()  # type: ignore[misc]
    cursor.execute(
        "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = 'notifications_notificationattempt'"
        " AND is_nullable = 'NO' AND column_default IS NULL AND column_name <> 'id'"
    )
    attempt = {name: defaults[kind] for name, kind in cursor.fetchall()}
    attempt.update(notification_id=notification_id, number=1, outcome="sent")
    insert("notifications_notificationattempt", attempt)


@pytest.mark.django_db
def test_a_single_business_database_becomes_a_marketplace_of_one(scratch_database):
    name, server = scratch_database
    _migrate(name, server, "accounts")
    for app, migration in BEFORE:
        _migrate(name, server, app, migration)
    with psycopg.connect(dbname=name, autocommit=True, **server) as db, db.cursor() as cursor:
        cursor.execute(OLD_ROWS)
        _payment_rows(cursor)
        before = {table: _count(cursor, table) for table in OWNED}
    assert all(before.values()), before  # every kind of business-owned row is there to migrate

    _migrate(name, server)

    with psycopg.connect(dbname=name, autocommit=True, **server) as db, db.cursor() as cursor:
        assert cursor.execute("SELECT id, slug, name_en FROM catalog_business").fetchall() == [
            (1, "salon-noor", "Salon Noor")
        ]
        after = {table: _count(cursor, table) for table in OWNED}
        assert after == before  # nothing lost
        for table in OWNED:  # every row landed in the one business
            assert _count(cursor, table, "WHERE business_id = 1") == before[table], table
        branches = cursor.execute("SELECT id, name_en FROM catalog_branch WHERE business_id = 1").fetchall()
        assert len(branches) == 1
        assert _count(cursor, "catalog_staff", f"WHERE branch_id = {branches[0][0]}") == 2
        assert _count(cursor, "bookings_booking", f"WHERE branch_id = {branches[0][0]}") == 2
        memberships = cursor.execute(
            "SELECT user_id, role FROM catalog_membership WHERE business_id = 1 ORDER BY user_id"
        ).fetchall()
        assert memberships == [(1, "manager"), (2, "staff"), (3, "staff")]
        # The policies came along, and the exclusion constraint is the per-business one.
        policies = cursor.execute(
            "SELECT timezone, slot_step_minutes, require_payment, max_upcoming_per_customer FROM catalog_business"
        ).fetchone()
        assert policies == ("Asia/Riyadh", 15, True, 10)
        definition = cursor.execute(
            "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = 'booking_no_overlap'"
        ).fetchone()
        assert definition is not None
        assert "business_id WITH =" in definition[0]
