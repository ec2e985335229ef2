"""`python manage.py db_restore FILE [--database NAME] [--drop | --replace]`: restore a dump into a fresh database
and check it against the dump: the same migrations, every table's row count (`apps.core.backup`;
docs/operations.md). `--replace` then swaps it in for the live database (kept under another name), only when the
check passed.

Exits 1 when the check fails, and refuses (before creating anything) a dump with migrations this code lacks.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection

from apps.core.backup import BackupError, backup_restore, database_drop, database_swap


class Command(BaseCommand):
    help = "Restore a pg_dump archive into a new database and check migrations and row counts against the dump."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path, help="The .dump file (its .json manifest beside it, when there is one).")
        parser.add_argument(
            "--database", default=None, help="Name of the new database (default: mawid_restore_<time>)."
        )
        parser.add_argument(
            "--replace",
            action="store_true",
            help="After a passed check, put the restored database in the live one's place (the live one is kept, "
            "renamed <name>_before_<time>). Stop the app and the worker first: their sessions are ended.",
        )
        parser.add_argument(
            "--drop", action="store_true", help="Drop the restored database after the check (a drill, not a recovery)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["replace"] and options["drop"]:
            raise CommandError("--replace and --drop do not go together")
        try:
            check = backup_restore(dump=options["file"], database=options["database"])
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        report = check.report()
        if options["replace"] and check.ok:
            live = str(connection.settings_dict["NAME"])
            kept = database_swap(restored=check.database, live=live)
            report += f"\n{live} is now the restored database; the one it replaced is kept as {kept}"
        elif options["replace"]:
            report += f"\nnot replacing {connection.settings_dict['NAME']}: the check failed"
        if options["drop"]:
            database_drop(check.database)
            report += f"\n(database {check.database} dropped)"
        if not check.ok:
            self.stderr.write(self.style.ERROR(report))
            raise CommandError("the restored database does not match the dump", returncode=1)
        self.stdout.write(self.style.SUCCESS(report))
