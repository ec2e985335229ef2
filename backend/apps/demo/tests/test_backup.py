"""Backups that are proven (apps.core.backup, `manage.py db_backup` / `db_restore`, docs/operations.md): the demo
data (users, businesses, bookings, payments, notifications, an invoice) dumped, restored into a fresh database and
compared table by table; a dump from a newer schema refused before anything is created.

Here against the test server (DATABASE_URL); the tools are picked by the server's major version (pg_dump 15 for
PostgreSQL 15, the embedded wheel's 18 for the embedded server).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from io import StringIO

import psycopg
import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.db import connection

from apps.core import backup

pytestmark = pytest.mark.django_db(transaction=True)

NOW = datetime(2026, 12, 4, 9, 0, tzinfo=UTC)


@pytest.fixture
def scratch():
    """The name of a database the test restores into, dropped afterwards whatever happened."""
    name = f"{connection.settings_dict['NAME']}_restore"
    backup.database_drop(name)
    yield name
    backup.database_drop(name)


def counts(dbname: str) -> dict[str, int]:
    params = backup._conninfo(dbname=dbname)
    with psycopg.connect(**params) as conn, conn.cursor() as cursor:
        return backup._row_counts(cursor)


@pytest.fixture
def populated():
    with time_machine.travel(NOW, tick=False):
        call_command("seed_demo", stdout=StringIO())
        call_command("demo_sale", stdout=StringIO())


def test_a_populated_database_round_trips_with_every_table_equal(populated, scratch, tmp_path):
    made = backup.backup_create(directory=tmp_path, now=NOW)

    assert made.dump.name == "mawid-20261204T090000Z.dump"
    manifest = json.loads(made.manifest_path.read_text())
    live = counts(connection.settings_dict["NAME"])
    assert manifest["row_counts"] == live
    for table in (
        "accounts_user",
        "catalog_business",
        "bookings_booking",
        "payments_payment",
        "notifications_notification",
        "invoicing_invoice",
    ):
        assert manifest["row_counts"][table] > 0, table
    assert ["core", "0001_initial"] in manifest["migrations"]

    out = StringIO()
    call_command("db_restore", str(made.dump), "--database", scratch, stdout=out)

    assert "RESTORE CHECK PASSED" in out.getvalue()
    assert counts(scratch) == live
    params = backup._conninfo(dbname=scratch)
    with psycopg.connect(**params) as conn, conn.cursor() as cursor:
        assert backup._migrations(cursor) == [tuple(m) for m in manifest["migrations"]]


def test_without_its_manifest_the_counts_come_from_the_dump_itself(populated, scratch, tmp_path):
    made = backup.backup_create(directory=tmp_path, now=NOW)
    made.manifest_path.unlink()

    check = backup.backup_restore(dump=made.dump, database=scratch)

    assert check.ok, check.report()
    assert check.rows == sum(made.manifest["row_counts"].values())


def test_a_restore_that_does_not_match_the_manifest_fails_loudly(populated, scratch, tmp_path):
    made = backup.backup_create(directory=tmp_path, now=NOW)
    manifest = json.loads(made.manifest_path.read_text())
    manifest["row_counts"]["bookings_booking"] += 1  # the dump lost a booking, as far as the check can tell
    made.manifest_path.write_text(json.dumps(manifest))

    err = StringIO()
    with pytest.raises(CommandError) as raised:
        call_command("db_restore", str(made.dump), "--database", scratch, stderr=err)

    assert raised.value.returncode == 1
    assert "bookings_booking" in err.getvalue()
    assert "RESTORE CHECK FAILED" in err.getvalue()


def test_a_damaged_dump_is_refused_by_its_checksum(populated, scratch, tmp_path):
    made = backup.backup_create(directory=tmp_path, now=NOW)
    with made.dump.open("ab") as fh:
        fh.write(b"x")

    with pytest.raises(backup.BackupError, match="SHA-256"):
        backup.backup_restore(dump=made.dump, database=scratch)
    assert not backup.database_exists(scratch)


@pytest.fixture
def future_migration():
    """A migration row the code has no file for, as a newer Mawid would leave (django_migrations is not flushed
    between tests: removed again here)."""
    sql = "INSERT INTO django_migrations (app, name, applied) VALUES ('bookings', '9999_from_the_future', now())"
    with connection.cursor() as cursor:
        cursor.execute(sql)
    yield
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM django_migrations WHERE name = '9999_from_the_future'")


def test_a_dump_from_a_newer_schema_is_refused_before_anything_is_created(future_migration, scratch, tmp_path):
    made = backup.backup_create(directory=tmp_path, now=NOW)

    err = StringIO()
    with pytest.raises(CommandError, match="newer schema") as raised:
        call_command("db_restore", str(made.dump), "--database", scratch, stderr=err)

    assert "bookings.9999_from_the_future" in str(raised.value)
    assert not backup.database_exists(scratch)


def test_the_live_database_is_never_the_target(tmp_path):
    made = backup.backup_create(directory=tmp_path, now=NOW)

    with pytest.raises(backup.BackupError, match="live database"):
        backup.backup_restore(dump=made.dump, database=connection.settings_dict["NAME"])


def test_the_tools_match_the_server_major_version():
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('server_version_num')::int / 10000")
        major = cursor.fetchone()[0]

    for name in ("pg_dump", "pg_restore"):
        _path, tool_major = backup.pg_tool(name, server_major=major)
        assert tool_major >= major
    with pytest.raises(backup.BackupError, match="no pg_dump of PostgreSQL 99"):
        backup.pg_tool("pg_dump", server_major=99)


def test_dev_py_backup_and_restore_end_to_end(tmp_path):
    """The two commands a developer types, against this test database (DATABASE_URL): a backup, then a drill
    restore that checks and drops its database, and a missing file refused."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    repo = Path(__file__).resolve().parents[4]
    db = connection.settings_dict
    url = f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    env = {**os.environ, "DATABASE_URL": url, "MAWID_BACKUP_DIR": str(tmp_path), "MAWID_LOG_LEVEL": "WARNING"}
    env.pop("DJANGO_SETTINGS_MODULE", None)

    def dev(*args: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, str(repo / "dev.py"), *args]
        return subprocess.run(  # noqa: S603 - our own dev.py
            command, cwd=repo, env=env, capture_output=True, text=True, timeout=300, check=False
        )

    made = dev("backup")
    assert made.returncode == 0, made.stderr
    dumps = sorted(tmp_path.glob("mawid-*.dump"))
    assert len(dumps) == 1
    assert dumps[0].with_suffix(".json").exists()
    assert f"backup written: {dumps[0]}" in made.stdout

    restored = dev("restore", str(dumps[0]), "--drop")
    assert restored.returncode == 0, restored.stderr
    assert "RESTORE CHECK PASSED" in restored.stdout
    assert "dropped" in restored.stdout

    missing = dev("restore", str(tmp_path / "nothing.dump"))
    assert missing.returncode == 1
    assert "no such file" in missing.stderr


def test_replace_swaps_the_checked_database_in_and_keeps_the_old_one(populated, tmp_path):
    """`--replace` (here the function it calls, on two scratch databases: the test's own is in use): the restored
    database takes the live one's name, and the live one is kept under another."""
    base = connection.settings_dict["NAME"]
    live, restored, kept = f"{base}_live", f"{base}_restored", f"{base}_live_before_20261204t090000z"
    for name in (live, restored, kept):
        backup.database_drop(name)
    try:
        made = backup.backup_create(directory=tmp_path, now=NOW)
        with backup._admin_cursor("default") as cursor:
            cursor.execute(f'CREATE DATABASE "{live}"')
        assert backup.backup_restore(dump=made.dump, database=restored).ok

        assert backup.database_swap(restored=restored, live=live, now=NOW) == kept

        assert counts(live) == made.manifest["row_counts"]
        assert counts(kept) == {}
        assert not backup.database_exists(restored)
    finally:
        for name in (live, restored, kept):
            backup.database_drop(name)
