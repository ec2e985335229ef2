"""Writes about the waitlist: join, leave, offer freed slots, claim, decline (docs/notifications.md "Waitlist").

**One offer at a time.** `waitlist_offer_free_slots` is the only writer of offers. It reads the waiting entries in
line order and the free times, then makes each offer in a short transaction of its own (a transaction-level
advisory lock on the business, the entry's row lock and a re-check that it still waits), holding the slot with a
real booking made by `bookings.services.booking_create` (the customer and staff locks, the engine's re-check
under them, the exclusion constraint). So a freed slot is held for exactly one customer, whatever runs
concurrently (another offer job, a direct booking: whoever comes second gets `SlotUnavailable`), and an entry that
has a live offer is `offered`, never offered a second time.

**Lock order**, everywhere: the hold booking, then the offer, then the entry (the claim, the decline, leaving,
and the subscribers reacting to a confirmed, cancelled or expired hold); an offer takes the business's advisory
lock, then the customer, then the waiting entry, then (in `booking_create`) the staff member, and inserts the hold
and the offer; joining locks the customer before inserting the entry; an account deletion locks the customer before
it removes the places in line. No transaction holds a staff lock while it asks for a customer's, nor a place in
line while it asks for its customer.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.conf import settings as django_settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Max, Min
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from procrastinate.contrib.django import app as procrastinate_app

from apps.accounts.models import User
from apps.bookings.errors import (
    AccountInactive,
    BookingRateLimited,
    SlotUnavailable,
    TooManyPendingBookings,
    TooManyUpcomingBookings,
)
from apps.bookings.models import Booking
from apps.bookings.services import booking_cancel, booking_confirm, booking_create
from apps.catalog.errors import ServiceNotOffered
from apps.catalog.models import Business, Service
from apps.catalog.selectors import slot_list_any_staff_range, staff_get_active, staff_offers_service
from apps.core.errors import NotFound, ValidationFailed
from apps.core.events import publish
from apps.waitlist import events
from apps.waitlist.errors import AlreadyWaiting, OfferGone, WindowOutsideBookingWindow
from apps.waitlist.models import WaitlistEntry, WaitlistOffer
from apps.waitlist.selectors import offer_get_for_customer, offer_token, token_hash

logger = logging.getLogger("mawid.waitlist")

E = WaitlistEntry.Status
O = WaitlistOffer.Status  # noqa: E741 - the offer statuses, as S is the booking's elsewhere
PROCESS_TASK = "apps.waitlist.jobs.waitlist_process"
# pg_advisory_xact_lock(class, business id): the class keeps our keys apart from anyone else's ("WAIT").
_LOCK_CLASS = 0x57414954


def claim_window() -> timedelta:
    """How long an offer holds its slot for the customer (`MAWID_WAITLIST_CLAIM_MINUTES`, default 15)."""
    return timedelta(minutes=max(1, int(django_settings.WAITLIST_CLAIM_MINUTES)))


def waitlist_defer_offers(*, business_id: int) -> None:
    """Defer the offer job for `business_id`, inside the caller's transaction (it commits with the freed slot).
    No queueing lock: a job already queued might start before this transaction commits and miss the slot; the
    jobs are cheap when there is nothing to offer and queue on the advisory lock."""
    procrastinate_app.tasks[PROCESS_TASK].defer(business_id=business_id)


# --- joining and leaving ------------------------------------------------------------------------------------


def waitlist_join(
    *,
    customer: User,
    service: Service,
    staff_id: int | None,
    date_from: date,
    date_to: date,
    time_from: time,
    time_to: time,
    now: datetime | None = None,
) -> WaitlistEntry:
    """Put `customer` in line for `service` with staff member `staff_id` (None: anyone) on the local dates
    [date_from, date_to], starting between `time_from` and `time_to` (local, both included).

    The window must lie inside the business's booking window (today .. today + max_advance_days):
    `WindowOutsideBookingWindow` (400) otherwise; reversed dates or times: `ValidationFailed`. The same live
    entry twice: `AlreadyWaiting` (409). An account deleted meanwhile: `AccountInactive` (409). The offer job is deferred at once: a time that is free already is
    offered right away.
    """
    now = now or timezone.now()
    if not service.is_active:
        raise NotFound()
    business = Business.objects.get(pk=service.business_id)
    fields: dict[str, list[str]] = {}
    if date_to < date_from:
        fields["date_to"] = [str(_("The end date is before the start date."))]
    if time_to < time_from:
        fields["time_to"] = [str(_("The latest start is before the earliest one."))]
    if fields:
        raise ValidationFailed(fields=fields)
    today = now.astimezone(business.tz).date()
    last = today + timedelta(days=business.max_advance_days)
    if date_from < today or date_to > last:
        raise WindowOutsideBookingWindow(
            fields={"date_from" if date_from < today else "date_to": [str(WindowOutsideBookingWindow.message)]},
            extra={"first_date": today.isoformat(), "last_date": last.isoformat()},
        )
    if staff_id is not None:
        staff = staff_get_active(staff_id)
        if staff.business_id != service.business_id or not staff_offers_service(staff, service):
            raise ServiceNotOffered()
    try:
        with transaction.atomic():
            _lock_active_customer(customer.pk)
            entry = WaitlistEntry.objects.create(
                business_id=service.business_id,
                customer=customer,
                service=service,
                staff_id=staff_id,
                date_from=date_from,
                date_to=date_to,
                time_from=time_from,
                time_to=time_to,
                created_at=now,
            )
            waitlist_defer_offers(business_id=service.business_id)
    except IntegrityError as exc:
        if "waitlist_one_live_entry" in str(exc):
            raise AlreadyWaiting() from exc
        raise
    logger.info("waitlist_joined", extra={"entry_id": entry.pk, "service_id": service.pk, "staff_id": staff_id})
    return entry


def waitlist_leave(*, entry_id: int, customer: User, now: datetime | None = None) -> WaitlistEntry:
    """The customer leaves the line (idempotent). A live offer is withdrawn and its hold cancelled, so that its
    slot goes to the next customer."""
    now = now or timezone.now()
    for _attempt in range(3):
        offer_id, hold_id = (
            WaitlistOffer.objects.filter(entry_id=entry_id, entry__customer_id=customer.pk, status=O.OFFERED)
            .values_list("pk", "hold_id")
            .first()
        ) or (None, None)
        with transaction.atomic():
            offer = None
            if hold_id is not None and offer_id is not None:
                Booking.objects.select_for_update().filter(pk=hold_id).first()  # the lock order: hold, offer, entry
                offer = WaitlistOffer.objects.select_for_update().get(pk=offer_id)
            entry = WaitlistEntry.objects.select_for_update().filter(pk=entry_id, customer_id=customer.pk).first()
            if entry is None:
                raise NotFound()
            if entry.status in (E.LEFT, E.BOOKED, E.EXPIRED):
                return entry
            if entry.status == E.OFFERED and (offer is None or offer.status != O.OFFERED):
                continue  # an offer was made (or closed) since we looked: look again
            if offer is not None and offer.status == O.OFFERED:
                offer.status = O.WITHDRAWN
                offer.save(update_fields=["status", "updated_at"])
                booking_cancel(booking_id=offer.hold_id, actor=customer, reason="left the waitlist", now=now)
            entry.status = E.LEFT
            entry.save(update_fields=["status", "updated_at"])
            logger.info("waitlist_left", extra={"entry_id": entry.pk})
            return entry
    raise OfferGone()  # pragma: no cover - three offers made and closed while the customer was leaving


# --- offering freed slots -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Candidate:
    start: datetime
    staff_id: int


def _candidates(
    entry: WaitlistEntry, slots: list[tuple[datetime, list[int]]], *, tz: object, tried: set[tuple[int, datetime]]
) -> list[_Candidate]:
    """The free starts that fit `entry` (its staff member or anyone, its dates and daily window), earliest first,
    leaving out those it was offered before (declined or not claimed: not offered to it again)."""
    out = []
    for start, staff_ids in slots:
        local = start.astimezone(tz)  # type: ignore[arg-type] # a ZoneInfo
        if not (entry.date_from <= local.date() <= entry.date_to):
            continue
        if not (entry.time_from <= local.time().replace(tzinfo=None) <= entry.time_to):
            continue
        for staff_id in staff_ids:
            if entry.staff_id is not None and staff_id != entry.staff_id:
                continue
            if (staff_id, start) in tried:
                continue
            out.append(_Candidate(start, staff_id))
    return out


def _lock_business_line(business_id: int) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [_LOCK_CLASS, business_id])


def waitlist_offer_free_slots(*, business_id: int, now: datetime | None = None) -> list[WaitlistOffer]:
    """Offer every free time that fits a waiting customer of `business_id` to the first of them in line, holding
    it for `claim_window()`. Returns the offers made. Entries whose dates have passed become `expired`.

    The plan (who waits, which times are free) is read without locks; each offer is then made in its own short
    transaction (`_offer`), which re-checks everything under its locks. So the job never holds a staff member's
    lock while it waits for a customer's (a direct booking takes the customer first, then the staff member: one
    transaction holding a staff lock from an earlier offer and asking for the next customer would deadlock with
    it), and a plan gone stale (another processor, a direct booking) only costs a refused attempt.
    """
    now = now or timezone.now()
    business = Business.objects.get(pk=business_id)
    tz = business.tz
    today = now.astimezone(tz).date()
    WaitlistEntry.objects.filter(business_id=business_id, status=E.WAITING, date_to__lt=today).update(
        status=E.EXPIRED, updated_at=now
    )
    # The free times first, from one summary row per waited-for service (its first and last day waited for): a
    # line that waits in vain (the sweep's usual case) costs the engine's queries and no more; the entries, each
    # with its service and customer, are read only when some time is free.
    spans = list(
        WaitlistEntry.objects.filter(business_id=business_id, status=E.WAITING)
        .values("service_id")
        .annotate(first=Min("date_from"), last=Max("date_to"))
        .order_by("service_id")
    )
    if not spans:
        return []
    services = Service.objects.in_bulk([span["service_id"] for span in spans])
    free: dict[int, list[tuple[datetime, list[int]]]] = {}
    for span in spans:
        service = services[span["service_id"]]
        service.business = business
        if not service.is_active or span["last"] < today:
            continue
        found = slot_list_any_staff_range(
            service=service, date_from=max(span["first"], today), date_to=span["last"], now=now
        )
        if found:
            free[service.pk] = [(row.slot.start, list(row.staff_ids)) for row in found]
    if not free:
        return []
    days = [start.astimezone(tz).date() for slots in free.values() for start, _ in slots]
    entries = list(
        WaitlistEntry.objects.filter(
            business_id=business_id,
            status=E.WAITING,
            service_id__in=list(free),
            date_from__lte=max(days),  # only who waits on a day with a free time
            date_to__gte=min(days),
        )
        .select_related("service", "customer")
        .order_by("created_at", "id")
    )
    tried: dict[int, set[tuple[int, datetime]]] = {entry.pk: set() for entry in entries}
    for entry_id, staff_id, start in WaitlistOffer.objects.filter(entry_id__in=list(tried)).values_list(
        "entry_id", "staff_id", "start"
    ):
        tried[entry_id].add((staff_id, start))
    made: list[WaitlistOffer] = []
    taken: set[tuple[int, datetime]] = set()
    for entry in entries:
        slots = free.get(entry.service_id)
        if not slots:
            continue
        for candidate in _candidates(entry, slots, tz=tz, tried=tried[entry.pk] | taken):
            try:
                offer = _offer(entry, candidate, business=business, now=now)
            except (SlotUnavailable, ServiceNotOffered, NotFound):
                taken.add((candidate.staff_id, candidate.start))  # taken meanwhile: the next time
                continue
            except (TooManyPendingBookings, TooManyUpcomingBookings, BookingRateLimited, AccountInactive) as exc:
                # The customer's own limits (or their deleted account) refuse any hold now: the next customer.
                logger.info("waitlist_entry_skipped", extra={"entry_id": entry.pk, "code": exc.code})
                break
            if offer is not None:
                taken.add((candidate.staff_id, candidate.start))
                made.append(offer)
                logger.info(
                    "waitlist_offer_made",
                    extra={"offer_id": offer.pk, "entry_id": offer.entry_id, "booking_id": offer.hold_id},
                )
            break  # offered, or the entry is no longer waiting (another processor, the customer left)
    return made


def _lock_active_customer(customer_id: int) -> None:
    """Lock the customer's row, as a booking does (`FOR NO KEY UPDATE`), and refuse an account that is no longer
    active (`AccountInactive`): read under the lock, so a deletion that committed while we waited is seen. Taken
    before any place in line, as the deletion takes the customer before it removes their places: the same order,
    so the two queue instead of deadlocking."""
    locked = User.objects.select_for_update(no_key=True).filter(pk=customer_id)
    if not locked.values_list("is_active", flat=True).first():
        raise AccountInactive()


@transaction.atomic
def _offer(entry: WaitlistEntry, candidate: _Candidate, *, business: Business, now: datetime) -> WaitlistOffer | None:
    """Hold `candidate` for `entry` and record the offer, in one transaction: the business's line lock (offers of
    one business are made one at a time), the customer (`_lock_active_customer`: before their entry, the order an
    account deletion takes them in), the entry (still waiting, and never offered this time before: else None or
    `SlotUnavailable`), then `booking_create`'s customer (held already) and staff locks, re-check and constraint."""
    _lock_business_line(business.pk)
    _lock_active_customer(entry.customer_id)
    if not WaitlistEntry.objects.select_for_update().filter(pk=entry.pk, status=E.WAITING).exists():
        return None
    if WaitlistOffer.objects.filter(entry_id=entry.pk, staff_id=candidate.staff_id, start=candidate.start).exists():
        raise SlotUnavailable()  # offered to this entry before (a plan read before that offer): not again
    window = claim_window()
    hold = booking_create(
        customer=entry.customer,
        staff_id=candidate.staff_id,
        service=entry.service,
        start=candidate.start,
        now=now,
        business=business,
        hold_for=window,
        notes=str(_("From the waitlist")),
    )
    offer = WaitlistOffer.objects.create(
        business_id=entry.business_id,
        entry=entry,
        staff_id=candidate.staff_id,
        start=hold.start,
        end=hold.end,
        hold=hold,
        expires_at=now + window,
        token_hash=token_hash(offer_token(hold_id=hold.pk)),
        created_at=now,
    )
    WaitlistEntry.objects.filter(pk=entry.pk).update(status=E.OFFERED, updated_at=now)
    entry.status = E.OFFERED
    publish(events.WaitlistOfferMade(offer_id=offer.pk, booking_id=hold.pk))
    return offer


# --- claiming and declining ---------------------------------------------------------------------------------


def _lock_offer(token: str, customer: User) -> tuple[WaitlistOffer, Booking]:
    """The customer's offer and its hold, locked in the lock order (the hold, then the offer)."""
    found = offer_get_for_customer(token=token, customer_id=customer.pk)
    hold = Booking.objects.select_for_update(of=("self",)).get(pk=found.hold_id)
    offer = WaitlistOffer.objects.select_for_update(of=("self",)).select_related("entry").get(pk=found.pk)
    return offer, hold


def waitlist_offer_claim(*, token: str, customer: User, now: datetime | None = None) -> tuple[WaitlistOffer, Booking]:
    """Take the offered time. Inside the claim window only: after it, or once the offer was passed on, declined
    or withdrawn, `OfferGone` (410). When nothing is paid online the hold is confirmed now (and the offer is
    `claimed`, by the `BookingConfirmed` subscriber); otherwise the hold stays until it is paid
    (`POST /api/v1/bookings/ID/pay`, refused once the hold has run out) and the payment confirms it. Idempotent."""
    now = now or timezone.now()
    with transaction.atomic():
        offer, hold = _lock_offer(token, customer)
        if offer.status == O.CLAIMED:
            return offer, hold
        if offer.status != O.OFFERED or hold.status != Booking.Status.PENDING_PAYMENT or now >= offer.expires_at:
            raise OfferGone()
        if hold.online_amount == 0:
            hold = booking_confirm(booking_id=hold.pk, actor=customer, reason="waitlist offer claimed")
            offer.refresh_from_db(fields=["status", "updated_at"])
    logger.info("waitlist_offer_claimed", extra={"offer_id": offer.pk, "booking_id": hold.pk, "status": hold.status})
    return offer, hold


def waitlist_offer_decline(*, token: str, customer: User, now: datetime | None = None) -> WaitlistOffer:
    """Say no to the offered time: the hold is cancelled and the slot goes to the next customer; the customer
    stays in line for other times (this one is not offered to them again). Idempotent."""
    now = now or timezone.now()
    with transaction.atomic():
        offer, hold = _lock_offer(token, customer)
        if offer.status == O.DECLINED:
            return offer
        if offer.status != O.OFFERED or hold.status != Booking.Status.PENDING_PAYMENT:
            raise OfferGone()
        offer.status = O.DECLINED
        offer.save(update_fields=["status", "updated_at"])
        _back_in_line(offer.entry_id, now=now)
        booking_cancel(booking_id=hold.pk, actor=customer, reason="waitlist offer declined", now=now)
    logger.info("waitlist_offer_declined", extra={"offer_id": offer.pk})
    return offer


def _back_in_line(entry_id: int, *, now: datetime) -> None:
    """An entry whose offer closed without a booking waits again, in its old place (`created_at`)."""
    WaitlistEntry.objects.filter(pk=entry_id, status=E.OFFERED).update(status=E.WAITING, updated_at=now)


# --- what booking events mean for offers (apps.waitlist.subscribers) ----------------------------------------


def waitlist_hold_closed(*, booking_id: int, expired: bool) -> None:
    """The hold of an offer was cancelled or expired (inside that transaction, the booking locked): the offer is
    `passed` (expired) or `withdrawn`, and its entry waits again. Nothing when the offer was closed already."""
    offer = WaitlistOffer.objects.select_for_update().filter(hold_id=booking_id, status=O.OFFERED).first()
    if offer is None:
        return
    offer.status = O.PASSED if expired else O.WITHDRAWN
    offer.save(update_fields=["status", "updated_at"])
    _back_in_line(offer.entry_id, now=timezone.now())
    logger.info("waitlist_offer_closed", extra={"offer_id": offer.pk, "status": offer.status})


def waitlist_hold_confirmed(*, booking_id: int) -> None:
    """The hold of an offer was confirmed (claimed, or paid): the offer is `claimed`, its entry `booked`."""
    offer = WaitlistOffer.objects.select_for_update().filter(hold_id=booking_id, status=O.OFFERED).first()
    if offer is None:
        return
    offer.status = O.CLAIMED
    offer.save(update_fields=["status", "updated_at"])
    WaitlistEntry.objects.filter(pk=offer.entry_id).exclude(status=E.LEFT).update(
        status=E.BOOKED, updated_at=timezone.now()
    )
