"""`python manage.py db_restore FILE [--database NAME] [--drop]`: restore a dump into a fresh database and check
it against the dump: the same migrations, every table's row count (`apps.core.backup`; docs/operations.md).

Exits 1 when the check fails, and refuses (before creating anything) a dump with migrations this code lacks.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.core.backup import BackupError, backup_restore, database_drop


class Command(BaseCommand):
    help = "Restore a pg_dump archive into a new database and check migrations and row counts against the dump."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path, help="The .dump file (its .json manifest beside it, when there is one).")
        parser.add_argument(
            "--database", default=None, help="Name of the new database (default: mawid_restore_<time>)."
        )
        parser.add_argument(
            "--drop", action="store_true", help="Drop the restored database after the check (a drill, not a recovery)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            check = backup_restore(dump=options["file"], database=options["database"])
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        report = check.report()
        if options["drop"]:
            database_drop(check.database)
            report += f"\n(database {check.database} dropped)"
        if not check.ok:
            self.stderr.write(self.style.ERROR(report))
            raise CommandError("the restored database does not match the dump", returncode=1)
        self.stdout.write(self.style.SUCCESS(report))
