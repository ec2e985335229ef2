"""The waitlist's jobs: offer freed slots of one business (deferred by the booking events), and the sweep."""

from __future__ import annotations

from procrastinate.contrib.django import app

from apps.waitlist import services
from apps.waitlist.models import WaitlistEntry


@app.task(queue="bookings")
def waitlist_process(business_id: int) -> int:
    """Offer the free times that fit waiting customers of `business_id` (one business at a time: the advisory
    lock in `waitlist_offer_free_slots`). Returns how many offers were made."""
    return len(services.waitlist_offer_free_slots(business_id=business_id))


@app.periodic(cron="*/5 * * * *", periodic_id="waitlist_sweep")
@app.task(queue="bookings", queueing_lock="waitlist_sweep")
def waitlist_sweep(timestamp: int) -> int:
    """Every 5 minutes, the safety net: time that freed without a booking event (new working hours, time off
    removed, a closure lifted) is offered too, and entries whose dates have passed expire."""
    business_ids = (
        WaitlistEntry.objects.filter(status=WaitlistEntry.Status.WAITING)
        .order_by()
        .values_list("business_id", flat=True)
        .distinct()
    )
    return sum(len(services.waitlist_offer_free_slots(business_id=business_id)) for business_id in business_ids)
