"""Seasonal hours (docs/architecture.md, "Seasonal hours"): writes, and the "Ramadan hours" proposal.

A `Season` of a business (or of one branch) gives its staff other weekly hours on a range of local dates; the
availability engine uses them instead of the weekly `WorkingHours` there (`availability.SeasonalWeek`). Every
write here takes the business row lock (so two overlapping seasons cannot both be made) and then the row locks of
the staff the season touches, in primary-key order: the lock every booking takes, so a booking decided meanwhile
sees the old hours or the new ones, never a mix (as `services.working_hours_replace`).

"Ramadan hours" in one tap: `ramadan_proposal` reads the coming Ramadan (the one in progress or the next, on the
business's local today) from the Umm al-Qura calendar (`apps.core.hijri`) and proposes typical evening hours;
`ramadan_accept` makes it a season for all its staff (those added later too), as proposed or edited.

Wall-clock hours never cross midnight in Mawid (`WorkingHours`, `availability.WeeklyHours`): the evening span
ends at 23:59. A business open after midnight in Ramadan adds the early hours as extra working hours.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, time
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from apps.catalog.models import Branch, Business, Season, SeasonalHours, Staff, WorkingHours
from apps.catalog.services import _assign, _own, _validated
from apps.core.errors import NotFound, ValidationFailed, register_error
from apps.core.hijri import RAMADAN, hijri_of, ramadan_range

MAX_SEASON_DAYS = 366
MAX_HOURS = 500  # spans in one season (7 days x a few spans, for everyone and for some staff of their own)

W = WorkingHours.Weekday
SUNDAY_TO_THURSDAY = (W.SUNDAY, W.MONDAY, W.TUESDAY, W.WEDNESDAY, W.THURSDAY)
# A typical Ramadan day at a salon or a clinic: an afternoon before the fast is broken, and the evening after the
# Taraweeh prayer. The evening would run past midnight; wall-clock hours cannot, so it ends at 23:59.
RAMADAN_SPANS = ((time(13, 0), time(17, 0)), (time(21, 0), time(23, 59)))
RAMADAN_WEEKDAYS = (*SUNDAY_TO_THURSDAY, W.SATURDAY)  # Friday off


@register_error
class SeasonOverlaps(ValidationFailed):
    code, message = (
        "season_overlaps",
        _("Another season's dates overlap these for the same staff. Change or delete it first."),
    )


@dataclass(frozen=True, slots=True)
class SeasonSpan:
    """One weekly span of a season: for `staff_id`, or (None) for everyone it covers without spans of their own."""

    weekday: int
    start_time: time
    end_time: time
    staff_id: int | None = None


@dataclass(frozen=True, slots=True)
class RamadanProposal:
    hijri_year: int
    name_en: str
    name_ar: str
    start_date: date
    end_date: date
    hours: list[SeasonSpan]
    season: Season | None  # a season of the whole business overlapping it already (accepted before)


def local_today(business: Business) -> date:
    return timezone.now().astimezone(business.tz).date()


def coming_ramadan_year(today: date) -> int:
    """The Hijri year of the Ramadan in progress on `today`, or else of the next one."""
    h = hijri_of(today)
    if h is None:
        raise ValidationFailed(fields={"start_date": [str(_("Outside the Umm al-Qura calendar."))]})
    return h.year if h.month <= RAMADAN else h.year + 1


def ramadan_proposal(*, business: Business, today: date | None = None) -> RamadanProposal:
    """The coming Ramadan (from today when it is in progress) with typical hours: 13:00-17:00 and 21:00-23:59
    from Saturday to Thursday, Friday off. 1 query (is a season of the whole business there already?)."""
    today = today or local_today(business)
    year = coming_ramadan_year(today)
    first, last = ramadan_range(year)
    first = max(first, today)
    hours = [SeasonSpan(day, start, end) for day in sorted(RAMADAN_WEEKDAYS) for start, end in RAMADAN_SPANS]
    existing = Season.objects.filter(
        business_id=business.pk, branch__isnull=True, start_date__lte=last, end_date__gte=first
    ).first()
    return RamadanProposal(
        hijri_year=year,
        name_en=f"Ramadan {year}",
        name_ar=f"رمضان {year}",
        start_date=first,
        end_date=last,
        hours=hours,
        season=existing,
    )


@transaction.atomic
def season_save(
    *,
    business: Business,
    season: Season | None = None,
    fields: Mapping[str, Any],
    branch: Branch | None = None,
    keep_branch: bool = False,
    hours: Sequence[SeasonSpan] | None = None,
    today: date | None = None,
) -> Season:
    """Create (no `season`; `hours` required) or change a season of `business` (of one `branch`, or None: the
    whole business; `keep_branch`: left as it is). `hours` replaces every span of the season; a span without a
    staff member is everyone's the season covers (staff added later too), except for those given spans of their
    own. Refused (400): an end before the start, a season longer than a year, a new season (or a new start or
    end) in the past, a staff member the season does not cover, spans ending before they start or overlapping on
    a weekday, and dates overlapping another season of the same staff (`season_overlaps`)."""
    Business.objects.select_for_update().filter(pk=business.pk).first()
    today = today or local_today(business)
    if season is None:
        if hours is None:
            raise ValidationFailed(fields={"hours": [str(_("This field is required."))]})
        season = Season(business=business)
        old: tuple[date | None, date | None] = (None, None)
        old_branch: int | None = None
    else:
        if season.business_id != business.pk:
            raise NotFound()
        season = Season.objects.select_for_update().get(pk=season.pk)
        old = (season.start_date, season.end_date)
        old_branch = season.branch_id
    if not keep_branch:
        season.branch = _own([branch], business, "branch")[0] if branch is not None else None
    _assign(season, fields)
    season_check(season, old=old, today=today)
    _validated(season)
    staff = season_lock_staff(business, {season.branch_id, old_branch} if season.pk else {season.branch_id})
    covered = {s.pk for s in staff if _covers(season, s)}
    planned = _planned(covered, hours) if hours is not None else None  # checked before anything is written
    season.save()
    if planned is not None:
        SeasonalHours.objects.filter(season=season).delete()
        SeasonalHours.objects.bulk_create(
            SeasonalHours(
                business_id=business.pk, season=season, staff_id=staff_id, weekday=day, start_time=s, end_time=e
            )
            for (staff_id, day), day_spans in planned
            for s, e in day_spans
        )
    elif season.branch_id != old_branch:  # moved to another branch: drop the own spans of those it no longer covers
        SeasonalHours.objects.filter(season=season, staff__isnull=False).exclude(staff_id__in=covered).delete()
    return season


@transaction.atomic
def season_delete(*, business: Business, season: Season) -> None:
    """Delete a season (its staff are back on their weekly hours on its dates) under the same locks."""
    if season.business_id != business.pk:
        raise NotFound()
    Business.objects.select_for_update().filter(pk=business.pk).first()
    season_lock_staff(business, {season.branch_id})
    season.delete()


def ramadan_accept(
    *,
    business: Business,
    fields: Mapping[str, Any] | None = None,
    branch: Branch | None = None,
    hours: Sequence[SeasonSpan] | None = None,
    today: date | None = None,
) -> Season:
    """Make the Ramadan proposal a season for all the staff (of `branch`, or of the whole business; general spans),
    with any of its names, dates or `hours` edited. A Ramadan accepted already overlaps it: `season_overlaps`."""
    proposal = ramadan_proposal(business=business, today=today)
    data = {
        "name_en": proposal.name_en,
        "name_ar": proposal.name_ar,
        "start_date": proposal.start_date,
        "end_date": proposal.end_date,
        **(fields or {}),
    }
    return season_save(
        business=business, fields=data, branch=branch, hours=proposal.hours if hours is None else hours, today=today
    )


def season_check(season: Season, *, old: tuple[date | None, date | None], today: date) -> None:
    """The dates of a new or changed season (`old`: its first and last day as stored; None, None when new) and
    that no other season of the same staff shares one: `ValidationFailed` / `SeasonOverlaps`. The admin's form and
    the service both ask it under the business row lock, held until the season is saved."""
    _check_dates(season, old, today)
    if season.start_date is not None and season.end_date is not None:
        _check_overlap(season)


def _check_dates(season: Season, old: tuple[date | None, date | None], today: date) -> None:
    start, end = season.start_date, season.end_date
    if start is None or end is None:
        return  # full_clean names the missing field
    errors: dict[str, list[str]] = {}
    if end < start:
        errors["end_date"] = [str(_("The last day is before the first day."))]
    elif (end - start).days + 1 > MAX_SEASON_DAYS:
        errors["end_date"] = [str(_("A season lasts a year at most."))]
    if start != old[0] and start < today:
        errors["start_date"] = [str(_("A season cannot start in the past."))]
    if end != old[1] and end < today:
        errors.setdefault("end_date", []).append(str(_("A season cannot end in the past.")))
    if errors:
        raise ValidationFailed(fields=errors)


def _check_overlap(season: Season) -> None:
    # A season of the whole business shares staff with every other; one of a branch with those of the whole
    # business and of the same branch.
    same_staff = Q() if season.branch_id is None else Q(branch__isnull=True) | Q(branch_id=season.branch_id)
    clash = (
        Season.objects.filter(
            business_id=season.business_id, start_date__lte=season.end_date, end_date__gte=season.start_date
        )
        .filter(same_staff)
        .exclude(pk=season.pk)
        .order_by("start_date")
        .first()
    )
    if clash is not None:
        raise SeasonOverlaps(
            fields={
                "start_date": [
                    str(_("Overlaps %(name)s (%(first)s – %(last)s)."))
                    % {"name": clash.name, "first": clash.start_date, "last": clash.end_date}
                ]
            }
        )


def season_lock_staff(business: Business, branch_ids: set[int | None]) -> list[Staff]:
    """Lock (in primary-key order) the staff of these branches (None: of the whole business) and return them."""
    qs = Staff.objects.select_for_update(no_key=True).filter(business_id=business.pk)
    if None not in branch_ids:
        qs = qs.filter(branch_id__in=[pk for pk in branch_ids if pk is not None])
    return list(qs.order_by("pk"))


def _covers(season: Season, staff: Staff) -> bool:
    return season.branch_id is None or staff.branch_id == season.branch_id


_Planned = list[tuple[tuple[int | None, int], list[tuple[time, time]]]]


def _planned(covered: set[int], spans: Sequence[SeasonSpan]) -> _Planned:
    """The season's spans by (staff id or None, weekday), checked: a span without staff is one general row
    (everyone covered without spans of their own, staff added later too); a staff member's own spans replace the
    general ones for them. `ValidationFailed` naming the bad spans."""
    errors: dict[str, list[str]] = {}
    per_day: dict[tuple[int | None, int], list[tuple[time, time]]] = {}
    for i, span in enumerate(spans):
        if not span.start_time < span.end_time:
            errors[f"hours[{i}]"] = [str(_("Must end after it starts."))]
            continue
        if span.staff_id is not None and span.staff_id not in covered:
            errors[f"hours[{i}]"] = [str(_("Not a staff member this season covers."))]
            continue
        per_day.setdefault((span.staff_id, span.weekday), []).append((span.start_time, span.end_time))
    for day_spans in per_day.values():
        day_spans.sort()
        if any(b[0] < a[1] for a, b in zip(day_spans, day_spans[1:], strict=False)):
            errors["hours"] = [str(_("Two spans of one weekday overlap."))]
            break
    if errors:
        raise ValidationFailed(fields=errors)
    return sorted(per_day.items(), key=lambda item: (item[0][0] or 0, item[0][1]))
