"""The waitlist: joining (validated), matching (staff or anyone, the daily window), the claim window, passing on,
declining and leaving, through the services and the API; the manager's list of one business only."""

from __future__ import annotations

from datetime import time, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.accounts.tests.factories import UserFactory
from apps.bookings.errors import AccountInactive
from apps.bookings.models import Booking
from apps.bookings.services import booking_expire_due, booking_reschedule
from apps.catalog.models import Membership
from apps.catalog.tests.factories import BusinessFactory, MembershipFactory, ServiceFactory, StaffFactory
from apps.core.scoping import for_businesses
from apps.waitlist.errors import AlreadyWaiting
from apps.waitlist.models import WaitlistEntry, WaitlistOffer
from apps.waitlist.selectors import offer_token
from apps.waitlist.services import waitlist_join, waitlist_offer_free_slots
from apps.waitlist.tests.conftest import free, later

pytestmark = pytest.mark.django_db

E, O = WaitlistEntry.Status, WaitlistOffer.Status  # noqa: E741 - the offer statuses


@pytest.fixture
def venue(business):
    """Paid at the venue: a claim confirms the booking at once."""
    business.require_payment = False
    business.save()
    return business


def _offer_for(entry: WaitlistEntry) -> WaitlistOffer:
    return WaitlistOffer.objects.get(entry=entry, status=O.OFFERED)


# --- joining ------------------------------------------------------------------------------------------------


def test_join_lists_and_refuses_bad_windows_with_codes(auth_client, customer, other_customer, service, staff, day):
    client = auth_client(customer)
    body = {
        "service": service.pk,
        "staff": staff.pk,
        "date_from": str(day),
        "date_to": str(day + timedelta(days=2)),
        "time_from": "16:00",
        "time_to": "18:00",
    }
    made = client.post("/api/v1/waitlist", body, format="json")
    assert made.status_code == 201, made.json()
    assert made.json() | {"id": 0, "created_at": ""} == {
        "id": 0,
        "business": "salon",
        "service": service.pk,
        "staff": staff.pk,
        "date_from": str(day),
        "date_to": str(day + timedelta(days=2)),
        "time_from": "16:00",
        "time_to": "18:00",
        "status": "waiting",
        "created_at": "",
    }
    again = client.post("/api/v1/waitlist", body, format="json")
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "already_waiting"
    anyone = client.post("/api/v1/waitlist", body | {"staff": None}, format="json")
    assert anyone.status_code == 201
    assert anyone.json()["staff"] is None

    past = client.post("/api/v1/waitlist", body | {"date_from": str(day - timedelta(days=5))}, format="json")
    assert past.status_code == 400
    assert past.json()["error"]["code"] == "waitlist_window_invalid"
    assert "date_from" in past.json()["error"]["fields"]
    too_far = client.post("/api/v1/waitlist", body | {"date_to": str(day + timedelta(days=90))}, format="json")
    assert too_far.status_code == 400
    assert too_far.json()["error"]["code"] == "waitlist_window_invalid"
    reversed_ = client.post("/api/v1/waitlist", body | {"time_from": "19:00"}, format="json")
    assert reversed_.status_code == 400
    assert reversed_.json()["error"]["code"] == "validation_error"
    missing = client.post("/api/v1/waitlist", {"service": service.pk}, format="json")
    assert missing.status_code == 400
    assert set(missing.json()["error"]["fields"]) >= {"date_from", "time_to"}
    unknown = client.post("/api/v1/waitlist", body | {"service": 999999}, format="json")
    assert unknown.status_code == 404
    assert WaitlistEntry.objects.count() == 2

    mine = client.get("/api/v1/waitlist").json()
    assert len(mine) == 2
    assert auth_client(other_customer).get("/api/v1/waitlist").json() == []


def test_the_same_window_twice_is_refused_but_again_after_leaving(customer, service, staff, day):
    args = dict(customer=customer, service=service, staff_id=None, date_from=day, date_to=day,
                time_from=time(10), time_to=time(12))  # fmt: skip
    first = waitlist_join(**args)
    with pytest.raises(AlreadyWaiting):
        waitlist_join(**args)
    from apps.waitlist.services import waitlist_leave

    waitlist_leave(entry_id=first.pk, customer=customer)
    assert waitlist_join(**args).status == E.WAITING


# --- matching -----------------------------------------------------------------------------------------------


def test_matching_respects_the_staff_member_anyone_and_the_daily_window(
    business, service, staff, other_staff, at, day, blocker
):
    # Both staff members are booked at 10:00; everything else is free, outside the entries' windows.
    mine, theirs = blocker(at("10:00")), blocker(at("10:00"), staff_id=other_staff.pk)
    with_staff = waitlist_join(customer=UserFactory(), service=service, staff_id=staff.pk, date_from=day,
                               date_to=day, time_from=time(10), time_to=time(10))  # fmt: skip
    anyone = waitlist_join(customer=UserFactory(), service=service, staff_id=None, date_from=day, date_to=day,
                           time_from=time(10), time_to=time(10))  # fmt: skip
    too_early = waitlist_join(customer=UserFactory(), service=service, staff_id=None, date_from=day, date_to=day,
                              time_from=time(9, 15), time_to=time(9, 45))  # fmt: skip
    too_early.status = E.BOOKED  # out of the way: 09:15-09:45 is free, this test is about 10:00
    too_early.save()
    assert waitlist_offer_free_slots(business_id=business.pk) == []

    free(theirs)  # other_staff's 10:00 frees: not for the one waiting for `staff`
    (offer,) = waitlist_offer_free_slots(business_id=business.pk)
    assert offer.entry_id == anyone.pk
    assert offer.staff_id == other_staff.pk
    assert offer.start == at("10:00")
    assert WaitlistEntry.objects.get(pk=with_staff.pk).status == E.WAITING

    free(mine)
    (offer,) = waitlist_offer_free_slots(business_id=business.pk)
    assert offer.entry_id == with_staff.pk
    assert offer.staff_id == staff.pk


def test_a_window_of_hours_takes_the_earliest_free_start_in_it_and_nothing_outside(
    business, service, staff, at, day, line
):
    # `staff` is free all day; the entry waits for a start between 14:00 and 14:30 only.
    (entry,) = line(1, at="14:00", until="14:30")
    (offer,) = waitlist_offer_free_slots(business_id=business.pk)
    assert offer.entry_id == entry.pk
    assert offer.start == at("14:00")
    assert Booking.objects.get(pk=offer.hold_id).start == at("14:00")


def test_a_rescheduled_booking_frees_its_old_time_for_the_line(business, service, staff, at, line, blocker):
    moved = blocker(at("10:00"))
    (entry,) = line(1)
    assert waitlist_offer_free_slots(business_id=business.pk) == []
    booking_reschedule(booking_id=moved.pk, start=at("15:00"), actor=moved.customer)
    (offer,) = waitlist_offer_free_slots(business_id=business.pk)
    assert offer.entry_id == entry.pk
    assert offer.start == at("10:00")


def test_the_offer_job_reads_a_line_in_a_fixed_number_of_statements(business, service, staff, at, line, blocker):
    """The sweep runs the job every 5 minutes for every business with someone waiting: a longer line (or one
    waiting in vain) must not cost more statements."""
    blocker(at("10:00"))
    line(3)
    with CaptureQueriesContext(connection) as short:
        assert waitlist_offer_free_slots(business_id=business.pk) == []
    line(20, at="10:00")
    with CaptureQueriesContext(connection) as long:
        assert waitlist_offer_free_slots(business_id=business.pk) == []
    assert len(long) == len(short) <= 10, [q["sql"] for q in long]


def test_entries_whose_dates_passed_expire(business, service, staff, line, clock):
    (entry,) = line(1)
    clock.shift(timedelta(days=4))
    waitlist_offer_free_slots(business_id=business.pk)
    assert WaitlistEntry.objects.get(pk=entry.pk).status == E.EXPIRED


# --- claiming -----------------------------------------------------------------------------------------------


def test_a_claim_inside_the_window_confirms_and_after_it_is_410(
    venue, auth_client, service, staff, at, line, blocker, clock
):
    taken = blocker(at("10:00"))
    first, second = line(2)
    free(taken)
    (offer,) = waitlist_offer_free_slots(business_id=venue.pk)
    token = offer_token(hold_id=offer.hold_id)
    client = auth_client(first.customer)

    shown = client.get(f"/api/v1/waitlist/offers/{token}")
    assert shown.status_code == 200
    assert shown.json()["status"] == "offered"
    assert shown.json()["payment_required"] is False
    assert shown.json()["expires_at"].startswith("2026-12-01T08:15:00")
    assert auth_client(second.customer).get(f"/api/v1/waitlist/offers/{token}").status_code == 404  # not theirs
    assert client.get("/api/v1/waitlist/offers/not-a-token").status_code == 404

    clock.shift(later(14))
    claimed = client.post(f"/api/v1/waitlist/offers/{token}/claim")
    assert claimed.status_code == 200, claimed.json()
    assert claimed.json()["booking_status"] == "confirmed"
    assert claimed.json()["pay_url"] is None
    assert claimed.json()["offer"]["status"] == "claimed"
    assert Booking.objects.get(pk=offer.hold_id).status == Booking.Status.CONFIRMED
    assert WaitlistEntry.objects.get(pk=first.pk).status == E.BOOKED
    assert client.post(f"/api/v1/waitlist/offers/{token}/claim").status_code == 200  # again: nothing new

    # The next one: a slot freed again, offered to `second`, claimed a second too late.
    free(Booking.objects.get(pk=offer.hold_id), first.customer)
    (late,) = waitlist_offer_free_slots(business_id=venue.pk)
    assert late.entry_id == second.pk
    clock.shift(later(15))
    gone = auth_client(second.customer).post(f"/api/v1/waitlist/offers/{offer_token(hold_id=late.hold_id)}/claim")
    assert gone.status_code == 410
    assert gone.json()["error"]["code"] == "offer_gone"
    assert Booking.objects.get(pk=late.hold_id).status == Booking.Status.PENDING_PAYMENT  # until the expiry job


def test_an_unclaimed_offer_passes_to_the_next_in_line(business, service, staff, at, line, blocker, clock):
    taken = blocker(at("10:00"))
    first, second, third = line(3)
    free(taken)
    (offer,) = waitlist_offer_free_slots(business_id=business.pk)
    assert offer.entry_id == first.pk
    clock.shift(later(10))
    booking_expire_due()  # the blocker's hold: cancelled already; the offer's hold still runs
    assert waitlist_offer_free_slots(business_id=business.pk) == []
    clock.shift(later(5))
    assert booking_expire_due() == 1
    assert WaitlistOffer.objects.get(pk=offer.pk).status == O.PASSED
    (passed_on,) = waitlist_offer_free_slots(business_id=business.pk)
    assert passed_on.entry_id == second.pk
    assert WaitlistEntry.objects.get(pk=third.pk).status == E.WAITING


def test_a_paid_service_claim_leads_to_payment_and_the_payment_confirms(
    business, auth_client, service, staff, at, line, blocker
):
    from apps.bookings.services import booking_confirm

    taken = blocker(at("10:00"))
    (entry,) = line(1)
    free(taken)
    (offer,) = waitlist_offer_free_slots(business_id=business.pk)
    token = offer_token(hold_id=offer.hold_id)
    claimed = auth_client(entry.customer).post(f"/api/v1/waitlist/offers/{token}/claim")
    assert claimed.status_code == 200
    assert claimed.json()["booking_status"] == "pending_payment"
    assert claimed.json()["pay_url"] == f"/api/v1/bookings/{offer.hold_id}/pay"
    assert claimed.json()["offer"]["payment_required"] is True
    booking_confirm(booking_id=offer.hold_id)  # what a captured payment does
    assert WaitlistOffer.objects.get(pk=offer.pk).status == O.CLAIMED
    assert WaitlistEntry.objects.get(pk=entry.pk).status == E.BOOKED


def test_declining_passes_the_slot_on_and_keeps_the_place_for_other_times(
    business, auth_client, service, staff, at, line, blocker
):
    taken = blocker(at("10:00"))
    first, second = line(2)
    free(taken)
    (offer,) = waitlist_offer_free_slots(business_id=business.pk)
    token = offer_token(hold_id=offer.hold_id)
    declined = auth_client(first.customer).post(f"/api/v1/waitlist/offers/{token}/decline")
    assert declined.status_code == 200
    assert declined.json()["status"] == "declined"
    assert Booking.objects.get(pk=offer.hold_id).status == Booking.Status.CANCELLED
    assert WaitlistEntry.objects.get(pk=first.pk).status == E.WAITING
    (next_offer,) = waitlist_offer_free_slots(business_id=business.pk)
    assert next_offer.entry_id == second.pk
    assert auth_client(first.customer).post(f"/api/v1/waitlist/offers/{token}/claim").status_code == 410


# --- leaving ------------------------------------------------------------------------------------------------


def test_leaving_the_list_and_leaving_with_a_live_offer(business, auth_client, service, staff, at, line, blocker):
    taken = blocker(at("10:00"))
    first, second, third = line(3)
    client = auth_client(second.customer)
    assert auth_client(first.customer).delete(f"/api/v1/waitlist/{second.pk}").status_code == 404  # not theirs
    left = client.delete(f"/api/v1/waitlist/{second.pk}")
    assert left.status_code == 200
    assert left.json()["status"] == "left"
    assert client.delete(f"/api/v1/waitlist/{second.pk}").status_code == 200  # again: nothing new

    free(taken)
    (offer,) = waitlist_offer_free_slots(business_id=business.pk)
    assert offer.entry_id == first.pk
    gone = auth_client(first.customer).delete(f"/api/v1/waitlist/{first.pk}")
    assert gone.status_code == 200
    assert gone.json()["status"] == "left"
    assert WaitlistOffer.objects.get(pk=offer.pk).status == O.WITHDRAWN
    assert Booking.objects.get(pk=offer.hold_id).status == Booking.Status.CANCELLED
    (passed_on,) = waitlist_offer_free_slots(business_id=business.pk)
    assert passed_on.entry_id == third.pk  # `second` left: not offered


def test_freeing_a_slot_defers_the_offer_job_with_the_cancellation(business, service, staff, at, line, blocker):
    from procrastinate.contrib.django.models import ProcrastinateJob

    taken = blocker(at("10:00"))
    line(1)
    before = ProcrastinateJob.objects.filter(task_name="apps.waitlist.jobs.waitlist_process").count()
    free(taken)
    jobs = ProcrastinateJob.objects.filter(task_name="apps.waitlist.jobs.waitlist_process")
    assert jobs.count() == before + 1
    assert jobs.order_by("-id").first().args == {"business_id": business.pk}


# --- the business's view --------------------------------------------------------------------------------------


def test_the_manager_list_shows_only_the_business_own_line(business, manager, auth_client, line, day):
    mine = line(2)
    other = BusinessFactory.create()
    with for_businesses(other.pk):
        their_service = ServiceFactory.create(business=other)
        StaffFactory.create(business=other, services=[their_service])
    theirs = waitlist_join(customer=UserFactory(), service=their_service, staff_id=None, date_from=day,
                           date_to=day, time_from=time(10), time_to=time(11))  # fmt: skip
    listed = auth_client(manager).get("/api/v1/manage/businesses/salon/waitlist")
    assert listed.status_code == 200, listed.json()
    assert [row["id"] for row in listed.json()["results"]] == [e.pk for e in mine]
    assert listed.json()["results"][0]["customer_phone"].startswith("+9665")
    assert auth_client(manager).get(f"/api/v1/manage/businesses/{other.slug}/waitlist").status_code == 404
    boss = UserFactory.create()
    MembershipFactory.create(business=other, user=boss, role=Membership.Role.OWNER)
    theirs_listed = auth_client(boss).get(f"/api/v1/manage/businesses/{other.slug}/waitlist").json()["results"]
    assert [row["id"] for row in theirs_listed] == [theirs.pk]
    waiting = auth_client(manager).get("/api/v1/manage/businesses/salon/waitlist?status=left").json()
    assert waiting["results"] == []


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        (
            "post",
            "/api/v1/waitlist",
            {
                "service": 2**40,
                "date_from": "2026-12-04",
                "date_to": "2026-12-04",
                "time_from": "10:00",
                "time_to": "11:00",
            },
        ),  # fmt: skip
        (
            "post",
            "/api/v1/waitlist",
            {
                "service": 1,
                "date_from": "9999-12-31",
                "date_to": "9999-12-31",
                "time_from": "10:00",
                "time_to": "11:00",
            },
        ),  # fmt: skip
        (
            "post",
            "/api/v1/waitlist",
            {
                "service": "x",
                "staff": -1,
                "date_from": "0001-01-01",
                "date_to": "soon",
                "time_from": "25:00",
                "time_to": None,
            },
        ),  # fmt: skip
        ("post", "/api/v1/waitlist", ["not", "an", "object"]),
        ("delete", f"/api/v1/waitlist/{2**63}", None),
        ("get", "/api/v1/waitlist/offers/" + "x" * 500, None),
        ("post", "/api/v1/waitlist/offers/%00/claim", None),
        ("post", "/api/v1/waitlist/offers/abc/decline", None),
        ("get", "/api/v1/manage/businesses/salon/waitlist?status=nope", None),
    ],
)
def test_hostile_input_is_a_4xx_with_a_code_never_a_500(auth_client, customer, manager, service, method, path, body):
    client = auth_client(manager if "/manage/" in path else customer)
    response = getattr(client, method)(path, body, format="json")
    assert 400 <= response.status_code < 500, (response.status_code, response.content[:300])
    assert response.json()["error"]["code"]
    assert WaitlistEntry.objects.count() == 0


def test_a_place_kept_by_an_inactive_account_is_passed_over(business, service, staff, at, line, blocker):
    # given: a place in line of an account that is no longer active (an operator deactivated it; a deletion would
    # have removed the place)
    taken = blocker(at("10:00"))
    gone, waiting = line(2)
    type(gone.customer).objects.filter(pk=gone.customer_id).update(is_active=False)
    free(taken)

    # when
    (offer,) = waitlist_offer_free_slots(business_id=business.pk)

    # then: no hold for the deleted account (refused under its row lock), the slot goes to the next in line
    assert offer.entry_id == waiting.pk
    assert not Booking.objects.filter(customer_id=gone.customer_id).exists()


def test_joining_after_the_account_was_deleted_meanwhile_is_refused(customer, service, staff, day):
    # the request was authenticated before the deletion committed: its copy of the customer still says active
    type(customer).objects.filter(pk=customer.pk).update(is_active=False)

    with pytest.raises(AccountInactive):
        waitlist_join(
            customer=customer,
            service=service,
            staff_id=staff.pk,
            date_from=day,
            date_to=day,
            time_from=time(10),
            time_to=time(12),
        )

    assert not WaitlistEntry.objects.filter(customer=customer).exists()
