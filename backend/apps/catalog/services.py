"""Writes for the catalog."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from apps.catalog.busy import busy_intervals
from apps.catalog.models import ScheduleException, Staff
from apps.core.errors import Conflict, NotFound, ValidationFailed, register_error


@register_error
class TimeOffConflictsWithBookings(Conflict):
    code, message = (
        "time_off_conflicts_with_bookings",
        _("Bookings fall in this time. Move or cancel them first."),
    )


@transaction.atomic
def time_off_create(*, staff_id: int, start: datetime, end: datetime, reason: str = "") -> ScheduleException:
    """Give a staff member time off over [start, end).

    Takes the same staff row lock as `bookings.services.booking_create`, so time off and a booking for the same
    staff member are decided one after the other: either the booking is made first and the time off is refused
    (`TimeOffConflictsWithBookings`, 409) while a booking holds time in it, or the time off is made first and
    the booking is refused as a slot availability no longer offers.
    """
    if start.utcoffset() is None or end.utcoffset() is None:
        raise ValidationFailed(fields={"start": [str(_("Include the UTC offset."))]})
    if not start < end:
        raise ValidationFailed(fields={"end": [str(_("Must be after the start."))]})
    try:
        staff = Staff.objects.select_for_update(no_key=True).get(pk=staff_id)
    except Staff.DoesNotExist as exc:
        raise NotFound() from exc
    if busy_intervals(staff_ids=[staff.pk], start=start, end=end):
        raise TimeOffConflictsWithBookings()
    return ScheduleException.objects.create(
        staff=staff, kind=ScheduleException.Kind.TIME_OFF, start=start, end=end, reason=reason
    )
