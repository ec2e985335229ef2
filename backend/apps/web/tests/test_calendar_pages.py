"""The business calendar through the Django test client: who sees what (the manager API's rules), the day and
week grids, each action on a booking, a walk-in booking for a new and a known phone number, the polling
endpoint, and the day view's query budget with 20 staff and a full day."""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import Client

from apps.accounts.models import User
from apps.accounts.tests.factories import UserFactory
from apps.bookings.models import Booking, BookingStatusChange
from apps.bookings.tests.factories import BookingFactory
from apps.catalog.models import Business, Closure, Membership, ScheduleException
from apps.catalog.tests.factories import BusinessFactory, ServiceFactory, StaffFactory

pytestmark = pytest.mark.django_db

RIYADH = ZoneInfo("Asia/Riyadh")
PINNED = datetime(2027, 1, 12, 9, 30, tzinfo=RIYADH)  # a Tuesday morning, as the browser tests
TODAY = PINNED.date()


@pytest.fixture(autouse=True)
def pinned():
    with time_machine.travel(PINNED, tick=False):
        yield PINNED


def at(hhmm: str, days: int = 0) -> datetime:
    hours, minutes = map(int, hhmm.split(":"))
    return datetime.combine(TODAY + timedelta(days=days), time(hours, minutes), tzinfo=RIYADH)


def signed_in(user: User, lang: str = "en") -> Client:
    client = Client()
    client.cookies["mawid_lang"] = lang
    client.force_login(user)
    return client


def book(staff, service, start: datetime, **extra) -> Booking:
    return BookingFactory.create(staff=staff, service=service, start=start, branch=staff.branch, **extra)


def day_url(business: Business, branch_id: int, days: int = 0) -> str:
    return f"/calendar/{business.slug}/day?branch={branch_id}&date={(TODAY + timedelta(days=days)).isoformat()}"


@pytest.fixture
def salon(business, branch, service, staff, other_staff, manager):
    return business, branch, service, staff, other_staff, manager


# --- who sees what ----------------------------------------------------------------------------------------------


def test_the_home_lists_the_places_a_person_works_at_and_refuses_everyone_else(salon, customer):
    business, branch, _service, staff, *_rest, manager = salon
    page = signed_in(manager).get("/calendar/")
    assert page.status_code == 200
    assert f"/calendar/{business.slug}/day?branch={branch.pk}" in page.content.decode()
    assert signed_in(staff.user).get("/calendar/").status_code == 200
    assert signed_in(customer).get("/calendar/").status_code == 403
    assert Client().get("/calendar/")["Location"].startswith("/login")


def test_a_customer_and_another_business_s_manager_get_nothing(salon, customer):
    business, branch, service, staff, *_rest = salon
    booking = book(staff, service, at("11:00"))
    other = BusinessFactory()
    stranger = UserFactory()
    Membership.objects.create(business=other, user=stranger, role=Membership.Role.MANAGER)
    for user in (customer, stranger):
        client = signed_in(user)
        for url in (
            day_url(business, branch.pk),
            f"/calendar/{business.slug}/week?staff={staff.pk}",
            f"/calendar/{business.slug}/bookings/{booking.pk}",
            f"/calendar/{business.slug}/day/changes?branch={branch.pk}",
            f"/calendar/{business.slug}/new?branch={branch.pk}",
        ):
            assert client.get(url).status_code == 404, (user, url)
        assert (
            client.post(f"/calendar/{business.slug}/bookings/{booking.pk}/cancel", {"reason": "x"}).status_code == 404
        )
    # their own business's calendar does not open this business's bookings either
    assert signed_in(stranger).get(f"/calendar/{other.slug}/bookings/{booking.pk}").status_code == 404
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CONFIRMED


def test_the_manager_sees_every_column_and_every_booking(salon):
    business, branch, service, staff, other_staff, manager = salon
    mine, theirs = (
        book(staff, service, at("11:00"), customer=UserFactory(name="Sara")),
        book(other_staff, service, at("12:00"), customer=UserFactory(name="Huda")),
    )
    body = signed_in(manager).get(day_url(business, branch.pk)).content.decode()
    assert f'data-key="staff-{staff.pk}"' in body
    assert f'data-key="staff-{other_staff.pk}"' in body
    assert f'data-booking="{mine.pk}"' in body
    assert f'data-booking="{theirs.pk}"' in body
    assert 'dir="ltr">11:00–11:30</span> Sara' in body
    assert 'dir="ltr">12:00–12:30</span> Huda' in body
    assert 'style="' not in body  # the Content Security Policy: placement by classes only


def test_staff_see_only_their_own_column_unless_the_business_allows_more(salon):
    business, branch, service, staff, other_staff, _manager = salon
    mine = book(staff, service, at("11:00"), customer=UserFactory(name="Sara"))
    theirs = book(other_staff, service, at("12:00"), customer=UserFactory(name="Huda"))
    client = signed_in(staff.user)
    body = client.get(day_url(business, branch.pk)).content.decode()
    assert f'data-key="staff-{staff.pk}"' in body
    assert f'data-key="staff-{other_staff.pk}"' not in body
    assert f'data-booking="{mine.pk}"' in body
    assert "Huda" not in body
    assert client.get(f"/calendar/{business.slug}/bookings/{theirs.pk}").status_code == 404
    assert client.get(f"/calendar/{business.slug}/week?staff={other_staff.pk}").status_code == 404
    assert client.get(f"/calendar/{business.slug}/new?branch={branch.pk}").status_code == 403

    business.staff_see_all_bookings = True
    business.save()
    body = client.get(day_url(business, branch.pk)).content.decode()
    assert f'data-key="staff-{other_staff.pk}"' in body
    assert 'dir="ltr">12:00–12:30</span> Haircut' in body  # the colleague's time and service ...
    assert "Huda" not in body
    assert f'data-booking="{theirs.pk}"' not in body
    assert client.get(f"/calendar/{business.slug}/bookings/{theirs.pk}").status_code == 404
    assert client.get(f"/calendar/{business.slug}/week?staff={other_staff.pk}").status_code == 200


# --- the grids ----------------------------------------------------------------------------------------------------


def test_blocks_are_sized_by_duration_with_buffers_shaded_and_time_off_greyed(salon):
    business, branch, _service, staff, _other, manager = salon
    long = ServiceFactory(name_en="Colour", duration_minutes=90, buffer_before_minutes=10, buffer_after_minutes=15)
    staff.services.add(long)
    booking = book(staff, long, at("11:00"))
    ScheduleException.objects.create(
        business=business, staff=staff, start=at("14:00"), end=at("15:00"), kind=ScheduleException.Kind.TIME_OFF
    )
    body = signed_in(manager).get(day_url(business, branch.pk)).content.decode()
    # the window starts at 08:00: 11:00 is row 37 (3 hours x 12 rows + 1), 90 minutes are 18 rows
    block = re.search(rf'class="([^"]*)" href="[^"]*" data-testid="cal-booking" data-booking="{booking.pk}"', body)
    assert block is not None
    assert "cal-at-37" in block.group(1)
    assert "cal-len-18" in block.group(1)
    assert 'cal-buffer cal-at-35 cal-len-2"' in body  # 10:50-11:00
    assert 'cal-buffer cal-at-55 cal-len-3"' in body  # 12:30-12:45
    assert "cal-off cal-labelled cal-at-73 cal-len-12" in body
    assert "Time off" in body
    assert "cal-off cal-at-1 cal-len-12" in body  # 08:00-09:00: before work
    Closure.objects.create(
        business=business,
        branch=branch,
        name="Founding Day",
        start_date=TODAY + timedelta(1),
        end_date=TODAY + timedelta(1),
    )
    closed = signed_in(manager).get(day_url(business, branch.pk, days=1)).content.decode()
    assert "cal-off cal-labelled cal-at-1 cal-len-144" in closed
    assert "Closed" in closed


def test_previous_next_and_a_bad_date(salon):
    business, branch, *_rest, manager = salon
    client = signed_in(manager)
    body = client.get(day_url(business, branch.pk)).content.decode()
    assert f"date={(TODAY - timedelta(days=1)).isoformat()}" in body
    assert f"date={(TODAY + timedelta(days=1)).isoformat()}" in body
    bad = client.get(f"/calendar/{business.slug}/day?branch={branch.pk}&date=2027-13-45")
    assert bad.status_code == 200
    assert "That date could not be read" in bad.content.decode()
    assert client.get(f"/calendar/{business.slug}/day?branch=999999").status_code == 404
    assert client.get(f"/calendar/{business.slug}/day?branch=abc").status_code == 200  # ignored: the first branch


def test_the_week_view_of_a_staff_member(salon):
    business, _branch, service, staff, *_rest, manager = salon
    tuesday = book(staff, service, at("10:00"))
    thursday = book(staff, service, at("16:00", days=2))
    body = signed_in(manager).get(f"/calendar/{business.slug}/week?staff={staff.pk}&date={TODAY}").content.decode()
    assert body.count('data-testid="cal-col"') == 7
    assert f'data-booking="{tuesday.pk}"' in body
    assert f'data-booking="{thursday.pk}"' in body
    assert 'data-key="day-2027-01-10"' in body  # the week starts on the Sunday
    own = signed_in(staff.user).get(f"/calendar/{business.slug}/week").content.decode()
    assert f'data-booking="{tuesday.pk}"' in own


def test_polling_answers_204_until_a_booking_changes(salon):
    business, branch, service, staff, *_rest, manager = salon
    client = signed_in(manager)
    url = f"/calendar/{business.slug}/day/changes?branch={branch.pk}&date={TODAY}"
    first = client.get(url)
    version = first["X-Calendar-Version"]
    assert first.status_code == 200
    page = client.get(day_url(business, branch.pk)).content.decode()
    assert f'data-version="{version}"' in page
    assert client.get(url + f"&since={version}").status_code == 204
    booking = book(staff, service, at("13:00"))
    changed = client.get(url + f"&since={version}")
    assert changed.status_code == 200
    assert f'data-booking="{booking.pk}"' in changed.content.decode()
    again = changed["X-Calendar-Version"]
    Booking.objects.filter(pk=booking.pk).update(status=Booking.Status.CANCELLED, updated_at=PINNED + timedelta(1))
    assert client.get(url + f"&since={again}").status_code == 200
    week = f"/calendar/{business.slug}/week/changes?staff={staff.pk}&date={TODAY}"
    seen = client.get(week)
    assert seen.status_code == 200
    assert f'data-booking="{booking.pk}"' not in seen.content.decode()  # cancelled: not drawn
    assert client.get(week + f"&since={seen['X-Calendar-Version']}").status_code == 204
    moved = book(staff, service, at("15:00", days=2))
    assert f'data-booking="{moved.pk}"' in client.get(week + f"&since={seen['X-Calendar-Version']}").content.decode()


def test_a_platform_operator_sees_every_business(salon):
    business, branch, *_rest = salon
    operator = UserFactory(is_superuser=True, is_staff=True)
    other = BusinessFactory()
    body = signed_in(operator).get("/calendar/").content.decode()
    assert f"/calendar/{business.slug}/day" in body
    assert f"/calendar/{other.slug}/day" in body
    assert signed_in(operator).get(day_url(business, branch.pk)).status_code == 200


# --- a booking and its actions ------------------------------------------------------------------------------


def test_the_booking_page_shows_customer_payment_and_history(salon):
    business, _branch, service, staff, *_rest, manager = salon
    customer = UserFactory(name="Sara", phone="+966551112233")
    booking = book(staff, service, at("11:00"), customer=customer)
    BookingStatusChange.objects.create(business=business, booking=booking, from_status="", to_status="confirmed")
    body = signed_in(manager).get(f"/calendar/{business.slug}/bookings/{booking.pk}").content.decode()
    for text in (
        "Sara",
        "+966551112233",
        "Haircut",
        staff.display_name,
        "11:00–11:30",
        "Confirmed",
        "Pay at the business",
    ):
        assert text in body, text
    assert 'data-testid="cal-history"' in body
    assert 'name="csrfmiddlewaretoken"' in body


def test_complete_and_no_show_once_it_has_started_by_the_manager_or_the_staff_member(salon):
    business, _branch, service, staff, other_staff, manager = salon
    started = book(staff, service, at("09:00"))
    absent = book(other_staff, service, at("09:00"))
    later = book(staff, service, at("15:00"))
    client = signed_in(staff.user)
    body = client.get(f"/calendar/{business.slug}/bookings/{started.pk}").content.decode()
    assert 'data-testid="cal-complete"' in body
    client.post(f"/calendar/{business.slug}/bookings/{started.pk}/complete")
    started.refresh_from_db()
    assert started.status == Booking.Status.COMPLETED
    # the staff member cannot touch a colleague's booking
    assert client.post(f"/calendar/{business.slug}/bookings/{absent.pk}/no-show").status_code == 404
    signed_in(manager).post(f"/calendar/{business.slug}/bookings/{absent.pk}/no-show")
    absent.refresh_from_db()
    assert absent.status == Booking.Status.NO_SHOW
    assert BookingStatusChange.objects.filter(booking=absent, to_status="no_show", actor=manager).exists()
    # not started yet: a clear message, nothing changes
    response = client.post(f"/calendar/{business.slug}/bookings/{later.pk}/complete", follow=True)
    later.refresh_from_db()
    assert later.status == Booking.Status.CONFIRMED
    assert response.status_code == 200
    assert 'class="error"' in response.content.decode()


def test_cancel_needs_a_reason_and_a_manager(salon):
    business, _branch, service, staff, *_rest, manager = salon
    booking = book(staff, service, at("15:00"))
    assert (
        signed_in(staff.user)
        .post(f"/calendar/{business.slug}/bookings/{booking.pk}/cancel", {"reason": "x"})
        .status_code
        == 403
    )
    client = signed_in(manager)
    client.post(f"/calendar/{business.slug}/bookings/{booking.pk}/cancel", {"reason": " "})
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CONFIRMED
    client.post(f"/calendar/{business.slug}/bookings/{booking.pk}/cancel", {"reason": "The salon closes early"})
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CANCELLED
    assert booking.cancel_reason == "The salon closes early"
    body = client.get(f"/calendar/{business.slug}/bookings/{booking.pk}").content.decode()
    assert "The salon closes early" in body


def test_reschedule_to_a_free_time_the_availability_offers(salon):
    business, _branch, service, staff, *_rest, manager = salon
    booking = book(staff, service, at("12:00", days=1))
    book(staff, service, at("14:00", days=1))
    client = signed_in(manager)
    body = client.get(f"/calendar/{business.slug}/bookings/{booking.pk}").content.decode()
    offered = re.findall(r'name="start" value="([^"]+)"', body)
    assert at("12:30", days=1).isoformat() in offered
    assert at("14:00", days=1).isoformat() not in offered  # taken
    assert at("12:00", days=1).isoformat() not in offered  # where it is now
    client.post(
        f"/calendar/{business.slug}/bookings/{booking.pk}/reschedule", {"start": at("16:00", days=1).isoformat()}
    )
    booking.refresh_from_db()
    assert booking.start == at("16:00", days=1)
    # a taken time: a message, no move; garbage: a message
    bad = client.post(
        f"/calendar/{business.slug}/bookings/{booking.pk}/reschedule",
        {"start": at("14:00", days=1).isoformat()},
        follow=True,
    )
    assert 'class="error"' in bad.content.decode()
    assert (
        client.post(f"/calendar/{business.slug}/bookings/{booking.pk}/reschedule", {"start": "soon"}).status_code == 302
    )
    booking.refresh_from_db()
    assert booking.start == at("16:00", days=1)
    assert (
        signed_in(staff.user)
        .post(f"/calendar/{business.slug}/bookings/{booking.pk}/reschedule", {"start": at("12:00", days=1).isoformat()})
        .status_code
        == 403
    )


# --- walk-in and phone bookings -----------------------------------------------------------------------------------


def test_a_walk_in_for_a_new_phone_number_creates_the_customer(salon):
    business, branch, service, staff, *_rest, manager = salon
    client = signed_in(manager)
    url = f"/calendar/{business.slug}/new?branch={branch.pk}&staff={staff.pk}&service={service.pk}&date={TODAY}"
    form = client.get(url).content.decode()
    times = re.findall(r'name="start" value="([^"]+)"', form)
    assert at("12:00").isoformat() in times
    assert at("10:00").isoformat() not in times
    response = client.post(url, {"phone": "055 987 6543", "name": "Walk-in Wafa", "start": at("12:00").isoformat()})
    assert response.status_code == 302
    customer = User.objects.get(phone="+966559876543")
    assert customer.name == "Walk-in Wafa"
    booking = Booking.objects.get(customer=customer)
    assert (booking.staff_id, booking.service_id, booking.start) == (staff.pk, service.pk, at("12:00"))
    assert booking.status == Booking.Status.CONFIRMED  # paid at the business
    assert response["Location"] == f"/calendar/{business.slug}/bookings/{booking.pk}"


def test_a_phone_booking_for_a_known_number_uses_that_customer(salon):
    business, branch, service, staff, *_rest, manager = salon
    known = UserFactory(phone="+966551234567", name="Noura")
    client = signed_in(manager)
    url = f"/calendar/{business.slug}/new?branch={branch.pk}&staff={staff.pk}&service={service.pk}&date={TODAY}"
    client.post(url, {"phone": "+966 55 123 4567", "name": "Someone else", "start": at("13:00").isoformat()})
    booking = Booking.objects.get(customer=known)
    assert booking.start == at("13:00")
    known.refresh_from_db()
    assert known.name == "Noura"  # an existing name is kept
    assert User.objects.filter(phone="+966551234567").count() == 1


def test_a_walk_in_with_bad_input_says_what_is_wrong(salon):
    business, branch, service, staff, *_rest, manager = salon
    client = signed_in(manager)
    url = f"/calendar/{business.slug}/new?branch={branch.pk}&staff={staff.pk}&service={service.pk}&date={TODAY}"
    bad_phone = client.post(url, {"phone": "12", "start": at("12:00").isoformat()})
    assert bad_phone.status_code == 400
    assert "valid phone number" in bad_phone.content.decode()
    too_soon = client.post(url, {"phone": "0559876543", "start": at("10:00").isoformat()})
    assert too_soon.status_code == 400
    assert 'role="alert"' in too_soon.content.decode()
    no_time = client.post(url, {"phone": "0559876543"})
    assert no_time.status_code == 400
    assert not Booking.objects.exists()
    assert not User.objects.filter(phone="+966559876543").exists()  # a refused time leaves no customer behind


# --- the query budget ---------------------------------------------------------------------------------------------


def test_the_day_view_of_20_staff_and_a_full_day_asks_a_fixed_number_of_queries(salon, django_assert_max_num_queries):
    business, branch, service, staff, other_staff, manager = salon
    client = signed_in(manager)
    book(staff, service, at("10:00"))
    client.get(day_url(business, branch.pk))
    with django_assert_max_num_queries(12) as few:
        small = client.get(day_url(business, branch.pk))
    assert small.status_code == 200
    team = [StaffFactory(services=[service]) for _ in range(18)]
    for member in [staff, other_staff, *team]:
        ScheduleException.objects.create(
            business=business, staff=member, start=at("13:00"), end=at("13:30"), kind=ScheduleException.Kind.TIME_OFF
        )
        for slot in range(16):  # 09:00-17:00, every half hour but the break
            start = at("09:00") + timedelta(minutes=30 * slot)
            if start != at("13:00") and not (member == staff and start == at("10:00")):
                book(member, service, start)
    assert Booking.objects.count() == 20 * 15
    with django_assert_max_num_queries(len(few.captured_queries)):
        full = client.get(day_url(business, branch.pk))
    assert full.content.decode().count('data-testid="cal-booking"') == 300
    changes = f"/calendar/{business.slug}/day/changes?branch={branch.pk}&date={TODAY}"
    with django_assert_max_num_queries(len(few.captured_queries)):
        version = client.get(changes)["X-Calendar-Version"]
    with django_assert_max_num_queries(len(few.captured_queries) - 2):  # unchanged: one count, no grid
        assert client.get(changes + f"&since={version}").status_code == 204


def test_a_manager_confirms_an_unpaid_booking_paid_at_the_counter(salon):
    business, _branch, service, staff, *_rest, manager = salon
    unpaid = book(staff, service, at("15:00"), status=Booking.Status.PENDING_PAYMENT)
    assert (
        'data-testid="cal-confirm"'
        not in signed_in(staff.user).get(f"/calendar/{business.slug}/bookings/{unpaid.pk}").content.decode()
    )
    assert signed_in(staff.user).post(f"/calendar/{business.slug}/bookings/{unpaid.pk}/confirm").status_code == 403
    client = signed_in(manager)
    assert 'data-testid="cal-confirm"' in client.get(f"/calendar/{business.slug}/bookings/{unpaid.pk}").content.decode()
    client.post(f"/calendar/{business.slug}/bookings/{unpaid.pk}/confirm")
    unpaid.refresh_from_db()
    assert unpaid.status == Booking.Status.CONFIRMED
    assert unpaid.hold_expires_at is None


def test_actions_count_against_the_api_s_rate(salon, monkeypatch):
    from rest_framework.throttling import SimpleRateThrottle

    business, _branch, service, staff, *_rest, manager = salon
    booking = book(staff, service, at("15:00"))
    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", {"anon": "100/min", "user": "1/min"})
    client = signed_in(manager)
    url = f"/calendar/{business.slug}/bookings/{booking.pk}/cancel"
    client.post(url.replace("/cancel", "/reschedule"), {"start": at("16:00").isoformat()})
    refused = client.post(url, {"reason": "closing early"}, follow=True)
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CONFIRMED
    assert "Try again in" in refused.content.decode()


def test_the_demo_salon_s_calendar_opens_for_its_manager_every_day_of_a_week():
    from django.core.management import call_command

    call_command("seed_demo", verbosity=0)
    hessa = User.objects.get(phone="+966500000003")
    client = signed_in(hessa, "ar")
    home = client.get("/calendar/").content.decode()
    assert "/calendar/noor-salon/day?branch=" in home
    drawn = 0
    for days in range(-3, 4):
        page = client.get(f"/calendar/noor-salon/day?date={(TODAY + timedelta(days=days)).isoformat()}")
        assert page.status_code == 200
        drawn += page.content.decode().count('data-testid="cal-booking"')
    assert drawn > 0
    someone = Booking.objects.filter(business__slug="noor-salon").order_by("pk").first()
    assert someone is not None
    assert client.get(f"/calendar/noor-salon/bookings/{someone.pk}").status_code == 200
    assert client.get(f"/calendar/noor-salon/week?staff={someone.staff_id}").status_code == 200


# --- payments at the counter ------------------------------------------------------------------------------------


def test_staff_and_managers_record_what_was_paid_at_the_counter_never_more_than_due(salon):
    from apps.core import events as core_events
    from apps.payments.events import VenuePaymentRecorded
    from apps.payments.models import VenuePayment

    business, _branch, service, staff, other_staff, manager = salon
    booking = book(staff, service, at("15:00"), payment_policy="venue")
    page = f"/calendar/{business.slug}/bookings/{booking.pk}"
    url = f"{page}/venue-payments"
    seen: list[VenuePaymentRecorded] = []
    core_events.subscribe(VenuePaymentRecorded, seen.append)
    try:
        body = signed_in(staff.user).get(page).content.decode()
        assert 'data-testid="cal-venue-pay"' in body
        assert 'value="150.00"' in body  # what is due, ready to record
        # the staff member takes 50.00 cash
        answer = signed_in(staff.user).post(url, {"amount": "50", "method": "cash"}, follow=True)
        assert "Recorded 50 SAR paid at the venue." in answer.content.decode()
        # more than the 100.00 still due is refused with a message and nothing is written
        refused = signed_in(manager).post(url, {"amount": "100.01", "method": "terminal"}, follow=True)
        assert "more than what is still due" in refused.content.decode()
        # bad input is a message too
        for bad in ({"amount": "ten", "method": "cash"}, {"amount": "10", "method": "cheque"}, {"amount": "1.234"}):
            assert "Enter the amount paid" in signed_in(manager).post(url, bad, follow=True).content.decode()
        # the manager records the rest on the card terminal, in Arabic digits
        signed_in(manager, "ar").post(url, {"amount": "١٠٠٫٠٠", "method": "terminal"})
        assert [(v.amount, v.method, v.recorded_by_id) for v in VenuePayment.objects.order_by("pk")] == [
            (5000, "cash", staff.user.pk),
            (10000, "terminal", manager.pk),
        ]
        assert [e.amount for e in seen] == [5000, 10000]
        final = signed_in(manager).get(page).content.decode()
        assert 'data-testid="cal-venue-pay"' not in final  # nothing due
        assert re.search(r'data-testid="cal-due">0 SAR<', final)
        assert re.search(r'data-testid="cal-paid-venue">150 SAR<', final)
        # another staff member's booking, and another business's manager: 404, nothing written
        assert signed_in(other_staff.user).post(url, {"amount": "1", "method": "cash"}).status_code == 404
        stranger = UserFactory()
        Membership.objects.create(business=BusinessFactory(), user=stranger, role=Membership.Role.MANAGER)
        assert signed_in(stranger).post(url, {"amount": "1", "method": "cash"}).status_code == 404
        assert VenuePayment.objects.count() == 2
    finally:
        core_events.unsubscribe(VenuePaymentRecorded, seen.append)


def test_recording_the_counter_payment_of_an_unpaid_booking_confirms_it(salon):
    business, _branch, service, staff, *_rest, manager = salon
    unpaid = book(staff, service, at("15:00"), status=Booking.Status.PENDING_PAYMENT)
    signed_in(manager).post(
        f"/calendar/{business.slug}/bookings/{unpaid.pk}/venue-payments", {"amount": "150", "method": "terminal"}
    )
    unpaid.refresh_from_db()
    assert unpaid.status == Booking.Status.CONFIRMED
