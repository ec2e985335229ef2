# ruff: noqa: T201, S101, S311, S603, S608
# (backend/pyproject.toml ignores these for "bench/**", a glob relative to backend/ that misses ../bench.)
"""Marketplace scale: does one business's work stay as cheap with 10,000 businesses on the database as with one?

    .venv/bin/python bench/marketplace.py [--businesses 10000] [--staff 10] [--bookings-per-staff 100]
                                          [--requests 200] [--keep]

Two databases on the server MAWID_BENCH_DATABASE_URL or DATABASE_URL names (else the embedded PostgreSQL):

  * `mawid_bench_market`: --businesses businesses (10,000), each with one branch in one of ten Saudi cities
    (coordinates around the city centre), five services, --staff staff members (10: 100,000 in all, each a
    user) working Saturday to Thursday 09:00-21:00 and offering two services, and --bookings-per-staff bookings
    each (100: 10 million in all), one every 3.65 days over a year (300 days back to 66 ahead), 30 minutes on
    the hour, completed / cancelled / no-show / expired in the past, confirmed or cancelled ahead, made by
    customers who have 20 bookings each (500,000 customers). Filled with COPY (psycopg `cursor.copy`): the
    bookings table's secondary indexes, check, foreign key and exclusion constraints are dropped for the COPY
    and made again afterwards (each step timed), then ANALYZE. `--keep` keeps it (a database comment records
    the size) and reuses it when the size matches.
  * `mawid_bench_market_one`: the same business shape, one business, the same per-staff and per-customer
    densities (10 staff, 1,000 bookings), made afresh each run.

Measured on each, in-process through Django's test client (production settings, the whole middleware stack, no
network; the time is the request's wall time, the `app` entry of `Server-Timing` where the view sets it), over
--requests requests after 10 warm-up, random staff / businesses each time:

  1. discovery: GET /api/v1/businesses?q=WORD&city=CITY and ?near=LAT,LNG (20 results with next_available);
     skipped, and said so, where the endpoint does not exist yet;
  2. availability: GET /api/v1/staff/ID/availability?service=S&date_from=TODAY&date_to=TODAY+29;
  3. booking creation: POST /api/v1/bookings (a customer with a bearer token, a free half-hour slot, payment
     required: the realistic path with the hold, the locks and the audit row).

Then p50 / p95 per endpoint and database, the ratio big / one, and EXPLAIN (ANALYZE, BUFFERS) summaries of the
queries of one availability request and one booking request on the big database (each plan node's relation
and index, and any sequential scan of a business-owned table).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import secrets
import statistics
import subprocess
import tempfile
import time
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from _common import (
    BACKEND,
    PY,
    admin_execute,
    connect_params,
    drop_database,
    manage,
    pct,
    recreate_database,
    say,
    server_url,
    setup_django,
    with_database,
)

BIG_DB, ONE_DB = "mawid_bench_market", "mawid_bench_market_one"
TZ = ZoneInfo("Asia/Riyadh")
SERVICES_PER_BUSINESS = 5
BOOKINGS_PER_CUSTOMER = 20
OPEN, CLOSE = 9, 21  # working hours, Saturday to Thursday
WORKDAYS = (5, 6, 0, 1, 2, 3)  # Monday is 0; Friday (4) off
DAYS_BACK, DAYS_SPAN = 300, 366  # bookings from 300 days back over a year
CITIES = [  # name, Arabic, latitude, longitude
    ("Riyadh", "الرياض", 24.7136, 46.6753),
    ("Jeddah", "جدة", 21.4858, 39.1925),
    ("Mecca", "مكة", 21.3891, 39.8579),
    ("Medina", "المدينة", 24.5247, 39.5692),
    ("Dammam", "الدمام", 26.4207, 50.0888),
    ("Khobar", "الخبر", 26.2172, 50.1971),
    ("Taif", "الطائف", 21.2703, 40.4158),
    ("Tabuk", "تبوك", 28.3835, 36.5662),
    ("Abha", "أبها", 18.2164, 42.5053),
    ("Buraidah", "بريدة", 26.3260, 43.9750),
]
CITY_WEIGHTS = [30, 20, 8, 7, 9, 6, 5, 5, 5, 5]  # Riyadh and Jeddah have most of them
WORDS = [  # (English, Arabic): business names are WORD + KIND + number
    ("Noor", "نور"), ("Lulu", "لؤلؤة"), ("Rose", "وردة"), ("Star", "نجمة"), ("Palm", "نخلة"), ("Moon", "قمر"),
    ("Pearl", "درة"), ("Desert", "صحراء"), ("Falcon", "صقر"), ("Oasis", "واحة"), ("Jasmine", "ياسمين"),
    ("Amber", "عنبر"), ("Musk", "مسك"), ("Cedar", "أرز"), ("Crown", "تاج"), ("Elite", "نخبة"), ("Golden", "ذهبي"),
    ("Royal", "ملكي"), ("Modern", "عصري"), ("Classic", "كلاسيك"),
]  # fmt: skip
KINDS = [  # category, English, Arabic
    ("salon", "Salon", "صالون"), ("barber", "Barber", "حلاق"), ("spa", "Spa", "سبا"), ("clinic", "Clinic", "عيادة"),
    ("dental", "Dental", "أسنان"), ("home_services", "Home Care", "خدمات منزلية"), ("fitness", "Fitness", "لياقة"),
]  # fmt: skip

BENCH_ENV = {
    "DJANGO_SETTINGS_MODULE": "config.settings.production",
    "DJANGO_SECRET_KEY": secrets.token_urlsafe(64),
    "DJANGO_SECURE_SSL_REDIRECT": "0",
    "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost,testserver",
    "MAWID_ALLOW_FAKE_PROVIDERS": "1",
    "MAWID_THROTTLE_ANON": "1000000/min",
    "MAWID_THROTTLE_USER": "1000000/min",
    "MAWID_BOOKINGS_MAX_PER_CUSTOMER_PER_HOUR": "1000000",
    "MAWID_LOG_LEVEL": "ERROR",
    "MAWID_DB_CONN_MAX_AGE": "60",
    "MAWID_DOTENV": "off",
}


# --- the fill -------------------------------------------------------------------------------------------------


class Shape:
    def __init__(self, businesses: int, staff: int, per_staff: int) -> None:
        self.businesses, self.staff_per, self.per_staff = businesses, staff, per_staff
        self.staff = businesses * staff
        self.bookings = self.staff * per_staff
        self.customers = max(1, self.bookings // BOOKINGS_PER_CUSTOMER)

    def label(self) -> str:
        return f"{self.businesses}x{self.staff_per}x{self.per_staff}"

    def __str__(self) -> str:
        return (
            f"{self.businesses:,} businesses, {self.staff:,} staff, {self.bookings:,} bookings, "
            f"{self.customers:,} customers"
        )


def _tsv(value: object) -> str:
    if value is None:
        return "\\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    return str(value).replace("\\", "\\\\").replace("\t", " ").replace("\n", " ")


def _copy(conn, table: str, columns: list[str], rows: Iterator[str]) -> None:
    """COPY text lines (tab-separated, newline-terminated) into `table`, in chunks of about a megabyte."""
    with conn.cursor() as cur, cur.copy(f'COPY "{table}" ({", ".join(columns)}) FROM STDIN') as copy:
        buf: list[str] = []
        size = 0
        for line in rows:
            buf.append(line)
            size += len(line)
            if size > 1 << 20:
                copy.write("".join(buf))
                buf, size = [], 0
        if buf:
            copy.write("".join(buf))


def _line(*values: object) -> str:
    return "\t".join(_tsv(v) for v in values) + "\n"


def _drop_booking_extras(conn) -> list[tuple[str, str]]:
    """Drop the bookings table's secondary indexes and its constraints but the primary key; return what to make
    again, (name, DDL) in order."""
    rows = conn.execute(
        """
        SELECT conname, pg_get_constraintdef(oid), contype FROM pg_constraint
         WHERE conrelid = 'bookings_booking'::regclass AND contype <> 'p' ORDER BY contype, conname
        """
    ).fetchall()
    constraints = [(name, f'ALTER TABLE bookings_booking ADD CONSTRAINT "{name}" {ddl}') for name, ddl, _ in rows]
    indexes = conn.execute(
        """
        SELECT c.relname, pg_get_indexdef(i.indexrelid) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
         WHERE i.indrelid = 'bookings_booking'::regclass AND NOT i.indisprimary
           AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid)
         ORDER BY c.relname
        """
    ).fetchall()
    for name, _ddl in constraints:
        conn.execute(f'ALTER TABLE bookings_booking DROP CONSTRAINT "{name}"')
    for name, _ddl in indexes:
        conn.execute(f'DROP INDEX "{name}"')
    return list(indexes) + constraints


def fill(url: str, shape: Shape, *, today: date, seed: int = 2026) -> dict[str, float]:
    """Fill a freshly migrated database with `shape`; return the seconds each step took."""
    import psycopg

    from apps.catalog.search import normalize  # standard library only

    rng = random.Random(seed)
    timings: dict[str, float] = {}
    now = datetime.now(TZ)
    stamp = now.isoformat()
    with psycopg.connect(**connect_params(url), autocommit=True) as conn:
        conn.execute("SET synchronous_commit = off")
        conn.execute("SET maintenance_work_mem = '512MB'")
        conn.execute("SET max_parallel_maintenance_workers = 2")

        def step(name: str, fn) -> None:
            started = time.perf_counter()
            fn()
            timings[name] = time.perf_counter() - started
            say(f"  {name:<44} {timings[name]:7.1f} s")

        ids = {}
        for table in ("accounts_user", "catalog_business", "catalog_branch", "catalog_service", "catalog_staff"):
            ids[table] = conn.execute(f"SELECT coalesce(max(id), 0) FROM {table}").fetchone()[0]
        user0, biz0, branch0, service0, staff0 = (
            ids["accounts_user"], ids["catalog_business"], ids["catalog_branch"], ids["catalog_service"],
            ids["catalog_staff"],
        )  # fmt: skip
        n_users = shape.staff + shape.customers

        def users() -> Iterator[str]:
            for n in range(n_users):
                staff = n < shape.staff
                yield _line(
                    user0 + n + 1, "!", None, False, f"+9665{n:08d}", f"{'Staff' if staff else 'Customer'} {n}",
                    None, "ar" if n % 3 else "en", "staff" if staff else "customer", True, False, False, True,
                    False, stamp,
                )  # fmt: skip

        cities = rng.choices(range(len(CITIES)), weights=CITY_WEIGHTS, k=shape.businesses)

        def businesses() -> Iterator[str]:
            for b in range(shape.businesses):
                word_en, word_ar = WORDS[b % len(WORDS)]
                category, kind_en, kind_ar = KINDS[(b // len(WORDS)) % len(KINDS)]
                name_en, name_ar, slug = f"{word_en} {kind_en} {b}", f"{kind_ar} {word_ar} {b}", f"b{b}"
                yield _line(
                    biz0 + b + 1, name_en, "Asia/Riyadh", "SAR", 15, 120, 60, 10, 24, True, 10000, 10000, slug,
                    category, 0, "+966110000000", stamp, f"{name_ar}: وصف", f"{name_en}: a description", True, True,
                    "", name_ar, normalize(" ".join([name_ar, name_en, slug])), "", category == "home_services",
                    json.dumps([CITIES[cities[b]][0]]) if category == "home_services" else "[]", "",
                )  # fmt: skip

        def branches() -> Iterator[str]:
            for b in range(shape.businesses):
                city, city_ar, lat, lng = CITIES[cities[b]]
                yield _line(
                    branch0 + b + 1, f"{city} branch", f"فرع {city_ar}", city, "", f"Street {b}",
                    round(lat + rng.uniform(-0.12, 0.12), 6), round(lng + rng.uniform(-0.12, 0.12), 6),
                    "+966110000000", True, 0, biz0 + b + 1,
                )  # fmt: skip

        def services() -> Iterator[str]:
            for b in range(shape.businesses):
                for k in range(SERVICES_PER_BUSINESS):
                    minutes = 30 if k == 0 else 30 + 15 * k
                    yield _line(
                        service0 + b * SERVICES_PER_BUSINESS + k + 1, f"Service {k}", f"خدمة {k}", "", "", minutes,
                        8000 + 1000 * k, "SAR", 0, 0 if k == 0 else 10, True, k, biz0 + b + 1,
                    )  # fmt: skip

        def staff_rows() -> Iterator[str]:
            for s in range(shape.staff):
                b = s // shape.staff_per
                yield _line(
                    staff0 + s + 1, f"Staff {s}", "", "", True, s % shape.staff_per, user0 + s + 1, biz0 + b + 1,
                    branch0 + b + 1,
                )  # fmt: skip

        def links() -> Iterator[str]:
            for s in range(shape.staff):
                first = service0 + (s // shape.staff_per) * SERVICES_PER_BUSINESS + 1
                yield f"{staff0 + s + 1}\t{first}\n"
                yield f"{staff0 + s + 1}\t{first + 1 + s % (SERVICES_PER_BUSINESS - 1)}\n"

        def hours() -> Iterator[str]:
            for s in range(shape.staff):
                b = biz0 + s // shape.staff_per + 1
                for day in WORKDAYS:
                    yield f"{day}\t{OPEN:02d}:00\t{CLOSE:02d}:00\t{staff0 + s + 1}\t{b}\n"

        def memberships() -> Iterator[str]:
            for s in range(shape.staff):
                yield f"staff\t{stamp}\t{biz0 + s // shape.staff_per + 1}\t{user0 + s + 1}\n"

        # Bookings: precomputed text per (day, hour) so that 10 million rows cost string joins only.
        first_day = today - timedelta(days=DAYS_BACK)
        hours_a_day = CLOSE - OPEN - 1  # starts 09:00 .. 19:00
        starts: list[list[tuple[str, str, str, str, bool]]] = []
        for d in range(DAYS_SPAN + 3):
            day = first_day + timedelta(days=d)
            row = []
            for h in range(hours_a_day):
                start = datetime.combine(day, datetime.min.time(), tzinfo=TZ) + timedelta(hours=OPEN + h)
                end = start + timedelta(minutes=30)
                row.append((start.isoformat(), end.isoformat(), (start - timedelta(days=3)).isoformat(),
                            (end + timedelta(hours=1)).isoformat(), start > now))  # fmt: skip
            starts.append(row)
        past = ["completed"] * 16 + ["cancelled"] * 2 + ["no_show", "expired"]
        future = ["confirmed"] * 9 + ["cancelled"]

        def bookings() -> Iterator[str]:
            per = shape.per_staff
            customers, c0 = shape.customers, user0 + shape.staff + 1
            for s in range(shape.staff):
                b = s // shape.staff_per
                staff_id, biz, branch = staff0 + s + 1, biz0 + b + 1, branch0 + b + 1
                service = service0 + b * SERVICES_PER_BUSINESS + 1
                head = f"{biz}\t{branch}\t{staff_id}\t{service}\t"
                for j in range(per):
                    d = (j * DAYS_SPAN) // per + s % 3
                    h = (s * 7 + j * 3) % hours_a_day
                    start, end, created, updated, ahead = starts[d][h]
                    status = future[(s + j) % 10] if ahead else past[(s * 3 + j) % 20]
                    customer = c0 + (s * 7919 + j * 104729) % customers
                    hold = created if status == "expired" else "\\N"
                    reason = "Changed plans" if status == "cancelled" else ""
                    yield (
                        f"{head}{customer}\t{status}\t{start}\t{end}\t{start}\t{end}\t8000\t8000\t0\t0\tSAR\t\t\t{hold}\t"
                        f"{reason}\t{created}\t{updated}\n"
                    )

        step("users (COPY)", lambda: _copy(conn, "accounts_user", [
            "id", "password", "last_login", "is_superuser", "phone", "name", "email", "language", "role",
            "notify_sms", "notify_whatsapp", "notify_email", "is_active", "is_staff", "date_joined"], users()))  # fmt: skip
        # Derived search columns (discovery) have no database default: COPY leaves them empty for
        # `refresh_search` to fill afterwards.
        conn.execute(
            "ALTER TABLE catalog_business ALTER COLUMN catalog_text SET DEFAULT '',"
            " ALTER COLUMN city_keys SET DEFAULT '{}';"
            "ALTER TABLE catalog_service ALTER COLUMN search_text SET DEFAULT ''"
        )
        step("businesses (COPY)", lambda: _copy(conn, "catalog_business", [
            "id", "name_en", "timezone", "currency", "slot_step_minutes", "min_notice_minutes", "max_advance_days",
            "hold_minutes", "cancellation_cutoff_hours", "require_payment", "max_pending_per_customer",
            "max_upcoming_per_customer", "slug", "category", "commission_bps", "contact_phone", "created_at",
            "description_ar", "description_en", "is_active", "is_listed", "logo_url", "name_ar", "search_text",
            "sender_name", "serves_at_home", "service_area", "vat_number"], businesses()))  # fmt: skip
        step("branches (COPY)", lambda: _copy(conn, "catalog_branch", [
            "id", "name_en", "name_ar", "city", "district", "address", "latitude", "longitude", "contact_phone",
            "is_active", "display_order", "business_id"], branches()))  # fmt: skip
        step("services (COPY)", lambda: _copy(conn, "catalog_service", [
            "id", "name_en", "name_ar", "description_en", "description_ar", "duration_minutes", "price_amount",
            "currency", "buffer_before_minutes", "buffer_after_minutes", "is_active", "display_order",
            "business_id"], services()))  # fmt: skip
        step("staff (COPY)", lambda: _copy(conn, "catalog_staff", [
            "id", "display_name", "bio", "photo_url", "is_active", "display_order", "user_id", "business_id",
            "branch_id"], staff_rows()))  # fmt: skip
        step("staff-service links (COPY)", lambda: _copy(conn, "catalog_staff_services", ["staff_id", "service_id"], links()))
        step("weekly hours (COPY)", lambda: _copy(conn, "catalog_workinghours", [
            "weekday", "start_time", "end_time", "staff_id", "business_id"], hours()))  # fmt: skip
        step("memberships (COPY)", lambda: _copy(conn, "catalog_membership", [
            "role", "created_at", "business_id", "user_id"], memberships()))  # fmt: skip
        for table in ("accounts_user", "catalog_business", "catalog_branch", "catalog_service", "catalog_staff"):
            conn.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")

        extras: list[tuple[str, str]] = []
        step("bookings: drop indexes and constraints", lambda: extras.extend(_drop_booking_extras(conn)))
        step(f"bookings: COPY {shape.bookings:,} rows", lambda: _copy(conn, "bookings_booking", [
            "business_id", "branch_id", "staff_id", "service_id", "customer_id", "status", "start", '"end"',
            "busy_start", "busy_end", "price_amount", "price_net", "price_vat", "vat_rate_bps", "currency", "notes",
            "customer_address", "hold_expires_at", "cancel_reason", "created_at", "updated_at"], bookings()))  # fmt: skip
        for name, ddl in extras:
            step(f"bookings: {name}", lambda ddl=ddl: conn.execute(ddl))
        step("ANALYZE", lambda: conn.execute("ANALYZE"))
    return timings


# --- measuring (in a process of its own per database: Django is set up for one) -------------------------------


def _plan_summary(plan: dict) -> tuple[list[str], list[str]]:
    """The plan's nodes as 'Node on relation [index]' and the sequential scans of tables with a business_id."""
    nodes, scans = [], []

    def walk(node: dict) -> None:
        kind = node["Node Type"]
        relation = node.get("Relation Name")
        if relation:
            index = node.get("Index Name")
            nodes.append(f"{kind} on {relation}" + (f" using {index}" if index else ""))
            if kind == "Seq Scan" and relation.split("_", 1)[0] in ("bookings", "catalog", "payments"):
                scans.append(f"{relation} ({node.get('Actual Rows', '?')} rows)")
        for child in node.get("Plans", []):
            walk(child)

    walk(plan["Plan"])
    return nodes, scans


def explain(captured: list[dict], label: str) -> list[str]:
    from django.db import connection, transaction

    out = [f"EXPLAIN (ANALYZE, BUFFERS) of {label}:"]
    for query in captured:
        sql = query["sql"]
        head = sql.lstrip().split(None, 1)[0].upper()
        writes = any(word in sql.upper() for word in ("INSERT INTO", "UPDATE ", "DELETE FROM"))
        if head not in ("SELECT", "WITH") or writes or "procrastinate" in sql or "django_cache" in sql:
            continue
        # ANALYZE runs the statement: inside a transaction that is rolled back, whatever it does.
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + sql)
            plan = cursor.fetchone()[0][0]
            transaction.set_rollback(True)
        nodes, scans = _plan_summary(plan)
        top = plan["Plan"]
        buffers = f"shared hit {top.get('Shared Hit Blocks', 0)} read {top.get('Shared Read Blocks', 0)}"
        short = " ".join(sql.split())[:110]
        out.append(f"  {plan['Execution Time']:7.2f} ms  {buffers:<28} {short}")
        for node in dict.fromkeys(nodes):
            out.append(f"      {node}")
        if scans:
            out.append(f"      !! sequential scan of {', '.join(scans)}")
    return out


def measure(url: str, requests: int, result_path: str, seed: int) -> None:
    setup_django(url, BENCH_ENV)
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from rest_framework_simplejwt.tokens import AccessToken

    from apps.accounts.models import User
    from apps.catalog.models import Business, Service, Staff
    from apps.core.scoping import platform

    rng = random.Random(seed)
    client = Client()
    today = datetime.now(TZ).date()
    results: dict[str, object] = {}
    notes: list[str] = []

    with platform():
        n_staff = Staff.objects.count()
        staff_ids = [row[0] for row in Staff.objects.order_by("id").values_list("id")[: max(n_staff, 1)]]
        first_service = {b: s for b, s in Service.objects.filter(display_order=0).values_list("business_id", "id")}
        staff_business = dict(Staff.objects.values_list("id", "business_id")) if n_staff <= 200_000 else {}
        customers = list(User.objects.filter(role="customer").order_by("?").values_list("id", flat=True)[:50])
        tokens = [str(AccessToken.for_user(user)) for user in User.objects.filter(pk__in=customers)]

    def sample(label: str, paths: list[tuple[str, str, dict | None]]) -> dict:
        walls, apps, queries = [], [], []
        statuses: dict[int, int] = {}
        for i, (method, path, extra) in enumerate(paths):
            connection.queries_log.clear()
            with CaptureQueriesContext(connection) as ctx:
                started = time.perf_counter()
                if method == "GET":
                    response = client.get(path)
                else:
                    body, token = extra["body"], extra["token"]
                    response = client.post(
                        path, data=json.dumps(body), content_type="application/json",
                        HTTP_AUTHORIZATION=f"Bearer {token}",
                    )  # fmt: skip
                wall = (time.perf_counter() - started) * 1000
            statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
            if i < 10:
                continue
            if response.status_code >= 400 and response.status_code != 409:
                raise SystemExit(f"{label}: {path} answered {response.status_code}: {response.content[:300]!r}")
            walls.append(wall)
            queries.append(len(ctx.captured_queries))
            timing = response.get("Server-Timing", "")
            if timing.startswith("app;dur="):
                apps.append(float(timing.split(";dur=")[1].split(",")[0]))
        return {
            "p50": statistics.median(walls), "p95": pct(walls, 0.95),
            "app_p50": statistics.median(apps) if apps else None, "app_p95": pct(apps, 0.95) if apps else None,
            "queries": sorted(set(queries)), "statuses": statuses,
        }  # fmt: skip

    n = requests + 10
    # 1. discovery
    probe = client.get("/api/v1/businesses?city=Riyadh")
    if probe.status_code == 404 or probe.status_code == 405:
        notes.append("discovery: GET /api/v1/businesses answered 404 here (not built yet): not measured")
    else:
        city_q = []
        for _ in range(n):
            word = rng.choice(WORDS)[rng.random() < 0.3]
            city = CITIES[rng.choices(range(len(CITIES)), weights=CITY_WEIGHTS)[0]][0]
            city_q.append(("GET", f"/api/v1/businesses?q={word}&city={city}", None))
        results["discovery q+city"] = sample("discovery", city_q)
        near = []
        for _ in range(n):
            _city, _ar, lat, lng = CITIES[rng.choices(range(len(CITIES)), weights=CITY_WEIGHTS)[0]]
            near.append(("GET", f"/api/v1/businesses?near={lat + rng.uniform(-0.05, 0.05):.5f},"
                                f"{lng + rng.uniform(-0.05, 0.05):.5f}", None))  # fmt: skip
        results["discovery near"] = sample("discovery near", near)

    # 2. one staff member's 30 days
    def staff_service(staff_id: int) -> int:
        business = staff_business.get(staff_id)
        if business is None:
            with platform():
                business = Staff.objects.filter(pk=staff_id).values_list("business_id", flat=True).get()
        return first_service[business]

    availability = []
    for _ in range(n):
        sid = rng.choice(staff_ids)
        availability.append(("GET", f"/api/v1/staff/{sid}/availability?service={staff_service(sid)}"
                                    f"&date_from={today}&date_to={today + timedelta(days=29)}", None))  # fmt: skip
    results["availability 30 days"] = sample("availability", availability)

    # 3. booking creation: a half-hour start (the generated bookings are on the hour) on a working day ahead
    used: set[tuple[int, date, int]] = set()
    posts = []
    while len(posts) < n:
        sid, day, hour = rng.choice(staff_ids), today + timedelta(days=rng.randint(2, 50)), rng.randint(OPEN, CLOSE - 2)
        if day.weekday() not in WORKDAYS or (sid, day, hour) in used:
            continue
        used.add((sid, day, hour))
        start = datetime.combine(day, datetime.min.time(), tzinfo=TZ) + timedelta(hours=hour, minutes=30)
        # The address is ignored except by home-service businesses, which need it.
        body = {"staff": sid, "service": staff_service(sid), "start": start.isoformat(),
                "customer_address": "Olaya St 12, Riyadh"}  # fmt: skip
        posts.append(("POST", "/api/v1/bookings", {"body": body, "token": rng.choice(tokens)}))
    results["booking create"] = sample("booking", posts)

    # EXPLAIN the queries of one request of each kind
    plans: list[str] = []
    sid = rng.choice(staff_ids)
    with CaptureQueriesContext(connection) as ctx:
        client.get(f"/api/v1/staff/{sid}/availability?service={staff_service(sid)}"
                   f"&date_from={today}&date_to={today + timedelta(days=29)}")  # fmt: skip
    plans += explain(ctx.captured_queries, "one availability request (30 days)")
    day = today + timedelta(days=51)
    while day.weekday() not in WORKDAYS:
        day += timedelta(days=1)
    start = datetime.combine(day, datetime.min.time(), tzinfo=TZ) + timedelta(hours=12, minutes=30)
    with CaptureQueriesContext(connection) as ctx:
        client.post("/api/v1/bookings", data=json.dumps({"staff": sid, "service": staff_service(sid),
                    "start": start.isoformat(), "customer_address": "Olaya St 12, Riyadh"}),
                    content_type="application/json",
                    HTTP_AUTHORIZATION=f"Bearer {tokens[0]}")  # fmt: skip
    plans += explain(ctx.captured_queries, "one booking request (its SELECTs)")
    if "discovery q+city" in results:
        with CaptureQueriesContext(connection) as ctx:
            client.get("/api/v1/businesses?q=noor&city=Riyadh")
        plans += explain(ctx.captured_queries, "one discovery request (q=noor&city=Riyadh)")
    with platform(), connection.cursor() as cursor:
        cursor.execute("SELECT reltuples::bigint FROM pg_class WHERE relname = 'bookings_booking'")
        results["_counts"] = {"businesses": Business.objects.count(), "staff": n_staff, "bookings": cursor.fetchone()[0]}
    results["_notes"] = notes
    results["_plans"] = plans
    Path(result_path).write_text(json.dumps(results))


def run_measure(url: str, requests: int, seed: int) -> dict:
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as handle:
        path = handle.name
    try:
        subprocess.run(
            [str(PY), __file__, "--measure", url, "--requests", str(requests), "--result", path, "--seed", str(seed)],
            check=True, cwd=BACKEND,
        )  # fmt: skip
        return json.loads(Path(path).read_text())
    finally:
        Path(path).unlink(missing_ok=True)


# --- the run --------------------------------------------------------------------------------------------------


def _env(url: str) -> dict[str, str]:
    return {**os.environ, **BENCH_ENV, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "config.settings.development"}


def migrate(url: str) -> None:
    manage(_env(url), "migrate", "--noinput", "-v", "0")


def refresh_search(url: str, name: str) -> None:
    """Discovery's search columns (business catalog text, city keys, service names): COPY skipped the signals
    that keep them (docs/risks.md R50)."""
    started = time.perf_counter()
    manage(_env(url), "refresh_search")
    say(f"{name}: search columns refreshed in {time.perf_counter() - started:.1f} s")


def database_comment(base_url: str, name: str) -> str | None:
    import psycopg

    with psycopg.connect(**connect_params(with_database(base_url, "postgres")), autocommit=True) as conn:
        row = conn.execute(
            "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s", [name]
        ).fetchone()
    return None if row is None else (row[0] or "")


def prepare_database(base_url: str, name: str, shape: Shape, *, keep: bool) -> str:
    from psycopg import sql

    marker = f"mawid bench market {shape.label()}"
    url = with_database(base_url, name)
    if keep and database_comment(base_url, name) == marker:
        say(f"{name}: kept from an earlier run ({shape}); migrating to the current schema")
        migrate(url)
        refresh_search(url, name)
        return url
    recreate_database(base_url, name)
    started = time.perf_counter()
    migrate(url)
    say(f"{name}: migrated in {time.perf_counter() - started:.1f} s; filling with {shape}")
    started = time.perf_counter()
    fill(url, shape, today=datetime.now(TZ).date())
    say(f"{name}: filled in {time.perf_counter() - started:.1f} s")
    refresh_search(url, name)
    admin_execute(base_url, sql.SQL("COMMENT ON DATABASE {} IS {}").format(sql.Identifier(name), sql.Literal(marker)))
    return url


def report(big: dict, one: dict, shapes: tuple[Shape, Shape]) -> None:
    say("")
    say(f"big: {shapes[0]}; one: {shapes[1]}")
    say(f"{'in-process, ms':<24}{'one p50':>9}{'one p95':>9}{'big p50':>9}{'big p95':>9}{'p50 x':>7}{'p95 x':>7}"
        f"   server-timing app p95 one / big   queries")  # fmt: skip
    for key in [k for k in big if not k.startswith("_")]:
        b, o = big[key], one.get(key)
        if o is None:
            continue
        app = f"{o['app_p95']:.2f} / {b['app_p95']:.2f}" if b["app_p95"] is not None else "-"
        say(f"{key:<24}{o['p50']:9.2f}{o['p95']:9.2f}{b['p50']:9.2f}{b['p95']:9.2f}"
            f"{b['p50'] / o['p50']:7.2f}{b['p95'] / o['p95']:7.2f}   {app:<34}{b['queries']} {b['statuses']}")  # fmt: skip
    for note in big["_notes"]:
        say(f"note: {note}")
    say("")
    for line in big["_plans"]:
        say(line)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--businesses", type=int, default=10_000)
    parser.add_argument("--staff", type=int, default=10, help="staff members per business")
    parser.add_argument("--bookings-per-staff", type=int, default=100)
    parser.add_argument("--requests", type=int, default=200, help="measured requests per endpoint and database")
    parser.add_argument("--keep", action="store_true", help=f"keep {BIG_DB} (and reuse it when its size matches)")
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--measure", help=argparse.SUPPRESS)
    parser.add_argument("--result", help=argparse.SUPPRESS)
    args = parser.parse_args()
    seed = args.seed if args.seed is not None else int(time.time())
    if args.measure:
        measure(args.measure, args.requests, args.result, seed)
        return

    big_shape = Shape(args.businesses, args.staff, args.bookings_per_staff)
    one_shape = Shape(1, args.staff, args.bookings_per_staff)
    base_url = server_url()
    try:
        started = time.perf_counter()
        big_url = prepare_database(base_url, BIG_DB, big_shape, keep=args.keep)
        say(f"big database ready in {time.perf_counter() - started:.1f} s")
        one_url = prepare_database(base_url, ONE_DB, one_shape, keep=False)
        say("measuring the one-business database ...")
        one = run_measure(one_url, args.requests, seed)
        say("measuring the big database ...")
        big = run_measure(big_url, args.requests, seed)
        report(big, one, (big_shape, one_shape))
    finally:
        drop_database(base_url, ONE_DB)
        if not args.keep:
            drop_database(base_url, BIG_DB)
            say(f"dropped {BIG_DB} (--keep keeps it)")


if __name__ == "__main__":
    main()
