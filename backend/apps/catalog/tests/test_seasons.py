"""Seasonal hours: a season's weekly hours replace the usual ones on its dates only (engine, loader, slots API),
its writes and their validation, "Ramadan hours" in one tap (Umm al-Qura), and the Saudi week (new staff off on
Friday and Saturday; Sunday first in the admin's date pickers)."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, time, timedelta

import pytest
import time_machine
from django.utils import translation
from django.utils.formats import get_format

from apps.catalog import seasons
from apps.catalog.availability import (
    SeasonalWeek,
    StaffSchedule,
    WeeklyHours,
    working_intervals,
)
from apps.catalog.models import Closure, Membership, ScheduleException, Season, SeasonalHours, WorkingHours
from apps.catalog.selectors import (
    slot_is_bookable,
    slot_list_any_staff_range,
    slot_list_available,
    staff_schedules,
)
from apps.catalog.services import working_hours_default
from apps.catalog.tests.conftest import NOW, RIYADH, at, starts
from apps.catalog.tests.factories import BranchFactory, BusinessFactory, MembershipFactory, StaffFactory
from apps.core.errors import ValidationFailed

pytestmark = pytest.mark.django_db

TODAY = NOW.date()  # Monday 30 November 2026, 08:00 in Riyadh
EVENING = [seasons.SeasonSpan(day, time(20), time(23)) for day in range(7)]


@pytest.fixture(autouse=True)
def _pinned():
    with time_machine.travel(NOW, tick=False):
        yield


def _season(business, first: date, last: date, spans=EVENING, **kw) -> Season:
    return seasons.season_save(
        business=business, fields={"name_en": "Season", "start_date": first, "end_date": last}, hours=spans, **kw
    )


def _by_day(slots) -> dict[date, list[str]]:
    out: dict[date, list[str]] = defaultdict(list)
    for slot in slots:
        local = slot.start.astimezone(RIYADH)
        out[local.date()].append(local.strftime("%H:%M"))
    return out


# --- the engine -----------------------------------------------------------------------------------------------


def test_the_engine_uses_a_seasons_hours_on_its_dates_only():
    monday = TODAY
    first, last = monday + timedelta(days=1), monday + timedelta(days=3)  # Tuesday .. Thursday
    usual = tuple(WeeklyHours(d, time(9), time(17)) for d in range(7))
    seasonal = tuple(WeeklyHours(d, time(20), time(23)) for d in range(7) if d != 2)  # Wednesday off
    schedule = StaffSchedule(weekly=usual, seasons=(SeasonalWeek(first, last, seasonal),))

    got = {
        i: [(w.start.astimezone(RIYADH).strftime("%H:%M"), w.end.astimezone(RIYADH).strftime("%H:%M")) for w in ws]
        for i in range(5)
        for ws in [working_intervals(schedule, monday + timedelta(days=i), monday + timedelta(days=i), RIYADH)]
    }
    assert got[0] == [("09:00", "17:00")]  # the day before: usual hours
    assert got[1] == [("20:00", "23:00")]  # the first day: the season's
    assert got[2] == []  # a weekday the season leaves without hours is a day off
    assert got[3] == [("20:00", "23:00")]  # the last day, included
    assert got[4] == [("09:00", "17:00")]  # the day after: usual again
    # a range at once gives the same as day by day
    whole = working_intervals(schedule, monday, monday + timedelta(days=4), RIYADH)
    assert len(whole) == 4


def test_a_season_must_not_end_before_it_starts():
    with pytest.raises(ValueError):
        SeasonalWeek(date(2027, 1, 2), date(2027, 1, 1), ())


# --- availability through the loader ---------------------------------------------------------------------------


def test_slots_across_the_start_and_the_end_of_a_season(business, staff, service):
    first, last = TODAY + timedelta(days=8), TODAY + timedelta(days=9)  # Tuesday 8, Wednesday 9 December
    _season(business, first, last)
    result = slot_list_available(
        staff=staff, service=service, date_from=first - timedelta(days=1), date_to=last + timedelta(days=1)
    )
    days = _by_day(result.slots)
    assert days[first - timedelta(days=1)][:3] == ["09:00", "09:15", "09:30"]  # Monday before: Sara's usual
    assert days[first - timedelta(days=1)][-1] == "16:30"
    assert days[first] == [f"{h}:{m:02d}" for h in (20, 21, 22) for m in (0, 15, 30, 45)][:-1]  # 20:00 .. 22:30
    assert days[last] == days[first]  # the last day is in the season
    assert days[last + timedelta(days=1)][:3] == ["09:00", "09:15", "09:30"]  # Thursday after: usual again
    assert "20:00" not in days[last + timedelta(days=1)]


def test_any_staff_free_times_follow_the_season(business, staff, other_staff, service):
    """The website's date strip and free times (`slot_list_any_staff_range`) read through the same loader."""
    first = TODAY + timedelta(days=8)
    _season(business, first, first)
    rows = slot_list_any_staff_range(service=service, date_from=first - timedelta(days=1), date_to=first)
    by_day: dict[date, list[str]] = defaultdict(list)
    for row in rows:
        local = row.slot.start.astimezone(RIYADH)
        by_day[local.date()].append(local.strftime("%H:%M"))
        if local.date() == first:
            assert row.staff_ids == sorted([staff.pk, other_staff.pk])
    assert by_day[first - timedelta(days=1)][0] == "09:00"
    assert by_day[first][0] == "20:00"
    assert by_day[first][-1] == "22:30"


def test_time_off_closures_and_busy_time_still_apply_inside_a_season(business, staff, service, busy):
    day = TODAY + timedelta(days=8)
    _season(business, day, day + timedelta(days=2))
    ScheduleException.objects.create(staff=staff, start=at("20:00", day), end=at("21:00", day))
    busy.add(staff, at("22:00", day), at("22:30", day))
    Closure.objects.create(
        business=business, name="Closed", start_date=day + timedelta(days=1), end_date=day + timedelta(days=1)
    )
    days = _by_day(
        slot_list_available(staff=staff, service=service, date_from=day, date_to=day + timedelta(days=1)).slots
    )
    assert days[day] == ["21:00", "21:15", "21:30", "22:30"]
    assert days[day + timedelta(days=1)] == []


def test_a_branch_season_is_only_for_that_branchs_staff(business, staff, service):
    other_branch = BranchFactory.create(business=business)
    day = TODAY + timedelta(days=8)
    _season(business, day, day, branch=other_branch)
    listed = starts(slot_list_available(staff=staff, service=service, date_from=day, date_to=day).slots)
    assert listed[0] == "09:00"  # Sara's branch has no season


def test_seasons_cost_no_extra_query(business, staff, other_staff, service, busy, django_assert_num_queries):
    _season(business, TODAY + timedelta(days=3), TODAY + timedelta(days=5))
    _season(business, TODAY + timedelta(days=10), TODAY + timedelta(days=12))
    with django_assert_num_queries(2):  # weekly hours, exceptions, closures and seasons; then the busy time
        schedules = staff_schedules(
            staff_ids=[staff.pk, other_staff.pk],
            date_from=TODAY,
            date_to=TODAY + timedelta(days=30),
            business=business,
            service=service,
        )
    assert len(schedules[staff.pk].seasons) == 2
    assert schedules[staff.pk].seasons[0].weekly


def test_booking_checks_follow_the_season(business, staff, service):
    """`slot_is_bookable` is what the booking service asks (first and again under the staff lock)."""
    day = TODAY + timedelta(days=8)
    _season(business, day, day)
    assert not slot_is_bookable(staff=staff, service=service, start=at("10:00", day))  # usual time, in season
    assert slot_is_bookable(staff=staff, service=service, start=at("21:00", day))
    after = day + timedelta(days=1)
    assert slot_is_bookable(staff=staff, service=service, start=at("10:00", after))
    assert not slot_is_bookable(staff=staff, service=service, start=at("21:00", after))  # seasonal time, after


# --- writes and their validation ----------------------------------------------------------------------------


def test_general_spans_are_everyones_and_own_spans_replace_them(business, staff, other_staff, service):
    day = TODAY + timedelta(days=8)  # a Tuesday
    season = _season(
        business,
        day,
        day,
        spans=[
            seasons.SeasonSpan(day.weekday(), time(20), time(23)),
            seasons.SeasonSpan(day.weekday(), time(13), time(16), staff_id=other_staff.pk),
        ],
    )
    rows = sorted(SeasonalHours.objects.filter(season=season).values_list("staff_id", "start_time"), key=str)
    assert rows == sorted([(None, time(20)), (other_staff.pk, time(13))], key=str)  # one general row, one own
    schedules = staff_schedules(staff_ids=[staff.pk, other_staff.pk], date_from=day, date_to=day, business=business)
    assert schedules[staff.pk].seasons[0].weekly == (WeeklyHours(day.weekday(), time(20), time(23)),)
    assert schedules[other_staff.pk].seasons[0].weekly == (WeeklyHours(day.weekday(), time(13), time(16)),)


def test_staff_added_during_a_season_work_its_general_hours(business, branch, service):
    day = TODAY + timedelta(days=8)
    _season(business, day, day + timedelta(days=3))
    newcomer = StaffFactory.create(services=[service], hours=[(time(9), time(17))])  # added after the season
    listed = starts(slot_list_available(staff=newcomer, service=service, date_from=day, date_to=day).slots)
    assert listed[0] == "20:00"
    assert "09:00" not in listed


@pytest.mark.parametrize(
    ("first", "last", "field"),
    [
        (TODAY - timedelta(days=1), TODAY + timedelta(days=3), "start_date"),  # starts in the past
        (TODAY + timedelta(days=5), TODAY + timedelta(days=4), "end_date"),  # ends before it starts
        (TODAY, TODAY + timedelta(days=366), "end_date"),  # longer than a year
    ],
)
def test_bad_dates_are_refused(business, staff, first, last, field):
    with pytest.raises(ValidationFailed) as caught:
        _season(business, first, last)
    assert field in caught.value.fields
    assert not Season.objects.exists()


def test_bad_hours_are_refused_and_nothing_is_written(business, staff):
    day = TODAY + timedelta(days=8)
    for spans in (
        [seasons.SeasonSpan(0, time(20), time(19))],
        [seasons.SeasonSpan(0, time(13), time(16)), seasons.SeasonSpan(0, time(15), time(18))],
    ):
        with pytest.raises(ValidationFailed):
            _season(business, day, day, spans=spans)
    assert not Season.objects.exists()
    assert not SeasonalHours.objects.exists()


def test_overlapping_seasons_are_refused(business, staff):
    branch_a, branch_b = staff.branch, BranchFactory.create(business=business)
    start = TODAY + timedelta(days=8)
    _season(business, start, start + timedelta(days=5), branch=branch_a)
    with pytest.raises(seasons.SeasonOverlaps):  # the whole business shares staff with the branch
        _season(business, start + timedelta(days=5), start + timedelta(days=7))
    with pytest.raises(seasons.SeasonOverlaps):  # the same branch
        _season(business, start - timedelta(days=2), start, branch=branch_a)
    _season(business, start, start + timedelta(days=5), branch=branch_b)  # another branch: other staff
    _season(business, start + timedelta(days=6), start + timedelta(days=7))  # the next day: no overlap
    assert Season.objects.count() == 3


# --- the manager API ---------------------------------------------------------------------------------------


@pytest.fixture
def owner(business):
    return MembershipFactory.create(business=business, role=Membership.Role.OWNER).user


@pytest.fixture
def api(owner, auth_client):
    return auth_client(owner)


def _url(business, sub: str = "") -> str:
    return f"/api/v1/manage/businesses/{business.slug}/seasons{sub}"


def test_create_list_change_and_delete_a_season(api, business, staff):
    first = TODAY + timedelta(days=8)
    body = {
        "name_en": "Summer",
        "name_ar": "الصيف",
        "start_date": str(first),
        "end_date": str(first + timedelta(days=30)),
        "hours": [{"weekday": 6, "start_time": "16:00", "end_time": "23:00"}],
    }
    created = api.post(_url(business), body, format="json")
    assert created.status_code == 201, created.json()
    season = created.json()
    assert season["hours"] == [{"staff": None, "weekday": 6, "start_time": "16:00:00", "end_time": "23:00:00"}]
    assert [s["id"] for s in api.get(_url(business)).json()["results"]] == [season["id"]]

    overlapping = api.post(_url(business), {**body, "start_date": str(first + timedelta(days=30))}, format="json")
    assert overlapping.status_code == 400
    assert overlapping.json()["error"]["code"] == "season_overlaps"

    changed = api.patch(_url(business, f"/{season['id']}"), {"end_date": str(first + timedelta(days=3))}, format="json")
    assert changed.status_code == 200, changed.json()
    assert changed.json()["end_date"] == str(first + timedelta(days=3))
    assert len(changed.json()["hours"]) == 1  # hours kept when not sent

    past = api.post(_url(business), {**body, "start_date": str(TODAY - timedelta(days=1))}, format="json")
    assert past.status_code == 400
    assert "start_date" in past.json()["error"]["fields"]
    no_hours = api.post(_url(business), {k: v for k, v in body.items() if k != "hours"}, format="json")
    assert no_hours.status_code == 400
    assert "hours" in no_hours.json()["error"]["fields"]

    assert api.delete(_url(business, f"/{season['id']}")).status_code == 204
    assert not Season.objects.exists()
    assert not SeasonalHours.objects.exists()


def test_another_business_manager_gets_404(business, staff, auth_client):
    day = TODAY + timedelta(days=8)
    season = _season(business, day, day)
    other = BusinessFactory.create(slug="other")
    stranger = auth_client(MembershipFactory.create(business=other, role=Membership.Role.OWNER).user)
    assert stranger.get(_url(business)).status_code == 404
    assert stranger.get(_url(business, f"/{season.pk}")).status_code == 404
    assert stranger.get(_url(other, f"/{season.pk}")).status_code == 404  # their own address, our id
    assert stranger.delete(_url(other, f"/{season.pk}")).status_code == 404
    assert stranger.get(_url(business, "/ramadan-proposal")).status_code == 404
    assert stranger.post(_url(business, "/ramadan"), {}, format="json").status_code == 404
    assert Season.objects.filter(pk=season.pk).exists()


# --- Ramadan hours in one tap -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("today", "year", "first", "last"),
    [
        (date(2026, 12, 4), 1448, date(2027, 2, 8), date(2027, 3, 8)),  # before Ramadan 1448
        (date(2027, 6, 15), 1449, date(2028, 1, 28), date(2028, 2, 25)),  # after it: the next one
        (date(2027, 2, 20), 1448, date(2027, 2, 20), date(2027, 3, 8)),  # in progress: from today
        (date(2027, 3, 8), 1448, date(2027, 3, 8), date(2027, 3, 8)),  # its last day
        (date(2027, 3, 9), 1449, date(2028, 1, 28), date(2028, 2, 25)),  # Eid: the next one
    ],
)
def test_the_ramadan_proposal_is_the_coming_ramadan(business, today, year, first, last):
    with time_machine.travel(datetime.combine(today, time(10), tzinfo=RIYADH), tick=False):
        proposal = seasons.ramadan_proposal(business=business)
    assert (proposal.hijri_year, proposal.start_date, proposal.end_date) == (year, first, last)
    assert proposal.name_ar == f"رمضان {year}"
    assert proposal.name_en == f"Ramadan {year}"


def test_the_proposal_uses_the_businesss_local_today(business):
    # 22:00 UTC on 8 March 2027 (Ramadan's last day there) is already 9 March, Eid, in Riyadh: the next Ramadan
    with time_machine.travel(datetime.fromisoformat("2027-03-08T22:00:00+00:00"), tick=False):
        proposal = seasons.ramadan_proposal(business=business)
    assert (proposal.hijri_year, proposal.start_date, proposal.end_date) == (1449, date(2028, 1, 28), date(2028, 2, 25))


def test_accepting_ramadan_in_one_tap(owner, auth_client, business, staff, other_staff, service):
    with time_machine.travel(datetime(2026, 12, 4, 10, tzinfo=RIYADH), tick=False):
        api = auth_client(owner)  # its token issued at the pinned time
        proposal = api.get(_url(business, "/ramadan-proposal"))
        assert proposal.status_code == 200
        body = proposal.json()
        assert (body["start_date"], body["end_date"], body["season"]) == ("2027-02-08", "2027-03-08", None)
        assert {h["weekday"] for h in body["hours"]} == {0, 1, 2, 3, 5, 6}  # Friday off
        assert all(h["end_time"] <= "23:59:00" for h in body["hours"])  # nothing crosses midnight

        accepted = api.post(_url(business, "/ramadan"), {}, format="json")
        assert accepted.status_code == 201, accepted.json()
        season = Season.objects.get()
        assert (season.name_en, season.name_ar) == ("Ramadan 1448", "رمضان 1448")
        assert (season.start_date, season.end_date) == (date(2027, 2, 8), date(2027, 3, 8))
        rows = list(SeasonalHours.objects.values_list("staff_id", "weekday"))
        assert {staff_id for staff_id, _ in rows} == {None}  # general spans: everyone's, staff added later too
        assert {weekday for _, weekday in rows} == {0, 1, 2, 3, 5, 6}

        assert api.get(_url(business, "/ramadan-proposal")).json()["season"] == season.pk
        again = api.post(_url(business, "/ramadan"), {}, format="json")
        assert again.status_code == 400
        assert again.json()["error"]["code"] == "season_overlaps"
        assert Season.objects.count() == 1

    business.max_advance_days = 366
    business.save()
    with time_machine.travel(datetime(2027, 2, 1, 10, tzinfo=RIYADH), tick=False):  # a week before Ramadan
        day = date(2027, 2, 9)  # a Tuesday in Ramadan
        listed = starts(slot_list_available(staff=staff, service=service, date_from=day, date_to=day).slots)
    assert listed[0] == "13:00"
    assert "21:00" in listed
    assert "10:00" not in listed


def test_ramadan_hours_edited_before_accepting(owner, auth_client, business, staff):
    with time_machine.travel(datetime(2026, 12, 4, 10, tzinfo=RIYADH), tick=False):
        api = auth_client(owner)
        response = api.post(
            _url(business, "/ramadan"),
            {
                "end_date": "2027-03-07",
                "hours": [{"weekday": 6, "start_time": "21:00", "end_time": "23:30"}],
            },
            format="json",
        )
    assert response.status_code == 201, response.json()
    season = Season.objects.get()
    assert (season.start_date, season.end_date) == (date(2027, 2, 8), date(2027, 3, 7))
    assert list(SeasonalHours.objects.values_list("weekday", "start_time", "end_time")) == [(6, time(21), time(23, 30))]


# --- the Saudi week --------------------------------------------------------------------------------------


def test_new_staff_get_the_saudi_week(api, business, branch):
    response = api.post(
        f"/api/v1/manage/businesses/{business.slug}/staff",
        {"phone": "0551234567", "name": "Noura", "branch": branch.pk},
        format="json",
    )
    assert response.status_code == 201, response.json()
    hours = api.get(f"/api/v1/manage/businesses/{business.slug}/staff/{response.json()['id']}/hours").json()["hours"]
    days = {h["weekday"] for h in hours}
    assert days == {6, 0, 1, 2, 3}  # Sunday to Thursday
    assert WorkingHours.Weekday.FRIDAY not in days
    assert WorkingHours.Weekday.SATURDAY not in days
    assert {(h["start_time"], h["end_time"]) for h in hours} == {("09:00:00", "17:00:00")}


def test_staff_with_hours_keep_them(business):
    staff = StaffFactory.create(hours=[(time(10), time(12))], hours__weekdays=(4,))
    assert working_hours_default(staff=staff) == []
    assert list(WorkingHours.objects.filter(staff=staff).values_list("weekday", flat=True)) == [4]


def test_new_staff_from_the_admin_get_the_saudi_week(business, branch, client, make_user):
    admin = make_user(role="customer", is_staff=True, is_superuser=True)
    person = make_user(role="staff", phone="+966551112233")
    client.force_login(admin)
    response = client.post(
        "/admin/catalog/staff/add/",
        {
            "user": person.pk,
            "branch": branch.pk,
            "display_name": "Huda",
            "is_active": "on",
            "display_order": 0,
            "working_hours-TOTAL_FORMS": 0,
            "working_hours-INITIAL_FORMS": 0,
            "exceptions-TOTAL_FORMS": 0,
            "exceptions-INITIAL_FORMS": 0,
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    days = set(WorkingHours.objects.filter(staff__user=person).values_list("weekday", flat=True))
    assert days == {6, 0, 1, 2, 3}


@pytest.mark.parametrize("language", ["ar", "en"])
def test_the_week_starts_on_sunday_in_both_languages(language):
    with translation.override(language):
        assert get_format("FIRST_DAY_OF_WEEK") == 0


def _admin_form(business, first: date, last: date, **extra):
    return {
        "business": business.pk,
        "name_en": "Summer",
        "name_ar": "",
        "start_date": str(first),
        "end_date": str(last),
        "hours-TOTAL_FORMS": 0,
        "hours-INITIAL_FORMS": 0,
        **extra,
    }


def test_the_admin_makes_seasons_with_the_services_checks(business, staff, client, make_user):
    client.force_login(make_user(role="customer", is_staff=True, is_superuser=True))
    first = TODAY + timedelta(days=8)
    made = client.post(
        "/admin/catalog/season/add/",
        _admin_form(
            business,
            first,
            first + timedelta(days=5),
            **{
                "hours-TOTAL_FORMS": 1,
                "hours-0-staff": staff.pk,
                "hours-0-weekday": 1,
                "hours-0-start_time": "20:00",
                "hours-0-end_time": "23:00",
            },
        ),
    )
    assert made.status_code == 302, made.content.decode()[:3000]
    season = Season.objects.get()
    assert list(season.hours.values_list("staff_id", "weekday")) == [(staff.pk, 1)]
    assert slot_is_bookable(staff=staff, service=staff.services.get(), start=at("21:00", first))

    overlapping = client.post(
        "/admin/catalog/season/add/", _admin_form(business, first + timedelta(days=5), first + timedelta(days=6))
    )
    assert overlapping.status_code == 200  # the form again, with the error
    assert "Overlaps Summer" in overlapping.content.decode()
    past = client.post("/admin/catalog/season/add/", _admin_form(business, TODAY - timedelta(days=1), TODAY))
    assert past.status_code == 200
    assert Season.objects.count() == 1


def test_bad_hours_in_a_change_leave_the_season_as_it_was(api, business, staff):
    day = TODAY + timedelta(days=8)
    season = _season(business, day, day + timedelta(days=2))
    before = list(SeasonalHours.objects.filter(season=season).values_list("weekday", "start_time", "end_time"))
    response = api.patch(
        _url(business, f"/{season.pk}"),
        {"name_en": "Renamed", "hours": [{"weekday": 0, "start_time": "22:00", "end_time": "21:00"}]},
        format="json",
    )
    assert response.status_code == 400
    assert "hours[0]" in response.json()["error"]["fields"]
    season.refresh_from_db()
    assert season.name_en == "Season"
    assert list(SeasonalHours.objects.filter(season=season).values_list("weekday", "start_time", "end_time")) == before
