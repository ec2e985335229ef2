"""Writes about bookings: make, move, confirm, cancel, expire, complete, no-show.

The double-booking guarantee lives in `booking_create` and `booking_reschedule`: inside one transaction they
lock the staff member's row (`SELECT ... FOR UPDATE`), so every booking of one staff member is decided one at a
time, re-check overlap and every availability rule under that lock, then write. The exclusion constraint on
`Booking` has the last word; its `IntegrityError` becomes `SlotUnavailable` (409), never a 500.

Lock order, everywhere: the customer's user row, then the staff row, then the booking row; each at most once per
transaction. A state change locks the booking row, re-reads its status and returns early when the work is
already done (cancel a cancelled booking, confirm a confirmed one), so retries are harmless.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from datetime import datetime, timedelta
from functools import cache
from typing import Any

import psycopg
from django.conf import settings as django_settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from apps.accounts.models import User
from apps.bookings import events
from apps.bookings.errors import (
    AccountInactive,
    BookingNotStarted,
    BookingRateLimited,
    CancellationWindowClosed,
    HoldNotExpired,
    InvalidTransition,
    RescheduleWindowClosed,
    SlotUnavailable,
    TooManyPendingBookings,
    TooManyUpcomingBookings,
)
from apps.bookings.models import RESCHEDULABLE_STATUSES, Booking, BookingStatusChange, can_transition
from apps.bookings.selectors import (
    CustomerBookingCounts,
    booking_busy_intervals,
    booking_ids_due_for_expiry,
    booking_is_run_by,
    customer_counts_params,
    customer_counts_sql,
)
from apps.catalog.errors import ServiceNotOffered
from apps.catalog.models import Business, PaymentPolicy, Service, Staff
from apps.catalog.payment_terms import payment_terms
from apps.catalog.selectors import slot_is_bookable, staff_offers_service
from apps.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from apps.core.events import publish
from apps.core.fields import OUT_OF_RANGE, datetime_in_range
from apps.core.rows import model_columns, model_from_row, model_width

logger = logging.getLogger("mawid.bookings")

OVERLAP_CONSTRAINT = "booking_no_overlap"
S = Booking.Status


# --- helpers ------------------------------------------------------------------------------------------------


def _is_overlap_violation(exc: IntegrityError) -> bool:
    diag = getattr(exc.__cause__, "diag", None)
    name = getattr(diag, "constraint_name", None)
    return name == OVERLAP_CONSTRAINT or (name is None and OVERLAP_CONSTRAINT in str(exc))


def _require_aware(start: datetime) -> None:
    if start.utcoffset() is None:
        raise ValidationFailed(fields={"start": [str(_("Include the UTC offset, e.g. 2026-12-01T09:00:00+03:00."))]})
    if not datetime_in_range(start):  # the API refuses these already; other callers must not overflow either
        raise ValidationFailed(fields={"start": [str(OUT_OF_RANGE)]})


def _check_slot(
    *,
    staff: Staff,
    service: Service,
    start: datetime,
    now: datetime,
    business: Business,
    exclude_booking_id: int | None = None,
) -> None:
    """Every rule a new time must pass. Called under the staff row lock, so nothing changes under our feet.

    Overlap is re-checked by the availability engine itself, in its one busy query: we hand it our own selector
    (`booked=booking_busy_intervals`), so the check never depends on what is registered in
    `apps.catalog.busy.booked_time`; sources registered in `extra_busy` only add busy time.
    """
    if not staff.is_active:
        raise NotFound()
    if not staff_offers_service(staff, service):
        raise ServiceNotOffered()
    # Overlap, working hours, time off, closures, minimum notice, advance window, step: the engine's verdict.
    if not slot_is_bookable(
        staff=staff,
        service=service,
        start=start,
        now=now,
        exclude_booking_id=exclude_booking_id,
        business=business,
        booked=booking_busy_intervals,
    ):
        raise SlotUnavailable()


def _check_customer_limits(
    *, customer: User, counts: CustomerBookingCounts, now: datetime, business: Business, needs_payment: bool
) -> None:
    """The per-customer limits of a new booking. `counts` were read under the customer's row lock, which every
    new booking of that customer takes first, so that concurrent requests cannot all pass the count and exceed a
    limit (see `_lock_customer_and_staff` for why they may come with the staff lock statement).

    - `max_pending_per_customer` unpaid holds (when payment is required): `TooManyPendingBookings` (409);
    - `max_upcoming_per_customer` bookings still ahead, paid or not: `TooManyUpcomingBookings` (409), so that
      one customer (or a script with one phone number) cannot take every slot of a day;
    - `BOOKINGS_MAX_PER_CUSTOMER_PER_HOUR` bookings made in the last hour, cancelled and expired ones included:
      `BookingRateLimited` (429, Retry-After: until the oldest of them is an hour old).
    """
    if needs_payment and counts.pending >= business.max_pending_per_customer:
        raise TooManyPendingBookings()
    if counts.upcoming >= business.max_upcoming_per_customer:
        raise TooManyUpcomingBookings()
    if counts.last_hour >= django_settings.BOOKINGS_MAX_PER_CUSTOMER_PER_HOUR:
        oldest = counts.oldest_in_last_hour or now
        wait = (oldest + timedelta(hours=1) - now).total_seconds()
        logger.warning("booking_rate_limited", extra={"customer_id": customer.pk, "last_hour": counts.last_hour})
        raise BookingRateLimited(retry_after=max(1, math.ceil(wait)))


def _record(
    booking: Booking,
    *,
    from_status: str,
    actor: User | None,
    reason: str = "",
    old_start: datetime | None = None,
    old_end: datetime | None = None,
) -> None:
    moved = old_start is not None
    BookingStatusChange.objects.create(
        booking=booking,
        business_id=booking.business_id,
        from_status=from_status,
        to_status=booking.status,
        actor=actor,
        reason=reason[:500],
        old_start=old_start,
        old_end=old_end,
        new_start=booking.start if moved else None,
        new_end=booking.end if moved else None,
    )


# The customer's row, locked, and whether the account is still active: read under the lock (after any wait), so a
# deletion that committed while we waited is seen (`AccountInactive`), at no extra statement.
_LOCK_CUSTOMER_SQL = f'SELECT is_active FROM "{User._meta.db_table}" WHERE id = %(customer)s FOR NO KEY UPDATE'  # noqa: S608


@cache
def _lock_staff_sql(*, with_counts: bool) -> str:
    staffing, service = Staff.services.through._meta.db_table, Service._meta.db_table
    counts = f"CROSS JOIN LATERAL ({customer_counts_sql()}) counts" if with_counts else ""
    return f"""
        SELECT {model_columns(Staff, "st")},
               ARRAY(SELECT l.service_id FROM "{staffing}" l JOIN "{service}" sv ON sv.id = l.service_id
                      WHERE l.staff_id = st.id AND sv.is_active) {", counts.*" if with_counts else ""}
          FROM "{Staff._meta.db_table}" st {counts}
         WHERE st.id = %(staff)s
           FOR NO KEY UPDATE OF st
    """  # noqa: S608 - only the models' table and column names go into the text


def _lock_staff(staff_id: int) -> Staff:
    """Lock the staff row: every booking decision for one staff member queues here.

    `FOR NO KEY UPDATE` (`no_key=True`) conflicts with itself and with `FOR UPDATE`, so bookings, reschedules and
    time off for one staff member are still decided one at a time; unlike `FOR UPDATE` it lets other rows that
    merely reference the staff member (Django's foreign keys are checked at commit with `FOR KEY SHARE`) go
    ahead, so a writer that skipped the lock cannot deadlock with us. The row comes with `service_ids` (the
    active services they offer) so that the checks need no more queries.
    """
    staff, _rest = _locked_staff_row({"staff": staff_id}, with_counts=False)
    return staff


def _lock_customer_and_staff(
    *, customer_id: int, staff_id: int, business_id: int, now: datetime
) -> tuple[Staff, CustomerBookingCounts]:
    """Lock the customer's user row, then the staff row (`_lock_staff`), and count the customer's bookings for
    the per-customer limits (`customer_counts_sql`): two statements sent in one round trip.

    The customer lock serialises one customer's new bookings, so that concurrent requests cannot all pass the
    count and exceed a limit. It is a statement of its own, and the counts ride on the next one, the staff lock:
    a statement that waits for a lock reads every other row as it was when the statement started (READ
    COMMITTED re-reads only the locked row after the wait), and this one starts after the customer lock was
    granted. A customer's bookings are made only under that lock, which we hold, so the counts cannot grow while
    we wait for the staff member. (Bookings that end, expire or get paid meanwhile only make the counts err on
    the safe side, as they did when the counts were read before the staff lock.) What decides the slot (the
    staff member's time off and bookings) is read by the statements that follow, after the wait.
    """
    params = {"staff": staff_id, **customer_counts_params(customer_id=customer_id, business_id=business_id, now=now)}
    staff, rest = _locked_staff_row(params, with_counts=True, lock_customer_first=True)
    return staff, CustomerBookingCounts.from_row(rest)


def _locked_staff_row(
    params: dict[str, Any], *, with_counts: bool, lock_customer_first: bool = False
) -> tuple[Staff, Sequence[Any]]:
    """The staff row, locked (`_lock_staff_sql`); with `lock_customer_first`, the customer's row is locked before
    it, and an inactive (deleted) customer is refused with `AccountInactive` once their lock is ours. The staff
    statement has run by then (both go in one message); the transaction's rollback releases its lock."""
    sql = _lock_staff_sql(with_counts=with_counts)
    customer = None
    with connection.cursor() as cursor:
        if lock_customer_first and isinstance(cursor.cursor, psycopg.ClientCursor):
            # Both statements in one message (the simple query protocol, which client-side binding uses): a
            # round trip less. The server runs them one after the other, each planned and given its snapshot
            # when it starts, exactly as if the second were sent after the first one's answer.
            cursor.execute(f"{_LOCK_CUSTOMER_SQL};\n{sql}", params)
            customer = cursor.fetchone()
            cursor.nextset()
        else:
            if lock_customer_first:
                cursor.execute(_LOCK_CUSTOMER_SQL, params)
                customer = cursor.fetchone()
            cursor.execute(sql, params)
        row = cursor.fetchone()
    if lock_customer_first and (customer is None or not customer[0]):
        logger.info("booking_refused_account_inactive", extra={"customer_id": params.get("customer")})
        raise AccountInactive()
    if row is None:
        raise NotFound()
    n = model_width(Staff)
    staff = model_from_row(Staff, row)
    staff.service_ids = row[n]  # type: ignore[attr-defined] # read by catalog's staff_offers_service
    return staff, row[n + 1 :]


@cache
def _create_sql() -> str:
    """The booking and its first audit row in one statement (a data-modifying CTE). The audit row takes the new
    booking's id from the CTE; every other value is a parameter, booking's fields first (see `_insert_created`)."""
    booking_fields, history_fields = _insert_fields(Booking), _insert_fields(BookingStatusChange)
    history_values = ", ".join("b.id" if f.attname == "booking_id" else "%s" for f in history_fields)
    return f"""
        WITH b AS (INSERT INTO "{Booking._meta.db_table}" ({_column_list(booking_fields)})
                   VALUES ({", ".join(["%s"] * len(booking_fields))}) RETURNING id),
             h AS (INSERT INTO "{BookingStatusChange._meta.db_table}" ({_column_list(history_fields)})
                   SELECT {history_values} FROM b)
        SELECT id FROM b
    """  # noqa: S608 - only the models' table and column names go into the text


@cache
def _insert_fields(model: type[Booking] | type[BookingStatusChange]) -> list[Any]:
    return [field for field in model._meta.concrete_fields if not field.primary_key]


def _column_list(fields: list[Any]) -> str:
    return ", ".join(f'"{field.column}"' for field in fields)


def _insert_created(booking: Booking, *, actor: User | None) -> None:
    """Insert a new `booking` and the audit row of its creation in one round trip, the way `save()` and `_record`
    would (every field's `pre_save` and database preparation: `created_at`, `updated_at`). An overlap refused by
    the exclusion constraint raises `IntegrityError` as `save()` would."""
    entry = BookingStatusChange(
        booking=booking, business_id=booking.business_id, from_status="", to_status=booking.status, actor=actor
    )
    params = [f.get_db_prep_save(f.pre_save(booking, True), connection) for f in _insert_fields(Booking)]
    params += [
        f.get_db_prep_save(f.pre_save(entry, True), connection)
        for f in _insert_fields(BookingStatusChange)
        if f.attname != "booking_id"
    ]
    with connection.cursor() as cursor:
        cursor.execute(_create_sql(), params)
        (booking.pk,) = cursor.fetchone()
    booking._state.adding = False
    booking._state.db = connection.alias


def _lock_booking(booking_id: int) -> Booking:
    try:
        # `of=("self",)`: lock the booking only, not the rows joined in for reading.
        return (
            Booking.objects.select_for_update(of=("self",))
            .select_related("staff", "service", "business")
            .get(pk=booking_id)
        )
    except Booking.DoesNotExist as exc:
        raise NotFound() from exc


def _change_status(
    booking: Booking, to_status: str, *, action: str, actor: User | None, reason: str = "", **fields: object
) -> bool:
    """Move a locked booking to `to_status` along the transition table. False when it is there already."""
    if booking.status == to_status:
        return False
    if not can_transition(booking.status, to_status):
        raise InvalidTransition(current_status=booking.status, action=action)
    from_status = booking.status
    booking.status = to_status
    for name, value in fields.items():
        setattr(booking, name, value)
    booking.save(update_fields=["status", "updated_at", *fields])
    _record(booking, from_status=from_status, actor=actor, reason=reason)
    logger.info(
        "booking_status_changed",
        extra={"booking_id": booking.pk, "from": from_status, "to": to_status, "actor_id": getattr(actor, "pk", None)},
    )
    return True


def _before_cutoff(booking: Booking, *, settings: Business, now: datetime) -> bool:
    return now < booking.start - settings.cancellation_cutoff


# --- create and move ----------------------------------------------------------------------------------------


def booking_create(
    *,
    customer: User,
    staff_id: int,
    service: Service,
    start: datetime,
    notes: str = "",
    customer_address: str = "",
    now: datetime | None = None,
    business: Business | None = None,
    enforce_customer_limits: bool = True,
    hold_for: timedelta | None = None,
) -> Booking:
    """Book `service` with staff member `staff_id` at `start` for `customer`.

    Price, end and payment terms come from the service (`catalog.payment_terms`). When something is paid online
    (the whole price or a deposit) the booking is `pending_payment` and holds the slot until `hold_expires_at`;
    otherwise (paid at the venue) it is `confirmed` at once. Raises `SlotUnavailable` (taken, or not
    a slot availability offers), `ServiceNotOffered`, `TooManyPendingBookings`, `TooManyUpcomingBookings`,
    `BookingRateLimited` (the per-customer limits, see `_check_customer_limits`), `NotFound` (inactive staff or
    service), `ValidationFailed` (naive start). `business`: the settings when the caller has loaded them already.
    `enforce_customer_limits=False`: for the business's own bulk writers (the demo seed), never for a request.
    `hold_for`: an unconfirmed hold of that length whatever the payment terms (a waitlist offer, confirmed when the
    customer claims it: apps/waitlist); the same locks, checks and constraint as any booking.
    """
    _require_aware(start)
    if not service.is_active:
        raise NotFound()
    now = now or timezone.now()
    # The business's policies as they are now: the caller's copy when it has one (the API's early check loads
    # it), else read afresh (one query).
    settings = (
        business
        if business is not None and business.pk == service.business_id
        else Business.objects.get(pk=service.business_id)
    )
    terms = payment_terms(service, settings)
    needs_payment = terms.online_amount > 0
    try:
        with transaction.atomic():
            if enforce_customer_limits:
                # The lock order: the customer, then the staff member.
                staff, counts = _lock_customer_and_staff(
                    customer_id=customer.pk, staff_id=staff_id, business_id=service.business_id, now=now
                )
                _check_customer_limits(
                    customer=customer, counts=counts, now=now, business=settings, needs_payment=needs_payment
                )
            else:
                staff = _lock_staff(staff_id)
            _check_slot(staff=staff, service=service, start=start, now=now, business=settings)
            if staff.business_id != service.business_id:
                raise ServiceNotOffered()
            end = start + service.duration
            booking = Booking(
                business_id=service.business_id,
                branch_id=staff.branch_id,
                customer=customer,
                staff=staff,
                service=service,
                status=S.PENDING_PAYMENT if needs_payment or hold_for is not None else S.CONFIRMED,
                start=start,
                end=end,
                busy_start=start - service.buffer_before,
                busy_end=end + service.buffer_after,
                currency=service.currency,
                payment_policy=terms.policy,
                deposit_amount=terms.online_amount if terms.policy == PaymentPolicy.DEPOSIT else 0,
                notes=notes,
                customer_address=customer_address,
                hold_expires_at=(
                    now + hold_for if hold_for is not None else now + settings.hold_duration if needs_payment else None
                ),
            )
            # The price as its invoice states it, VAT at today's rate (a halala off an unreachable price: core.vat).
            price = settings.price_split(service.price_amount, now)
            booking.price_amount, booking.price_net, booking.price_vat, booking.vat_rate_bps = (
                price.gross,
                price.net,
                price.vat,
                price.rate_bps,
            )
            _insert_created(booking, actor=customer)  # the booking and its audit row: one round trip
            publish(events.BookingCreated(booking_id=booking.pk))
            if booking.status == S.CONFIRMED:
                publish(events.BookingConfirmed(booking_id=booking.pk))
    except IntegrityError as exc:
        if _is_overlap_violation(exc):
            logger.info("booking_overlap_refused_by_constraint", extra={"staff_id": staff_id})
            raise SlotUnavailable() from exc
        raise
    logger.info("booking_created", extra={"booking_id": booking.pk, "staff_id": staff_id, "status": booking.status})
    return booking


def booking_create_anyone(
    *,
    customer: User,
    service: Service,
    candidates: Sequence[int],
    start: datetime,
    notes: str = "",
    customer_address: str = "",
    business: Business | None = None,
    now: datetime | None = None,
) -> Booking:
    """Book `service` at `start` with the first of `candidates` (staff ids, the fairest first: see
    `selectors.anyone_request_get`) who is still free: each is tried through `booking_create`, so each under
    the same three layers (the customer and staff locks, the engine's re-check under them, the exclusion
    constraint). One who lost the slot to another request meanwhile (`SlotUnavailable`), stopped working or
    stopped offering the service is skipped; `SlotUnavailable` only when none is left. Any other refusal (the
    customer's limits) ends the attempt at once: it would refuse every candidate alike."""
    for staff_id in candidates:
        try:
            return booking_create(
                customer=customer,
                staff_id=staff_id,
                service=service,
                start=start,
                notes=notes,
                customer_address=customer_address,
                business=business,
                now=now,
            )
        except (SlotUnavailable, ServiceNotOffered, NotFound):
            logger.info("booking_anyone_candidate_taken", extra={"staff_id": staff_id, "service_id": service.pk})
    raise SlotUnavailable()


def booking_reschedule(
    *, booking_id: int, start: datetime, actor: User | None, reason: str = "", now: datetime | None = None
) -> Booking:
    """Move a booking that holds time to `start` with the same staff member and service; it keeps its status
    (and a pending one keeps its hold). Same guarantees as `booking_create`, the booking itself excluded from the
    overlap. A customer may move it only before the cancellation cut-off; the business (manager, the staff
    member, the system) at any time. Moving to the time it already has changes nothing.
    """
    _require_aware(start)
    now = now or timezone.now()
    staff_id = Booking.objects.filter(pk=booking_id).values_list("staff_id", flat=True).first()
    if staff_id is None:
        raise NotFound()
    try:
        with transaction.atomic():
            staff = _lock_staff(staff_id)
            booking = _lock_booking(booking_id)
            if booking.status not in RESCHEDULABLE_STATUSES:
                raise InvalidTransition(current_status=booking.status, action="reschedule")
            settings = booking.business
            by_business = actor is None or booking_is_run_by(booking=booking, user=actor)
            if actor is not None and not by_business:
                if actor.pk != booking.customer_id:
                    raise PermissionDenied()
                if booking.status == S.CONFIRMED and not _before_cutoff(booking, settings=settings, now=now):
                    raise RescheduleWindowClosed()
            if start == booking.start:
                return booking
            service = booking.service
            _check_slot(
                staff=staff, service=service, start=start, now=now, business=settings, exclude_booking_id=booking.pk
            )
            old_start, old_end = booking.start, booking.end
            booking.start = start
            booking.end = start + service.duration
            booking.busy_start = start - service.buffer_before
            booking.busy_end = booking.end + service.buffer_after
            booking.save(update_fields=["start", "end", "busy_start", "busy_end", "updated_at"])
            _record(
                booking, from_status=booking.status, actor=actor, reason=reason, old_start=old_start, old_end=old_end
            )
            publish(events.BookingRescheduled(booking_id=booking.pk, old_start=old_start, old_end=old_end))
    except IntegrityError as exc:
        if _is_overlap_violation(exc):
            raise SlotUnavailable() from exc
        raise
    logger.info("booking_rescheduled", extra={"booking_id": booking.pk, "staff_id": staff_id})
    return booking


# --- status changes -----------------------------------------------------------------------------------------


@transaction.atomic
def booking_confirm(*, booking_id: int, actor: User | None = None, reason: str = "") -> Booking:
    """Payment arrived (or the business confirms): `pending_payment` → `confirmed`, hold cleared.

    Idempotent for a confirmed booking. A pending booking whose hold has run out but that the expiry job has not
    reached yet still owns its slot, so it is confirmed. An `expired` or `cancelled` booking is refused with
    `InvalidTransition` (409): its slot may be someone else's now; the caller voids or refunds the payment.
    """
    booking = _lock_booking(booking_id)
    if _change_status(booking, S.CONFIRMED, action="confirm", actor=actor, reason=reason, hold_expires_at=None):
        publish(events.BookingConfirmed(booking_id=booking.pk))
    return booking


@transaction.atomic
def booking_expire(
    *, booking_id: int, actor: User | None = None, reason: str = "", now: datetime | None = None
) -> Booking:
    """An unpaid hold ran out: `pending_payment` → `expired`, which frees the slot.

    Idempotent for an expired booking. `HoldNotExpired` (409) while the hold still runs; `InvalidTransition`
    (409) when the booking was paid or cancelled meanwhile.
    """
    now = now or timezone.now()
    booking = _lock_booking(booking_id)
    if booking.status == S.PENDING_PAYMENT and booking.hold_expires_at and booking.hold_expires_at > now:
        raise HoldNotExpired()
    reason = reason or "hold expired"
    if _change_status(booking, S.EXPIRED, action="expire", actor=actor, reason=reason):
        publish(events.BookingExpired(booking_id=booking.pk))
    return booking


def booking_expire_due(*, now: datetime | None = None, batch: int = 500) -> int:
    """Expire every unpaid hold that has run out, each in its own short transaction. Returns how many."""
    now = now or timezone.now()
    expired = 0
    while True:
        ids = booking_ids_due_for_expiry(now=now, limit=batch)
        for booking_id in ids:
            try:
                booking_expire(booking_id=booking_id, now=now)
                expired += 1
            except (Conflict, NotFound):
                # Paid, cancelled or deleted between the select and the lock: nothing to expire.
                logger.info("booking_expiry_skipped", extra={"booking_id": booking_id})
        if len(ids) < batch:
            return expired


@transaction.atomic
def booking_cancel(*, booking_id: int, actor: User | None, reason: str = "", now: datetime | None = None) -> Booking:
    """Cancel a booking that holds time, freeing its slot.

    The business (a manager, the booking's staff member, the system with `actor=None`) may cancel at any time.
    The customer may cancel until the appointment starts (`CancellationWindowClosed` after that): before
    `start - cancellation_cutoff` nothing is kept, after it the business's late-cancellation fee is (payments
    decides it from `BookingCancelled.before_cutoff`; risk R10). An unpaid booking may be cancelled any time (it
    would expire anyway). Idempotent for a cancelled booking; `InvalidTransition` from any other final status.
    """
    now = now or timezone.now()
    booking = _lock_booking(booking_id)
    settings = booking.business
    if booking.status == S.CANCELLED:
        return booking
    by_business = actor is None or booking_is_run_by(booking=booking, user=actor)
    if actor is not None and not by_business and actor.pk != booking.customer_id:
        raise PermissionDenied()
    before_cutoff = _before_cutoff(booking, settings=settings, now=now)
    if not can_transition(booking.status, S.CANCELLED):
        raise InvalidTransition(current_status=booking.status, action="cancel")
    if not by_business and booking.status == S.CONFIRMED and now >= booking.start:
        raise CancellationWindowClosed()
    _change_status(booking, S.CANCELLED, action="cancel", actor=actor, reason=reason, cancel_reason=reason[:500])
    publish(
        events.BookingCancelled(
            booking_id=booking.pk, by_business=by_business, before_cutoff=before_cutoff, reason=reason
        )
    )
    return booking


@transaction.atomic
def booking_customer_confirm(*, booking_id: int, actor: User, now: datetime | None = None) -> Booking:
    """The customer says they will come (a reminder's "I'll be there"): `customer_confirmed_at` is set once; the
    status does not change. Only the booking's customer, only for a confirmed booking that has not started
    (`InvalidTransition` otherwise). Idempotent: a second tap keeps the first time."""
    now = now or timezone.now()
    booking = _lock_booking(booking_id)
    if actor.pk != booking.customer_id:
        raise PermissionDenied()
    if booking.status != S.CONFIRMED or now >= booking.start:
        raise InvalidTransition(current_status=booking.status, action="customer_confirm")
    if booking.customer_confirmed_at is None:
        # A queryset update: `updated_at` (the stamp of the booking's changes, see notifications) stays.
        Booking.objects.filter(pk=booking.pk).update(customer_confirmed_at=now)
        booking.customer_confirmed_at = now
        logger.info("booking_customer_confirmed", extra={"booking_id": booking.pk})
    return booking


def _finish(booking_id: int, to_status: str, *, action: str, actor: User | None, now: datetime | None) -> Booking:
    now = now or timezone.now()
    booking = _lock_booking(booking_id)
    if actor is not None and not booking_is_run_by(booking=booking, user=actor):
        raise PermissionDenied()
    if booking.status != to_status and can_transition(booking.status, to_status) and now < booking.start:
        raise BookingNotStarted()
    if _change_status(booking, to_status, action=action, actor=actor):
        publish(
            events.BookingCompleted(booking_id=booking.pk)
            if to_status == S.COMPLETED
            else events.BookingNoShow(booking_id=booking.pk)
        )
    return booking


@transaction.atomic
def booking_complete(*, booking_id: int, actor: User | None, now: datetime | None = None) -> Booking:
    """The appointment took place: `confirmed` → `completed`. The business only, once it has started."""
    return _finish(booking_id, S.COMPLETED, action="complete", actor=actor, now=now)


@transaction.atomic
def booking_mark_no_show(*, booking_id: int, actor: User | None, now: datetime | None = None) -> Booking:
    """The customer did not come: `confirmed` → `no_show`. The business only, once it has started."""
    return _finish(booking_id, S.NO_SHOW, action="no_show", actor=actor, now=now)
