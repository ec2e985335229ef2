"""The admin as the managers' daily tool: today's bookings, phone search, status changes through the services
(recorded with the admin user as the actor), errors as messages, staff members limited to their own bookings,
time off that cannot land on a booking, and the admin (and the API's errors) in Arabic. The clock is pinned
(`now`); the day filters run at seven moments of a week."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.contrib.messages import get_messages
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from apps.accounts.models import User
from apps.accounts.tests.factories import UserFactory
from apps.bookings.models import Booking
from apps.bookings.tests.factories import BookingFactory
from apps.catalog.models import Membership, ScheduleException, Staff
from apps.catalog.tests.factories import MembershipFactory
from apps.core.testclock import around_the_week

pytestmark = pytest.mark.django_db

RIYADH = ZoneInfo("Asia/Riyadh")
LIST = "/admin/bookings/booking/"
NOW = datetime(2026, 12, 3, 10, 0, tzinfo=RIYADH)  # a Thursday morning
# The day filters are about the calendar: they run on each day of a week, each at another hour (around midnight
# in Riyadh and in UTC too).
AROUND_THE_WEEK = pytest.mark.parametrize(
    "now", around_the_week(NOW.date()), indirect=True, ids=lambda moment: f"{moment:%a-%H%M}"
)


@pytest.fixture(autouse=True)
def now(request, time_machine) -> datetime:
    """The module's clock (ticking): NOW, or the moment a test parametrizes `now` with."""
    moment = getattr(request, "param", NOW)
    time_machine.move_to(moment, tick=True)
    return moment


@pytest.fixture
def manager(business) -> User:
    """A manager by role: no superuser flag, no group."""
    user = UserFactory.create(role=User.Role.MANAGER, name="Manager", is_staff=True)
    MembershipFactory.create(business=business, user=user, role=Membership.Role.MANAGER)
    return user


@pytest.fixture
def manager_client(manager) -> Client:
    client = Client()
    client.force_login(manager)
    return client


@pytest.fixture
def staff_client(staff) -> Client:
    """The staff member, with admin access and the Staff group from `setup_roles`."""
    user = staff.user
    user.is_staff = True
    user.save()
    call_command("setup_roles", stdout=open("/dev/null", "w"))  # noqa: SIM115, PTH123
    client = Client()
    client.force_login(user)
    return client


def local(day: date, hhmm: str) -> datetime:
    hours, minutes = map(int, hhmm.split(":"))
    return datetime.combine(day, time(hours, minutes), tzinfo=RIYADH)


@pytest.fixture
def today(now) -> date:
    return now.astimezone(RIYADH).date()


@pytest.fixture
def ahead(today) -> Callable[[str], datetime]:
    """`ahead("10:00")`: that time three days from now (inside the booking window, past minimum notice)."""
    return lambda hhmm: local(today + timedelta(days=3), hhmm)


def listed(response) -> list[int]:
    assert response.status_code == 200
    return [b.pk for b in response.context["cl"].result_list]


def message_texts(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def act(client: Client, action: str, *bookings: Booking):
    return client.post(LIST, {"action": action, "_selected_action": [b.pk for b in bookings]}, follow=True)


# --- finding bookings ---------------------------------------------------------------------------------------


@AROUND_THE_WEEK
def test_the_when_filter_shows_the_bookings_of_the_business_day(manager_client, staff, service, today):
    yesterday = BookingFactory(staff=staff, service=service, start=local(today - timedelta(days=1), "12:00"))
    early = BookingFactory(staff=staff, service=service, start=local(today, "00:30"))
    late = BookingFactory(staff=staff, service=service, start=local(today, "23:00"))
    tomorrow = BookingFactory(staff=staff, service=service, start=local(today + timedelta(days=1), "00:00"))

    assert listed(manager_client.get(LIST, {"when": "today"})) == [early.pk, late.pk]  # first appointment first
    assert listed(manager_client.get(LIST, {"when": "tomorrow"})) == [tomorrow.pk]
    assert yesterday.pk in listed(manager_client.get(LIST, {"when": "past"}))
    assert tomorrow.pk not in listed(manager_client.get(LIST, {"when": "past"}))
    assert set(listed(manager_client.get(LIST))) == {yesterday.pk, early.pk, late.pk, tomorrow.pk}


@AROUND_THE_WEEK
def test_the_when_filter_uses_the_business_time_zone(manager_client, business, staff, service):
    business.timezone = "Pacific/Honolulu"  # 13 hours behind the server's Asia/Riyadh
    business.save()
    honolulu = ZoneInfo("Pacific/Honolulu")
    day = timezone.now().astimezone(honolulu).date()
    evening = BookingFactory(staff=staff, service=service, start=datetime.combine(day, time(22), tzinfo=honolulu))
    next_morning = BookingFactory(
        staff=staff, service=service, start=datetime.combine(day + timedelta(days=1), time(8), tzinfo=honolulu)
    )

    assert listed(manager_client.get(LIST, {"when": "today"})) == [evening.pk]
    assert listed(manager_client.get(LIST, {"when": "tomorrow"})) == [next_morning.pk]


@AROUND_THE_WEEK
def test_the_week_and_next_7_days_filters(manager_client, staff, service, today):
    soon = BookingFactory(staff=staff, service=service, start=timezone.now() + timedelta(days=2))
    far = BookingFactory(staff=staff, service=service, start=timezone.now() + timedelta(days=9))
    sunday = today - timedelta(days=(today.weekday() + 1) % 7)
    in_week = BookingFactory(staff=staff, service=service, start=local(sunday, "00:10"))

    assert listed(manager_client.get(LIST, {"when": "next7"})) == [soon.pk]
    week = listed(manager_client.get(LIST, {"when": "week"}))
    assert in_week.pk in week
    assert far.pk not in week


def test_filters_by_staff_and_status_together(manager_client, staff, other_staff, service, ahead):
    mine = BookingFactory(staff=staff, service=service, start=ahead("10:00"))
    BookingFactory(staff=other_staff, service=service, start=ahead("10:00"))
    BookingFactory(staff=staff, service=service, start=ahead("12:00"), status=Booking.Status.CANCELLED)

    response = manager_client.get(LIST, {"staff__id__exact": staff.pk, "status__exact": "confirmed"})

    assert listed(response) == [mine.pk]


@pytest.mark.parametrize("typed", ["0501234567", "+966 50 123 4567", "966501234567", "00966501234567", "050123"])
def test_search_finds_a_customer_phone_however_it_is_typed(manager_client, staff, service, ahead, typed):
    customer = UserFactory(phone="+966501234567", name="Abdullah")
    found = BookingFactory(customer=customer, staff=staff, service=service, start=ahead("10:00"))
    BookingFactory(customer=UserFactory(phone="+966559876543"), staff=staff, service=service, start=ahead("11:00"))

    assert listed(manager_client.get(LIST, {"q": typed})) == [found.pk]


def test_search_by_name_or_number_still_works(manager_client, staff, service, ahead):
    found = BookingFactory(customer=UserFactory(name="Abdullah"), staff=staff, service=service, start=ahead("10:00"))
    other = BookingFactory(staff=staff, service=service, start=ahead("11:00"))

    assert listed(manager_client.get(LIST, {"q": "abdullah"})) == [found.pk]
    assert listed(manager_client.get(LIST, {"q": str(other.pk)})) == [other.pk]


def test_the_booking_page_shows_its_history_and_its_actions(manager_client, staff, service, ahead):
    # (the notifications inline on this page is tested in apps/notifications/tests/test_admin_and_tools.py)
    from apps.bookings.services import booking_confirm, booking_create

    customer = UserFactory(name="Layla")
    booking = booking_create(customer=customer, staff_id=staff.pk, service=service, start=ahead("10:00"))
    booking_confirm(booking_id=booking.pk, reason="paid")

    page = manager_client.get(f"{LIST}{booking.pk}/change/")

    assert page.status_code == 200
    body = page.content.decode()
    assert "history-TOTAL_FORMS" in body
    assert "/reschedule/" in body
    assert "/cancel/" in body


# --- changing bookings through the services -----------------------------------------------------------------


def test_actions_complete_and_no_show_record_the_manager(manager_client, manager, staff, service, today):
    came = BookingFactory(staff=staff, service=service, start=local(today - timedelta(days=1), "10:00"))
    missed = BookingFactory(staff=staff, service=service, start=local(today - timedelta(days=1), "11:00"))

    done = act(manager_client, "complete_bookings", came)
    act(manager_client, "no_show_bookings", missed)

    came.refresh_from_db()
    missed.refresh_from_db()
    assert (came.status, missed.status) == ("completed", "no_show")
    assert came.history.get().actor == manager
    assert missed.history.get().actor == manager
    assert "1 booking marked completed." in message_texts(done)


def test_the_cancel_action_goes_through_the_service(manager_client, manager, staff, service, ahead):
    booking = BookingFactory(staff=staff, service=service, start=ahead("10:00"))

    act(manager_client, "cancel_bookings", booking)

    booking.refresh_from_db()
    entry = booking.history.get()
    assert booking.status == "cancelled"
    assert (entry.actor, entry.from_status, entry.to_status) == (manager, "confirmed", "cancelled")


def test_cancel_with_a_reason_asks_for_it_then_cancels(manager_client, manager, staff, service, ahead):
    booking = BookingFactory(staff=staff, service=service, start=ahead("10:00"))

    form = act(manager_client, "cancel_with_reason", booking)
    empty = manager_client.post(
        LIST, {"action": "cancel_with_reason", "_selected_action": [booking.pk], "apply": "1", "reason": ""}
    )
    done = manager_client.post(
        LIST,
        {"action": "cancel_with_reason", "_selected_action": [booking.pk], "apply": "1", "reason": "Barber is ill"},
        follow=True,
    )

    assert form.status_code == 200
    assert 'name="reason"' in form.content.decode()
    assert empty.status_code == 200  # the form again, nothing cancelled
    booking.refresh_from_db()
    assert booking.status == "cancelled"
    assert booking.cancel_reason == "Barber is ill"
    assert booking.history.get().actor == manager
    assert "1 booking cancelled." in message_texts(done)


def test_the_cancel_page_of_one_booking(manager_client, manager, staff, service, ahead):
    booking = BookingFactory(staff=staff, service=service, start=ahead("10:00"))

    page = manager_client.get(f"{LIST}{booking.pk}/cancel/")
    done = manager_client.post(f"{LIST}{booking.pk}/cancel/", {"reason": "Closed for a family event"})

    assert page.status_code == 200
    assert done.status_code == 302
    assert done["Location"].endswith(f"{LIST}{booking.pk}/change/")
    booking.refresh_from_db()
    assert (booking.status, booking.cancel_reason) == ("cancelled", "Closed for a family event")


def test_reschedule_asks_for_a_local_date_and_time_and_moves_the_booking(
    manager_client, manager, staff, service, ahead
):
    booking = BookingFactory(staff=staff, service=service, start=ahead("10:00"))

    start = act(manager_client, "reschedule_booking", booking)
    form = start.content.decode()
    new = ahead("14:30")
    moved = manager_client.post(
        f"{LIST}{booking.pk}/reschedule/",
        {"date": new.date().isoformat(), "time": "14:30", "reason": "customer called"},
    )

    assert start.redirect_chain[-1][0].endswith(f"{LIST}{booking.pk}/reschedule/")
    assert 'name="date"' in form
    assert 'value="10:00"' in form
    assert moved.status_code == 302
    booking.refresh_from_db()
    entry = booking.history.get()
    assert (booking.start, booking.end) == (new, new + timedelta(minutes=30))
    assert booking.busy_start == new
    assert booking.busy_end == new + service.duration + service.buffer_after
    assert (entry.actor, entry.reason, entry.old_start) == (manager, "customer called", ahead("10:00"))


def test_reschedule_into_a_taken_time_shows_the_error_on_the_form(manager_client, staff, service, ahead):
    booking = BookingFactory(staff=staff, service=service, start=ahead("10:00"))
    BookingFactory(staff=staff, service=service, start=ahead("14:30"))

    response = manager_client.post(
        f"{LIST}{booking.pk}/reschedule/", {"date": ahead("14:30").date().isoformat(), "time": "14:30"}
    )

    assert response.status_code == 200
    assert "no longer available" in response.content.decode()
    booking.refresh_from_db()
    assert booking.start == ahead("10:00")


def test_reschedule_needs_exactly_one_booking(manager_client, staff, service, ahead):
    a = BookingFactory(staff=staff, service=service, start=ahead("10:00"))
    b = BookingFactory(staff=staff, service=service, start=ahead("11:00"))

    response = act(manager_client, "reschedule_booking", a, b)

    assert response.status_code == 200
    assert any("exactly one" in text for text in message_texts(response))


def test_an_illegal_action_is_an_error_message_not_a_500(manager_client, staff, service, ahead, today):
    future = BookingFactory(staff=staff, service=service, start=ahead("10:00"))
    finished = BookingFactory(
        staff=staff, service=service, start=local(today - timedelta(days=2), "10:00"), status="completed"
    )

    early = act(manager_client, "complete_bookings", future)
    again = act(manager_client, "cancel_bookings", finished)
    moved = manager_client.post(
        f"{LIST}{finished.pk}/reschedule/", {"date": ahead("12:00").date().isoformat(), "time": "12:00"}
    )

    assert early.status_code == again.status_code == moved.status_code == 200
    assert any(f"#{future.pk}: This booking has not started yet." == t for t in message_texts(early))
    assert any(f"#{finished.pk}:" in t for t in message_texts(again))
    assert "cannot be changed this way" in moved.content.decode()
    future.refresh_from_db()
    finished.refresh_from_db()
    assert (future.status, finished.status) == ("confirmed", "completed")
    assert not future.history.exists()
    assert not finished.history.exists()


# --- staff members see their own bookings only --------------------------------------------------------------


def test_a_staff_member_sees_only_their_bookings(staff_client, staff, other_staff, service, ahead):
    mine = BookingFactory(staff=staff, service=service, start=ahead("10:00"))
    theirs = BookingFactory(staff=other_staff, service=service, start=ahead("10:00"))

    listing = staff_client.get(LIST)
    sneaky = staff_client.get(LIST, {"staff__id__exact": other_staff.pk})
    own_page = staff_client.get(f"{LIST}{mine.pk}/change/")
    other_page = staff_client.get(f"{LIST}{theirs.pk}/change/")
    other_move = staff_client.get(f"{LIST}{theirs.pk}/reschedule/")

    assert listed(listing) == [mine.pk]
    assert sneaky.status_code == 200
    assert list(sneaky.context["cl"].result_list) == []
    assert own_page.status_code == 200
    assert 'name="notes"' not in own_page.content.decode()  # read-only
    assert other_page.status_code == 302
    assert other_page["Location"] == "/admin/"
    assert other_move.status_code == 404


def test_a_staff_member_cannot_delete_confirm_or_act_on_others(staff_client, staff, other_staff, service, today):
    past = local(today - timedelta(days=1), "10:00")
    mine = BookingFactory(staff=staff, service=service, start=past)
    theirs = BookingFactory(staff=other_staff, service=service, start=past)

    actions = [name for name, _ in staff_client.get(LIST).context["action_form"].fields["action"].choices if name]
    delete = staff_client.post(f"{LIST}{mine.pk}/delete/", {"post": "yes"})
    edit = staff_client.post(f"{LIST}{mine.pk}/change/", {"notes": "changed"})
    act(staff_client, "complete_bookings", mine, theirs)

    assert "delete_selected" not in actions
    assert "confirm_bookings" not in actions
    assert "complete_bookings" in actions
    assert "reschedule_booking" in actions
    assert delete.status_code == 403
    assert edit.status_code == 403
    mine.refresh_from_db()
    theirs.refresh_from_db()
    assert (mine.status, theirs.status) == ("completed", "confirmed")  # the other one is not even in the queryset
    assert mine.history.get().actor == staff.user


def test_a_staff_member_sees_their_own_schedule_only(staff_client, staff, other_staff):
    own = staff_client.get(f"/admin/catalog/staff/{staff.pk}/change/")
    other = staff_client.get(f"/admin/catalog/staff/{other_staff.pk}/change/")
    listing = staff_client.get("/admin/catalog/staff/")
    users = staff_client.get("/admin/accounts/user/")

    assert own.status_code == 200
    assert "working_hours-TOTAL_FORMS" in own.content.decode()
    assert other.status_code == 302
    assert [s.pk for s in listing.context["cl"].result_list] == [staff.pk]
    assert users.status_code == 403  # customers' phone numbers are not theirs to browse


def test_a_manager_cannot_hand_out_superuser_rights_or_edit_a_superuser(manager_client, business, staff):
    boss = User.objects.create_superuser(phone="+966500000099", password="pw-for-tests")

    page = manager_client.get(f"/admin/accounts/user/{boss.pk}/change/")
    post = manager_client.post(f"/admin/accounts/user/{boss.pk}/change/", {"phone": "+966500000098"})
    new_user = manager_client.get("/admin/accounts/user/add/")
    member = manager_client.get(f"/admin/accounts/user/{staff.user_id}/change/")
    member_post = manager_client.post(
        f"/admin/accounts/user/{staff.user_id}/change/", {"phone": "+966500000098", "is_superuser": "on"}
    )

    assert page.status_code == 302  # not one of the business's people: not there at all
    assert post.status_code == 403
    boss.refresh_from_db()
    assert str(boss.phone) == "+966500000099"
    assert new_user.status_code == 403  # people join as members (the membership admin), one account everywhere
    assert member.status_code == 200  # a member of the business: shown, read-only
    assert 'name="phone"' not in member.content.decode()
    assert 'name="is_superuser"' not in member.content.decode()
    assert member_post.status_code == 403
    staff.user.refresh_from_db()
    assert not staff.user.is_superuser


# --- time off cannot land on a booking ----------------------------------------------------------------------


def _staff_form(staff: Staff, exception: dict[str, str]) -> dict[str, object]:
    return {
        "user": staff.user_id,
        "branch": staff.branch_id,
        "display_name": staff.display_name,
        "bio": "",
        "photo_url": "",
        "services": [s.pk for s in staff.services.all()],
        "is_active": "on",
        "display_order": 0,
        "working_hours-TOTAL_FORMS": 0,
        "working_hours-INITIAL_FORMS": 0,
        "exceptions-TOTAL_FORMS": 1,
        "exceptions-INITIAL_FORMS": 0,
        **{f"exceptions-0-{k}": v for k, v in exception.items()},
    }


def test_time_off_over_a_booking_is_refused_with_a_form_error(manager_client, staff, service, ahead):
    BookingFactory(staff=staff, service=service, start=ahead("10:00"))
    day = ahead("10:00").date().isoformat()

    inline = manager_client.post(
        f"/admin/catalog/staff/{staff.pk}/change/",
        _staff_form(
            staff,
            {"kind": "time_off", "start_0": day, "start_1": "09:00", "end_0": day, "end_1": "12:00", "reason": ""},
        ),
    )
    alone = manager_client.post(
        "/admin/catalog/scheduleexception/add/",
        {"staff": staff.pk, "kind": "time_off", "start_0": day, "start_1": "10:15", "end_0": day, "end_1": "10:20"},
    )

    assert inline.status_code == 200
    assert alone.status_code == 200
    assert "Bookings fall in this time" in inline.content.decode()
    assert "Bookings fall in this time" in alone.content.decode()
    assert not ScheduleException.objects.exists()


def test_time_off_clear_of_bookings_is_saved_and_extra_hours_are_never_refused(manager_client, staff, service, ahead):
    BookingFactory(staff=staff, service=service, start=ahead("10:00"))
    day = ahead("10:00").date().isoformat()

    off = manager_client.post(
        f"/admin/catalog/staff/{staff.pk}/change/",
        _staff_form(
            staff,
            {"kind": "time_off", "start_0": day, "start_1": "13:00", "end_0": day, "end_1": "15:00", "reason": "x"},
        ),
    )
    extra = manager_client.post(
        "/admin/catalog/scheduleexception/add/",
        {"staff": staff.pk, "kind": "extra_hours", "start_0": day, "start_1": "09:00", "end_0": day, "end_1": "11:00"},
    )

    assert off.status_code == 302, off.content.decode()[:2000]
    assert extra.status_code == 302
    time_off = ScheduleException.objects.get(kind="time_off")
    assert time_off.start == ahead("13:00")
    assert time_off.reason == "x"
    assert ScheduleException.objects.filter(kind="extra_hours").exists()


# --- Arabic -------------------------------------------------------------------------------------------------


def test_the_admin_speaks_arabic_right_to_left(manager_client):
    by_header = manager_client.get("/admin/", HTTP_ACCEPT_LANGUAGE="ar")
    manager_client.cookies[settings.LANGUAGE_COOKIE_NAME] = "ar"
    by_cookie = manager_client.get(LIST)

    for response in (by_header, by_cookie):
        body = response.content.decode()
        assert response.status_code == 200
        assert 'dir="rtl"' in body
        assert 'lang="ar"' in body
        assert "الحجوزات" in body  # the bookings model
        assert "إدارة موعد" in body  # our site header
    assert "اليوم" in by_cookie.content.decode()  # the "When" filter


def test_the_language_switch_sets_the_cookie(manager_client):
    page = manager_client.get("/admin/")
    switched = manager_client.post("/i18n/setlang/", {"language": "ar", "next": "/admin/"})

    assert 'action="/i18n/setlang/"' in page.content.decode()
    assert switched.status_code == 302
    assert manager_client.cookies[settings.LANGUAGE_COOKIE_NAME].value == "ar"
    assert 'dir="rtl"' in manager_client.get("/admin/").content.decode()


def test_api_errors_come_in_arabic(auth_client, staff, service, ahead):
    customer = UserFactory(name="Customer")
    client = auth_client(customer)

    missing = client.get("/api/v1/bookings/999999", HTTP_ACCEPT_LANGUAGE="ar")
    taken = BookingFactory(staff=staff, service=service, start=ahead("10:00"))
    clash = client.post(
        "/api/v1/bookings",
        {"staff": staff.pk, "service": service.pk, "start": taken.start.isoformat()},
        format="json",
        HTTP_ACCEPT_LANGUAGE="ar",
    )
    english = client.get("/api/v1/bookings/999999", HTTP_ACCEPT_LANGUAGE="en")

    assert missing.status_code == 404
    assert missing.json()["error"]["message"] == "غير موجود."
    assert clash.status_code == 409, clash.json()
    assert clash.json()["error"]["code"] == "slot_unavailable"
    assert clash.json()["error"]["message"] == "هذا الموعد لم يعد متاحًا. يُرجى اختيار موعد آخر."
    assert english.json()["error"]["message"] == "Not found."
