"""`python manage.py setup_roles`: the Managers and Staff admin groups (see `apps.accounts.roles`)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from apps.accounts.roles import roles_setup


class Command(BaseCommand):
    help = "Create the Managers and Staff groups with their admin permissions and sort admin users into them."

    def handle(self, *args: Any, **options: Any) -> None:
        report = roles_setup()
        for name, group in report.groups.items():
            self.stdout.write(f"{name}: {group.permissions} permissions")
            if group.missing:
                self.stdout.write(self.style.WARNING(f"  not found (app not migrated?): {', '.join(group.missing)}"))
        self.stdout.write(self.style.SUCCESS(f"roles set up; {report.users_updated} user(s) moved to their group"))
