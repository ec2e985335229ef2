"""A business's tax profile (the seller data its invoices carry) and its ZATCA status, for the manager API.

`tax_profile_save` writes the whole profile (a PUT): it validates every field as the model does (4-digit building
and additional numbers, 5-digit postal code, 10-digit CR number), creates the row or replaces its fields, and
never leaves a half-written row. `zatca_status` reads the business's ZATCA credential without its key, tokens or
secrets. Invoices already issued keep the seller they were issued with (their XML is frozen); the profile applies
to the next one.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from apps.catalog.models import Business
from apps.core.errors import ValidationFailed
from apps.invoicing.models import TaxProfile, ZatcaCredential

logger = logging.getLogger("mawid.invoicing")

PROFILE_FIELDS = (
    "legal_name_ar",
    "legal_name_en",
    "cr_number",
    "street",
    "building_number",
    "additional_number",
    "district",
    "city",
    "postal_code",
)


@dataclass(frozen=True, slots=True)
class ZatcaStatus:
    """What a manager may see of the ZATCA credential: never the private key, the CSID tokens or secrets."""

    environment: str
    status: str
    active: bool
    certificate_expires_at: datetime | None


def tax_profile_get(business: Business) -> TaxProfile | None:
    return TaxProfile.objects.filter(business=business).first()


def zatca_status(business: Business) -> ZatcaStatus | None:
    credential = (
        ZatcaCredential.objects.filter(business=business)
        .only("business", "environment", "status", "production_token", "certificate_expires_at")
        .first()
    )
    if credential is None:
        return None
    return ZatcaStatus(
        environment=credential.environment,
        status=credential.status,
        active=credential.is_active,
        certificate_expires_at=credential.certificate_expires_at,
    )


def tax_profile_save(*, business: Business, fields: dict[str, Any]) -> TaxProfile:
    """Create or replace the business's tax profile with `fields` (the omitted optional fields become blank)."""
    values = {name: str(fields.get(name, "") or "").strip() for name in PROFILE_FIELDS}
    try:
        with transaction.atomic():
            # The business row first: two first saves would otherwise both find no profile, and the later one's
            # uniqueness check (full_clean) would see the other's committed row and refuse a valid save.
            Business.objects.select_for_update().filter(pk=business.pk).first()
            profile = TaxProfile.objects.select_for_update().filter(business=business).first()
            created = profile is None
            if profile is None:
                profile = TaxProfile(business=business)
            for name, value in values.items():
                setattr(profile, name, value)
            try:
                profile.full_clean(exclude=["business"])
            except ValidationError as error:
                raise ValidationFailed(
                    fields={name: [str(m) for m in messages] for name, messages in error.message_dict.items()}
                ) from error
            profile.save()
    except IntegrityError:
        # Two first saves at once: the other one created the row; replace its fields with ours.
        with transaction.atomic():
            profile = TaxProfile.objects.select_for_update().get(business=business)
            for name, value in values.items():
                setattr(profile, name, value)
            profile.save()
        created = False
    logger.info("tax_profile_saved", extra={"business_id": business.pk, "profile_created": created})
    return profile
