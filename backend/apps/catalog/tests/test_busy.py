"""The busy registries: how availability sees bookings (and any other busy time) without importing bookings."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from apps.catalog.availability import Interval
from apps.catalog.busy import booked_time, busy_intervals, extra_busy
from apps.catalog.models import ScheduleException
from apps.catalog.tests.conftest import at
from apps.catalog.tests.factories import ScheduleExceptionFactory
from apps.core.registry import NothingRegistered


def test_an_empty_booked_time_slot_is_an_error_never_nothing_busy(django_assert_num_queries, db):
    with booked_time.override(None), pytest.raises(NothingRegistered, match="booked_time"):
        busy_intervals(staff_ids=[1, 2], start=at("09:00"), end=at("17:00"))
    with booked_time.override(None), django_assert_num_queries(0):  # nothing to ask: no source needed
        assert busy_intervals(staff_ids=[], start=at("09:00"), end=at("17:00")) == {}


def test_the_registered_source_gets_the_arguments_and_answers(db):
    calls = []

    def source(*, staff_ids, start, end, exclude_booking_id=None):
        calls.append((list(staff_ids), start, end, exclude_booking_id))
        return {1: [Interval(at("10:00"), at("10:30"))]}

    with booked_time.override(source):
        got = busy_intervals(staff_ids=(1, 2), start=at("09:00"), end=at("17:00"), exclude_booking_id=7)
        assert busy_intervals(staff_ids=[], start=at("09:00"), end=at("17:00")) == {}  # not called
        assert busy_intervals(staff_ids=[1], start=at("09:00"), end=at("09:00")) == {}  # empty window

    assert got == {1: [Interval(at("10:00"), at("10:30"))]}
    assert calls == [([1, 2], at("09:00"), at("17:00"), 7)]


def test_a_source_the_caller_gives_replaces_the_registered_one_and_extra_sources_add(db):
    def registered(**kwargs):
        raise AssertionError("the caller gave its own source")

    def own(*, staff_ids, start, end, exclude_booking_id=None):
        return {1: [Interval(at("11:00"), at("11:30"))], 2: [Interval(at("09:00"), at("09:30"))]}

    def extra(*, staff_ids, start, end, exclude_booking_id=None):
        return {1: [Interval(at("10:00"), at("10:30"))]}

    with booked_time.override(registered), extra_busy.override(extra):
        got = busy_intervals(staff_ids=[1, 2], start=at("09:00"), end=at("17:00"), booked=own)

    # both sources' time, each staff member's sorted by start
    assert got == {
        1: [Interval(at("10:00"), at("10:30")), Interval(at("11:00"), at("11:30"))],
        2: [Interval(at("09:00"), at("09:30"))],
    }


def test_extra_sources_add_to_the_booked_time_and_never_replace_it(staff, busy, django_assert_num_queries):
    busy.add(staff, at("10:00"), at("10:30"))

    def elsewhere(*, staff_ids, start, end, exclude_booking_id=None):
        return {staff.pk: [Interval(at("09:00"), at("09:30"))]}

    def nothing(**kwargs):
        return {}

    with extra_busy.override(elsewhere, nothing), django_assert_num_queries(1):  # the table's one query
        got = busy_intervals(staff_ids=[staff.pk], start=at("09:00"), end=at("17:00"))

    assert got == {staff.pk: [Interval(at("09:00"), at("09:30")), Interval(at("10:00"), at("10:30"))]}


def test_a_source_can_read_instants_as_epoch_microseconds(staff):
    from apps.catalog.busy import EpochMicroseconds, busy_from_rows

    start = datetime(2026, 12, 1, 7, 0, 0, 123456, tzinfo=UTC)  # microseconds survive the round trip
    ScheduleExceptionFactory(staff=staff, start=start, end=at("23:00"))

    rows = ScheduleException.objects.values_list("staff_id", EpochMicroseconds("start"), EpochMicroseconds("end"))

    assert busy_from_rows(rows) == {staff.pk: [Interval(start, at("23:00"))]}
    assert busy_from_rows(rows)[staff.pk][0].start.tzinfo is UTC
