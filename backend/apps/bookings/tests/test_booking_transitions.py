"""Status changes and reschedules at the service: the transition table, who may do what, audit, events."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.accounts.tests.factories import UserFactory
from apps.bookings import events
from apps.bookings.errors import (
    BookingNotStarted,
    CancellationWindowClosed,
    HoldNotExpired,
    InvalidTransition,
    RescheduleWindowClosed,
    SlotUnavailable,
)
from apps.bookings.models import HOLDING_STATUSES, TRANSITIONS, Booking, BookingStatusChange
from apps.bookings.services import (
    booking_cancel,
    booking_complete,
    booking_confirm,
    booking_create,
    booking_expire,
    booking_expire_due,
    booking_mark_no_show,
    booking_reschedule,
)
from apps.bookings.tests.factories import BookingFactory
from apps.core.errors import PermissionDenied

pytestmark = pytest.mark.django_db
S = Booking.Status


@pytest.fixture
def pending(staff, service, customer, at) -> Booking:
    return booking_create(customer=customer, staff_id=staff.pk, service=service, start=at("10:00"))


@pytest.fixture
def confirmed(pending) -> Booking:
    return booking_confirm(booking_id=pending.pk)


def test_transition_table_covers_every_status_and_final_states_are_final():
    assert set(TRANSITIONS) == set(S.values)
    assert frozenset({S.PENDING_PAYMENT, S.CONFIRMED}) == HOLDING_STATUSES
    for final in (S.COMPLETED, S.CANCELLED, S.NO_SHOW, S.EXPIRED):
        assert TRANSITIONS[final] == frozenset()


def test_booking_confirm_confirms_a_pending_booking_once(pending, published):
    published.clear()

    booking = booking_confirm(booking_id=pending.pk)
    again = booking_confirm(booking_id=pending.pk)

    assert (booking.status, booking.hold_expires_at, again.status) == (S.CONFIRMED, None, S.CONFIRMED)
    assert published == [events.BookingConfirmed(booking_id=pending.pk)]
    assert list(pending.history.values_list("from_status", "to_status")) == [
        ("", S.PENDING_PAYMENT),
        (S.PENDING_PAYMENT, S.CONFIRMED),
    ]


def test_booking_confirm_still_confirms_a_hold_that_ran_out_but_was_not_expired_yet(pending):
    Booking.objects.filter(pk=pending.pk).update(hold_expires_at=timezone.now() - timedelta(minutes=1))

    assert booking_confirm(booking_id=pending.pk).status == S.CONFIRMED


@pytest.mark.parametrize("final", [S.EXPIRED, S.CANCELLED])
def test_booking_confirm_refuses_an_expired_or_cancelled_booking(pending, final):
    Booking.objects.filter(pk=pending.pk).update(status=final)

    with pytest.raises(InvalidTransition) as caught:
        booking_confirm(booking_id=pending.pk)
    assert caught.value.current_status == final
    assert caught.value.status == 409


def test_booking_expire_frees_the_slot_after_the_hold_runs_out(pending, staff, service, at, published):
    with pytest.raises(HoldNotExpired):
        booking_expire(booking_id=pending.pk)
    later = pending.hold_expires_at + timedelta(seconds=1)

    booking = booking_expire(booking_id=pending.pk, now=later)
    booking_expire(booking_id=pending.pk, now=later)  # idempotent

    assert booking.status == S.EXPIRED
    assert published[-1] == events.BookingExpired(booking_id=pending.pk)
    assert booking_create(customer=UserFactory(), staff_id=staff.pk, service=service, start=at("10:00"))


def test_booking_expire_refuses_a_paid_booking(confirmed):
    with pytest.raises(InvalidTransition):
        booking_expire(booking_id=confirmed.pk, now=timezone.now() + timedelta(hours=1))


def test_booking_expire_due_expires_only_the_holds_that_ran_out(staff, service, customer, at):
    old = booking_create(customer=customer, staff_id=staff.pk, service=service, start=at("10:00"))
    fresh = booking_create(customer=customer, staff_id=staff.pk, service=service, start=at("11:00"))
    paid = booking_create(customer=customer, staff_id=staff.pk, service=service, start=at("12:00"))
    booking_confirm(booking_id=paid.pk)
    Booking.objects.filter(pk__in=[old.pk, paid.pk]).update(hold_expires_at=timezone.now() - timedelta(minutes=1))

    assert booking_expire_due() == 1

    statuses = dict(Booking.objects.values_list("pk", "status"))
    assert statuses == {old.pk: S.EXPIRED, fresh.pk: S.PENDING_PAYMENT, paid.pk: S.CONFIRMED}


def test_customer_cancels_before_the_cutoff(confirmed, customer, published):
    booking = booking_cancel(booking_id=confirmed.pk, actor=customer, reason="changed my mind")

    assert (booking.status, booking.cancel_reason) == (S.CANCELLED, "changed my mind")
    assert published[-1] == events.BookingCancelled(
        booking_id=confirmed.pk, by_business=False, before_cutoff=True, reason="changed my mind"
    )
    last = booking.history.last()
    assert (last.from_status, last.to_status, last.actor, last.reason) == (
        S.CONFIRMED,
        S.CANCELLED,
        customer,
        "changed my mind",
    )


def test_customer_may_cancel_after_the_cutoff_with_the_fee_but_not_once_it_started(
    confirmed, customer, published
):
    # R10 decided: after the cut-off the customer may cancel; payments keeps the fee (before_cutoff=False).
    with pytest.raises(CancellationWindowClosed):
        booking_cancel(booking_id=confirmed.pk, actor=customer, now=confirmed.start)

    booking = booking_cancel(booking_id=confirmed.pk, actor=customer, now=confirmed.start - timedelta(hours=23))

    assert booking.status == S.CANCELLED
    assert published[-1] == events.BookingCancelled(booking_id=confirmed.pk, by_business=False, before_cutoff=False)


def test_the_business_may_cancel_after_the_cutoff(confirmed, manager, published):
    after_cutoff = confirmed.start - timedelta(hours=23)

    booking = booking_cancel(booking_id=confirmed.pk, actor=manager, reason="staff ill", now=after_cutoff)

    assert booking.status == S.CANCELLED
    assert published[-1] == events.BookingCancelled(
        booking_id=confirmed.pk, by_business=True, before_cutoff=False, reason="staff ill"
    )


def test_staff_member_of_the_booking_may_cancel_it_any_time(confirmed, staff):
    booking = booking_cancel(booking_id=confirmed.pk, actor=staff.user, now=confirmed.start - timedelta(hours=1))

    assert booking.status == S.CANCELLED


def test_customer_may_release_an_unpaid_hold_after_the_cutoff(pending, customer):
    booking = booking_cancel(booking_id=pending.pk, actor=customer, now=pending.start - timedelta(hours=3))

    assert booking.status == S.CANCELLED


def test_someone_else_cannot_cancel(confirmed, other_customer, other_staff):
    for actor in (other_customer, other_staff.user):
        with pytest.raises(PermissionDenied):
            booking_cancel(booking_id=confirmed.pk, actor=actor)


def test_booking_cancel_is_idempotent_and_final_states_refuse_it(confirmed, customer, manager):
    booking_cancel(booking_id=confirmed.pk, actor=customer)
    again = booking_cancel(booking_id=confirmed.pk, actor=customer)
    assert again.status == S.CANCELLED
    assert confirmed.history.filter(to_status=S.CANCELLED).count() == 1

    done = BookingFactory(status=S.COMPLETED, start=timezone.now() - timedelta(days=1))
    with pytest.raises(InvalidTransition):
        booking_cancel(booking_id=done.pk, actor=manager)


def test_complete_and_no_show_need_the_business_and_a_started_booking(staff, service, customer, manager, published):
    started = BookingFactory(staff=staff, service=service, customer=customer, start=timezone.now() - timedelta(hours=1))
    upcoming = BookingFactory(staff=staff, service=service, customer=customer)

    with pytest.raises(PermissionDenied):
        booking_complete(booking_id=started.pk, actor=customer)
    with pytest.raises(BookingNotStarted):
        booking_complete(booking_id=upcoming.pk, actor=staff.user)
    with pytest.raises(BookingNotStarted):
        booking_mark_no_show(booking_id=upcoming.pk, actor=manager)

    assert booking_complete(booking_id=started.pk, actor=staff.user).status == S.COMPLETED
    assert booking_complete(booking_id=started.pk, actor=staff.user).status == S.COMPLETED  # idempotent
    with pytest.raises(InvalidTransition):
        booking_mark_no_show(booking_id=started.pk, actor=manager)
    assert published == [events.BookingCompleted(booking_id=started.pk)]


def test_no_show_is_recorded(staff, service, manager, published):
    started = BookingFactory(staff=staff, service=service, start=timezone.now() - timedelta(minutes=20))

    booking = booking_mark_no_show(booking_id=started.pk, actor=manager)

    assert booking.status == S.NO_SHOW
    assert published == [events.BookingNoShow(booking_id=started.pk)]
    assert booking.history.get().actor == manager


def test_an_unpaid_booking_cannot_be_completed(staff, service, manager):
    unpaid = BookingFactory(
        staff=staff, service=service, status=S.PENDING_PAYMENT, start=timezone.now() - timedelta(minutes=20)
    )

    with pytest.raises(InvalidTransition):
        booking_complete(booking_id=unpaid.pk, actor=manager)


# --- reschedule -------------------------------------------------------------------------------------------


def test_reschedule_moves_the_booking_and_keeps_status_and_hold(pending, customer, at, published):
    hold = pending.hold_expires_at

    booking = booking_reschedule(booking_id=pending.pk, start=at("14:00"), actor=customer)

    booking.refresh_from_db()
    assert (booking.start, booking.end, booking.status, booking.hold_expires_at) == (
        at("14:00"),
        at("14:30"),
        S.PENDING_PAYMENT,
        hold,
    )
    assert published[-1] == events.BookingRescheduled(booking_id=pending.pk, old_start=at("10:00"), old_end=at("10:30"))
    moved = BookingStatusChange.objects.filter(booking=pending).last()
    assert (moved.old_start, moved.new_start, moved.from_status, moved.to_status) == (
        at("10:00"),
        at("14:00"),
        S.PENDING_PAYMENT,
        S.PENDING_PAYMENT,
    )


def test_reschedule_may_overlap_its_own_old_time(confirmed, customer, at):
    booking = booking_reschedule(booking_id=confirmed.pk, start=at("10:15"), actor=customer)

    assert booking.start == at("10:15")


def test_reschedule_refuses_a_taken_or_unavailable_time(confirmed, staff, service, customer, at):
    BookingFactory(staff=staff, service=service, start=at("14:00"))

    with pytest.raises(SlotUnavailable):
        booking_reschedule(booking_id=confirmed.pk, start=at("14:15"), actor=customer)
    with pytest.raises(SlotUnavailable):
        booking_reschedule(booking_id=confirmed.pk, start=at("18:00"), actor=customer)
    confirmed.refresh_from_db()
    assert confirmed.start == at("10:00")


def test_reschedule_after_the_cutoff_is_for_the_business_only(confirmed, customer, manager, at):
    late = confirmed.start - timedelta(hours=2)

    with pytest.raises(RescheduleWindowClosed):
        booking_reschedule(booking_id=confirmed.pk, start=at("14:00"), actor=customer, now=late)
    assert booking_reschedule(booking_id=confirmed.pk, start=at("14:00"), actor=manager, now=late).start == at("14:00")


def test_reschedule_refuses_a_booking_that_no_longer_holds_time(confirmed, customer, at):
    booking_cancel(booking_id=confirmed.pk, actor=customer)

    with pytest.raises(InvalidTransition):
        booking_reschedule(booking_id=confirmed.pk, start=at("14:00"), actor=customer)


def test_reschedule_to_the_same_time_changes_nothing(confirmed, customer, at, published):
    published.clear()

    booking_reschedule(booking_id=confirmed.pk, start=at("10:00"), actor=customer)

    assert published == []
