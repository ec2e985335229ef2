"""`manage.py business_close --business SLUG [--confirm]`: steps 1-3 of closing a business (docs/privacy.md,
"Closing a business"), run by an operator on the owner's written request. Without `--confirm` it only says what
it would do.

1. The business stops taking bookings: not active, not listed.
2. Each future booking is cancelled as the business would cancel it (`booking_cancel` with no actor): payments
   void or refund in full from their jobs (run the worker), customers get the cancellation message.
3. Its people go: memberships removed, staff profiles deactivated (kept for the bookings they served). Each person
   may then delete their own account.

What the law requires stays: bookings, payments, refunds, ledger entries, invoices and credit notes, the tax
profile and ZATCA credential (six years at least)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from apps.bookings.models import HOLDING_STATUSES, Booking
from apps.bookings.services import booking_cancel
from apps.catalog.models import Business, Membership, Staff
from apps.core.scoping import platform

REASON = "business closed"


class Command(BaseCommand):
    help = "Close a business: stop bookings, cancel future ones with the money returned, let its people go."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--business", required=True, help="The business's slug.")
        parser.add_argument("--confirm", action="store_true", help="Do it (without: only say what it would do).")

    def handle(self, *args: Any, **options: Any) -> None:
        now = timezone.now()
        with platform():
            business = Business.objects.filter(slug=options["business"]).first()
            if business is None:
                raise CommandError(f"No business {options['business']!r}.")
            future = Booking.objects.filter(business=business, status__in=HOLDING_STATUSES, start__gt=now)
            ids = list(future.order_by("start", "pk").values_list("pk", flat=True))
            memberships = Membership.objects.filter(business=business)
            staff = Staff.objects.filter(business=business, is_active=True)
            counts = (len(ids), memberships.count(), staff.count())
            if not options["confirm"]:
                self.stdout.write(
                    f"{business.slug}: would cancel {counts[0]} future booking(s), remove {counts[1]} membership(s) "
                    f"and deactivate {counts[2]} staff profile(s). Run again with --confirm."
                )
                return
            with transaction.atomic():
                Business.objects.filter(pk=business.pk).update(is_active=False, is_listed=False)
                for booking_id in ids:
                    booking_cancel(booking_id=booking_id, actor=None, reason=REASON, now=now)
                memberships.delete()
                staff.update(is_active=False)
        self.stdout.write(
            f"{business.slug}: closed; {counts[0]} future booking(s) cancelled (refunds and voids run in the worker), "
            f"{counts[1]} membership(s) removed, {counts[2]} staff profile(s) deactivated. Invoices, payments, "
            "ledgers and bookings are kept (docs/privacy.md)."
        )
