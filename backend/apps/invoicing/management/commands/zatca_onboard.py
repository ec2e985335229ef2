"""`manage.py zatca_onboard --business SLUG --otp 123345 [--renew]`: onboard a business's EGS unit with ZATCA
(`apps.invoicing.zatca.onboarding.zatca_onboard`) in the environment of `ZATCA_ENVIRONMENT` at `ZATCA_BASE_URL`.
The OTP comes from the business's own Fatoora portal (the developer portal's is 123345). Prints the outcome,
never the key, the tokens or the secrets."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from apps.catalog.models import Business
from apps.core.errors import DomainError
from apps.core.scoping import platform
from apps.invoicing.zatca.onboarding import zatca_onboard


class Command(BaseCommand):
    help = "Onboard a business with ZATCA: key and CSR, compliance CSID, compliance checks, production CSID."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--business", required=True, help="The business's slug.")
        parser.add_argument("--otp", required=True, help="The OTP from the business's Fatoora portal.")
        parser.add_argument("--renew", action="store_true", help="Renew an active production CSID (new key).")

    def handle(self, *args: Any, **options: Any) -> None:
        with platform():
            business = Business.objects.filter(slug=options["business"]).first()
            if business is None:
                raise CommandError(f"No business {options['business']!r}.")
            try:
                credential = zatca_onboard(business=business, otp=options["otp"], renew=options["renew"])
            except DomainError as exc:
                raise CommandError(f"{exc.code}: {exc.message} {exc.fields or ''}".strip()) from exc
        self.stdout.write(
            f"{business.slug}: ZATCA {credential.environment} credential {credential.status}, "
            f"certificate valid until {credential.certificate_expires_at:%Y-%m-%d}"
        )
