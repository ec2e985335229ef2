"""Serializer fields for dates and times that are safe to compute with.

Python's dates end at 0001-01-01 and 9999-12-31: `date_to + 1 day`, `start + duration` or the start of a day in
another time zone overflow near either end (`OverflowError`, a 500). Every date or time the API accepts is held to
[`EARLIEST_DATE`, `LATEST_DATE`], which leaves thousands of years of room for that arithmetic and refuses the rest
as a 400 `validation_error` naming the field.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

EARLIEST_DATE = date(1970, 1, 1)
LATEST_DATE = date(9000, 12, 31)
OUT_OF_RANGE = _("Must be between 1970-01-01 and 9000-12-31.")


def date_in_range(value: date) -> bool:
    return EARLIEST_DATE <= value <= LATEST_DATE


def datetime_in_range(value: datetime) -> bool:
    """Whether an aware instant falls on a date in range (in UTC; a naive one is taken as it is)."""
    if value.utcoffset() is not None:
        try:
            value = value.astimezone(UTC)
        except OverflowError:
            return False
    return date_in_range(value.date())


class BoundedDateField(serializers.DateField):
    """A `DateField` that refuses dates outside [EARLIEST_DATE, LATEST_DATE]."""

    def to_internal_value(self, value: Any) -> date:
        parsed = super().to_internal_value(value)
        if not date_in_range(parsed):
            raise serializers.ValidationError(OUT_OF_RANGE, code="date_out_of_range")
        return parsed


class BoundedDateTimeField(serializers.DateTimeField):
    """A `DateTimeField` that refuses instants outside [EARLIEST_DATE, LATEST_DATE]."""

    def to_internal_value(self, value: Any) -> datetime:
        parsed = super().to_internal_value(value)
        if not datetime_in_range(parsed):
            raise serializers.ValidationError(OUT_OF_RANGE, code="date_out_of_range")
        return parsed
