"""Availability through the selectors: real rows, the real engine, a fixed `now`."""

from __future__ import annotations

from datetime import UTC, date, timedelta

import pytest

from apps.catalog import selectors
from apps.catalog.errors import InvalidDateRange, ServiceNotOffered
from apps.catalog.models import ScheduleException, Staff
from apps.catalog.tests.conftest import DAY, FRIDAY, NOW, at, give_hours, starts
from apps.catalog.tests.factories import ClosureFactory, ScheduleExceptionFactory, ServiceFactory, StaffFactory
from apps.core.errors import NotFound

MORNING = [f"{h:02d}:{m:02d}" for h in (9, 10, 11) for m in (0, 15, 30, 45)][:-1]  # 09:00 .. 11:30
AFTERNOON = [f"{h:02d}:{m:02d}" for h in (13, 14, 15, 16) for m in (0, 15, 30, 45)][:-1]  # 13:00 .. 16:30


def day_slots(staff, service, day: date = DAY, **kwargs):
    return selectors.slot_list_available(staff=staff, service=service, date_from=day, date_to=day, now=NOW, **kwargs)


def test_slots_fill_the_working_hours_on_the_step_and_never_straddle_the_lunch_break(staff, service):
    result = day_slots(staff, service)

    assert starts(result.slots) == MORNING + AFTERNOON
    assert result.timezone == "Asia/Riyadh"
    assert (result.date_from, result.date_to) == (DAY, DAY)
    first = result.slots[0]
    assert first.start == at("09:00")
    assert first.start.utcoffset() == timedelta(0)
    assert first.end - first.start == timedelta(minutes=30)


def test_time_off_for_part_of_a_day_removes_only_the_slots_touching_it(staff, service):
    ScheduleExceptionFactory(staff=staff, start=at("10:00"), end=at("11:00"), reason="Dentist")

    result = day_slots(staff, service)

    assert "09:30" in starts(result.slots)  # ends exactly when the time off starts
    assert not {"09:45", "10:00", "10:30", "10:45"} & set(starts(result.slots))
    assert "11:00" in starts(result.slots)


def test_whole_day_time_off_that_began_the_day_before_empties_the_day(staff, service):
    ScheduleExceptionFactory(
        staff=staff, start=at("18:00", DAY - timedelta(days=1)), end=at("00:00", DAY + timedelta(days=1))
    )

    assert day_slots(staff, service).slots == []
    assert starts(day_slots(staff, service, DAY + timedelta(days=1)).slots) == MORNING + AFTERNOON


def test_a_closure_empties_its_days_for_everyone(staff, service):
    other = StaffFactory(services=[service], hours=[])
    give_hours(other, ("09:00", "17:00"))
    ClosureFactory(name="Eid", start_date=DAY, end_date=DAY + timedelta(days=1))

    assert day_slots(staff, service).slots == []
    assert day_slots(other, service, DAY + timedelta(days=1)).slots == []
    assert day_slots(staff, service, DAY + timedelta(days=2)).slots != []
    assert selectors.slot_list_any_staff(service=service, date=DAY, now=NOW).slots == []


def test_extra_hours_open_a_normally_closed_day(staff, service):
    assert day_slots(staff, service, FRIDAY).slots == []
    ScheduleExceptionFactory(
        staff=staff, kind=ScheduleException.Kind.EXTRA_HOURS, start=at("16:00", FRIDAY), end=at("18:00", FRIDAY)
    )

    assert starts(day_slots(staff, service, FRIDAY).slots) == [
        "16:00",
        "16:15",
        "16:30",
        "16:45",
        "17:00",
        "17:15",
        "17:30",
    ]


def test_extra_hours_joining_the_weekly_hours_make_one_longer_shift(staff, service):
    ScheduleExceptionFactory(staff=staff, kind=ScheduleException.Kind.EXTRA_HOURS, start=at("12:00"), end=at("13:00"))

    assert "11:45" in starts(day_slots(staff, service).slots)  # across the lunch break that is now worked


def test_buffers_must_fit_inside_the_shift(staff, business):
    padded = ServiceFactory(duration_minutes=30, buffer_before_minutes=15, buffer_after_minutes=15)
    staff.services.add(padded)

    result = day_slots(staff, padded)

    assert starts(result.slots)[0] == "09:15"
    assert "11:15" in starts(result.slots)
    assert "11:30" not in starts(result.slots)


def test_busy_time_blocks_the_slots_overlapping_it_touching_is_fine(staff, service, busy):
    busy.add(staff, at("10:00"), at("10:30"))

    got = starts(day_slots(staff, service).slots)

    assert "09:30" in got
    assert "10:30" in got
    assert not {"09:45", "10:00", "10:15"} & set(got)


def test_minimum_notice_and_today(staff, service):
    now = at("08:00")  # on DAY itself; two hours of notice

    result = selectors.slot_list_available(staff=staff, service=service, date_from=None, date_to=None, now=now)

    assert (result.date_from, result.date_to) == (DAY, DAY)  # defaults: today, and date_to = date_from
    assert starts(result.slots)[0] == "10:00"


def test_a_range_beyond_the_booking_window_is_cut_to_it(staff, service):
    today = NOW.astimezone(at("00:00").tzinfo).date()

    result = selectors.slot_list_available(
        staff=staff, service=service, date_from=today - timedelta(days=30), date_to=today + timedelta(days=400), now=NOW
    )

    assert (result.date_from, result.date_to) == (today, today + timedelta(days=60))
    last_day = result.slots[-1].start.astimezone(at("00:00").tzinfo).date()
    assert last_day == today + timedelta(days=59)  # the 60th day ahead is a Friday, the staff member's day off


def test_a_range_wholly_outside_the_window_has_no_slots(staff, service):
    result = selectors.slot_list_available(
        staff=staff, service=service, date_from=date(2000, 1, 1), date_to=date(2000, 1, 31), now=NOW
    )

    assert (result.date_from, result.date_to, result.slots) == (None, None, [])


def test_a_reversed_range_is_refused(staff, service):
    with pytest.raises(InvalidDateRange):
        selectors.slot_list_available(staff=staff, service=service, date_from=DAY, date_to=DAY - timedelta(days=1))


def test_a_service_the_staff_member_does_not_offer_is_refused(staff, business):
    other = ServiceFactory()

    with pytest.raises(ServiceNotOffered):
        day_slots(staff, other)
    with pytest.raises(ServiceNotOffered):
        selectors.staff_service_get_active(staff_id=staff.pk, service_id=other.pk)
    assert selectors.slot_is_bookable(staff=staff, service=other, start=at("10:00"), now=NOW) is False


def test_unknown_or_inactive_staff_and_services_are_not_found(staff, service):
    inactive = ServiceFactory(is_active=False)
    staff.services.add(inactive)

    with pytest.raises(NotFound):
        selectors.staff_service_get_active(staff_id=staff.pk + 1000, service_id=service.pk)
    with pytest.raises(NotFound):
        selectors.staff_service_get_active(staff_id=staff.pk, service_id=inactive.pk)
    with pytest.raises(NotFound):
        selectors.service_get_active(inactive.pk)
    staff.is_active = False
    staff.save()
    with pytest.raises(NotFound):
        selectors.staff_get_active(staff.pk)
    with pytest.raises(NotFound):
        selectors.staff_service_get_active(staff_id=staff.pk, service_id=service.pk)


def test_a_day_answers_the_same_alone_or_inside_a_longer_range(staff, service, busy):
    ScheduleExceptionFactory(staff=staff, start=at("16:00"), end=at("10:00", DAY + timedelta(days=1)))
    busy.add(staff, at("09:00", DAY + timedelta(days=2)), at("09:45", DAY + timedelta(days=2)))
    week = selectors.slot_list_available(
        staff=staff, service=service, date_from=DAY, date_to=DAY + timedelta(days=6), now=NOW
    ).slots

    by_day = [s for i in range(7) for s in day_slots(staff, service, DAY + timedelta(days=i)).slots]

    assert week == by_day


def test_slot_is_bookable_agrees_with_the_listed_slots(staff, service, busy):
    ScheduleExceptionFactory(staff=staff, start=at("14:10"), end=at("14:50"))
    booking_id = busy.add(staff, at("10:00"), at("10:30"))
    listed = {s.start for s in day_slots(staff, service).slots}

    for minutes in range(0, 24 * 60, 5):
        start = at("00:00") + timedelta(minutes=minutes)
        assert selectors.slot_is_bookable(staff=staff, service=service, start=start, now=NOW) == (start in listed)
    # moving that booking: its own time does not count against it
    assert selectors.slot_is_bookable(staff=staff, service=service, start=at("10:00"), now=NOW) is False
    assert selectors.slot_is_bookable(
        staff=staff, service=service, start=at("10:00"), now=NOW, exclude_booking_id=booking_id
    )


def test_any_staff_lists_each_slot_with_who_is_free(staff, service, busy):
    other = StaffFactory(services=[service], hours=[])
    give_hours(other, ("11:00", "14:00"))
    busy.add(other, at("11:00"), at("11:30"))

    result = selectors.slot_list_any_staff(service=selectors.service_get_active(service.pk), date=DAY, now=NOW)

    free = {row.slot.start.astimezone(at("00:00").tzinfo).strftime("%H:%M"): row.staff_ids for row in result.slots}
    assert result.staff_ids == [staff.pk, other.pk]
    assert free["09:00"] == [staff.pk]
    assert free["11:00"] == [staff.pk]  # the other one is booked
    assert free["11:30"] == sorted([staff.pk, other.pk])
    assert free["12:00"] == [other.pk]  # lunch for the first
    assert free["13:00"] == sorted([staff.pk, other.pk])
    assert free["16:30"] == [staff.pk]


# --- query counts: fixed whatever the range, the number of bookings or of staff ----------------------------


def test_schedules_load_in_two_queries_whatever_the_bookings_or_the_range(
    staff, service, business, busy, django_assert_num_queries
):
    for kind in ScheduleException.Kind:
        ScheduleExceptionFactory(staff=staff, kind=kind, start=at("10:00"), end=at("11:00"))
    ClosureFactory(start_date=DAY + timedelta(days=20), end_date=DAY + timedelta(days=22))
    busy.add(staff, at("15:00"), at("15:30"))

    with django_assert_num_queries(2):  # weekly hours + exceptions + closures, then the busy source
        one = selectors.staff_schedules(staff_ids=[staff.pk], date_from=DAY, date_to=DAY, business=business)
    assert len(one[staff.pk].busy) == 1

    busy.add_many(staff, first=at("00:00"), count=499, every=timedelta(hours=2), length=timedelta(minutes=30))
    with django_assert_num_queries(2):
        many = selectors.staff_schedules(
            staff_ids=[staff.pk], date_from=DAY, date_to=DAY + timedelta(days=41), business=business
        )
    assert len(many[staff.pk].busy) == 500

    with django_assert_num_queries(2):
        long = selectors.staff_schedules(
            staff_ids=[staff.pk], date_from=DAY, date_to=DAY + timedelta(days=59), business=business
        )
    assert len(long[staff.pk].weekly) == 12
    assert len(long[staff.pk].closures) == 1


def test_availability_costs_two_queries_whatever_the_bookings_or_the_range(
    staff, service, business, busy, django_assert_num_queries
):
    loaded, svc = selectors.staff_service_get_active(staff_id=staff.pk, service_id=service.pk)
    busy.add(staff, at("15:00"), at("15:30"))
    # schedule rows, busy source (the business came with the service)
    with django_assert_num_queries(2):
        assert selectors.slot_list_available(staff=loaded, service=svc, date_from=DAY, date_to=DAY, now=NOW).slots

    busy.add_many(staff, first=at("00:00"), count=499, every=timedelta(hours=2), length=timedelta(minutes=30))
    with django_assert_num_queries(2):
        selectors.slot_list_available(
            staff=loaded, service=svc, date_from=DAY, date_to=DAY + timedelta(days=59), now=NOW
        )


def test_loading_staff_and_service_together_is_one_query(staff, service, django_assert_num_queries):
    with django_assert_num_queries(1):
        loaded, svc = selectors.staff_service_get_active(staff_id=staff.pk, service_id=service.pk)
        assert selectors.staff_offers_service(loaded, svc)


def test_staff_offers_service_asks_once_for_a_plainly_loaded_staff_member(staff, service, django_assert_num_queries):
    plain = Staff.objects.get(pk=staff.pk)
    other = ServiceFactory()

    with django_assert_num_queries(2):
        for _ in range(3):
            assert selectors.staff_offers_service(plain, service)
            assert not selectors.staff_offers_service(plain, other)
    with django_assert_num_queries(1):  # staff_get_active brings service_ids
        assert selectors.staff_offers_service(selectors.staff_get_active(staff.pk), service) is True


def test_any_staff_costs_the_same_for_one_or_fifty_staff(service, business, busy, django_assert_num_queries):
    def count_for_any_staff() -> int:
        svc = selectors.service_get_active(service.pk)
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as ctx:
            selectors.slot_list_any_staff(service=svc, date=DAY, now=NOW)
        return len(ctx.captured_queries)

    first = StaffFactory(services=[service], hours=[])
    give_hours(first, ("09:00", "17:00"))
    busy.add(first, at("10:00"), at("11:00"))
    assert count_for_any_staff() == 2  # schedule rows, busy source (the business came with the service)

    for _ in range(49):
        member = StaffFactory(services=[service], hours=[])
        give_hours(member, ("09:00", "17:00"))
        busy.add(member, at("10:00"), at("11:00"))
    assert count_for_any_staff() == 2


def test_schedules_are_in_utc(staff, business):
    ScheduleExceptionFactory(staff=staff, start=at("10:00"), end=at("11:00"))

    schedule = selectors.staff_schedules(staff_ids=[staff.pk], date_from=DAY, date_to=DAY, business=business)[staff.pk]

    assert schedule.time_off[0].start == at("10:00")
    assert schedule.time_off[0].start.tzinfo is UTC


def test_a_service_limited_to_a_branch_is_not_offered_by_staff_at_another(business, busy):
    """R56: the catalog's staff <-> service lists follow `Service.branches`, so "any staff" availability and the
    public lists never name someone who can't give the service where they work."""
    from apps.catalog.tests.factories import BranchFactory, main_branch

    olaya = main_branch(business)
    malqa = BranchFactory(business=business, name_en="Al Malqa")
    bridal = ServiceFactory(name_en="Bridal")
    bridal.branches.set([olaya])
    anywhere = ServiceFactory(name_en="Haircut")
    at_olaya = StaffFactory(branch=olaya, services=[bridal, anywhere], hours=[])
    at_malqa = StaffFactory(branch=malqa, services=[bridal, anywhere], hours=[])
    give_hours(at_olaya, ("09:00", "17:00"))
    give_hours(at_malqa, ("09:00", "17:00"))

    service = selectors.service_get_active(bridal.pk)
    assert service.staff_ids == [at_olaya.pk]
    assert selectors.service_get_active(anywhere.pk).staff_ids == [at_olaya.pk, at_malqa.pk]
    assert [s.pk for s in selectors.staff_list(service_id=bridal.pk)] == [at_olaya.pk]
    assert selectors.staff_get_active(at_malqa.pk).service_ids == [anywhere.pk]
    assert not selectors.staff_offers_service(Staff.objects.get(pk=at_malqa.pk), bridal)
    slots = selectors.slot_list_any_staff(service=service, date=DAY, now=NOW).slots
    assert slots
    assert {pk for slot in slots for pk in slot.staff_ids} == {at_olaya.pk}
