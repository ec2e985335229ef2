"""Writes for the catalog."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from apps.accounts.models import User
from apps.accounts.phone import normalize_phone
from apps.accounts.roles import role_group_sync
from apps.catalog.busy import busy_intervals
from apps.catalog.models import Membership, ScheduleException, Staff
from apps.core.errors import Conflict, NotFound, ValidationFailed, register_error
from apps.core.scoping import platform


@register_error
class TimeOffConflictsWithBookings(Conflict):
    code, message = (
        "time_off_conflicts_with_bookings",
        _("Bookings fall in this time. Move or cancel them first."),
    )


@register_error
class AlreadyMember(Conflict):
    code, message = ("already_member", _("This person is a member of the business already."))


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


@transaction.atomic
def membership_add(*, business_id: int, phone: str, role: str, name: str = "") -> Membership:
    """Make the person with this phone number (a new account when there is none: one account across every
    business) a member of the business with `role`, with admin access, in the group their memberships call for.
    `InvalidPhone` for a number that is not one; `AlreadyMember` when they are a member of it already."""
    number = normalize_phone(phone)
    user = User.objects.filter(phone=number).first() or User.objects.create_user(phone=number, name=name)
    if Membership.objects.filter(business_id=business_id, user_id=user.pk).exists():
        raise AlreadyMember()
    membership = Membership.objects.create(business_id=business_id, user=user, role=role)
    membership_access_sync(user)
    return membership


def membership_access_sync(user: User) -> None:
    """After a membership of `user` was added, changed or removed: admin access while they are a member of some
    business (it gives nothing by itself: rights come per business from memberships), and the group their
    memberships call for (`accounts.roles.group_for`). Superusers are left alone."""
    if user.is_superuser:
        return
    with platform():
        member = Membership.objects.filter(user_id=user.pk).exists()
    if member and not user.is_staff:
        user.is_staff = True
        user.save(update_fields=["is_staff"])
    role_group_sync(user)
