"""Reads about the waitlist: a customer's entries, a business's line, an offer by its claim token."""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.db.models import QuerySet
from django.urls import reverse
from django.utils.crypto import salted_hmac

from apps.core.errors import NotFound
from apps.waitlist.models import WaitlistEntry, WaitlistOffer

_TOKEN_SALT = "mawid.waitlist.offer"  # noqa: S105 - an HMAC key salt, not a secret


def offer_token(*, hold_id: int) -> str:
    """The claim link's secret for the offer holding booking `hold_id`: an HMAC under the SECRET_KEY, so it is
    never stored (the offer keeps only its SHA-256) and the message can be rendered when it is sent."""
    return salted_hmac(_TOKEN_SALT, f"hold:{hold_id}", algorithm="sha256").hexdigest()[:40]


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def offer_claim_url(*, hold_id: int) -> str:
    """The claim page on the website (`MAWID_PUBLIC_BASE_URL`), as the message links it."""
    path = reverse("web:waitlist_claim", args=[offer_token(hold_id=hold_id)])
    return f"{settings.PUBLIC_BASE_URL}{path}"


def _offers() -> QuerySet[WaitlistOffer]:
    return WaitlistOffer.objects.select_related(
        "entry", "entry__service", "entry__customer", "staff", "hold", "business"
    )


def offer_get_by_token(*, token: str) -> WaitlistOffer:
    """The offer whose claim token is `token` (NotFound otherwise)."""
    if not token or len(token) > 100:
        raise NotFound()
    offer = _offers().filter(token_hash=token_hash(token)).first()
    if offer is None:
        raise NotFound()
    return offer


def offer_get_for_customer(*, token: str, customer_id: int) -> WaitlistOffer:
    """The offer of `token` when it was made to `customer_id`: someone else's link is not found (404)."""
    offer = offer_get_by_token(token=token)
    if offer.entry.customer_id != customer_id:
        raise NotFound()
    return offer


def entry_list_for_customer(*, customer_id: int) -> QuerySet[WaitlistEntry]:
    return (
        WaitlistEntry.objects.filter(customer_id=customer_id)
        .select_related("service", "staff", "business")
        .order_by("-created_at", "-id")
    )


def entry_get_for_customer(*, entry_id: int, customer_id: int) -> WaitlistEntry:
    entry = entry_list_for_customer(customer_id=customer_id).filter(pk=entry_id).first()
    if entry is None:
        raise NotFound()
    return entry


def entry_list_for_business(*, business_id: int, status: str | None = None) -> QuerySet[WaitlistEntry]:
    """A business's waitlist in line order (the manager API); optionally one status."""
    qs = WaitlistEntry.objects.filter(business_id=business_id).select_related("service", "staff", "customer")
    if status:
        qs = qs.filter(status=status)
    return qs.order_by("created_at", "id")


def live_offers_of(*, entry_ids: list[int]) -> dict[int, WaitlistOffer]:
    """The live offer (if any) of each of `entry_ids`, by entry id, in one query (the customer's waitlist page)."""
    offers = WaitlistOffer.objects.filter(entry_id__in=entry_ids, status=WaitlistOffer.Status.OFFERED)
    return {offer.entry_id: offer for offer in offers.select_related("staff")}


def live_offer_of(entry: WaitlistEntry) -> WaitlistOffer | None:
    return WaitlistOffer.objects.filter(entry_id=entry.pk, status=WaitlistOffer.Status.OFFERED).first()
