"""`python manage.py retention_run [--dry-run] [--rule NAME] [--batch-size N]`: the retention purge the daily job runs
(apps.core.retention; docs/privacy.md, "Retention"), now; `--dry-run` only counts what is due."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from apps.core.retention import retention_run, rules
from apps.core.scoping import platform


class Command(BaseCommand):
    help = "Purge what the retention rules say nobody needs to keep any more (or, with --dry-run, count it)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--dry-run", action="store_true", help="Count the rows each rule would touch; change nothing."
        )
        parser.add_argument("--rule", action="append", default=None, help="Only this rule (repeatable).")
        parser.add_argument("--batch-size", type=int, default=None, help="Rows per transaction (RETENTION_BATCH_SIZE).")

    def handle(self, *args: Any, **options: Any) -> None:
        with platform():  # a command acts for no business: the rules read every business's rows
            report = retention_run(
                dry_run=options["dry_run"],
                only=set(options["rule"]) if options["rule"] else None,
                batch_size=options["batch_size"],
            )
        settings_of = {rule.name: rule.setting for rule in rules.all()}
        verb = "due" if report.dry_run else "purged"
        for name, result in report.results.items():
            more = "" if result.finished else " (time budget spent; the next run goes on)"
            batches = "" if report.dry_run else f" in {result.batches} batch(es)"
            self.stdout.write(f"{name} ({settings_of.get(name, '')}): {result.rows} {verb}{batches}{more}")
        self.stdout.write(self.style.SUCCESS(f"{sum(report.counts.values())} row(s) {verb}"))
