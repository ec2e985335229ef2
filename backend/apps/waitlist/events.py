"""Facts the waitlist announces (published inside the service's transaction, `apps.core.events`)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class WaitlistOfferMade:
    """A freed slot is held for a waiting customer until `expires_at`: they are sent the claim link."""

    offer_id: int
    booking_id: int  # the hold
