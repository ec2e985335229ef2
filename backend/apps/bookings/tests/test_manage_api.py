"""The manager API, bookings half: the day's bookings per branch and staff member, the business's actions on a
booking, time off against bookings, and a staff member's own schedule. Through HTTP, with the real middleware
(the enforced business scope)."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine

from apps.bookings.models import Booking, BookingStatusChange
from apps.bookings.tests.factories import BookingFactory
from apps.catalog.models import Membership, ScheduleException
from apps.catalog.tests.factories import BranchFactory, MembershipFactory, StaffFactory

pytestmark = pytest.mark.django_db
S = Booking.Status


@pytest.fixture
def mc(manager, auth_client):
    return auth_client(manager)


def url(path: str) -> str:
    return f"/api/v1/manage/businesses/salon/{path}"


def book(staff, service, start, **kw) -> Booking:
    return BookingFactory.create(staff=staff, service=service, start=start, branch=staff.branch, **kw)


# --- the day's bookings ------------------------------------------------------------------------------------


def test_the_days_bookings_in_start_order_with_the_customer(mc, staff, service, at, day, customer):
    late = book(staff, service, at("15:00"), customer=customer)
    early = book(staff, service, at("10:00"), customer=customer)
    book(staff, service, at("10:00", days=1))  # another day
    response = mc.get(url(f"bookings?date={day}"))
    assert response.status_code == 200
    rows = response.json()["results"]
    assert [row["id"] for row in rows] == [early.pk, late.pk]
    assert rows[0]["start"] == at("10:00").isoformat()
    assert rows[0]["customer_name"] == "Customer"
    assert rows[0]["customer_phone"] == str(customer.phone)


def test_the_day_filtered_by_branch_and_staff(mc, business, staff, other_staff, service, at, day):
    other_branch = BranchFactory.create(business=business)
    elsewhere = StaffFactory.create(branch=other_branch, services=[service])
    mine = book(staff, service, at("10:00"))
    theirs = book(other_staff, service, at("10:00"))
    there = book(elsewhere, service, at("11:00"))
    ids = lambda q: [row["id"] for row in mc.get(url(f"bookings?date={day}&{q}")).json()["results"]]  # noqa: E731
    assert ids(f"branch={other_branch.pk}") == [there.pk]
    assert ids(f"staff={staff.pk}") == [mine.pk]
    assert sorted(ids(f"branch={staff.branch_id}")) == sorted([mine.pk, theirs.pk])


def test_a_bad_filter_is_a_400(mc, day):
    for query in ["date=2026-13-01", "branch=999999", "staff=abc", "date=9999-12-31"]:
        response = mc.get(url(f"bookings?{query}"))
        assert response.status_code == 400, query
        assert response.json()["error"]["code"] == "validation_error"


def test_the_days_bookings_take_a_bounded_number_of_queries(
    mc, staff, other_staff, service, at, day, django_assert_max_num_queries
):
    for hour in range(9, 16):
        book(staff, service, at(f"{hour}:00"))
        book(other_staff, service, at(f"{hour}:30"))
    # auth (user), membership, count, page, payments: the same whatever the number of bookings
    with django_assert_max_num_queries(8):
        page = mc.get(url(f"bookings?date={day}&page_size=100")).json()
    assert page["count"] == 14


def test_staff_see_only_their_own_bookings(auth_client, staff, other_staff, service, at, day):
    mine = book(staff, service, at("10:00"))
    theirs = book(other_staff, service, at("10:00"))
    client = auth_client(staff.user)
    assert [row["id"] for row in client.get(url(f"bookings?date={day}")).json()["results"]] == [mine.pk]
    assert client.get(url(f"bookings/{theirs.pk}")).status_code == 404
    assert client.post(url(f"bookings/{mine.pk}/cancel"), {"reason": "x"}, format="json").status_code == 403


# --- actions -----------------------------------------------------------------------------------------------


def test_confirm_an_unpaid_booking(mc, staff, service, at):
    booking = book(staff, service, at("10:00"), status=S.PENDING_PAYMENT)
    response = mc.post(url(f"bookings/{booking.pk}/confirm"), {"reason": "paid cash"}, format="json")
    assert response.status_code == 200
    assert response.json()["status"] == "confirmed"
    assert BookingStatusChange.objects.filter(booking=booking, to_status=S.CONFIRMED, reason="paid cash").exists()


def test_confirming_an_expired_booking_is_a_409(mc, staff, service, at):
    booking = book(staff, service, at("10:00"), status=S.EXPIRED)
    response = mc.post(url(f"bookings/{booking.pk}/confirm"), {}, format="json")
    assert response.status_code == 409
    assert Booking.objects.get(pk=booking.pk).status == S.EXPIRED


@pytest.mark.parametrize(("action", "status"), [("complete", S.COMPLETED), ("no-show", S.NO_SHOW)])
def test_complete_and_no_show_once_it_started(mc, auth_client, staff, service, at, action, status):
    booking = book(staff, service, at("10:00"))
    early = mc.post(url(f"bookings/{booking.pk}/{action}"))
    assert early.status_code == 409
    with time_machine.travel(at("10:05")):
        done = auth_client(staff.user).post(url(f"bookings/{booking.pk}/{action}"))  # the booking's staff member
    assert done.status_code == 200, done.json()
    assert Booking.objects.get(pk=booking.pk).status == status


def test_cancel_needs_a_reason(mc, staff, service, at):
    booking = book(staff, service, at("10:00"))
    missing = mc.post(url(f"bookings/{booking.pk}/cancel"), {}, format="json")
    assert missing.status_code == 400
    assert "reason" in missing.json()["error"]["fields"]
    response = mc.post(url(f"bookings/{booking.pk}/cancel"), {"reason": "Staff ill"}, format="json")
    assert response.status_code == 200
    assert (response.json()["status"], response.json()["cancel_reason"]) == ("cancelled", "Staff ill")


def test_reschedule_to_a_free_time_and_not_onto_another_booking(mc, staff, service, at, customer):
    booking = book(staff, service, at("10:00"))
    book(staff, service, at("12:00"))
    moved = mc.post(url(f"bookings/{booking.pk}/reschedule"), {"start": at("11:00").isoformat()}, format="json")
    assert moved.status_code == 200, moved.json()
    assert moved.json()["start"] == at("11:00").isoformat()
    taken = mc.post(url(f"bookings/{booking.pk}/reschedule"), {"start": at("12:00").isoformat()}, format="json")
    assert taken.status_code == 409
    assert taken.json()["error"]["code"] == "slot_unavailable"
    assert Booking.objects.get(pk=booking.pk).start == at("11:00")


def test_time_off_over_a_booking_is_a_409(mc, staff, service, at):
    book(staff, service, at("13:00"))
    body = {"start": at("12:00").isoformat(), "end": at("15:00").isoformat()}
    response = mc.post(url(f"staff/{staff.pk}/time-off"), body, format="json")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "time_off_conflicts_with_bookings"
    assert not ScheduleException.objects.filter(staff=staff).exists()


def test_approving_time_off_over_a_booking_made_since_the_request_is_a_409(mc, auth_client, staff, service, at):
    body = {"start": at("12:00").isoformat(), "end": at("15:00").isoformat()}
    asked = auth_client(staff.user).post("/api/v1/manage/me/time-off", body, format="json").json()
    book(staff, service, at("13:00"))
    response = mc.post(url(f"time-off-requests/{asked['id']}/approve"), {}, format="json")
    assert response.status_code == 409
    assert not ScheduleException.objects.filter(staff=staff).exists()


# --- a staff member's schedule -------------------------------------------------------------------------------


def test_my_schedule_has_my_bookings_hours_and_time_off(auth_client, staff, other_staff, service, at, day):
    mine = book(staff, service, at("10:00"))
    book(other_staff, service, at("10:00"))
    book(staff, service, at("10:00", days=9))  # outside the range
    ScheduleException.objects.create(staff=staff, start=at("14:00"), end=at("16:00"), reason="Dentist")
    response = auth_client(staff.user).get(
        f"/api/v1/manage/me/schedule?date_from={day}&date_to={day + timedelta(days=2)}"
    )
    assert response.status_code == 200, response.json()
    data = response.json()
    assert (data["staff"], data["business"], data["timezone"]) == (staff.pk, "salon", "Asia/Riyadh")
    assert [row["id"] for row in data["bookings"]] == [mine.pk]
    assert [row["reason"] for row in data["time_off"]] == ["Dentist"]
    assert len(data["hours"]) == 7


def test_my_schedule_refuses_a_long_range_and_someone_without_a_staff_profile(auth_client, staff, manager, day):
    too_long = auth_client(staff.user).get(
        f"/api/v1/manage/me/schedule?date_from={day}&date_to={day + timedelta(days=90)}"
    )
    assert too_long.status_code == 400
    assert auth_client(manager).get("/api/v1/manage/me/schedule").status_code == 404


def test_an_owner_who_also_works_keeps_their_role(auth_client, business, branch):
    owner = MembershipFactory.create(business=business, role=Membership.Role.OWNER).user
    StaffFactory.create(user=owner, branch=branch)
    assert Membership.objects.get(user=owner, business=business).role == Membership.Role.OWNER
    client = auth_client(owner)
    assert client.get("/api/v1/manage/me/schedule").status_code == 200
    assert client.get(url("time-off-requests")).status_code == 200
