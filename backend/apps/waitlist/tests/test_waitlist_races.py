"""The waitlist under concurrency, on PostgreSQL with real parallel connections (threads released together by a
barrier, each with its own connection): a freed slot is offered to one customer at a time, and a claim never
double-books."""

from __future__ import annotations

import threading
from datetime import time
from typing import Any

import pytest

from apps.accounts import services as accounts
from apps.accounts.tests.factories import UserFactory
from apps.bookings.errors import AccountInactive, SlotUnavailable
from apps.bookings.models import HOLDING_STATUSES, Booking
from apps.bookings.services import booking_create, booking_expire_due
from apps.core import personal_data
from apps.core.testing import run_each, wait_until_another_session_waits_for_a_lock
from apps.waitlist.models import WaitlistEntry, WaitlistOffer
from apps.waitlist.selectors import offer_token
from apps.waitlist.services import waitlist_join, waitlist_offer_claim, waitlist_offer_free_slots
from apps.waitlist.tests.conftest import PINNED, free, later

pytestmark = pytest.mark.django_db(transaction=True)

E, O = WaitlistEntry.Status, WaitlistOffer.Status  # noqa: E741 - the offer statuses


def holding_at(staff_id: int, start: Any) -> list[Booking]:
    return list(Booking.objects.filter(staff_id=staff_id, start=start, status__in=HOLDING_STATUSES))


def test_twenty_waiting_for_one_freed_slot_get_one_offer_at_a_time_in_line_order(
    business, service, staff, at, line, blocker, clock
):
    slot = at("10:00")
    taken = blocker(slot)
    entries = line(20)
    free(taken)
    processors = 6

    for turn in range(3):
        results = run_each([lambda: waitlist_offer_free_slots(business_id=business.pk) for _ in range(processors)])
        assert not [r for r in results if isinstance(r, Exception)], results
        assert sum(len(r) for r in results) == 1, results  # one offer made, by one of the processors
        live = list(WaitlistOffer.objects.filter(status=O.OFFERED))
        assert len(live) == 1
        assert live[0].entry_id == entries[turn].pk  # the first in line who has not had this slot yet
        assert WaitlistEntry.objects.get(pk=entries[turn].pk).status == E.OFFERED
        assert WaitlistEntry.objects.filter(status=E.WAITING).count() == 19
        holds = holding_at(staff.pk, slot)
        assert [b.pk for b in holds] == [live[0].hold_id]
        assert holds[0].customer_id == entries[turn].customer_id
        assert holds[0].status == Booking.Status.PENDING_PAYMENT

        # Nobody claims: the hold runs out after the claim window, and the slot passes on.
        clock.shift(later(15))
        assert booking_expire_due() == 1
        assert WaitlistOffer.objects.get(pk=live[0].pk).status == O.PASSED
        assert WaitlistEntry.objects.get(pk=entries[turn].pk).status == E.WAITING  # still in line for other times
        assert holding_at(staff.pk, slot) == []

    assert WaitlistOffer.objects.count() == 3
    assert WaitlistOffer.objects.filter(status=O.PASSED).count() == 3


def test_a_claim_racing_a_direct_booking_gives_exactly_one_booking(business, service, staff, at, line, blocker):
    business.require_payment = False  # paid at the venue: a claim confirms at once
    business.save()
    for r in range(4):
        slot = at("10:00") + later(60 * r)
        taken = blocker(slot)
        (entry,) = line(1, at=f"{10 + r}:00")
        free(taken)
        (offer,) = waitlist_offer_free_slots(business_id=business.pk)
        rival = UserFactory.create()
        token = offer_token(hold_id=offer.hold_id)
        customer = entry.customer

        claim, direct = run_each(
            [
                lambda token=token, customer=customer: waitlist_offer_claim(token=token, customer=customer),
                lambda rival=rival, slot=slot: booking_create(
                    customer=rival, staff_id=staff.pk, service=service, start=slot
                ),
            ]
        )

        assert isinstance(direct, SlotUnavailable), direct
        assert not isinstance(claim, Exception), claim
        (booking,) = holding_at(staff.pk, slot)
        assert booking.pk == offer.hold_id
        assert booking.status == Booking.Status.CONFIRMED
        assert WaitlistOffer.objects.get(pk=offer.pk).status == O.CLAIMED
        assert WaitlistEntry.objects.get(pk=entry.pk).status == E.BOOKED


def test_the_offer_job_racing_a_direct_booking_for_a_freed_slot_leaves_one_holder(
    business, service, staff, at, line, blocker
):
    outcomes = set()
    for r in range(5):
        slot = at("10:00") + later(60 * r)
        taken = blocker(slot)
        (entry,) = line(1, at=f"{10 + r}:00")
        free(taken)
        rival = UserFactory.create()

        offers, direct = run_each(
            [
                lambda: waitlist_offer_free_slots(business_id=business.pk),
                lambda rival=rival, slot=slot: booking_create(
                    customer=rival, staff_id=staff.pk, service=service, start=slot
                ),
            ]
        )

        (holder,) = holding_at(staff.pk, slot)
        if isinstance(direct, Booking):
            assert offers == []
            assert holder.customer_id == rival.pk
            assert WaitlistEntry.objects.get(pk=entry.pk).status == E.WAITING
            outcomes.add("direct")
        else:
            assert isinstance(direct, SlotUnavailable), direct
            assert [o.hold_id for o in offers] == [holder.pk]
            assert holder.customer_id == entry.customer_id
            outcomes.add("offer")
    assert outcomes  # either may win a round; never both


def test_the_offer_job_and_the_waiting_customers_own_bookings_run_together_without_deadlock(
    business, service, staff, at, line, blocker
):
    # Ten customers wait for 10:00..14:30 (one slot each); those slots are taken, then all freed at once. While
    # the job offers them, each waiting customer books another time with the same staff member directly: the
    # job takes entry -> customer -> staff per offer, a direct booking customer -> staff; nobody deadlocks.
    starts = [at("10:00") + later(30 * i) for i in range(10)]
    taken = [blocker(start) for start in starts]
    entries = [line(1, at=f"{start.hour:02d}:{start.minute:02d}")[0] for start in starts]
    for booking in taken:
        free(booking)
    elsewhere = [at("15:00") + later(15 * i) for i in range(10)]  # overlapping 30-minute bookings: some refused

    results = run_each(
        [lambda: waitlist_offer_free_slots(business_id=business.pk)]
        + [
            lambda e=entry, s=start: booking_create(customer=e.customer, staff_id=staff.pk, service=service, start=s)
            for entry, start in zip(entries, elsewhere, strict=True)
        ]
    )

    unexpected = [r for r in results if isinstance(r, Exception) and not isinstance(r, SlotUnavailable)]
    assert unexpected == []
    assert len(results[0]) == 10  # every freed slot offered, each to its own customer
    assert WaitlistOffer.objects.filter(status=O.OFFERED).count() == 10
    rows = list(
        Booking.objects.filter(staff=staff, status__in=HOLDING_STATUSES)
        .order_by("busy_start")
        .values_list("busy_start", "busy_end")
    )
    assert all(end <= start for (_, end), (start, _) in zip(rows, rows[1:], strict=False))


def test_a_cancellation_defers_the_offer_job_which_the_worker_runs(business, service, staff, at, line, blocker, clock):
    from apps.core.testing import run_jobs

    clock.move_to(PINNED, tick=True)  # the worker's loop needs a clock that moves
    taken = blocker(at("10:00"))
    (entry,) = line(1)
    run_jobs(queues=["bookings"])  # the job deferred by joining: nothing free yet
    assert not WaitlistOffer.objects.exists()

    free(taken)  # commits the cancellation and its waitlist_process job together
    run_jobs(queues=["bookings"])

    (offer,) = WaitlistOffer.objects.all()
    assert offer.entry_id == entry.pk
    assert offer.status == O.OFFERED
    assert Booking.objects.get(pk=offer.hold_id).status == Booking.Status.PENDING_PAYMENT


def test_a_join_that_waited_for_the_account_deletion_is_refused_and_leaves_no_place(customer, service, staff, day):
    code = accounts.otp_code_for(accounts.account_delete_code_request(user=customer))
    deleting = threading.Event()

    def holds_the_lock(user, now):  # the last deletion step: the account's row is locked, nothing committed
        deleting.set()
        wait_until_another_session_waits_for_a_lock()

    def join():
        assert deleting.wait(20)
        return waitlist_join(
            customer=customer,
            service=service,
            staff_id=staff.pk,
            date_from=day,
            date_to=day,
            time_from=time(10),
            time_to=time(12),
        )

    with personal_data.deletion_steps.override(*personal_data.deletion_steps.all(), holds_the_lock):
        deleted, joined = run_each([lambda: accounts.account_delete(user=customer, code=code), join])

    assert deleted is None, deleted
    assert isinstance(joined, AccountInactive), joined
    assert not WaitlistEntry.objects.filter(customer_id=customer.pk).exists()


def test_an_offer_racing_the_deletion_of_the_first_in_line_goes_to_the_next_without_a_deadlock(
    business, service, staff, at, line, blocker
):
    # given: the first in line deletes their account while a freed slot is being offered
    taken = blocker(at("10:00"))
    first, second = line(2)
    person = first.customer
    code = accounts.otp_code_for(accounts.account_delete_code_request(user=person))
    free(taken)
    deleting = threading.Event()

    def holds_the_lock(user, now):  # the last deletion step: the account's row is locked, nothing committed
        deleting.set()
        wait_until_another_session_waits_for_a_lock()

    def offer():
        assert deleting.wait(20)
        return waitlist_offer_free_slots(business_id=business.pk)

    # when: the offer job queues behind the deletion (the customer's lock comes before their place in line)
    with personal_data.deletion_steps.override(*personal_data.deletion_steps.all(), holds_the_lock):
        deleted, offers = run_each([lambda: accounts.account_delete(user=person, code=code), offer])

    # then: both went through (no deadlock), the deleted account holds nothing, the next in line has the slot
    assert deleted is None, deleted
    assert isinstance(offers, list), offers
    assert [o.entry_id for o in offers] == [second.pk]
    assert not Booking.objects.filter(customer_id=person.pk, status__in=HOLDING_STATUSES).exists()
    assert not WaitlistEntry.objects.filter(customer_id=person.pk).exists()
