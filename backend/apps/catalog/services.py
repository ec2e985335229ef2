"""Writes for the catalog."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any, TypeVar

from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
from django.db.models import ProtectedError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from apps.accounts.models import User
from apps.accounts.phone import normalize_phone
from apps.accounts.roles import role_group_sync
from apps.catalog.busy import busy_intervals
from apps.catalog.errors import PaymentPolicyInvalid, PriceNotReachable
from apps.catalog.holidays import saudi_holidays
from apps.catalog.models import (
    Branch,
    Business,
    Closure,
    Membership,
    ScheduleException,
    Service,
    Staff,
    TimeOffRequest,
    WorkingHours,
    payment_policy_check,
    price_problem,
)
from apps.catalog.selectors import holiday_suggestions
from apps.core.errors import Conflict, NotFound, ValidationFailed, register_error
from apps.core.scoping import platform

_M = TypeVar("_M", bound=models.Model)


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


# --- the manager API's writes (apps/catalog/manage_api.py) ---------------------------------------------------
# Every function takes the business the request acts for and refuses (NotFound, or a field error) any row of
# another one, whatever the caller's scope: a row always gets its business from its parent or from `business`.


@register_error
class InUse(Conflict):
    code, message = "in_use", _("Bookings or staff still use this. Deactivate it instead.")


@register_error
class AlreadyStaff(Conflict):
    code, message = "already_staff", _("This person is already a staff member (here or at another business).")


@register_error
class TimeOffRequestDecided(Conflict):
    code, message = "time_off_request_decided", _("This time off request was decided already.")


def _validated(obj: _M) -> _M:
    """`full_clean()`, its errors as a 400 with field errors."""
    try:
        obj.full_clean()
    except ValidationError as exc:
        raise ValidationFailed(fields={k: [str(m) for m in v] for k, v in exc.message_dict.items()}) from exc
    return obj


def _payment_policy_checked(obj: Business | Service, *, price: int | None) -> None:
    """The deposit and fee fields, checked before anything else with their own code (`payment_policy_invalid`)."""
    try:
        payment_policy_check(obj, price=price)
    except ValidationError as exc:
        raise PaymentPolicyInvalid(
            fields={k: [str(m) for m in v] for k, v in exc.message_dict.items()},
            extra={"reasons": {k: [e.code for e in v][0] for k, v in exc.error_dict.items()}},
        ) from exc


def _assign(obj: models.Model, fields: Mapping[str, Any]) -> None:
    for name, value in fields.items():
        setattr(obj, name, value)


def _own(rows: Iterable[_M], business: Business, field: str) -> list[_M]:
    """The rows, when every one is `business`'s; a field error otherwise (never attached to another business)."""
    rows = list(rows)
    if any(getattr(row, "business_id", None) != business.pk for row in rows):
        raise ValidationFailed(fields={field: [str(_("Not found at this business."))]})
    return rows


@transaction.atomic
def branch_save(*, business: Business, branch: Branch | None = None, fields: Mapping[str, Any]) -> Branch:
    """Create (no `branch`) or change a branch of `business`."""
    if branch is None:
        branch = Branch(business=business)
    elif branch.business_id != business.pk:
        raise NotFound()
    _assign(branch, fields)
    _validated(branch).save()
    return branch


@transaction.atomic
def service_save(
    *,
    business: Business,
    service: Service | None = None,
    fields: Mapping[str, Any],
    branches: Sequence[Branch] | None = None,
) -> Service:
    """Create (no `service`) or change a service of `business`; `branches` (when given) replace where it is
    offered (empty: every branch)."""
    if service is None:
        service = Service(business=business, currency=business.currency)
    elif service.business_id != business.pk:
        raise NotFound()
    _assign(service, fields)
    problem = price_problem(business, service.price_amount) if service.price_amount is not None else None
    if problem is not None:
        raise PriceNotReachable(
            problem.message,
            fields={"price_amount": [problem.message]},
            extra={"lower": problem.lower, "upper": problem.upper, "currency": problem.currency},
        )
    _payment_policy_checked(service, price=service.price_amount)
    _validated(service).save()
    if branches is not None:
        service.branches.set(_own(branches, business, "branches"))
    return service


def _staff_user(phone: str, name: str) -> User:
    user = User.objects.filter(phone=phone).first()
    if user is None:
        return User.objects.create_user(phone=phone, name=name, role=User.Role.STAFF)
    if user.role == User.Role.CUSTOMER:
        user.role = User.Role.STAFF
        user.save(update_fields=["role"])
    return user


@transaction.atomic
def staff_create(
    *,
    business: Business,
    phone: str,
    name: str,
    branch: Branch,
    fields: Mapping[str, Any],
    services: Sequence[Service] = (),
) -> Staff:
    """A staff member of `business` at `branch`: the person (found by phone, created when new), their staff
    membership (an owner or manager keeps their role) and their public profile. `AlreadyStaff` (409) when the
    person has a staff profile already: a person works at one business at most."""
    _own([branch], business, "branch")
    user = _staff_user(phone, name)
    with platform():  # a staff profile anywhere: the person's one profile may be at another business
        if Staff.objects.filter(user=user).exists():
            raise AlreadyStaff()
    Membership.objects.get_or_create(business=business, user=user, defaults={"role": Membership.Role.STAFF})
    staff = Staff(business=business, branch=branch, user=user, display_name=fields.get("display_name") or name)
    _assign(staff, {k: v for k, v in fields.items() if k != "display_name"})
    _validated(staff)
    try:
        with transaction.atomic():
            staff.save()
    except IntegrityError as exc:  # made elsewhere meanwhile (the one-profile-per-person constraint)
        raise AlreadyStaff() from exc
    staff.services.set(_own(services, business, "services"))
    working_hours_default(staff=staff)
    membership_access_sync(user)  # admin access and the group their memberships call for, as the admin does
    return staff


# The Saudi working week: Sunday to Thursday, Friday and Saturday the weekend (weekday(): Monday is 0).
DEFAULT_WORKDAYS = (
    WorkingHours.Weekday.SUNDAY,
    WorkingHours.Weekday.MONDAY,
    WorkingHours.Weekday.TUESDAY,
    WorkingHours.Weekday.WEDNESDAY,
    WorkingHours.Weekday.THURSDAY,
)
DEFAULT_HOURS = (time(9, 0), time(17, 0))


def working_hours_default(*, staff: Staff) -> list[WorkingHours]:
    """A new staff member with no weekly hours gets the default week: 09:00-17:00 Sunday to Thursday, Friday and
    Saturday off (the manager changes them with `working_hours_replace`). Nothing when they have hours already."""
    if WorkingHours.objects.filter(staff_id=staff.pk).exists():
        return []
    start, end = DEFAULT_HOURS
    return WorkingHours.objects.bulk_create(
        WorkingHours(business_id=staff.business_id, staff=staff, weekday=day, start_time=start, end_time=end)
        for day in sorted(DEFAULT_WORKDAYS)
    )


@transaction.atomic
def staff_update(
    *,
    business: Business,
    staff: Staff,
    fields: Mapping[str, Any],
    branch: Branch | None = None,
    services: Sequence[Service] | None = None,
) -> Staff:
    if staff.business_id != business.pk:
        raise NotFound()
    if branch is not None:
        staff.branch = _own([branch], business, "branch")[0]
    _assign(staff, fields)
    _validated(staff).save()
    if services is not None:
        staff.services.set(_own(services, business, "services"))
    return staff


@dataclass(frozen=True, slots=True)
class WeeklySpan:
    weekday: int
    start_time: time
    end_time: time


@transaction.atomic
def working_hours_replace(*, business: Business, staff_id: int, spans: Sequence[WeeklySpan]) -> list[WorkingHours]:
    """Replace a staff member's weekly hours with `spans`, under the staff row lock (the one bookings take), so
    a booking decided meanwhile sees the old hours or the new ones, never a mix. Spans of one weekday must not
    overlap; each ends after it starts."""
    errors: dict[str, list[str]] = {}
    by_day: dict[int, list[WeeklySpan]] = {}
    for i, span in enumerate(spans):
        if not span.start_time < span.end_time:
            errors[f"hours[{i}]"] = [str(_("Must end after it starts."))]
        by_day.setdefault(span.weekday, []).append(span)
    for day_spans in by_day.values():
        ordered = sorted(day_spans, key=lambda s: s.start_time)
        for before, after in zip(ordered, ordered[1:], strict=False):
            if after.start_time < before.end_time:
                errors.setdefault("hours", []).append(str(_("Two spans of one weekday overlap.")))
    if errors:
        raise ValidationFailed(fields=errors)
    staff = _lock_staff_of(business, staff_id)
    WorkingHours.objects.filter(staff=staff).delete()
    return WorkingHours.objects.bulk_create(
        WorkingHours(
            business_id=business.pk, staff=staff, weekday=s.weekday, start_time=s.start_time, end_time=s.end_time
        )
        for s in sorted(spans, key=lambda s: (s.weekday, s.start_time))
    )


def _lock_staff_of(business: Business, staff_id: int) -> Staff:
    try:
        return Staff.objects.select_for_update(no_key=True).get(pk=staff_id, business_id=business.pk)
    except Staff.DoesNotExist as exc:
        raise NotFound() from exc


@transaction.atomic
def closure_save(
    *, business: Business, closure: Closure | None = None, fields: Mapping[str, Any], branch: Branch | None
) -> Closure:
    """Create (no `closure`) or change a closure of the whole business (`branch=None`) or of one branch."""
    if closure is None:
        closure = Closure(business=business)
    elif closure.business_id != business.pk:
        raise NotFound()
    closure.branch = _own([branch], business, "branch")[0] if branch is not None else None
    _assign(closure, fields)
    _validated(closure).save()
    return closure


@transaction.atomic
def holidays_accept(*, business: Business, keys: Sequence[str], today: date | None = None) -> list[Closure]:
    """Accept suggested public holidays (`selectors.holiday_suggestions`) as closures of the whole business, one
    per key; a key that is no longer suggested (accepted already, or past) creates nothing, so accepting twice is
    harmless; an unknown key is refused (400) and nothing is created. The business row is locked first, so two
    simultaneous accepts create each closure once."""
    Business.objects.select_for_update().filter(pk=business.pk).first()
    today = today or timezone.now().astimezone(business.tz).date()
    known = {h.key for h in saudi_holidays(today)}
    unknown = sorted(set(keys) - known)
    if unknown:
        raise ValidationFailed(fields={"keys": [str(_("Not a coming public holiday: %s.") % ", ".join(unknown))]})
    wanted = set(keys)
    created = []
    for holiday in holiday_suggestions(business=business, today=today):
        if holiday.key in wanted:
            closure = Closure(
                business=business,
                branch=None,
                name=holiday.name,
                start_date=holiday.start_date,
                end_date=holiday.end_date,
            )
            created.append(_validated(closure))
            closure.save()
    return created


POLICY_FIELDS = (
    "name_en",
    "name_ar",
    "description_en",
    "description_ar",
    "category",
    "contact_phone",
    "logo_url",
    "vat_number",
    "is_listed",
    "sender_name",
    "default_notify_channel",
    "staff_agenda_time",
    "serves_at_home",
    "service_area",
    "timezone",
    "slot_step_minutes",
    "min_notice_minutes",
    "max_advance_days",
    "hold_minutes",
    "cancellation_cutoff_hours",
    "require_payment",
    "payment_policy",
    "deposit_amount",
    "deposit_percent",
    "late_cancel_fee_amount",
    "late_cancel_fee_percent",
    "keep_deposit_on_no_show",
    "keep_deposit_on_late_cancel",
    "max_pending_per_customer",
    "max_upcoming_per_customer",
)  # never the slug (its address), is_active, currency or commission_bps: the platform's


@transaction.atomic
def business_update_policies(*, business: Business, fields: Mapping[str, Any]) -> Business:
    unknown = set(fields) - set(POLICY_FIELDS)
    if unknown:
        raise ValidationFailed(fields={name: [str(_("Not editable here."))] for name in sorted(unknown)})
    business = Business.objects.select_for_update().get(pk=business.pk)
    _assign(business, fields)
    _payment_policy_checked(business, price=None)
    _validated(business).save()
    return business


@transaction.atomic
def catalog_row_delete(*, business: Business, row: Branch | Service | Staff | Closure | ScheduleException) -> None:
    """Delete a row of `business`; `InUse` (409) while bookings (or staff, for a branch) still refer to it."""
    if row.business_id != business.pk:
        raise NotFound()
    try:
        with transaction.atomic():
            if isinstance(row, Staff):
                Membership.objects.filter(
                    business_id=business.pk, user_id=row.user_id, role=Membership.Role.STAFF
                ).delete()
            row.delete()
            if isinstance(row, Staff):
                membership_access_sync(row.user)
    except ProtectedError as exc:
        raise InUse() from exc


def time_off_request_create(*, staff: Staff, start: datetime, end: datetime, reason: str = "") -> TimeOffRequest:
    """A staff member asks for time off; nothing is blocked until a manager approves it."""
    if start.utcoffset() is None or end.utcoffset() is None:
        raise ValidationFailed(fields={"start": [str(_("Include the UTC offset."))]})
    if not start < end:
        raise ValidationFailed(fields={"end": [str(_("Must be after the start."))]})
    return TimeOffRequest.objects.create(
        business_id=staff.business_id, staff=staff, start=start, end=end, reason=reason
    )


@transaction.atomic
def time_off_request_decide(
    *, business: Business, request_id: int, approve: bool, actor: User, note: str = ""
) -> TimeOffRequest:
    """Approve (writes the time off through `time_off_create`: 409 while bookings hold time in it) or decline a
    request of `business`. Deciding it the same way again changes nothing; the other way is a 409."""
    try:
        request = TimeOffRequest.objects.select_for_update().get(pk=request_id, business_id=business.pk)
    except TimeOffRequest.DoesNotExist as exc:
        raise NotFound() from exc
    wanted = TimeOffRequest.Status.APPROVED if approve else TimeOffRequest.Status.DECLINED
    if request.status == wanted:
        return request
    if request.status != TimeOffRequest.Status.REQUESTED:
        raise TimeOffRequestDecided()
    if approve:
        request.time_off = time_off_create(
            staff_id=request.staff_id, start=request.start, end=request.end, reason=request.reason
        )
    request.status = wanted
    request.decided_by = actor
    request.decided_at = timezone.now()
    request.decision_note = note
    request.save(update_fields=["status", "decided_by", "decided_at", "decision_note", "time_off"])
    return request
