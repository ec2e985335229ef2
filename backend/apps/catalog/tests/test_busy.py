"""The busy registry: how availability sees bookings without importing the bookings app."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from apps.catalog import busy
from apps.catalog.availability import Interval
from apps.catalog.models import ScheduleException
from apps.catalog.tests.conftest import at
from apps.catalog.tests.factories import ScheduleExceptionFactory


def test_nothing_is_busy_without_a_source_and_no_query_is_made(django_assert_num_queries, db):
    with busy.use_busy_source(None), django_assert_num_queries(0):
        assert busy.busy_intervals(staff_ids=[1, 2], start=at("09:00"), end=at("17:00")) == {}


def test_the_registered_source_gets_the_arguments_and_answers(db):
    calls = []

    def source(*, staff_ids, start, end, exclude_booking_id=None):
        calls.append((list(staff_ids), start, end, exclude_booking_id))
        return {1: [Interval(at("10:00"), at("10:30"))]}

    with busy.use_busy_source(source):
        got = busy.busy_intervals(staff_ids=(1, 2), start=at("09:00"), end=at("17:00"), exclude_booking_id=7)
        assert busy.busy_intervals(staff_ids=[], start=at("09:00"), end=at("17:00")) == {}  # not called
        assert busy.busy_intervals(staff_ids=[1], start=at("09:00"), end=at("09:00")) == {}  # empty window

    assert got == {1: [Interval(at("10:00"), at("10:30"))]}
    assert calls == [([1, 2], at("09:00"), at("17:00"), 7)]


def test_use_busy_source_puts_the_previous_one_back(db):
    def first(**kwargs):
        return {}

    def second(**kwargs):
        return {}

    with busy.use_busy_source(first):
        with busy.use_busy_source(second):
            assert busy.busy_source() is second
        assert busy.busy_source() is first


def test_register_returns_the_function_so_it_can_decorate(db):
    previous = busy.busy_source()
    try:

        @busy.register_busy_source
        def source(*, staff_ids, start, end, exclude_booking_id=None):
            return {staff_ids[0]: [Interval(start, start + timedelta(minutes=5))]}

        assert busy.busy_source() is source
        assert busy.busy_intervals(staff_ids=[3], start=at("09:00"), end=at("10:00")) == {
            3: [Interval(at("09:00"), at("09:05"))]
        }
    finally:
        busy.register_busy_source(previous)


def test_a_source_can_read_instants_as_epoch_microseconds(staff):
    from apps.catalog.busy import EpochMicroseconds, busy_from_rows

    start = datetime(2026, 12, 1, 7, 0, 0, 123456, tzinfo=UTC)  # microseconds survive the round trip
    ScheduleExceptionFactory(staff=staff, start=start, end=at("23:00"))

    rows = ScheduleException.objects.values_list("staff_id", EpochMicroseconds("start"), EpochMicroseconds("end"))

    assert busy_from_rows(rows) == {staff.pk: [Interval(start, at("23:00"))]}
    assert busy_from_rows(rows)[staff.pk][0].start.tzinfo is UTC
