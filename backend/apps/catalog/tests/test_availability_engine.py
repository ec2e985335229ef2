"""The pure slot engine: property-based tests against a brute-force reference, then table tests of edge cases.

No Django and no database: run with `python -m pytest -p no:django apps/catalog/tests/test_availability_engine.py`.
"""

from bisect import bisect_right
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from apps.catalog.availability import (
    Interval,
    SlotRules,
    StaffSchedule,
    WeeklyHours,
    clip_range,
    compute_slots,
    compute_slots_many,
    first_slot_many,
    is_bookable,
    merge_any_staff,
    overlaps,
    subtract,
    working_intervals,
)

RIYADH = ZoneInfo("Asia/Riyadh")
LONDON = ZoneInfo("Europe/London")
MIN = timedelta(minutes=1)
DAY = timedelta(days=1)
EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
MON, TUE, WED, THU, FRI, SAT, SUN = range(7)
MONDAY = date(2026, 6, 1)

THOROUGH = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
PROPERTIES = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
FEWER = settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# --- a brute-force reference: minute sets and wall-clock candidates, no interval algebra -----------------------


def minute(dt: datetime) -> int:
    return (dt - EPOCH) // MIN


def minutes(interval: Interval) -> range:
    return range(minute(interval.start), minute(interval.end))


def reference_localize(day: date, wall: time, tz: ZoneInfo) -> datetime:
    """First occurrence of a wall time; a wall time skipped by a jump forward means the first one after it."""
    naive = datetime.combine(day, wall)
    while True:
        utc = naive.replace(tzinfo=tz).astimezone(UTC)
        if utc.astimezone(tz).replace(tzinfo=None) == naive:
            return utc
        naive += MIN


def days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def reference_candidates(first: date, last: date, rules: SlotRules) -> list[datetime]:
    """Every instant whose local wall clock reads midnight + k * step on one of the dates (both folds)."""
    found = set()
    for day in days(first, last):
        wall = datetime.combine(day, time())
        while wall.date() == day:
            earlier, later = wall.replace(tzinfo=rules.tz), wall.replace(tzinfo=rules.tz, fold=1)
            if earlier.utcoffset() == later.utcoffset():  # an ordinary wall time: one instant
                found.add(earlier.astimezone(UTC))
            else:  # repeated or skipped: keep the readings that round-trip
                for aware in (earlier, later):
                    utc = aware.astimezone(UTC)
                    if utc.astimezone(rules.tz).replace(tzinfo=None) == wall:
                        found.add(utc)
            wall += rules.step
    return sorted(found)


def reference_slots(schedule: StaffSchedule, rules: SlotRules, date_from: date, date_to: date) -> list[Interval]:
    today = rules.now.astimezone(rules.tz).date()
    first, last = max(date_from, today), min(date_to, today + timedelta(days=rules.max_advance_days))
    if first > last:
        return []
    origin = minute(datetime.combine(first - 3 * DAY, time(), tzinfo=UTC))
    size = ((last - first).days + 7) * 24 * 60  # generated durations, buffers and offsets reach less than a day
    work, busy = bytearray(size), bytearray(size)  # one byte a minute from origin

    def mark(marks: bytearray, start: datetime, end: datetime, value: int) -> None:
        a, b = max(minute(start) - origin, 0), min(minute(end) - origin, size)
        if a < b:
            marks[a:b] = bytes([value]) * (b - a)

    for day in days(first - DAY, last + DAY):
        for hours in schedule.weekly:
            if hours.weekday == day.weekday():
                mark(
                    work,
                    reference_localize(day, hours.start, rules.tz),
                    reference_localize(day, hours.end, rules.tz),
                    1,
                )
    for interval in schedule.extra:
        mark(work, interval.start, interval.end, 1)
    for interval in schedule.time_off + schedule.closures:
        mark(work, interval.start, interval.end, 0)
    for interval in schedule.busy:
        mark(busy, interval.start, interval.end, 1)
    earliest = rules.now.astimezone(UTC) + rules.min_notice  # real time: `aware + timedelta` would add wall time
    slots = []
    for start in reference_candidates(first, last, rules):
        a = minute(start - rules.buffer_before) - origin
        b = minute(start + rules.duration + rules.buffer_after) - origin
        if start >= earliest and 0 not in work[a:b] and 1 not in busy[a:b]:
            slots.append(Interval(start, start + rules.duration))
    return slots


# --- generated scenarios ----------------------------------------------------------------------------------------

ZONES = ["Asia/Riyadh", "UTC", "Europe/London", "America/New_York", "America/Santiago", "Australia/Lord_Howe"]
TRANSITION_DATES = [  # 2026 DST changes of the zones above (Santiago and Lord Howe: at midnight and by 30 min)
    date(2026, 3, 29),
    date(2026, 10, 25),
    date(2026, 3, 8),
    date(2026, 11, 1),
    date(2026, 4, 4),
    date(2026, 9, 6),
    date(2026, 4, 5),
    date(2026, 10, 4),
]


def five_minutes(low: int, high: int) -> st.SearchStrategy[timedelta]:
    return st.integers(low // 5, high // 5).map(lambda k: timedelta(minutes=5 * k))


# Strategies are built once: scenarios() only draws plain numbers from them and assembles the values itself.
ZONE = st.sampled_from([ZoneInfo(name) for name in ZONES])
BASE_DATE = st.sampled_from(TRANSITION_DATES) | st.dates(date(2026, 1, 1), date(2027, 12, 31))
# (start in 5-minute units, length in 5-minute units, weekday: 0-6 any, 7-13 the n-th date of the range,
#  whether it starts where the previous one ends: touching hours must merge into one working interval)
WEEKLY = st.lists(st.tuples(st.integers(0, 287), st.integers(1, 160), st.integers(0, 13), st.booleans()), max_size=10)
SPREAD = 10_000  # interval starts and `now` are drawn as a fraction of the generated stretch of time
EXTRA = st.lists(st.tuples(st.integers(0, SPREAD), st.integers(1, 600)), max_size=3)
TIME_OFF = EXTRA
CLOSURES = st.lists(st.tuples(st.integers(0, SPREAD), st.integers(1, 1500)), max_size=2)
ONE_BUSY = st.tuples(st.integers(0, SPREAD), st.integers(1, 180))
BUSY = st.lists(ONE_BUSY, max_size=12) | st.lists(ONE_BUSY, min_size=6, max_size=20)
NOW = st.integers(-SPREAD // 3, SPREAD // 3) | st.integers(-SPREAD // 3, SPREAD)
DURATION = five_minutes(5, 180)
BUFFER = st.just(timedelta(0)) | five_minutes(0, 30)
STEP = st.sampled_from([5, 10, 15, 20, 30, 45, 60, 90, 7, 25]).map(
    lambda m: timedelta(minutes=m)
)  # 7, 25: not dividing a day
NOTICE = st.just(timedelta(0)) | five_minutes(0, 36 * 60)
ADVANCE = st.just(60) | st.integers(0, 7)


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[StaffSchedule, SlotRules, date, date]:
    tz = draw(ZONE)
    date_from = draw(BASE_DATE) - timedelta(days=draw(st.integers(0, 1)))
    dates = days(date_from, date_from + timedelta(days=draw(st.integers(0, 3))))
    origin = datetime.combine(date_from - DAY, time(), tzinfo=UTC)
    reach = (len(dates) + 2) * 24 * 60  # minutes from the day before the range to the day after it
    as_local = draw(st.booleans())  # inputs may come in any zone

    def instant(fraction: int, plus: int = 0) -> datetime:
        at = origin + (fraction * reach // SPREAD + plus) * MIN
        return at.astimezone(tz) if as_local else at

    def intervals(specs: list[tuple[int, int]]) -> tuple[Interval, ...]:
        return tuple(Interval(instant(at), instant(at, length)) for at, length in specs)

    weekly: list[WeeklyHours] = []
    for start, length, which, joined in draw(WEEKLY):
        weekday = which if which < 7 else dates[(which - 7) % len(dates)].weekday()  # mostly days in the range
        begin = time(*divmod(start * 5, 60))
        if joined and weekly and weekly[-1].end < time(23, 55):
            weekday, begin = weekly[-1].weekday, weekly[-1].end
        end = min(begin.hour * 60 + begin.minute + length * 5, 23 * 60 + 59)
        weekly.append(WeeklyHours(weekday, begin, time(*divmod(end, 60))))
    schedule = StaffSchedule(
        weekly=tuple(weekly),
        extra=intervals(draw(EXTRA)),
        time_off=intervals(draw(TIME_OFF)),
        closures=intervals(draw(CLOSURES)),
        busy=intervals(draw(BUSY)),
    )
    rules = SlotRules(
        duration=draw(DURATION),
        buffer_before=draw(BUFFER),
        buffer_after=draw(BUFFER),
        step=draw(STEP),
        now=instant(draw(NOW)),
        min_notice=draw(NOTICE),
        max_advance_days=draw(ADVANCE),
        tz=tz,
    )
    return schedule, rules, dates[0], dates[-1]


def widened(slot: Interval, rules: SlotRules) -> Interval:
    return Interval(slot.start - rules.buffer_before, slot.end + rules.buffer_after)


# --- properties ---------------------------------------------------------------------------------------------------


NEW_YORK = ZoneInfo("America/New_York")
# Found by the property below: the notice runs across New York's jump forward (2026-03-08 02:00 -> 03:00), so it
# ends at 04:00 EDT in real time, though the wall clock reads 03:00 after adding 19 h 15 min to 07:45.
NOTICE_ACROSS_A_JUMP_FORWARD = (
    StaffSchedule(weekly=(WeeklyHours(6, time(0), time(2, 55)), WeeklyHours(6, time(2, 55), time(3, 5)))),
    SlotRules(
        duration=5 * MIN,
        buffer_before=timedelta(0),
        buffer_after=timedelta(0),
        step=5 * MIN,
        now=datetime(2026, 3, 7, 7, 45, tzinfo=NEW_YORK),
        min_notice=timedelta(hours=19, minutes=15),
        max_advance_days=60,
        tz=NEW_YORK,
    ),
    date(2026, 3, 8),
    date(2026, 3, 8),
)


@THOROUGH
@given(scenarios())
@example(NOTICE_ACROSS_A_JUMP_FORWARD)
def test_slots_are_exactly_those_of_a_brute_force_reference(scenario):
    schedule, rules, date_from, date_to = scenario

    assert compute_slots(schedule, rules, date_from, date_to) == reference_slots(schedule, rules, date_from, date_to)


@PROPERTIES
@given(scenarios())
def test_no_widened_slot_overlaps_busy_time_off_or_a_closure(scenario):
    schedule, rules, date_from, date_to = scenario

    slots = compute_slots(schedule, rules, date_from, date_to)

    blocked = schedule.busy + schedule.time_off + schedule.closures
    for around in (widened(slot, rules) for slot in slots):
        assert not [other for other in blocked if overlaps(around, other)]


@PROPERTIES
@given(scenarios())
def test_every_widened_slot_lies_inside_one_working_interval(scenario):
    schedule, rules, date_from, date_to = scenario

    slots = compute_slots(schedule, rules, date_from, date_to)

    work = working_intervals(schedule, date_from - 2 * DAY, date_to + 2 * DAY, rules.tz)
    assert all(a.end < b.start for a, b in zip(work, work[1:], strict=False))  # sorted, disjoint, merged
    starts = [interval.start for interval in work]
    for slot in slots:
        around = widened(slot, rules)
        i = bisect_right(starts, around.start) - 1
        assert i >= 0
        assert work[i].start <= around.start
        assert around.end <= work[i].end


@PROPERTIES
@given(scenarios())
def test_every_start_is_on_the_step_in_local_time_and_inside_the_window(scenario):
    schedule, rules, date_from, date_to = scenario

    slots = compute_slots(schedule, rules, date_from, date_to)

    today = rules.now.astimezone(rules.tz).date()
    for slot in slots:
        assert slot.start.tzinfo is UTC
        assert slot.end - slot.start == rules.duration
        local = slot.start.astimezone(rules.tz)
        time_of_day = local.replace(tzinfo=None) - datetime.combine(local.date(), time())
        assert time_of_day % rules.step == timedelta(0)
        assert date_from <= local.date() <= date_to
        assert today <= local.date() <= today + timedelta(days=rules.max_advance_days)
        assert slot.start >= rules.now + rules.min_notice
    assert all(a.start < b.start for a, b in zip(slots, slots[1:], strict=False))


@PROPERTIES
@given(scenarios())
def test_a_range_at_once_equals_the_days_one_by_one(scenario):
    schedule, rules, date_from, date_to = scenario

    at_once = compute_slots(schedule, rules, date_from, date_to)

    assert at_once == [slot for day in days(date_from, date_to) for slot in compute_slots(schedule, rules, day, day)]


@PROPERTIES
@given(scenarios(), st.randoms(use_true_random=False))
def test_is_bookable_accepts_every_slot_and_refuses_the_others(scenario, random):
    schedule, rules, date_from, date_to = scenario

    slots = compute_slots(schedule, rules, date_from, date_to)

    returned = {slot.start for slot in slots}
    assert all(is_bookable(schedule, rules, start) for start in returned)
    others = [start for start in reference_candidates(date_from, date_to, rules) if start not in returned]
    assert not any(is_bookable(schedule, rules, start) for start in random.sample(others, min(len(others), 10)))
    off_step = [start + MIN for start in returned if rules.step > MIN]
    assert not any(is_bookable(schedule, rules, start) for start in off_step[:5])


@FEWER
@given(scenarios())
def test_many_staff_and_the_any_staff_view_agree_with_one_staff_member(scenario):
    schedule, rules, date_from, date_to = scenario
    free = StaffSchedule(weekly=schedule.weekly, extra=schedule.extra, closures=schedule.closures)

    per_staff = compute_slots_many({2: schedule, 1: free}, rules, date_from, date_to)

    assert per_staff == {
        2: compute_slots(schedule, rules, date_from, date_to),
        1: compute_slots(free, rules, date_from, date_to),
    }
    merged = merge_any_staff(per_staff)
    free_sets = {key: set(slots) for key, slots in per_staff.items()}
    assert [slot for slot, _ in merged] == sorted(free_sets[1] | free_sets[2], key=lambda slot: slot.start)
    for slot, keys in merged:
        assert keys == [key for key in (1, 2) if slot in free_sets[key]]


@FEWER
@given(scenarios())
def test_the_first_slot_of_anyone_is_the_first_row_of_the_any_staff_view(scenario):
    schedule, rules, date_from, date_to = scenario
    free = StaffSchedule(weekly=schedule.weekly, extra=schedule.extra, closures=schedule.closures)
    schedules = {2: schedule, 1: free, 3: StaffSchedule(weekly=())}

    merged = merge_any_staff(compute_slots_many(schedules, rules, date_from, date_to))

    assert first_slot_many(schedules, rules, date_from, date_to) == (tuple(merged[0]) if merged else None)
    assert first_slot_many({2: schedule}, rules, date_from, date_to) == (
        (slots[0], [2]) if (slots := compute_slots(schedule, rules, date_from, date_to)) else None
    )


@THOROUGH
@given(
    st.lists(st.tuples(st.integers(0, 300), st.integers(1, 60)), max_size=8),
    st.lists(st.tuples(st.integers(0, 300), st.integers(1, 60)), max_size=8),
)
def test_subtract_keeps_exactly_the_minutes_not_removed(kept, removed):
    def build(pairs):
        return [Interval(EPOCH + a * MIN, EPOCH + (a + n) * MIN) for a, n in pairs]

    result = subtract(build(kept), build(removed))

    expected = {m for a, n in kept for m in range(a, a + n)} - {m for a, n in removed for m in range(a, a + n)}
    assert {m for interval in result for m in minutes(interval)} == expected
    assert all(a.end < b.start for a, b in zip(result, result[1:], strict=False))  # disjoint and never touching


# --- table tests ------------------------------------------------------------------------------------------------


def at(day: date, hhmm: str, tz: ZoneInfo = RIYADH) -> datetime:
    return datetime.combine(day, time.fromisoformat(hhmm), tzinfo=tz).astimezone(UTC)


def between(day: date, start: str, end: str, tz: ZoneInfo = RIYADH) -> Interval:
    return Interval(at(day, start, tz), at(day, end, tz))


def weekly(*hours: tuple[int, str, str]) -> tuple[WeeklyHours, ...]:
    return tuple(WeeklyHours(day, time.fromisoformat(start), time.fromisoformat(end)) for day, start, end in hours)


def every_day(start: str, end: str) -> tuple[WeeklyHours, ...]:
    return weekly(*((day, start, end) for day in range(7)))


def rules(**changes) -> SlotRules:
    values = {
        "duration": timedelta(minutes=30),
        "buffer_before": timedelta(0),
        "buffer_after": timedelta(0),
        "step": timedelta(minutes=15),
        "now": at(MONDAY - 7 * DAY, "08:00"),
        "min_notice": timedelta(0),
        "max_advance_days": 60,
        "tz": RIYADH,
    }
    return SlotRules(**(values | changes))


def starts(slots: list[Interval], tz: ZoneInfo = RIYADH) -> list[str]:
    return [slot.start.astimezone(tz).strftime("%H:%M") for slot in slots]


def test_buffers_must_fit_inside_the_shift_at_both_ends():
    schedule = StaffSchedule(weekly=weekly((MON, "09:00", "12:00")))
    buffered = rules(buffer_before=timedelta(minutes=10), buffer_after=timedelta(minutes=15), step=timedelta(minutes=5))

    slots = compute_slots(schedule, buffered, MONDAY, MONDAY)

    assert starts(slots)[0] == "09:10"
    assert starts(slots)[-1] == "11:15"  # 11:15 + 30 min + 15 min buffer = 12:00
    assert not is_bookable(schedule, buffered, at(MONDAY, "09:05"))
    assert not is_bookable(schedule, buffered, at(MONDAY, "11:20"))


def test_time_off_covering_part_of_a_slot_removes_that_slot():
    schedule = StaffSchedule(weekly=weekly((MON, "09:00", "12:00")), time_off=(between(MONDAY, "10:20", "10:40"),))

    slots = compute_slots(schedule, rules(), MONDAY, MONDAY)

    assert starts(slots) == ["09:00", "09:15", "09:30", "09:45", "10:45", "11:00", "11:15", "11:30"]


def test_a_whole_day_closure_removes_the_day_for_everyone():
    eid = MONDAY + DAY
    closure = Interval(at(eid, "00:00"), at(eid + DAY, "00:00"))
    schedules = {
        "sara": StaffSchedule(weekly=every_day("09:00", "17:00"), closures=(closure,)),
        "omar": StaffSchedule(weekly=every_day("13:00", "21:00"), closures=(closure,)),
    }

    per_staff = compute_slots_many(schedules, rules(), MONDAY, eid + DAY)

    for slots in per_staff.values():
        local_days = {slot.start.astimezone(RIYADH).date() for slot in slots}
        assert local_days == {MONDAY, eid + DAY}
    assert working_intervals(schedules["sara"], eid, eid, RIYADH) == []


def test_minimum_notice_can_push_the_first_slot_past_midnight():
    schedule = StaffSchedule(weekly=every_day("09:00", "17:00") + every_day("20:00", "23:30"))
    late = rules(now=at(MONDAY, "22:00"), min_notice=timedelta(hours=11, minutes=50))

    slots = compute_slots(schedule, late, MONDAY, MONDAY + DAY)

    assert slots[0].start == at(MONDAY + DAY, "10:00")  # 09:50 is the earliest instant, 10:00 the first on step
    assert compute_slots(schedule, late, MONDAY, MONDAY) == []


def test_a_slot_exactly_at_the_minimum_notice_is_bookable():
    schedule = StaffSchedule(weekly=every_day("09:00", "17:00"))
    soon = rules(now=at(MONDAY, "09:40"), min_notice=timedelta(minutes=20))

    assert starts(compute_slots(schedule, soon, MONDAY, MONDAY))[0] == "10:00"
    assert is_bookable(schedule, soon, at(MONDAY, "10:00"))
    assert not is_bookable(schedule, soon, at(MONDAY, "09:45"))


def test_the_last_day_of_the_advance_window_has_slots_and_the_next_has_none():
    schedule = StaffSchedule(weekly=every_day("09:00", "17:00"))
    window = rules(now=at(MONDAY, "08:00"), max_advance_days=3)

    slots = compute_slots(schedule, window, MONDAY - 5 * DAY, MONDAY + 10 * DAY)

    assert max(slot.start.astimezone(RIYADH).date() for slot in slots) == MONDAY + 3 * DAY
    assert starts(compute_slots(schedule, window, MONDAY + 3 * DAY, MONDAY + 3 * DAY))[-1] == "16:30"
    assert is_bookable(schedule, window, at(MONDAY + 3 * DAY, "16:30"))
    assert not is_bookable(schedule, window, at(MONDAY + 4 * DAY, "09:00"))
    assert clip_range(MONDAY - 5 * DAY, MONDAY + 10 * DAY, window) == (MONDAY, MONDAY + 3 * DAY)
    assert clip_range(MONDAY + 4 * DAY, MONDAY + 9 * DAY, window) is None
    assert clip_range(MONDAY + 2 * DAY, MONDAY + DAY, window) is None


def test_a_lunch_break_is_a_gap_no_slot_straddles():
    schedule = StaffSchedule(weekly=weekly((MON, "09:00", "13:00"), (MON, "14:00", "18:00")))
    hourly = rules(duration=timedelta(hours=1), step=timedelta(minutes=30))

    slots = compute_slots(schedule, hourly, MONDAY, MONDAY)

    assert starts(slots) == [
        *("09:00", "09:30", "10:00", "10:30", "11:00", "11:30", "12:00"),
        *("14:00", "14:30", "15:00", "15:30", "16:00", "16:30", "17:00"),
    ]


def test_extra_hours_open_a_normally_closed_weekday():
    friday = MONDAY + 4 * DAY
    extra = between(friday, "16:00", "20:00")
    schedule = StaffSchedule(weekly=weekly((MON, "09:00", "17:00")), extra=(extra,))

    slots = compute_slots(schedule, rules(step=timedelta(minutes=30)), friday, friday)

    assert starts(slots) == ["16:00", "16:30", "17:00", "17:30", "18:00", "18:30", "19:00", "19:30"]
    assert working_intervals(schedule, friday, friday, RIYADH) == [extra]


def test_extra_hours_next_to_weekly_hours_make_one_working_interval():
    schedule = StaffSchedule(weekly=weekly((MON, "09:00", "12:00")), extra=(between(MONDAY, "12:00", "13:00"),))

    assert working_intervals(schedule, MONDAY, MONDAY, RIYADH) == [between(MONDAY, "09:00", "13:00")]
    assert is_bookable(schedule, rules(), at(MONDAY, "11:45"))  # runs from weekly into extra hours


@pytest.mark.parametrize(
    ("busy_start", "busy_end", "start", "bookable"),
    [
        ("10:00", "10:30", "09:30", True),  # ends when the booking starts
        ("10:00", "10:30", "10:30", True),  # starts when the booking ends
        ("09:59", "10:30", "09:30", False),  # one minute of overlap before
        ("10:00", "10:31", "10:30", False),  # one minute of overlap after
        ("10:00", "10:30", "10:15", False),
        ("10:00", "10:30:00.000001", "10:30", False),  # one microsecond is an overlap too
    ],
)
def test_a_busy_interval_may_touch_a_slot_but_not_overlap_it(busy_start, busy_end, start, bookable):
    schedule = StaffSchedule(weekly=weekly((MON, "09:00", "12:00")), busy=(between(MONDAY, busy_start, busy_end),))

    assert is_bookable(schedule, rules(), at(MONDAY, start)) is bookable
    assert (at(MONDAY, start) in {slot.start for slot in compute_slots(schedule, rules(), MONDAY, MONDAY)}) is bookable


def test_buffers_keep_a_slot_away_from_a_booking():
    schedule = StaffSchedule(weekly=weekly((MON, "09:00", "12:00")), busy=(between(MONDAY, "10:00", "10:30"),))
    buffered = rules(buffer_before=timedelta(minutes=10), buffer_after=timedelta(minutes=5), step=timedelta(minutes=5))

    slots = compute_slots(schedule, buffered, MONDAY, MONDAY)

    assert "09:25" in starts(slots)  # 09:25 + 30 + 5 = 10:00
    assert "09:30" not in starts(slots)
    assert "10:40" in starts(slots)  # 10:40 - 10 = 10:30
    assert "10:35" not in starts(slots)


def test_riyadh_slots_are_on_the_step_and_back_to_back():
    schedule = StaffSchedule(weekly=every_day("09:00", "13:00") + every_day("16:00", "23:00"))
    half_hours = rules(step=timedelta(minutes=30))

    slots = compute_slots(schedule, half_hours, MONDAY, MONDAY + 6 * DAY)

    assert len(slots) == 7 * (8 + 14)
    assert all(slot.start.astimezone(RIYADH).minute in (0, 30) for slot in slots)
    assert all(a.end <= b.start for a, b in zip(slots, slots[1:], strict=False))


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(2026, 3, 29), ["00:00", "00:30", *(f"{h:02}:{m:02}" for h in range(2, 6) for m in (0, 30))]),
        (
            date(2026, 10, 25),
            ["00:00", "00:30", "01:00", "01:30", *(f"{h:02}:{m:02}" for h in range(1, 6) for m in (0, 30))],
        ),
    ],
    ids=["spring-forward", "fall-back"],
)
def test_a_dst_change_still_gives_aligned_non_overlapping_slots(day, expected):
    schedule = StaffSchedule(weekly=weekly((SUN, "00:00", "06:00")))
    london = rules(tz=LONDON, step=timedelta(minutes=30), now=datetime(2026, 1, 1, tzinfo=UTC), max_advance_days=365)

    slots = compute_slots(schedule, london, day, day)

    assert starts(slots, LONDON) == expected
    assert all(a.end <= b.start for a, b in zip(slots, slots[1:], strict=False))
    assert all(is_bookable(schedule, london, slot.start) for slot in slots)


def test_a_skipped_local_midnight_starts_the_day_when_the_clocks_jump():
    santiago = ZoneInfo("America/Santiago")  # 2026-09-06 00:00 -04 jumps to 01:00 -03
    saturday, sunday = date(2026, 9, 5), date(2026, 9, 6)
    schedule = StaffSchedule(weekly=weekly((SAT, "22:00", "23:59"), (SUN, "00:00", "03:00")))
    chile = rules(tz=santiago, step=timedelta(minutes=30), now=datetime(2026, 9, 1, tzinfo=UTC))

    assert starts(compute_slots(schedule, chile, saturday, saturday), santiago) == ["22:00", "22:30", "23:00"]
    assert starts(compute_slots(schedule, chile, sunday, sunday), santiago) == ["01:00", "01:30", "02:00", "02:30"]
    assert working_intervals(schedule, sunday, sunday, santiago)[0].start == datetime(2026, 9, 6, 4, tzinfo=UTC)


def test_a_slot_may_run_past_midnight_through_extra_hours_whatever_range_is_asked():
    tuesday = MONDAY + DAY
    schedule = StaffSchedule(weekly=(), extra=(Interval(at(MONDAY, "22:00"), at(tuesday, "02:00")),))
    late = rules(duration=timedelta(hours=1), buffer_before=timedelta(minutes=15), step=timedelta(minutes=30))

    both = compute_slots(schedule, late, MONDAY, tuesday)

    assert starts(compute_slots(schedule, late, MONDAY, MONDAY)) == ["22:30", "23:00", "23:30"]
    assert starts(compute_slots(schedule, late, tuesday, tuesday)) == ["00:00", "00:30", "01:00"]
    assert both == compute_slots(schedule, late, MONDAY, MONDAY) + compute_slots(schedule, late, tuesday, tuesday)


def test_a_shift_starting_in_the_spring_forward_gap_starts_when_the_clocks_jump():
    spring_forward = date(2026, 3, 29)
    schedule = StaffSchedule(weekly=weekly((SUN, "01:30", "03:00")))

    work = working_intervals(schedule, spring_forward, spring_forward, LONDON)

    assert work == [Interval(datetime(2026, 3, 29, 1, tzinfo=UTC), datetime(2026, 3, 29, 2, tzinfo=UTC))]


def test_inputs_in_any_zone_give_utc_results():
    schedule = StaffSchedule(
        weekly=weekly((MON, "09:00", "12:00")),
        busy=(Interval(datetime(2026, 6, 1, 10, tzinfo=RIYADH), datetime(2026, 6, 1, 10, 30, tzinfo=RIYADH)),),
    )

    slots = compute_slots(schedule, rules(now=datetime(2026, 5, 1, 12, tzinfo=RIYADH)), MONDAY, MONDAY)

    assert all(slot.start.tzinfo is UTC for slot in slots)
    assert "10:00" not in starts(slots)
    assert "10:30" in starts(slots)


def test_overlaps_is_half_open():
    nine_to_ten = between(MONDAY, "09:00", "10:00")

    assert not overlaps(nine_to_ten, between(MONDAY, "10:00", "11:00"))
    assert overlaps(nine_to_ten, between(MONDAY, "09:59", "11:00"))
    assert overlaps(nine_to_ten, between(MONDAY, "09:15", "09:30"))


def test_subtract_splits_and_merges():
    result = subtract(
        [between(MONDAY, "09:00", "10:00"), between(MONDAY, "10:00", "12:00")],
        [between(MONDAY, "10:30", "11:00")],
    )

    assert result == [between(MONDAY, "09:00", "10:30"), between(MONDAY, "11:00", "12:00")]


def test_the_any_staff_view_lists_each_slot_once_with_the_staff_free_then():
    per_staff = {
        "b": [between(MONDAY, "09:00", "09:30"), between(MONDAY, "09:30", "10:00")],
        "a": [between(MONDAY, "09:30", "10:00"), between(MONDAY, "10:00", "10:30")],
    }

    merged = merge_any_staff(per_staff)

    assert [(starts([slot])[0], keys) for slot, keys in merged] == [
        ("09:00", ["b"]),
        ("09:30", ["a", "b"]),
        ("10:00", ["a"]),
    ]


def test_invalid_values_are_refused():
    with pytest.raises(ValueError, match="aware"):
        Interval(datetime(2026, 6, 1, 9), datetime(2026, 6, 1, 10))
    with pytest.raises(ValueError, match="end after"):
        between(MONDAY, "10:00", "09:00")
    with pytest.raises(ValueError, match="end after"):
        WeeklyHours(MON, time(12), time(9))
    with pytest.raises(ValueError, match="weekday"):
        WeeklyHours(7, time(9), time(12))
    with pytest.raises(ValueError, match="positive"):
        rules(step=timedelta(0))
    with pytest.raises(ValueError, match="aware"):
        rules(now=datetime(2026, 6, 1, 9))
