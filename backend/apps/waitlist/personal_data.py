"""What the waitlist holds about a person (docs/privacy.md): the places in line they asked for and the times offered
to them. On account deletion their entries and offers go (the held bookings are bookings: bookings cancels the
future ones first and keeps them with the anonymous customer). Imported from `WaitlistConfig.ready()`."""

from __future__ import annotations

from typing import Any

from apps.core.personal_data import delete_row, register
from apps.waitlist.models import WaitlistEntry, WaitlistOffer


def _export(entry: WaitlistEntry) -> dict[str, Any]:
    return {
        "id": entry.pk,
        "business": entry.business.slug,
        "service": {"ar": entry.service.name_ar or entry.service.name_en, "en": entry.service.name_en},
        "staff": entry.staff.display_name if entry.staff is not None else None,
        "dates": [entry.date_from, entry.date_to],
        "times": [entry.time_from, entry.time_to],
        "status": entry.status,
        "created_at": entry.created_at,
        "offers": [
            {"start": offer.start, "status": offer.status, "booking": offer.hold_id, "expires_at": offer.expires_at}
            for offer in entry.offers.order_by("created_at", "pk")
        ],
    }


def declare() -> None:
    register(
        WaitlistOffer,
        rows=lambda user: WaitlistOffer.objects.filter(entry__customer_id=user.pk),
        delete_rows=True,
        order=40,  # before the entries they belong to
        fields={"entry": delete_row("a time offered to the person: no use once they are gone")},
        not_personal={"token_hash": "a hash of a derived secret", "hold": "the booking, which bookings declares"},
    )
    register(
        WaitlistEntry,
        section="waitlist",
        rows=lambda user: (
            WaitlistEntry.objects.filter(customer_id=user.pk)
            .select_related("business", "service", "staff")
            .order_by("created_at", "pk")
        ),
        export=_export,
        delete_rows=True,
        fields={"customer": delete_row("the person's places in line: no use once they are gone")},
    )
