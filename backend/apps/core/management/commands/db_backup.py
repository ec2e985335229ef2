"""`python manage.py db_backup [--dir DIR]`: a consistent dump of the database and its manifest
(`apps.core.backup`; `python3 dev.py backup` runs it against the embedded PostgreSQL; docs/operations.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.core.backup import BackupError, backup_create


class Command(BaseCommand):
    help = "Dump the database (pg_dump custom format, one snapshot) with a JSON manifest into MAWID_BACKUP_DIR."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--dir", type=Path, default=None, help="Folder for the dump (default: MAWID_BACKUP_DIR).")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            backup = backup_create(directory=options["dir"])
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        manifest = backup.manifest
        rows = sum(manifest["row_counts"].values())
        self.stdout.write(
            f"{len(manifest['row_counts'])} tables, {rows} rows, {len(manifest['migrations'])} migrations, "
            f"{manifest['server_version'].split(' on ')[0]}, pg_dump {manifest['pg_dump_major']}"
        )
        self.stdout.write(f"manifest: {backup.manifest_path}")
        self.stdout.write(self.style.SUCCESS(f"backup written: {backup.dump}"))
